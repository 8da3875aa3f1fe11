"""The wrapper around the image's entrypoint, run by bash on this host with a stand-in entrypoint: the
loop mark and the probe, the exit status, and the stop that waits for the agent user's jobs.
(On the real engine with the factory's entrypoint: tests/engine/.)"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time

import pytest

from disinto_infra.runtimes import agent_entrypoint as wrapper
from tests.support.engine_lab import wait_for

# A uid no process of this machine runs as: the stand-in's jobs run as it (setpriv), so "busy" means them.
JOB_UID = 54321
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="running a job as another uid needs root (setpriv)")


@pytest.fixture
def start(tmp_path):
    """Start the wrapper around a stand-in entrypoint script; yields a function that runs it."""
    state = tmp_path / "state"
    procs: list[subprocess.Popen[str]] = []

    def run(body: str) -> tuple[subprocess.Popen[str], object]:
        entrypoint = tmp_path / "entrypoint.sh"
        entrypoint.write_text(f"#!/bin/bash\n{body}\n")
        entrypoint.chmod(0o755)
        text = wrapper.script(str(state), str(entrypoint), JOB_UID)
        # Its own session, output to a file: outside a container nothing ends the frozen loop when the
        # wrapper exits (in one, PID 1's exit ends them all), so the test ends the group itself.
        with open(tmp_path / "out", "w") as out:
            proc = subprocess.Popen(["bash", "-c", text, wrapper.PROGRAM_NAME], stdout=out, start_new_session=True)
        procs.append(proc)
        return proc, state

    yield run
    for proc in procs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def output(proc, tmp_path) -> str:
    proc.wait(timeout=60)
    return (tmp_path / "out").read_text()


def probe(state) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", wrapper.health_script(str(state))], capture_output=True, text=True)


LOOP = f'echo "starting"; echo "{wrapper.LOOP_LINE} (interval: 5s)"; while true; do sleep 0.2; done'


def test_the_probe_passes_once_the_loop_line_went_by(start):
    _proc, state = start(LOOP)
    wait_for("the loop mark", lambda: probe(state).returncode == 0, timeout=30, every=0.1)


def test_the_probe_fails_before_the_loop_and_names_the_last_line(start):
    _proc, state = start('echo "Cloning the project"; sleep 30')
    wait_for("the first line", lambda: (state / "last").exists(), timeout=30, every=0.1)
    failed = probe(state)
    assert failed.returncode == 1
    assert failed.stdout == "agent loop not running in this start; last entrypoint line: Cloning the project\n"


def test_the_entrypoints_output_passes_through_and_its_exit_status_is_the_containers(start, tmp_path):
    proc, _ = start('echo "FATAL: No real .toml files found"; exit 3')
    out = output(proc, tmp_path)
    assert proc.returncode == 3
    assert "FATAL: No real .toml files found\n" in out
    assert "disinto-agent: the entrypoint exited with status 3" in out


def test_a_new_start_forgets_the_last_starts_loop(start, tmp_path):
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "loop").touch()  # left by an earlier start of the same container
    _proc, state = start("sleep 30")
    wait_for("the wrapper's start", lambda: (state / "pid").exists(), timeout=30, every=0.1)
    assert probe(state).returncode == 1


def test_an_idle_agent_stops_at_once_and_the_loop_polls_no_more(start, tmp_path):
    proc, state = start(f'echo "{wrapper.LOOP_LINE}"; while true; do echo poll; sleep 0.2; done')
    wait_for("the loop", lambda: probe(state).returncode == 0, timeout=30, every=0.1)
    proc.send_signal(signal.SIGTERM)
    out = output(proc, tmp_path)
    time.sleep(0.5)  # a loop that still ran would print again within this
    out = (tmp_path / "out").read_text()
    assert proc.returncode == 0
    after = out.split(wrapper.STOP_LINE, 1)[1]
    assert "poll" not in after.replace(wrapper.STOPPED_LINE, "")
    assert probe(state).returncode == 1  # a stopping agent is not healthy


@needs_root
def test_a_stop_waits_for_the_agent_users_job(start, tmp_path):
    job = f"setpriv --reuid {JOB_UID} --regid {JOB_UID} --clear-groups sleep 2"
    proc, _state = start(f'echo "{wrapper.LOOP_LINE}"; ({job}) & while true; do sleep 0.2; done')
    wait_for(
        "the job",
        lambda: subprocess.run(["pgrep", "-u", str(JOB_UID)], capture_output=True).returncode == 0,
        timeout=30,
        every=0.1,
    )
    proc.send_signal(signal.SIGTERM)
    out = output(proc, tmp_path)
    assert proc.returncode == 0 and wrapper.STOPPED_LINE in out
    # The wrapper exited only once the job had ended: the agent user has no live process left (the
    # job's zombie stays, as its parent, the loop, is frozen; in a container PID 1's exit ends both).
    states = subprocess.run(["ps", "-o", "stat=", "-u", str(JOB_UID)], capture_output=True, text=True).stdout.split()
    assert [s for s in states if not s.startswith("Z")] == []


def test_a_drain_freezes_the_loop_and_the_agent_keeps_running(start, tmp_path):
    proc, state = start(f'echo "{wrapper.LOOP_LINE}"; while true; do echo poll; sleep 0.2; done')
    wait_for("the loop", lambda: probe(state).returncode == 0, timeout=30, every=0.1)
    proc.send_signal(getattr(signal, f"SIG{wrapper.DRAIN_SIGNAL}"))
    wait_for("the drain line", lambda: wrapper.DRAIN_LINE in (tmp_path / "out").read_text(), timeout=30, every=0.1)
    time.sleep(0.5)  # a loop that still ran would print again within this
    after = (tmp_path / "out").read_text().split(wrapper.DRAIN_LINE, 1)[1]
    assert "poll" not in after.splitlines()
    assert proc.poll() is None  # draining is not stopping
    assert probe(state).returncode == 1  # nor healthy: it takes no new work
    proc.send_signal(signal.SIGTERM)
    after = output(proc, tmp_path).split(wrapper.DRAIN_LINE, 1)[1]
    assert "poll" not in after.splitlines() and wrapper.STOPPED_LINE in after
    assert proc.returncode == 0
