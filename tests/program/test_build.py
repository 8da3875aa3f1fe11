"""The whole program under mocks: isolation between agents, stability, exports, the entry point."""

import logging
from dataclasses import replace
from pathlib import Path

import pulumi
import pytest

from disinto_infra.config.project_toml import ConfigError, Fleet, parse_project_text
from disinto_infra.config.stack_settings import StackSettings
from disinto_infra.program.build import build_fleet
from disinto_infra.program.plan import (
    NETWORK_INVOKE,
    REGISTRY_IMAGE_INVOKE,
    RecordingMocks,
    fake_invoke,
    reveal,
    run_with_mocks,
)
from tests.support.examples import EXAMPLE, legacy_example_text
from tests.support.factory import give_formulas
from tests.support.llama_double import LlamaDouble
from tests.support.mocked_program import SETTINGS, F, run_entry_point, run_fleet
from tests.support.project_toml import HEADER, QWEN2, agent, load_fleet


def container_env(run, agent_name: str) -> dict[str, str]:
    envs = reveal(run.named(f"{agent_name}-container").inputs["envs"])
    return dict(e.split("=", 1) for e in envs)


def of_agent(run, agent_name: str) -> dict[str, object]:
    return {r.urn: r.inputs for r in run.registrations if r.name == agent_name or r.name.startswith(f"{agent_name}-")}


def test_two_agents_are_disjoint_and_each_container_has_its_own_token():
    run = run_fleet(legacy_example_text() + QWEN2)
    first, second = (reveal(run.named(n).inputs) for n in ("llama-user", "dev-qwen2-user"))
    assert (first["username"], second["username"]) == ("dev-qwen", "dev-qwen2")
    for kind in ("user", "token", "collaborator", "profile", "repos", "data", "retire", "copy-data", "container"):
        assert run.named(f"llama-{kind}").urn != run.named(f"dev-qwen2-{kind}").urn
    volumes = {
        reveal(run.named(n).inputs)["name"] for n in ("llama-repos", "llama-data", "dev-qwen2-repos", "dev-qwen2-data")
    }
    assert len(volumes) == 4
    assert (
        reveal(run.named("llama-container").inputs)["name"] != reveal(run.named("dev-qwen2-container").inputs)["name"]
    )
    tokens = run.exports["agentTokens"].value
    assert tokens["llama"] != tokens["dev-qwen2"]
    assert container_env(run, "llama")["FORGE_TOKEN"] == tokens["llama"]
    assert container_env(run, "dev-qwen2")["FORGE_TOKEN"] == tokens["dev-qwen2"]
    passwords = run.exports["agentPasswords"].value
    assert passwords["dev-qwen2"] != passwords["llama"]
    # FORGE_PASS is the agent's token (issue 18 item 6): its password never reaches the container.
    assert container_env(run, "dev-qwen2")["FORGE_PASS"] == tokens["dev-qwen2"]
    assert passwords["dev-qwen2"] not in container_env(run, "dev-qwen2").values()
    # Each token belongs to its own user.
    assert reveal(run.named("dev-qwen2-token").inputs)["username"] == "dev-qwen2"
    # Each profile repository is its own user's; each migration step names its own container.
    assert reveal(run.named("dev-qwen2-profile").inputs)["username"] == "dev-qwen2"
    assert "disinto-agents-dev-qwen2" in reveal(run.named("dev-qwen2-retire").inputs)["create"]
    assert "disinto-agents-dev-qwen2" not in reveal(run.named("llama-retire").inputs)["create"]


def test_one_image_per_stack():
    mocks = RecordingMocks()
    run = run_fleet(legacy_example_text() + QWEN2, mocks=mocks)
    images = [r for r in run.registrations if r.type == "docker:index/remoteImage:RemoteImage"]
    # Pulled by the digest the registry holds for the tag now (image_pin.py), one lookup per stack.
    digest = fake_invoke(REGISTRY_IMAGE_INVOKE, {"name": "ghcr.io/disinto/agents:latest"})["sha256Digest"]
    assert [(r.name, reveal(r.inputs)["name"]) for r in images] == [("agent-image", f"ghcr.io/disinto/agents@{digest}")]
    assert sorted(mocks.invoked) == sorted([NETWORK_INVOKE, REGISTRY_IMAGE_INVOKE])
    assert (
        reveal(run.named("llama-container").inputs)["image"] == reveal(run.named("dev-qwen2-container").inputs)["image"]
    )


def test_legacy_llama_keeps_its_names():
    run = run_fleet(legacy_example_text())
    assert reveal(run.named("llama-container").inputs)["name"] == "disinto-agents-llama"
    assert reveal(run.named("llama-repos").inputs)["name"] == "project-repos-llama"
    assert reveal(run.named("llama-data").inputs)["name"] == "agents-llama-data"
    assert run.exports["agents"].value["llama"]["env_suffix"] == "DEV_QWEN"
    assert container_env(run, "llama")["FORGE_BOT_USER_DEV_QWEN"] == "dev-qwen"


@pytest.mark.parametrize("env_file, children", [(None, 11), ("/opt/factory/.env", 12)])
def test_adding_an_agent_leaves_the_first_identical(env_file, children):
    # user, token, collaborator, profile, repos, data, retire, copy-data, container (+ env)
    settings = SETTINGS.model_copy(update={"env_file": env_file})
    before = run_fleet(legacy_example_text(), settings)
    after = run_fleet(legacy_example_text() + QWEN2, settings)
    first_before, first_after = of_agent(before, "llama"), of_agent(after, "llama")
    assert len(first_before) == 1 + children  # the component and its children
    assert first_after == first_before  # URNs and inputs, secrets and __provider included
    assert any("__provider" in inputs for inputs in first_before.values())
    assert after.named("agent-image").inputs == before.named("agent-image").inputs
    added = {r.urn for r in after.registrations} - {r.urn for r in before.registrations}
    assert len(added) == 1 + children and all("dev-qwen2" in urn for urn in added)
    # The first agent's options did not move either (dependencies are URNs, in no particular order).
    options = lambda run: {  # noqa: E731
        r.urn: replace(r.options, dependencies=tuple(sorted(r.options.dependencies)))
        for r in run.registrations
        if r.urn in first_before
    }
    assert options(after) == options(before)


def test_exports_per_agent_with_secret_credentials():
    run = run_fleet(legacy_example_text())
    agents = run.exports["agents"]
    token = run.exports["agentTokens"].value["llama"]
    assert not agents.secret
    assert agents.value == {
        "llama": {
            "user": "dev-qwen",
            "container": "disinto-agents-llama",
            "volumes": ["project-repos-llama", "agents-llama-data"],
            "env_suffix": "DEV_QWEN",
            "token_last_eight": token[-8:],
        }
    }
    assert run.exports["agentTokens"].secret and run.exports["agentPasswords"].secret


def test_credential_exports_are_secret_without_engine_help():
    run = run_fleet(legacy_example_text(), honour_secret_outputs=False)
    assert run.exports["agentTokens"].secret and run.exports["agentPasswords"].secret


def test_shipped_example_registers_nothing():
    run = run_with_mocks(lambda: build_fleet(SETTINGS, load_fleet([EXAMPLE]), "dev"))
    assert run.registrations == []
    assert run.exports["agents"].value == {}


def test_entry_point_builds_the_fleet(tmp_path):
    toml = tmp_path / "projects" / "disinto.toml"
    toml.parent.mkdir()
    toml.write_text(legacy_example_text())
    give_formulas(tmp_path)
    mocks = RecordingMocks()
    run = run_entry_point({"projectToml": str(toml)}, mocks)
    assert "llama-container" in mocks.created
    state_mount = [
        v
        for v in reveal(run.named("llama-container").inputs)["volumes"]
        if v["containerPath"] == "/home/agent/disinto/state"
    ]
    assert state_mount == [{"hostPath": f"{tmp_path}/state", "containerPath": "/home/agent/disinto/state"}]


def test_bad_toml_registers_nothing(tmp_path):
    (tmp_path / "a.toml").write_text(legacy_example_text())
    bad = tmp_path / "b.toml"
    bad.write_text(HEADER.replace("disinto", "other") + agent("b", compact_pct=0))
    factory = tmp_path / "factory"  # formulas, and a projects/ the agents' entrypoint accepts
    give_formulas(factory)
    (factory / "projects").mkdir()
    (factory / "projects" / "disinto.toml").write_text(legacy_example_text())
    mocks = RecordingMocks()
    with pytest.raises(pulumi.RunError) as caught:
        run_entry_point({"projectToml": f"{tmp_path}/*.toml", "factoryRoot": str(factory)}, mocks)
    assert str(caught.value) == f"{bad}: agents.b.compact_pct: must be an integer from 1 to 100, not 0"
    assert mocks.created == []


# ---------------------------------------------------------------- formulas


def missing_formula_line(toml: Path, agent_name: str, factory: Path, role: str = "dev") -> str:
    return (
        f"{toml}: agents.{agent_name}.roles: no formula for role {role!r}: neither "
        f"{factory}/formulas/{role}.toml nor {factory}/formulas/run-{role}.toml exists "
        "(check the agent's roles and disinto:factoryRoot)"
    )


def test_a_missing_formula_registers_nothing():
    settings = SETTINGS.model_copy(update={"factory_root": "/nonexistent/factory"})
    mocks = RecordingMocks()
    with pytest.raises(ConfigError) as caught:
        run_fleet(legacy_example_text() + QWEN2, settings, mocks=mocks)
    assert caught.value.problems == [
        missing_formula_line(F, "llama", Path("/nonexistent/factory")),
        missing_formula_line(F, "dev-qwen2", Path("/nonexistent/factory")),
    ]
    assert mocks.created == []


def test_run_formula_is_the_fallback(tmp_path):
    (tmp_path / "formulas").mkdir()
    (tmp_path / "formulas" / "run-review.toml").write_text('name = "review"\n')
    settings = SETTINGS.model_copy(update={"factory_root": str(tmp_path)})
    run = run_fleet(HEADER + agent("rev", roles='["review", "dev"]'), settings)
    inputs = reveal(run.named("rev-profile").inputs)
    assert (inputs["formula"], inputs["formula_source"]) == (
        'name = "review"\n',
        f"{tmp_path}/formulas/run-review.toml",
    )


def test_entry_point_with_a_missing_formula_registers_nothing(tmp_path):
    toml = tmp_path / "projects" / "disinto.toml"
    toml.parent.mkdir()
    toml.write_text(legacy_example_text())
    mocks = RecordingMocks()
    with pytest.raises(pulumi.RunError) as caught:
        run_entry_point({"projectToml": str(toml)}, mocks)
    assert str(caught.value) == missing_formula_line(toml, "llama", tmp_path)
    assert mocks.created == []


# ---------------------------------------------------------------- compose conflicts

COMPOSE = """
services:
  forgejo:
    image: codeberg.org/forgejo/forgejo:11
  agents-llama:
    image: ghcr.io/disinto/agents:latest
  other:
    container_name: disinto-agents-dev-qwen2
"""


def compose_factory(tmp_path: Path, compose: str | None) -> StackSettings:
    give_formulas(tmp_path)
    if compose is not None:
        (tmp_path / "docker-compose.yml").write_text(compose)
    return SETTINGS.model_copy(update={"factory_root": str(tmp_path)})


def conflict(tmp_path: Path, name: str) -> str:
    return (
        f"docker-compose.yml at {tmp_path}/docker-compose.yml still defines a service for agent {name}; "
        "start the rest of the factory with the `disinto up SERVICE…` that `python -m disinto_infra plan` prints, "
        "never a bare `disinto up` (see docs/migration.md)"
    )


def test_compose_services_for_our_agents_are_warned_about(tmp_path):
    settings = compose_factory(tmp_path, COMPOSE)
    warnings: list[str] = []
    project = parse_project_text(F, legacy_example_text() + QWEN2 + agent("quiet", forge_user='"quiet"'))
    run = run_with_mocks(lambda: build_fleet(settings, Fleet(projects=(project,)), "dev", warn=warnings.append))
    assert warnings == [conflict(tmp_path, "llama"), conflict(tmp_path, "dev-qwen2")]
    assert "quiet-container" in run.by_name()  # a warning, not an error


def test_no_compose_file_no_warning_and_a_broken_one_is_a_warning(tmp_path):
    warnings: list[str] = []
    project = parse_project_text(F, legacy_example_text())
    build = lambda settings: run_with_mocks(  # noqa: E731
        lambda: build_fleet(settings, Fleet(projects=(project,)), "dev", warn=warnings.append)
    )
    build(compose_factory(tmp_path, None))
    assert warnings == []
    run = build(compose_factory(tmp_path, "services: [unclosed\n"))
    (line,) = warnings
    assert line.startswith(f"{tmp_path}/docker-compose.yml: cannot read it as YAML: ") and "\n" not in line
    assert line.endswith("cannot tell whether compose still runs these agents (see docs/migration.md)")
    assert "llama-container" in run.by_name()


def test_entry_point_warns_through_pulumi(tmp_path, caplog):
    toml = tmp_path / "projects" / "disinto.toml"
    toml.parent.mkdir()
    toml.write_text(legacy_example_text())
    compose_factory(tmp_path, COMPOSE)
    mocks = RecordingMocks()
    with caplog.at_level(logging.WARNING):
        run_entry_point({"projectToml": str(toml)}, mocks)
    # Under mocks, pulumi.log.warn reaches the logging module; the CLI shows it as "warning: ...".
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [conflict(tmp_path, "llama")]
    assert "llama-container" in mocks.created


# ---------------------------------------------------------------- pulumi up: crowded model servers


def two_on(url: str) -> str:
    return (
        HEADER
        + agent("llama", base_url=f'"{url}"')
        + agent("dev-qwen2", forge_user='"dev-qwen2"', base_url=f'"{url}/"')
    )


def crowded_line(url: str) -> str:
    return (
        f"{url}: 2 agents (llama, dev-qwen2) for 1 slot: the rest wait for a free slot (raise the server's "
        "--parallel or move an agent; `python -m disinto_infra check` shows more)"
    )


def build_with(text: str, probe_servers: bool) -> tuple[list[str], object]:
    warnings: list[str] = []
    project = parse_project_text(F, text)
    run = run_with_mocks(
        lambda: build_fleet(
            SETTINGS, Fleet(projects=(project,)), "dev", warn=warnings.append, probe_servers=probe_servers
        )
    )
    return warnings, run


def test_up_warns_when_a_server_has_fewer_slots_than_agents_and_still_builds():
    with LlamaDouble(slots=1) as llama:
        warnings, run = build_with(two_on(llama.url), probe_servers=True)
    assert warnings == [crowded_line(llama.url)]
    assert {"llama-container", "dev-qwen2-container"} <= set(run.by_name())
    # One probe for the server both agents name (a trailing `/` is the same server).
    assert [r.path for r in llama.requests] == ["/health", "/props"]


def test_up_says_nothing_of_a_server_with_room_or_that_does_not_answer():
    with LlamaDouble(slots=2) as roomy, LlamaDouble(slots=1, mode="reset") as down:
        assert build_with(two_on(roomy.url), probe_servers=True)[0] == []
        warnings, run = build_with(two_on(down.url), probe_servers=True)
    assert warnings == [] and "llama-container" in run.by_name()


def test_without_probe_servers_no_server_is_asked():
    with LlamaDouble(slots=1) as llama:
        assert build_with(two_on(llama.url), probe_servers=False)[0] == []
    assert llama.requests == []


@pytest.mark.parametrize("preview", [True, False])
def test_entry_point_probes_the_servers_at_up_only(tmp_path, caplog, preview):
    with LlamaDouble(slots=1) as llama:
        toml = tmp_path / "projects" / "disinto.toml"
        toml.parent.mkdir()
        toml.write_text(two_on(llama.url))
        give_formulas(tmp_path)
        with caplog.at_level(logging.WARNING):
            run_entry_point({"projectToml": str(toml)}, RecordingMocks(), preview=preview)
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warned == ([] if preview else [crowded_line(llama.url)])
    assert (llama.requests == []) is preview


def test_every_runtime_the_settings_accept_has_a_module():
    from disinto_infra.config import stack_settings as settings
    from disinto_infra.program import build as program

    assert sorted(program.RUNTIMES) == sorted(settings.RUNTIMES)
