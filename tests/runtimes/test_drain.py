"""`<name>-drain`'s wait, on scripted `ps` answers and an injected clock (on the real engine:
tests/engine/test_drain.py)."""

from __future__ import annotations

import subprocess

from disinto_infra.runtimes import drain
from disinto_infra.runtimes.drain import Session, parse_ps
from tests.support.clock import FakeClock


class Scripted:
    def __init__(self, *answers, refuse: str | None = None) -> None:
        self.answers, self.refuse, self.signalled = list(answers), refuse, 0
        self.name = "disinto-agents-dev"

    def signal_drain(self):
        self.signalled += 1
        return self.refuse

    def sessions(self):
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


SESSION = Session(41, 754, "bash dev/dev-agent.sh 12")


def run(container: Scripted, timeout: float = 60) -> tuple[str, FakeClock]:
    clock = FakeClock()
    return drain.drain(container, timeout, clock, clock.sleep), clock  # type: ignore[arg-type]


def test_ps_lines_become_sessions_and_zombies_do_not_count():
    text = "Ss      41   754 bash dev/dev-agent.sh 12\nZ       57    3 [git] <defunct>\nS  60 2 sleep 5\n"
    assert parse_ps(text) == [SESSION, Session(60, 2, "sleep 5")]


def test_an_idle_agent_is_drained_at_the_first_look():
    container = Scripted([])
    text, clock = run(container)
    assert (text, clock.now, container.signalled) == ("disinto-agents-dev: drained in 0 s; no session cut", 0, 1)


def test_a_session_is_waited_for_until_it_ends():
    text, clock = run(Scripted([SESSION], [SESSION], []))
    assert text == "disinto-agents-dev: drained in 4 s; no session cut" and clock.now == 4


def test_at_the_bound_the_sessions_left_are_named_and_the_stop_goes_ahead():
    text, clock = run(Scripted([SESSION]), timeout=10)
    assert clock.now == 10
    assert text == (
        "disinto-agents-dev: drain bound of 10 s reached; the stop cuts these sessions:\n"
        "  pid 41, running 12 min 34 s: bash dev/dev-agent.sh 12"
    )


def test_a_container_that_is_gone_or_stopped_has_nothing_to_drain():
    text, _ = run(Scripted([], refuse="Error response from daemon: Container abc is not running"))
    assert text == "disinto-agents-dev: nothing to drain (Error response from daemon: Container abc is not running)"
    assert run(Scripted(None))[0] == "disinto-agents-dev: gone while draining"


class Cli:
    """A DockerCli whose every call answers the same."""

    def __init__(self, returncode: int, stdout: str = "", stderr: str = "") -> None:
        self.answer = (returncode, stdout, stderr)

    def run(self, *args: str):
        return subprocess.CompletedProcess(args, *self.answer)


def test_an_empty_ps_is_idle_but_a_docker_failure_is_not():
    assert drain.Container("c", Cli(1)).sessions() == []  # type: ignore[arg-type]
    assert drain.Container("c", Cli(1, stderr="Cannot connect to the Docker daemon")).sessions() is None  # type: ignore[arg-type]
    assert drain.Container("c", Cli(0, "S 41 754 bash dev/dev-agent.sh 12\n")).sessions() == [SESSION]  # type: ignore[arg-type]
