"""2.3 A stop loses no work and wastes no time: the loop starts no new poll, a job in flight finishes
within the grace, an idle agent stops by itself (runtimes/agent_entrypoint.py).

Each case is proved by events (log lines, the exit code, a job's result), never by how many seconds
it took: exit 0 is the wrapper's own exit, 137 Docker's kill at the grace (issue 28 item 1)."""

from __future__ import annotations

from disinto_infra.runtimes import agent_entrypoint
from tests.support.engine_lab import Lab, in_background, logs_of, release_job, start_held_job, wait_for


def job_finished(lab: Lab, box) -> bool:
    return lab.data_file(box, "job-done") == "finished"


def polls_after_stop(logs: str) -> list[str]:
    after = logs.split(agent_entrypoint.STOP_LINE, 1)[1]
    return [line for line in after.splitlines() if "Running " in line and "-poll" in line]


def test_an_idle_agent_stops_by_itself(lab: Lab):
    box = lab.agent("idle")
    assert lab.run_started(box).returncode == 0
    stopped = lab.stop(box)
    assert stopped.exit_code == 0, stopped  # its own exit: no job held it, Docker did not kill it
    assert agent_entrypoint.STOPPED_LINE in stopped.logs


def test_a_job_in_flight_finishes_and_the_loop_polls_no_more(lab: Lab):
    box = lab.agent("busy")  # polls every 5 s
    assert lab.run_started(box).returncode == 0
    start_held_job(lab, box, "job-done")
    stopping, result = in_background(lambda: lab.stop(box))
    wait_for("the stop to freeze the loop", lambda: agent_entrypoint.STOP_LINE in logs_of(box))
    assert stopping.is_alive() and not job_finished(lab, box)  # the stop waits for the job
    release_job(lab, box)
    stopping.join()
    [stopped] = result
    assert job_finished(lab, box)
    assert stopped.exit_code == 0, stopped
    assert polls_after_stop(stopped.logs) == []
    assert agent_entrypoint.STOPPED_LINE in stopped.logs


def test_a_job_longer_than_the_grace_is_stopped_at_the_grace(lab: Lab):
    box = lab.agent("long", stopGraceSeconds="5")
    assert lab.run_started(box).returncode == 0
    start_held_job(lab, box, "job-done")  # never released
    stopped = lab.stop(box)
    assert stopped.seconds >= 5 and stopped.exit_code == 137, stopped  # SIGKILL at the grace
    assert not job_finished(lab, box)
