"""2.1 Healthy means the loop runs: the probe passes within one interval of the loop line, and fails when
the loop is gone or the container restarted (runtimes/agent_entrypoint.py)."""

from __future__ import annotations

from datetime import datetime

from disinto_infra.runtimes import agent_entrypoint
from disinto_infra.runtimes.docker import HEALTH_INTERVAL
from tests.support.docker_engine import cli
from tests.support.engine_lab import Lab, wait_for


def _when(stamp: str) -> datetime:
    # Docker's RFC 3339 with nanoseconds: keep microseconds for fromisoformat.
    head, _, rest = stamp.partition(".")
    fraction = "".join(c for c in rest if c.isdigit())[:6]
    return datetime.fromisoformat(f"{head}.{fraction or '0'}+00:00")


def loop_entered_at(lab: Lab, cid: str) -> datetime:
    timestamped = cli("logs", "--timestamps", cid).stdout.splitlines()
    line = next(line for line in timestamped if agent_entrypoint.LOOP_LINE in line)
    return _when(line.split(" ", 1)[0])


def test_healthy_within_one_interval_of_the_loop_line(lab: Lab):
    box = lab.agent("health")
    started = lab.run_started(box)
    assert started.returncode == 0, started.output
    state = lab.engine.inspect(box.cid)["State"]
    assert state["Health"]["Status"] == "healthy"
    first_pass = next(probe for probe in state["Health"]["Log"] if probe["ExitCode"] == 0)
    delay = (_when(first_pass["Start"]) - loop_entered_at(lab, box.cid)).total_seconds()
    assert 0 <= delay <= HEALTH_INTERVAL + 1, delay


def test_the_probe_fails_once_the_loop_is_gone(lab: Lab):
    box = lab.agent("gone")
    assert lab.run_started(box).returncode == 0
    probe = ["bash", "-c", agent_entrypoint.HEALTH_SCRIPT]
    assert lab.exec(box, *probe).returncode == 0
    # Freeze nothing, kill nothing else: only the entrypoint (the loop) goes.
    loop_pid = lab.exec(box, "cat", agent_entrypoint.LOOP_PID).stdout.strip()
    lab.refuse("gone")  # its next start must not reach the loop either
    lab.exec(box, "kill", "-KILL", loop_pid)
    wait_for("the restart", lambda: lab.engine.inspect(box.cid)["RestartCount"] >= 1)
    # The new start cannot prove its login: it restarts again and again; between restarts a probe runs.
    failing = "agent loop not running in this start"
    wait_for("a probe of a new start", lambda: failing in lab.exec(box, *probe).stdout, timeout=120)
    assert lab.engine.inspect(box.cid)["State"]["Health"]["Status"] != "healthy"
