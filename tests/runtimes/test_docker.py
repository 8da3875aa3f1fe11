"""The docker runtime: its stack-wide lookups (the network and the image's digest, before any agent), and
the container (the healthcheck that sees the agent loop, `wait`, the stop's grace, and what the provider
reads back; kreuzwerker/terraform-provider-docker v4.5.0)."""

from __future__ import annotations

import json

import pytest

from disinto_infra.program.plan import NETWORK_INVOKE, REGISTRY_IMAGE_INVOKE, RecordingMocks, fake_invoke, reveal
from disinto_infra.runtimes import agent_entrypoint, bind_sources
from tests.support import go_durations
from tests.support.engine import ProviderError
from tests.support.examples import legacy_example_text
from tests.support.forgejo_double import Fault
from tests.support.identity import recorded_run
from tests.support.mocked_program import SETTINGS, build, run_fleet, settings
from tests.support.project_toml import QWEN2
from tests.support.registrations import dependencies_of, with_stand_ins

DURATIONS = ("interval", "timeout", "startPeriod", "startInterval")


def container(**stack):
    run = build(stack_settings=settings(**stack))
    return run.named("llama-container")


def provider_read(healthcheck: dict) -> dict:
    """The healthcheck block as the provider's read stores it: each duration through Go's
    ParseDuration and Duration.String(), test and retries as Docker holds them."""
    return {**healthcheck, **{key: go_durations.read_back(healthcheck[key]) for key in DURATIONS}}


def test_recorded_healthcheck_equals_what_a_read_returns():
    for stack in ({}, {"startTimeoutSeconds": "90"}, {"startTimeoutSeconds": 1140}):
        healthcheck = reveal(container(**stack).inputs)["healthcheck"]
        assert set(healthcheck) == {"tests", "retries", *DURATIONS}  # every field the read sets
        assert provider_read(healthcheck) == healthcheck


def test_the_container_runs_the_wrapper_and_stops_with_the_grace():
    inputs = reveal(container(startTimeoutSeconds="900", stopGraceSeconds="45").inputs)
    assert "wait" not in inputs and "waitTimeout" not in inputs  # <name>-started waits instead
    assert inputs["entrypoints"] == agent_entrypoint.ENTRYPOINT
    assert inputs["healthcheck"]["startPeriod"] == "15m0s"
    assert (inputs["init"], inputs["destroyGraceSeconds"], inputs["stopTimeout"]) == (False, 45, 45)
    defaults = reveal(container().inputs)
    assert (defaults["destroyGraceSeconds"], defaults["stopTimeout"]) == (120, 120)
    assert defaults["healthcheck"] == {
        "tests": ["CMD-SHELL", agent_entrypoint.HEALTH_SCRIPT],
        "interval": "10s",
        "timeout": "5s",
        "startPeriod": "10m0s",
        "startInterval": "0s",
        "retries": 3,
    }


def test_the_log_rotates_by_the_settings():
    assert reveal(container().inputs)["logOpts"] == {"max-size": "10m", "max-file": "3"}
    inputs = reveal(container(logMaxSize="50m", logMaxFiles="5").inputs)
    assert (inputs["logDriver"], inputs["logOpts"]) == ("json-file", {"max-size": "50m", "max-file": "5"})


def test_the_started_check_follows_each_new_container():
    run = build(stack_settings=settings(startTimeoutSeconds="300").model_copy(update={"docker_host": "ssh://ops@box"}))
    started = run.named("llama-started")
    inputs = reveal(started.inputs)
    assert inputs["create"] == (
        "python3 -m disinto_infra.runtimes.started --container disinto-agents-llama --timeout 300"
    )
    assert inputs["environment"]["DOCKER_HOST"] == "ssh://ops@box"
    container_urn = run.named("llama-container").urn
    assert dependencies_of(started.options, "triggers") == (container_urn,)
    assert container_urn in started.options.dependencies


def test_a_healthcheck_or_init_change_replaces_the_container_old_one_first():
    options = container().options
    assert set(options.replace_on_changes) == {"healthcheck", "init"}
    assert options.delete_before_replace is True


def test_the_factorys_env_file_is_not_mounted():
    volumes = reveal(container().inputs)["volumes"]
    assert not [v for v in volumes if v.get("hostPath", "").endswith("/.env") or v["containerPath"].endswith("/.env")]
    assert {b.setting for b in bind_sources.binds(settings())} == {
        "claudeSharedDir",
        "claudeConfigFile",
        "sshDir",
        "factoryRoot",
    }


PIN = "sha256:" + "ab" * 32


class Refusing(RecordingMocks):
    """The docker provider's answer to an invoke that fails (its message, as the engine raises it)."""

    def __init__(self, token: str, message: str):
        super().__init__()
        self.token, self.message = token, message

    def call(self, args):
        if args.token == self.token:
            self.invoked.append(args.token)
            raise Exception(self.message)
        return super().call(args)


def run(mocks: RecordingMocks | None = None, preview: bool = False, **settings):
    return run_fleet(legacy_example_text() + QWEN2, SETTINGS.model_copy(update=settings), mocks=mocks, preview=preview)


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "up"])
def test_a_missing_network_fails_before_anything_is_registered(preview):
    # data_source_docker_network.go @ 5074970 (v4.5.0): NetworkInspect, "Could not find docker network".
    mocks = Refusing(NETWORK_INVOKE, "Could not find docker network: network disinto_disinto-net not found")
    with pytest.raises(Exception, match="Could not find docker network"):
        run(mocks, preview=preview)
    # No user, token, volume, image, retire or container: the compose agents keep running.
    assert mocks.created == [] and mocks.invoked == [NETWORK_INVOKE]


def test_containers_attach_to_the_network_the_lookup_found():
    mocks = RecordingMocks()
    found = run(mocks, network="factory-net")
    network_id = fake_invoke(NETWORK_INVOKE, {"name": "factory-net"})["id"]
    for name in ("llama-container", "dev-qwen2-container"):
        assert reveal(found.named(name).inputs)["networksAdvanced"] == [{"name": network_id}]
    assert mocks.invoked.count(NETWORK_INVOKE) == 1


def test_an_unknown_tag_fails_before_anything_is_registered():
    mocks = Refusing(REGISTRY_IMAGE_INVOKE, "Got error when attempting to fetch image version disinto/agents:nope")
    with pytest.raises(Exception, match="fetch image version"):
        run(mocks, agent_image="ghcr.io/disinto/agents:nope")
    assert mocks.created == []


def test_a_tag_is_pulled_by_the_digest_the_registry_holds_now():
    mocks = RecordingMocks()
    found = run(mocks, agent_image="ghcr.io/disinto/agents:v2")
    digest = fake_invoke(REGISTRY_IMAGE_INVOKE, {"name": "ghcr.io/disinto/agents:v2"})["sha256Digest"]
    assert reveal(found.named("agent-image").inputs)["name"] == f"ghcr.io/disinto/agents@{digest}"
    assert reveal(found.named("agent-image").inputs)["keepLocally"] is True


@pytest.mark.parametrize("pinned", [f"ghcr.io/disinto/agents@{PIN}", f"ghcr.io/disinto/agents:v2@{PIN}"])
def test_a_pinned_digest_asks_no_registry(pinned):
    mocks = RecordingMocks()
    found = run(mocks, agent_image=pinned)
    assert reveal(found.named("agent-image").inputs)["name"] == f"ghcr.io/disinto/agents@{PIN}"
    assert REGISTRY_IMAGE_INVOKE not in mocks.invoked
    # The containers run exactly that digest (the image's repo digest, as the provider reads it).
    assert {reveal(found.named(f"{a}-container").inputs)["image"] for a in ("llama", "dev-qwen2")} == {
        f"ghcr.io/disinto/agents@{PIN}"
    }


# ---------------------------------------------------------------- the order, run by the engine harness


def stand_in_calls(log) -> list[tuple[str, str]]:
    """(method, resource) of every call the stand-ins of docker/command resources got."""
    if not log.exists():
        return []
    return [(entry["m"], entry["label"]) for entry in map(json.loads, log.read_text().splitlines())]


def test_a_failing_token_leaves_the_compose_agent_running(forge, engine, tmp_path):
    """The whole program as registered, run as the engine runs it (in parallel, each resource once what
    it depends on is done): the token's creation fails, so `<name>-retire` never runs."""
    log = tmp_path / "stand-ins.jsonl"
    resources = with_stand_ins(recorded_run("dev-qwen"), str(log))
    assert {r.name for r in resources} >= {"dev-qwen-retire", "dev-qwen-container", "agent-image", "dev-qwen-token"}
    fault = forge.inject(Fault(method="POST", path_regex=r"/tokens$", kind="status", status=500, times=None))
    with pytest.raises(ProviderError) as failure:
        engine.concurrent_up(resources)
    assert failure.value.name == "dev-qwen-token" and fault.hits >= 1
    ran = {name for method, name in stand_in_calls(log) if method == "create"}
    assert not ran & {"dev-qwen-retire", "dev-qwen-copy-data", "dev-qwen-container"}
    # Everything the token does not hold up was done; retire waited for the token all the same.
    assert {"dev-qwen-user", "dev-qwen-collaborator", "dev-qwen-profile"} <= set(engine.state)
    assert "dev-qwen-token" not in engine.state

    # Once Forgejo answers, the next `up` converges, and retire runs after everything it waits for.
    forge.clear_faults()
    engine.concurrent_up(resources)
    creates = [name for method, name in engine.last_run_calls() if method == "Create"]
    ran = [name for method, name in stand_in_calls(log) if method == "create"]
    assert "dev-qwen-retire" in ran and "dev-qwen-container" in ran
    assert creates.index("dev-qwen-token") < creates.index("dev-qwen-retire")
    assert all(ran.index(n) < ran.index("dev-qwen-retire") for n in ("dev-qwen-repos", "dev-qwen-data", "agent-image"))
    assert creates.index("dev-qwen-retire") < creates.index("dev-qwen-copy-data") < creates.index("dev-qwen-container")


def test_the_drain_is_a_dependent_of_the_container_so_the_engine_deletes_it_first():
    """Replacing the container (delete-before-replace) or removing it deletes its dependents first:
    the engine replaces a dependent whose input comes from the replaced resource and whose diff says
    replace (pulumi step_generator.go, calculateDependentReplacements); pulumi-command replaces on new
    triggers. So `<name>-drain`'s delete, the drain, runs before the container's stop."""
    run = build(stack_settings=settings(drainTimeoutSeconds="900"))
    drained = run.named("llama-drain")
    inputs = reveal(drained.inputs)
    assert "create" not in inputs and "update" not in inputs  # nothing runs until the container goes
    assert inputs["delete"] == "python3 -m disinto_infra.runtimes.drain --container disinto-agents-llama --timeout 900"
    container_urn = run.named("llama-container").urn
    assert dependencies_of(drained.options, "triggers") == (container_urn,)
    assert container_urn in drained.options.dependencies
    assert run.named("llama-container").options.delete_before_replace is True
