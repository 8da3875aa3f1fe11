"""2.7 `check` reports an agent that restarts or is unhealthy, with its last log lines
(disinto_infra/commands/check/containers.py, against the real engine)."""

from __future__ import annotations

from disinto_infra.commands.check import containers
from tests.support.docker_engine import cli
from tests.support.engine_lab import Lab, wait_for


def docker():
    return containers.docker_for(None, timeout=30)


def test_a_healthy_agent_is_no_problem(lab: Lab):
    box = lab.agent("fine")
    assert lab.run_started(box).returncode == 0
    facts = containers.container("fine", docker())
    assert (facts.found, facts.status, facts.health, facts.problems) == ("running", "running", "healthy", ())


def test_a_crash_looping_agent_is_reported_with_its_last_lines(lab: Lab):
    lab.agent("looping", refused=True)
    wait_for("a restart", lambda: containers.container("looping", docker()).restarts >= 1, timeout=180)
    facts = containers.container("looping", docker())
    assert len(facts.problems) == 1
    problem = facts.problems[0]
    assert problem.startswith("agent looping: container disinto-agents-looping ")
    assert "restarted" in problem and "last log lines:" in problem
    assert "Could not determine bot username" in problem or "Agent container starting" in problem


def test_an_agent_not_yet_created_is_absent_not_a_problem(lab: Lab):
    facts = containers.container("never-made", docker())
    assert (facts.found, facts.problems) == ("absent", ())


def test_a_busy_agent_is_listed_with_its_session(lab: Lab):
    box = lab.agent("working")
    assert lab.run_started(box).returncode == 0
    cli("exec", "-d", "-u", "1000", box.cid, "sleep", "300")
    wait_for("the session", lambda: any("sleep 300" in s for s in containers.container("working", docker()).sessions))
    facts = containers.container("working", docker())
    assert facts.problems == () and facts.health == "healthy"
