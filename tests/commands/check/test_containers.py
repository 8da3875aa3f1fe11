"""`check`'s container area judged from what `docker inspect` says (on the real engine: tests/engine/)."""

from __future__ import annotations

from disinto_infra.commands.check import containers
from disinto_infra.runtimes.started import Seen
from tests.support import docker_cli_double


def seen(status="running", health="healthy", restarts=0, probe="") -> Seen:
    return Seen(
        status=status, health=health, restarts=restarts, exit_code=1 if status != "running" else 0, last_probe=probe
    )


LOGS = "\n".join(f"line {n}" for n in range(1, 9))


def test_a_healthy_container_is_no_problem_even_after_a_restart():
    facts = containers.judge("dev", "disinto-agents-dev", seen(restarts=2), LOGS)
    assert (facts.status, facts.health, facts.restarts, facts.problems) == ("running", "healthy", 2, ())


def test_a_restarting_or_unhealthy_container_is_a_problem_with_its_last_lines():
    cases = {
        seen("restarting", "starting", 4): "restarting (exit code 1), restarted 4 times",
        seen("exited", "unhealthy", 0): "exited (exit code 1), restarted 0 times",
        seen(health="unhealthy", probe="agent loop not running in this start"): "unhealthy: agent loop not running",
        seen(health="starting", restarts=3): "restarting in a loop: restarted 3 times, no healthy start since",
    }
    for state, reason in cases.items():
        (problem,) = containers.judge("dev", "disinto-agents-dev", state, LOGS).problems
        assert problem.startswith(f"agent dev: container disinto-agents-dev {reason}")
        assert problem.endswith("last log lines: line 4; line 5; line 6; line 7; line 8")


def test_a_first_start_still_starting_is_no_problem():
    assert containers.judge("dev", "c", seen(health="starting"), "").problems == ()


def test_an_absent_container_is_no_problem_and_an_unreachable_host_is(tmp_path, monkeypatch):
    bin_dir = docker_cli_double.install(tmp_path, {})
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    assert containers.container("dev", containers.docker_for(None, 5)).found == "absent"
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    facts = containers.container("dev", containers.docker_for(None, 5))
    assert facts.problems == (
        "agent dev: cannot ask the Docker host: the docker CLI is not on PATH of the Pulumi host",
    )


def test_a_busy_agent_lists_its_sessions_longest_first(tmp_path, monkeypatch):
    ps = "S   41  754 bash dev/dev-agent.sh 12\nS   60   12 git push origin fix-12\nZ  70 1 [sh] <defunct>\n"
    bin_dir = docker_cli_double.install(
        tmp_path, {"disinto-agents-dev": {"inspect": docker_cli_double.running(), "ps": ps}}
    )
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    facts = containers.container("dev", containers.docker_for(None, 5))
    assert facts.sessions == (
        "pid 41, running 12 min 34 s: bash dev/dev-agent.sh 12",
        "pid 60, running 0 min 12 s: git push origin fix-12",
    )
    assert facts.problems == ()
