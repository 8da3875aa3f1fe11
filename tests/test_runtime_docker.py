"""The docker runtime's container: the healthcheck that sees the agent loop, `wait`, the stop's grace,
and what the provider reads back (kreuzwerker/terraform-provider-docker v4.5.0)."""
import os
import subprocess
import time

import pytest

from disinto_infra import bind_sources, go_duration, runtime_docker
from disinto_infra.plan import reveal

from tests.test_agent import build, settings

DURATIONS = ("interval", "timeout", "startPeriod", "startInterval")


def container(**stack):
    run = build(stack_settings=settings(**stack))
    return run.named("llama-container")


def provider_read(healthcheck: dict) -> dict:
    """The healthcheck block as the provider's read stores it: each duration through Go's
    ParseDuration and Duration.String(), test and retries as Docker holds them."""
    return {**healthcheck, **{key: go_duration.read_back(healthcheck[key]) for key in DURATIONS}}


def test_recorded_healthcheck_equals_what_a_read_returns():
    for stack in ({}, {"startTimeoutSeconds": "90"}, {"startTimeoutSeconds": 1140}):
        healthcheck = reveal(container(**stack).inputs)["healthcheck"]
        assert set(healthcheck) == {"tests", "retries", *DURATIONS}  # every field the read sets
        assert provider_read(healthcheck) == healthcheck


def test_container_waits_for_the_loop_and_stops_with_the_grace():
    inputs = reveal(container(startTimeoutSeconds="900", stopGraceSeconds="45").inputs)
    assert (inputs["wait"], inputs["waitTimeout"]) == (True, 900)
    assert inputs["healthcheck"]["startPeriod"] == "15m0s"
    assert (inputs["init"], inputs["destroyGraceSeconds"]) == (False, 45)
    defaults = reveal(container().inputs)
    assert (defaults["waitTimeout"], defaults["destroyGraceSeconds"]) == (600, 120)
    assert defaults["healthcheck"] == {
        "tests": ["CMD-SHELL", runtime_docker.HEALTH_SCRIPT], "interval": "30s", "timeout": "10s",
        "startPeriod": "10m0s", "startInterval": "0s", "retries": 3,
    }


def test_a_healthcheck_or_init_change_replaces_the_container_old_one_first():
    options = container().options
    assert set(options.replace_on_changes) == {"healthcheck", "init"}
    assert options.delete_before_replace is True


def test_the_factorys_env_file_is_not_mounted():
    volumes = reveal(container().inputs)["volumes"]
    assert not [v for v in volumes if v.get("hostPath", "").endswith("/.env") or v["containerPath"].endswith("/.env")]
    assert {b.setting for b in bind_sources.binds(settings())} == {
        "claudeSharedDir", "claudeConfigFile", "sshDir", "factoryRoot"}


# ------------------------------------------------------------ the probe itself, run by sh

@pytest.fixture
def probe(tmp_path):
    """The healthcheck's script on a log file of our own (PID 1 here started long before the test)."""
    log = tmp_path / "agent-entrypoint.log"
    script = runtime_docker.HEALTH_SCRIPT.replace(runtime_docker.ENTRYPOINT_LOG, str(log))
    assert script != runtime_docker.HEALTH_SCRIPT

    def run(*lines: str, mtime: float | None = None) -> subprocess.CompletedProcess:
        if lines:
            log.write_text("".join(f"[2026-01-01 00:00:00 UTC] {line}\n" for line in lines))
            if mtime is not None:
                os.utime(log, (mtime, mtime))
        return subprocess.run(["sh", "-c", script], check=False, capture_output=True, text=True, timeout=20)

    return run


def test_probe_is_healthy_once_this_start_entered_the_loop(probe):
    done = probe("Agent container starting", "Entering polling loop (interval: 60s, roles: dev)",
                 "Processing project TOML: /home/agent/disinto/projects/disinto.toml")
    assert (done.returncode, done.stdout) == (0, "")


@pytest.mark.parametrize("lines", [
    ("Agent container starting", "FATAL: No real .toml files found in /home/agent/disinto/projects/"),
    # an earlier start ran the loop; this one has not reached it yet
    ("Agent container starting", "Entering polling loop (interval: 60s, roles: dev)", "Agent container starting",
     "Ops bootstrap: cloning johba/disinto-ops"),
])
def test_probe_fails_before_the_loop_and_says_why(probe, lines):
    done = probe(*lines)
    assert done.returncode == 1
    assert done.stdout == f"agent loop not entered since this start; last entrypoint log line: " \
                          f"[2026-01-01 00:00:00 UTC] {lines[-1]}\n"


def test_probe_ignores_a_log_written_before_this_start(probe):
    """The data volume keeps the last start's log: its loop line does not count."""
    assert probe("Agent container starting", "Entering polling loop", mtime=time.time() - 10 ** 9).returncode == 1


def test_probe_without_a_log_is_unhealthy(probe):
    assert probe().returncode == 1
