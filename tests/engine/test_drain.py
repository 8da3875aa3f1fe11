"""Issue 30: a replacement never cuts a session: the drain waits until the agent is idle (bounded), then
the graceful stop runs. Each case plays a replacement as the engine orders it: `<name>-drain`'s delete
(as pulumi-command runs it), the provider's container delete, then the new container. A session is
held until the test releases it, so each case waits for events, never for a time (issue 28 item 1)."""

from __future__ import annotations

from disinto_infra.program.plan import reveal
from disinto_infra.runtimes import agent_entrypoint
from tests.support.engine_lab import (
    AgentBox,
    Lab,
    in_background,
    logs_of,
    release_job,
    run_command,
    start_held_job,
    wait_for,
)

SESSION_RESULT = "session-done"


def finished(lab: Lab, box: AgentBox) -> bool:
    return lab.data_file(box, SESSION_RESULT) == "finished"


def draining(box: AgentBox) -> bool:
    return agent_entrypoint.DRAIN_LINE in logs_of(box)


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
    start_held_job(lab, box, SESSION_RESULT)
    drain = drain_of(lab, box)  # the program runs in this thread (its mocks need its event loop)
    replacing, result = in_background(lambda: replace(lab, box, drain))
    wait_for("the drain to freeze the loop", lambda: draining(box))
    assert replacing.is_alive() and not finished(lab, box)  # the drain waits for the session
    release_job(lab, box)
    replacing.join()
    [(drained, stopped)] = result
    assert drained.returncode == 0 and "drained in" in drained.output and "no session cut" in drained.output
    assert finished(lab, box)
    assert stopped.exit_code == 0, stopped  # then the stop had nothing left to wait for


def test_an_idle_agent_is_replaced_without_waiting(lab: Lab):
    box = lab.agent("d-idle")
    assert lab.run_started(box).returncode == 0
    drained, stopped = replace(lab, box)
    assert drained.returncode == 0 and "no session cut" in drained.output, drained.output
    assert stopped.exit_code == 0, stopped


def test_a_session_that_outlives_the_bound_is_cut_and_named(lab: Lab):
    box = lab.agent("d-bound", drainTimeoutSeconds="10", stopGraceSeconds="5")
    assert lab.run_started(box).returncode == 0
    start_held_job(lab, box, SESSION_RESULT)  # never released: it outlives the bound
    drained, stopped = replace(lab, box, drainTimeoutSeconds="10")
    assert drained.returncode == 0  # the replacement goes ahead
    assert "drain bound of 10 s reached; the stop cuts these sessions:" in drained.output
    assert "/tmp/release" in drained.output  # the held session, named
    assert not finished(lab, box)
    assert stopped.exit_code == 137  # killed at the grace


def test_another_agents_replacement_does_not_wait(lab: Lab):
    slow, quick = lab.agent("d-slow"), lab.agent("d-quick")
    assert lab.run_started(slow).returncode == 0 and lab.run_started(quick).returncode == 0
    start_held_job(lab, slow, SESSION_RESULT)
    slow_drain, quick_drain = drain_of(lab, slow), drain_of(lab, quick)  # the program runs in this thread
    replacing, result = in_background(lambda: replace(lab, slow, slow_drain))
    wait_for("the slow agent's drain", lambda: draining(slow))
    _, stopped = replace(lab, quick, quick_drain)
    assert stopped.exit_code == 0
    assert replacing.is_alive()  # the quick one was replaced while the slow one still drained
    release_job(lab, slow)
    replacing.join()
    [(drained, _)] = result
    assert drained.returncode == 0 and finished(lab, slow)
