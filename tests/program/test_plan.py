"""The plan's report: integers stay integers, credentials in a base_url are masked."""

from __future__ import annotations

import json

from disinto_infra.config.project_toml import Fleet, parse_project_text
from disinto_infra.program.build import build_fleet
from disinto_infra.program.plan import plan_fleet, reveal, run_with_mocks, whole_numbers
from tests.support.mocked_program import SETTINGS, F
from tests.support.project_toml import HEADER, agent

SECRET_URL = "http://llm:hunter2@10.10.10.1:8081"
TEXT = HEADER + agent("dev-qwen", base_url=f'"{SECRET_URL}"', rotate_token=2, rotate_password=1)


def plan(text: str = TEXT):
    return plan_fleet(SETTINGS, Fleet(projects=(parse_project_text(F, text),)), "dev")


def numbers(value, path=""):
    """Every number in a JSON value, with where it is."""
    if isinstance(value, dict):
        return [n for k, v in value.items() for n in numbers(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [n for i, v in enumerate(value) for n in numbers(v, f"{path}[{i}]")]
    return [(path, value)] if isinstance(value, (int, float)) and not isinstance(value, bool) else []


def test_numbers_in_the_json_are_integers_as_the_program_registers_them():
    report = json.loads(json.dumps(plan().to_json()))
    found = dict(numbers(report))
    inputs = {r["name"]: r["inputs"] for r in report["resources"]}
    assert inputs["dev-qwen-token"]["rotation"] == 2 and inputs["dev-qwen-user"]["password_rotation"] == 1
    assert isinstance(inputs["dev-qwen-token"]["user_id"], int)
    assert inputs["dev-qwen-token"]["user_id"] == inputs["dev-qwen-collaborator"]["user_id"]
    assert {"rotation", "password_rotation", "user_id"} <= {p.rsplit(".", 1)[-1] for p in found}
    assert [p for p, n in found.items() if isinstance(n, float)] == []


def test_whole_numbers_keeps_fractions_and_secrets():
    from pulumi.runtime import rpc

    value = {"a": 3.0, "b": 2.5, "c": [1.0, True], "d": rpc.wrap_rpc_secret(4.0)}
    converted = whole_numbers(value)
    assert reveal(converted) == {"a": 3, "b": 2.5, "c": [1, True], "d": 4}
    assert rpc.is_rpc_secret(converted["d"])
    assert type(converted["a"]) is int and type(converted["c"][1]) is bool


def test_a_base_url_with_credentials_is_masked_in_text_and_json():
    report = plan()
    out = report.to_text() + json.dumps(report.to_json())
    assert "hunter2" not in out
    (dev_qwen,) = report.agents
    assert dev_qwen.env["ANTHROPIC_BASE_URL"] == "http://llm:***@10.10.10.1:8081"


def test_the_container_still_gets_the_real_base_url():
    run = run_with_mocks(lambda: build_fleet(SETTINGS, Fleet(projects=(parse_project_text(F, TEXT),)), "dev"))
    assert f"ANTHROPIC_BASE_URL={SECRET_URL}" in reveal(run.named("dev-qwen-container").inputs["envs"])


def test_a_plain_base_url_is_shown_as_it_is():
    (dev_qwen,) = plan(HEADER + agent("dev-qwen", base_url='"http://10.10.10.1:8081"')).agents
    assert dev_qwen.env["ANTHROPIC_BASE_URL"] == "http://10.10.10.1:8081"


def test_json_shows_each_resources_options_next_to_its_inputs():
    report = json.loads(json.dumps(plan().to_json()))
    resources = {r["name"]: r for r in report["resources"]}
    urn = {name: r["urn"] for name, r in resources.items()}
    container = resources["dev-qwen-container"]["options"]
    # The order the engine follows and the safety nets, as URNs and flags.
    assert {urn["dev-qwen-retire"], urn["dev-qwen-copy-data"], urn["dev-qwen-collaborator"]} <= set(
        container["dependsOn"]
    )
    assert container["deleteBeforeReplace"] is True and container["additionalSecretOutputs"] == ["envs"]
    assert resources["dev-qwen-data"]["options"]["retainOnDelete"] is True
    assert resources["dev-qwen-copy-data"]["options"]["ignoreChanges"] == ["create"]
    # Not set by the program: the provider's diff decides the replacement order.
    assert resources["dev-qwen-token"]["options"]["deleteBeforeReplace"] is None
    assert set(resources["dev-qwen-token"]["options"]["additionalSecretOutputs"]) >= {"token"}
    assert {r["options"]["protect"] for r in resources.values()} == {False}
    assert set(container) == {
        "dependsOn",
        "deleteBeforeReplace",
        "retainOnDelete",
        "replaceOnChanges",
        "ignoreChanges",
        "protect",
        "additionalSecretOutputs",
    }


def test_json_options_are_what_the_sdk_sent_the_engine():
    run = run_with_mocks(lambda: build_fleet(SETTINGS, Fleet(projects=(parse_project_text(F, TEXT),)), "dev"))
    shown = {r["urn"]: r["options"] for r in plan().to_json()["resources"]}
    for reg in run.registrations:
        request = reg.request
        options = shown[reg.urn]
        assert options["dependsOn"] == sorted(request.dependencies)
        assert options["retainOnDelete"] == request.retainOnDelete and options["protect"] == request.protect
        assert options["deleteBeforeReplace"] == (
            request.deleteBeforeReplace if request.deleteBeforeReplaceDefined else None
        )
        assert options["replaceOnChanges"] == list(request.replaceOnChanges)
        assert options["ignoreChanges"] == list(request.ignoreChanges)
        assert options["additionalSecretOutputs"] == list(request.additionalSecretOutputs)


def test_plan_shows_the_digest_each_agent_will_run_or_where_it_comes_from():
    pin = "sha256:" + "ab" * 32
    pinned = plan_fleet(
        SETTINGS.model_copy(update={"agent_image": f"ghcr.io/disinto/agents:v2@{pin}"}),
        Fleet(projects=(parse_project_text(F, TEXT),)),
        "dev",
    )
    assert [a["image"] for a in pinned.to_json()["agents"]] == [f"ghcr.io/disinto/agents@{pin} (pinned)"]
    assert f"every container runs ghcr.io/disinto/agents@{pin} (pinned)" in pinned.to_text().splitlines()
    # A tag: no registry answers offline, and the plan says so instead of showing a made-up digest.
    (tagged,) = plan().to_json()["agents"]
    assert tagged["image"] == "ghcr.io/disinto/agents:latest (digest resolved from the registry at pulumi preview/up)"


KEYED_URL = "http://10.10.10.1:8081/llama?api_key=sk-query-secret-77&x=1"


def test_a_base_url_with_a_key_in_its_query_is_masked_and_kept_out_of_the_jobspec():
    """Issue 19: `?token=`, `?api_key=`, `?key=` are credentials like `user:password@`: masked in
    plan's text and --json, and on a nomad stack rendered from Vault, not written into the job."""
    text = HEADER + agent("dev-qwen", base_url=f'"{KEYED_URL}"')
    for runtime in ("docker", "nomad"):
        settings = SETTINGS.model_copy(update={"runtime": runtime})
        report = plan_fleet(settings, Fleet(projects=(parse_project_text(F, text),)), "dev")
        out = report.to_text() + json.dumps(report.to_json())
        assert "sk-query-secret-77" not in out
        assert "http://10.10.10.1:8081/llama?api_key=***&x=1" in out
    run = run_with_mocks(
        lambda: build_fleet(
            SETTINGS.model_copy(update={"runtime": "nomad"}), Fleet(projects=(parse_project_text(F, text),)), "dev"
        )
    )
    job = json.dumps(reveal(run.named("dev-qwen-job").inputs))
    assert "sk-query-secret-77" not in job and "ANTHROPIC_BASE_URL={{" in job
    assert json.dumps(reveal(run.named("dev-qwen-kv").inputs)).count("sk-query-secret-77") == 1


def test_a_nomad_plan_says_its_json_shows_the_job_env():
    settings = SETTINGS.model_copy(update={"runtime": "nomad"})
    text = plan_fleet(settings, Fleet(projects=(parse_project_text(F, TEXT),)), "dev").to_text()
    assert "(--json shows every input and option, and the job env)" in text and "container env" not in text
    assert "stack dev: 1 agent, " in text
