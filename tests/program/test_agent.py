"""The Agent component: children, their inputs, and the options that protect data and secrets."""

import json
import shlex

import pulumi

from disinto_infra.program.agent import AGENT_TYPE
from disinto_infra.program.plan import (
    NETWORK_INVOKE,
    REGISTRY_IMAGE_INVOKE,
    RecordingMocks,
    fake_invoke,
    fake_outputs,
    is_secret,
    redact,
    reveal,
)
from tests.support.factory import formula
from tests.support.mocked_program import build, settings
from tests.support.project_toml import HEADER, agent

CHILD_TYPES = {
    "llama-user": "pulumi-python:dynamic/forgejo:User",
    "llama-token": "pulumi-python:dynamic/forgejo:Token",
    "llama-collaborator": "pulumi-python:dynamic/forgejo:Collaborator",
    "llama-profile": "pulumi-python:dynamic/forgejo:ProfileRepo",
    "llama-repos": "docker:index/volume:Volume",
    "llama-data": "docker:index/volume:Volume",
    "llama-retire": "command:local:Command",
    "llama-copy-data": "command:local:Command",
    "llama-container": "docker:index/container:Container",
    "llama-started": "command:local:Command",
    "llama-drain": "command:local:Command",
}
# Only with `disinto:envFile`.
ENV_CHILD = {"llama-env": "command:local:Command"}
TOKEN = fake_outputs("pulumi-python:dynamic/forgejo:Token", "llama-token", {})["token"]
PASSWORD = fake_outputs("pulumi-python:dynamic/forgejo:User", "llama-user", {})["password"]
# The image as pulled: the default tag's digest, as the mocks answer the registry lookup (image_pin.py).
PULLED = {
    "name": "ghcr.io/disinto/agents@"
    + fake_invoke(REGISTRY_IMAGE_INVOKE, {"name": "ghcr.io/disinto/agents:latest"})["sha256Digest"]
}


def env_of(run, container: str = "llama-container") -> dict[str, str]:
    return dict(e.split("=", 1) for e in reveal(run.named(container).inputs["envs"]))


def test_children_have_fixed_names_and_the_agent_as_parent():
    run = build()
    component = run.named("llama")
    assert component.type == AGENT_TYPE and not component.custom
    children = {r.name: r for r in run.registrations if r.parent == component.urn}
    assert {n: r.type for n, r in children.items()} == CHILD_TYPES
    assert run.named("llama-user").urn == (
        "urn:pulumi:dev::disinto::disinto:index:Agent$pulumi-python:dynamic/forgejo:User::llama-user"
    )


def test_forgejo_identity_inputs():
    run = build(HEADER + agent("llama", forge_user='"dev-qwen"', rotate_token=3, rotate_password=2))
    user, token, collab = (reveal(run.named(f"llama-{n}").inputs) for n in ("user", "token", "collaborator"))
    assert (user["username"], user["email"], user["password_rotation"]) == ("dev-qwen", "dev-qwen@disinto.local", 2)
    assert (token["username"], token["rotation"], token["scopes"]) == (
        "dev-qwen",
        3,
        ["write:issue", "write:repository", "read:user"],
    )
    assert token["password"] == fake_outputs("pulumi-python:dynamic/forgejo:User", "llama-user", {})["password"]
    assert (collab["repo"], collab["username"], collab["permission"]) == ("johba/disinto", "dev-qwen", "write")


def test_token_scopes_agent_then_stack_then_the_least_its_roles_need():
    def scopes(text, **stack):
        return reveal(build(text, settings(**stack)).named("llama-token").inputs["scopes"])

    own = HEADER + agent("llama", token_scopes='["write:repository", "write:issue", "read:user"]')
    assert scopes(own, tokenScopes=["write:repository", "read:user"]) == [
        "write:repository",
        "write:issue",
        "read:user",
    ]
    assert scopes(HEADER + agent("llama"), tokenScopes=["write:repository", "read:user"]) == [
        "write:repository",
        "read:user",
    ]
    assert scopes(HEADER + agent("llama")) == ["write:issue", "write:repository", "read:user"]


def test_token_max_age_agent_then_stack_then_never():
    def max_age(text, **stack):
        return reveal(build(text, settings(**stack)).named("llama-token").inputs).get("max_age_days")

    own = HEADER + agent("llama", token_max_age_days=7)
    assert max_age(own, tokenMaxAgeDays="90") == 7
    assert max_age(HEADER + agent("llama"), tokenMaxAgeDays="90") == 90
    assert max_age(HEADER + agent("llama")) is None


def test_volumes():
    run = build()
    assert reveal(run.named("llama-repos").inputs)["name"] == "project-repos-llama"
    assert reveal(run.named("llama-data").inputs)["name"] == "agents-llama-data"


def test_container_is_the_old_local_model_service():
    run = build(stack_settings=settings(network="factory-net", claudeSharedDir="/srv/claude", sshDir="~/keys"))
    inputs = reveal(run.named("llama-container").inputs)
    image = fake_outputs("docker:index/remoteImage:RemoteImage", "agent-image", PULLED)
    assert inputs["name"] == "disinto-agents-llama"
    assert inputs["image"] == image["repo_digest"]
    assert inputs["restart"] == "unless-stopped"
    assert inputs["securityOpts"] == ["apparmor=unconfined"]
    # The healthcheck, wait, init and grace: tests/runtimes/test_docker.py.
    assert inputs["healthcheck"]["tests"][0] == "CMD-SHELL"
    # Attached by the id the network lookup found (runtime_docker.find_network).
    assert inputs["networksAdvanced"] == [{"name": fake_invoke(NETWORK_INVOKE, {"name": "factory-net"})["id"]}]
    assert inputs["labels"] == [
        {"label": "disinto.agent", "value": "llama"},
        {"label": "disinto.stack", "value": "dev"},
        {"label": "disinto.managed-by", "value": "disinto-infra"},
    ]
    mounts = {
        v["containerPath"]: (v.get("volumeName") or v.get("hostPath"), v.get("readOnly", False))
        for v in inputs["volumes"]
    }
    assert mounts == {
        "/home/agent/data": ("agents-llama-data", False),
        "/home/agent/repos": ("project-repos-llama", False),
        "/srv/claude": ("/srv/claude", False),
        "/home/agent/.claude.json": ("/home/op/.claude.json", True),
        "/home/agent/.ssh": ("/home/op/keys", True),
        "/home/agent/disinto/projects": ("/opt/factory/projects", True),
        "/home/agent/disinto/state": ("/opt/factory/state", False),
    }


def test_container_env_carries_the_agents_own_credentials():
    run = build()
    env = env_of(run)
    # The password reaches the token as the user's secret output.
    assert is_secret(run.named("llama-token").inputs["password"])
    assert env["FORGE_TOKEN"] == fake_outputs("pulumi-python:dynamic/forgejo:Token", "llama-token", {})["token"]
    # Issue 18 item 6: FORGE_PASS carries the token (git over HTTPS takes it); the password stays in the state.
    assert env["FORGE_PASS"] == env["FORGE_TOKEN"]
    assert PASSWORD not in env.values()
    assert env["FORGE_BOT_USER_DEV_QWEN"] == "dev-qwen"


def test_image_falls_back_to_the_image_id():
    class LocalImage(RecordingMocks):
        def outputs(self, typ, name, inputs):
            outs = super().outputs(typ, name, inputs)
            return {**outs, "repo_digest": ""} if typ.endswith("RemoteImage") else outs

    run = build(mocks=LocalImage())
    image = fake_outputs("docker:index/remoteImage:RemoteImage", "agent-image", PULLED)
    assert reveal(run.named("llama-container").inputs)["image"] == image["image_id"]


def test_secrets_are_secret_even_where_mocks_ignore_secret_outputs():
    # Without the engine's additional_secret_outputs, only our own wrapping keeps them secret.
    run = build(honour_secret_outputs=False)
    assert is_secret(run.named("llama-container").inputs["envs"])
    assert "FORGE_TOKEN" in env_of(run)


def test_options_seen_by_a_stack_transformation():
    seen: dict[str, pulumi.ResourceOptions] = {}

    def record(args: pulumi.ResourceTransformationArgs):
        seen[args.name] = args.opts
        return

    build(transformations=[record])
    assert not seen["llama-user"].retain_on_delete  # its delete retires the account (it stays)
    assert "password" in seen["llama-user"].additional_secret_outputs
    assert "token" in seen["llama-token"].additional_secret_outputs
    assert not seen["llama-token"].retain_on_delete  # deleted with the agent: revoked
    assert not seen["llama-collaborator"].retain_on_delete
    assert seen["llama-collaborator"].delete_before_replace is True
    assert seen["llama-repos"].retain_on_delete is True
    assert seen["llama-data"].retain_on_delete is True
    container = seen["llama-container"]
    assert container.delete_before_replace is True and not container.retain_on_delete
    assert container.additional_secret_outputs == ["envs"]


def test_options_as_registered_with_the_engine():
    options = {r.name: r.options for r in build().registrations}
    assert not options["llama-user"].retain_on_delete and options["llama-user"].delete_before_replace
    assert set(options["llama-token"].additional_secret_outputs) >= {"token"}
    assert options["llama-repos"].retain_on_delete and options["llama-data"].retain_on_delete
    assert options["llama-container"].delete_before_replace
    assert not options["llama-token"].retain_on_delete and not options["llama-container"].retain_on_delete
    # The container starts only after the bot has repository access.
    assert run_urn("llama-collaborator") in options["llama-container"].dependencies


def run_urn(name: str) -> str:
    kind = {**CHILD_TYPES, **ENV_CHILD}[name]
    return f"urn:pulumi:dev::disinto::{AGENT_TYPE}${kind}::{name}"


# ---------------------------------------------------------------- children wired in later


def transformed(**build_options) -> dict[str, pulumi.ResourceOptions]:
    seen: dict[str, pulumi.ResourceOptions] = {}

    def record(args: pulumi.ResourceTransformationArgs):
        seen[args.name] = args.opts
        return

    build(transformations=[record], **build_options)
    return seen


def test_profile_repo_gets_the_formula_and_outlives_the_agent():
    run = build()
    profile = run.named("llama-profile")
    inputs = reveal(profile.inputs)
    dev = formula("dev")
    assert (inputs["username"], inputs["formula"], inputs["formula_source"]) == ("dev-qwen", dev.text, str(dev.path))
    assert "[[steps]]" in inputs["formula"]  # the file's content, not its path
    # Not secret: the formula is the factory's, readable in the preview diff.
    assert not any(is_secret(profile.inputs[k]) for k in ("username", "formula", "formula_source"))
    # Removing the agent keeps its journal and knowledge, like the user.
    assert transformed()["llama-profile"].retain_on_delete is True
    assert profile.options.retain_on_delete


def test_env_export_exists_only_with_an_env_file():
    assert "llama-env" not in build().by_name()
    run = build(stack_settings=settings(envFile="factory/.env"))
    children = {r.name: r.type for r in run.registrations if r.parent == run.named("llama").urn}
    assert children == {**CHILD_TYPES, **ENV_CHILD}
    inputs = run.named("llama-env").inputs
    # Relative to the Pulumi project folder; the command names only the file and the keys.
    assert shlex.split(inputs["create"]) == [
        "python3",
        "-m",
        "disinto_infra.envfile",
        "set",
        "--file",
        "/srv/infra/factory/.env",
        "--if-absent",
        "ANTHROPIC_BASE_URL",
        "FORGE_TOKEN_DEV_QWEN",
        "FORGE_PASS_DEV_QWEN",
    ]
    # The agent's own base_url, for `disinto up`'s check when the file has none.
    assert reveal(inputs["environment"])["ANTHROPIC_BASE_URL"] == "http://10.10.10.1:8081"
    assert transformed(stack_settings=settings(envFile="/f/.env"))["llama-env"].delete_before_replace is True


def test_env_export_inputs_hold_no_secret_in_plain_text():
    # Without the engine's additional_secret_outputs, only our own wrapping keeps them secret.
    for honour in (True, False):
        run = build(stack_settings=settings(envFile="/srv/factory/.env"), honour_secret_outputs=honour)
        inputs = run.named("llama-env").inputs
        plain = json.dumps(redact(inputs))  # every input with what is secret left out
        assert TOKEN not in plain and PASSWORD not in plain
        # They are there, wrapped: the command gets them through its environment.
        revealed = reveal(inputs["environment"])
        assert (revealed["FORGE_TOKEN_DEV_QWEN"], revealed["FORGE_PASS_DEV_QWEN"]) == (TOKEN, TOKEN)


def test_migration_commands_talk_to_the_providers_docker_host():
    s = settings(composeProject="factory2").model_copy(update={"docker_host": "ssh://ops@box"})
    run = build(stack_settings=s)
    retire, copy = (reveal(run.named(n).inputs) for n in ("llama-retire", "llama-copy-data"))
    assert shlex.split(retire["create"]) == [
        "python3",
        "-m",
        "disinto_infra.migrate",
        "retire",
        "--container",
        "disinto-agents-llama",
        "--grace",
        "120",
    ]
    image = fake_outputs("docker:index/remoteImage:RemoteImage", "agent-image", PULLED)
    assert shlex.split(copy["create"]) == [
        "python3",
        "-m",
        "disinto_infra.migrate",
        "copy-data",
        "--from",
        "factory2_agents-llama-data",
        "--to",
        "agents-llama-data",
        "--image",
        image["repo_digest"],
    ]
    assert retire["environment"]["DOCKER_HOST"] == copy["environment"]["DOCKER_HOST"] == "ssh://ops@box"
    assert "DOCKER_HOST" not in reveal(build().named("llama-retire").inputs)["environment"]


def test_the_compose_agent_is_retired_last():
    """`<name>-retire` waits for everything the new container needs before it starts, so a failing
    `up` anywhere before it leaves the compose agent running (issue 16)."""
    needs = {
        "llama-user",
        "llama-token",
        "llama-collaborator",
        "llama-profile",
        "llama-repos",
        "llama-data",
        "agent-image",
    }
    assert {r._name for r in transformed()["llama-retire"].depends_on} == needs
    image_urn = "urn:pulumi:dev::disinto::docker:index/remoteImage:RemoteImage::agent-image"
    registered = set(build().named("llama-retire").options.dependencies)
    assert registered == {run_urn(n) for n in needs - {"agent-image"}} | {image_urn}


def test_container_waits_for_retire_and_copy_data():
    seen = transformed()
    assert {r._name for r in seen["llama-container"].depends_on} >= {
        "llama-collaborator",
        "llama-retire",
        "llama-copy-data",
    }
    # Never copy from a compose agent that still runs; only into our own volume.
    assert {r._name for r in seen["llama-copy-data"].depends_on} >= {"llama-retire", "llama-data"}
    options = {r.name: r.options for r in build().registrations}
    assert {run_urn("llama-retire"), run_urn("llama-copy-data"), run_urn("llama-collaborator")} <= set(
        options["llama-container"].dependencies
    )
    assert {run_urn("llama-retire"), run_urn("llama-data")} <= set(options["llama-copy-data"].dependencies)
