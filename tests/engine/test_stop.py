"""2.3 A stop loses no work and wastes no time: the loop starts no new poll, a job in flight finishes
within the grace, an idle agent stops in seconds (runtimes/agent_entrypoint.py)."""

from __future__ import annotations

from disinto_infra.runtimes import agent_entrypoint
from tests.support.docker_engine import cli
from tests.support.engine_lab import Lab, wait_for

JOB = "sleep {seconds}; echo finished > /home/agent/data/job-done"


def job_in_flight(lab: Lab, box, seconds: int) -> None:
    """A session stand-in: a process of the agent user, as every poll and session is."""
    cli("exec", "-d", "-u", "1000", box.cid, "sh", "-c", JOB.format(seconds=seconds))
    wait_for("the job", lambda: "sleep" in lab.exec(box, "ps", "-o", "comm=", "-u", "1000").stdout)


def job_finished(lab: Lab, box) -> bool:
    return lab.data_file(box, "job-done") == "finished"


def polls_after_stop(logs: str) -> list[str]:
    after = logs.split(agent_entrypoint.STOP_LINE, 1)[1]
    return [line for line in after.splitlines() if "Running " in line and "-poll" in line]


def test_an_idle_agent_stops_in_seconds(lab: Lab):
    box = lab.agent("idle")
    assert lab.run_started(box).returncode == 0
    stopped = lab.stop(box)
    assert stopped.seconds < box.inputs["destroyGraceSeconds"] / 4, stopped
    assert stopped.exit_code == 0


def test_a_job_in_flight_finishes_and_the_loop_polls_no_more(lab: Lab):
    box = lab.agent("busy")  # polls every 5 s
    assert lab.run_started(box).returncode == 0
    job_in_flight(lab, box, 15)
    stopped = lab.stop(box)
    assert job_finished(lab, box)
    assert stopped.seconds < box.inputs["destroyGraceSeconds"] and stopped.exit_code == 0, stopped
    assert polls_after_stop(stopped.logs) == []
    assert agent_entrypoint.STOPPED_LINE in stopped.logs


def test_a_job_longer_than_the_grace_is_stopped_at_the_grace(lab: Lab):
    box = lab.agent("long", stopGraceSeconds="5")
    assert lab.run_started(box).returncode == 0
    job_in_flight(lab, box, 600)
    stopped = lab.stop(box)
    assert stopped.seconds >= 5 and stopped.exit_code == 137, stopped  # SIGKILL at the grace
    assert not job_finished(lab, box)
