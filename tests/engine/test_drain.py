"""Issue 30: a replacement never cuts a session: the drain waits until the agent is idle (bounded), then
the graceful stop runs. Each case plays a replacement as the engine orders it: `<name>-drain`'s delete
(as pulumi-command runs it), the provider's container delete, then the new container."""

from __future__ import annotations

import threading
import time

from disinto_infra.program.plan import reveal
from tests.support.docker_engine import cli
from tests.support.engine_lab import AgentBox, Lab, run_command, wait_for

SESSION = 90  # seconds: the case


def session(lab: Lab, box: AgentBox, seconds: int) -> None:
    """A session stand-in: the agent user's process, writing its result on the data volume at its end."""
    cli(
        "exec",
        "-d",
        "-u",
        "1000",
        box.cid,
        "sh",
        "-c",
        f"sleep {seconds}; echo finished > /home/agent/data/session-done",
    )
    wait_for("the session", lambda: "sleep" in lab.exec(box, "ps", "-o", "comm=", "-u", "1000").stdout)


def finished(lab: Lab, box: AgentBox) -> bool:
    return lab.data_file(box, "session-done") == "finished"


def drain_of(lab: Lab, box: AgentBox, **stack: object) -> dict:
    """`<name>-drain` as the program registers it (with the stack's settings)."""
    return reveal(lab.registered(box.name, **stack).named(f"{box.name}-drain").inputs)


def replace(lab: Lab, box: AgentBox, drain: dict | None = None, **stack: object):
    """The drain's delete (as pulumi-command runs it), then the provider's stop; what each did."""
    drain = drain or drain_of(lab, box, **stack)
    drained = run_command({**drain, "create": drain["delete"]})
    return drained, lab.stop(box)


def test_a_busy_agent_finishes_its_session_before_the_replacement(lab: Lab):
    box = lab.agent("d-busy")
    assert lab.run_started(box).returncode == 0
    session(lab, box, SESSION)
    drained, stopped = replace(lab, box)
    assert drained.returncode == 0 and "drained in" in drained.output and "no session cut" in drained.output
    assert drained.seconds >= SESSION - 5, drained.seconds  # it waited for the session, not for a grace
    assert finished(lab, box)
    assert stopped.seconds < 10 and stopped.exit_code == 0, stopped  # then the stop had nothing left to wait for


def test_an_idle_agent_is_replaced_within_seconds(lab: Lab):
    box = lab.agent("d-idle")
    assert lab.run_started(box).returncode == 0
    drained, stopped = replace(lab, box)
    assert "drained in 0 s" in drained.output or "drained in 2 s" in drained.output, drained.output
    assert drained.seconds + stopped.seconds < 30


def test_a_session_that_outlives_the_bound_is_cut_and_named(lab: Lab):
    box = lab.agent("d-bound", drainTimeoutSeconds="10", stopGraceSeconds="5")
    assert lab.run_started(box).returncode == 0
    session(lab, box, 600)
    drained, stopped = replace(lab, box, drainTimeoutSeconds="10")
    assert drained.returncode == 0  # the replacement goes ahead
    assert "drain bound of 10 s reached; the stop cuts these sessions:" in drained.output
    assert "sleep 600" in drained.output
    assert not finished(lab, box)
    assert stopped.exit_code == 137  # killed at the grace


def test_another_agents_replacement_does_not_wait(lab: Lab):
    slow, quick = lab.agent("d-slow"), lab.agent("d-quick")
    assert lab.run_started(slow).returncode == 0 and lab.run_started(quick).returncode == 0
    session(lab, slow, SESSION)
    slow_drain, quick_drain = drain_of(lab, slow), drain_of(lab, quick)  # the program runs in this thread
    began = time.monotonic()
    slow_done: list[float] = []
    draining = threading.Thread(
        target=lambda: (replace(lab, slow, slow_drain), slow_done.append(time.monotonic() - began))
    )
    draining.start()
    _, stopped = replace(lab, quick, quick_drain)
    quick_took = time.monotonic() - began
    draining.join()
    assert stopped.exit_code == 0
    assert quick_took < slow_done[0] - 30, (quick_took, slow_done)
