"""`<name>-started`'s judgement, on scripted `docker inspect` answers and an injected clock (on the real
engine: tests/engine/test_failed_start.py)."""

from __future__ import annotations

from disinto_infra.runtimes import started
from disinto_infra.runtimes.started import Seen
from tests.support.clock import FakeClock


def seen(status="running", health="starting", restarts=0, probe="") -> Seen:
    return Seen(
        status=status, health=health, restarts=restarts, exit_code=0 if status == "running" else 1, last_probe=probe
    )


class Scripted:
    """Answers `inspect` from a list (the last one repeats); counts the calls."""

    def __init__(self, *answers: Seen | str, logs: str = "line a\nline b") -> None:
        self.answers, self.logs_text, self.inspected = list(answers), logs, 0

    def inspect(self, container: str) -> Seen | str:
        self.inspected += 1
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    def logs(self, container: str) -> str:
        return self.logs_text


def wait(docker: Scripted, timeout: float = 60) -> tuple[bool, str, FakeClock]:
    clock = FakeClock()
    ok, text = started.wait_started("disinto-agents-dev", timeout, docker, clock, clock.sleep)  # type: ignore[arg-type]
    return ok, text, clock


def test_healthy_ends_the_wait():
    ok, text, _clock = wait(Scripted(seen(), seen(), seen(health="healthy")))
    assert ok and text == "disinto-agents-dev: agent loop running after 2 s"


def test_a_restart_fails_at_once_with_the_logs_and_the_count():
    ok, text, clock = wait(Scripted(seen(), seen(restarts=1, probe="agent loop not running in this start")))
    assert not ok and clock.now == 1  # the second look, not the timeout
    assert text.splitlines()[:4] == [
        "disinto-agents-dev: the agent exited before its loop ran (exit code 0).",
        "state running, health starting, restarted 1 times",
        "last health probe: agent loop not running in this start",
        "last 20 log lines (docker logs --tail 20 disinto-agents-dev):",
    ]
    assert "  line a\n  line b\n" in text


def test_an_exit_fails_at_once():
    ok, text, _ = wait(Scripted(seen(status="exited", health="unhealthy")))
    assert not ok and "exited before its loop ran (exit code 1)" in text


def test_restarts_before_the_watch_do_not_count():
    """The next `up` looks again at a container that restarted before: only new restarts fail it."""
    ok, _, _ = wait(
        Scripted(seen(restarts=4, status="restarting"), seen(restarts=4), seen(restarts=4, health="healthy"))
    )
    assert ok


def test_a_start_that_hangs_fails_at_the_timeout():
    ok, text, clock = wait(Scripted(seen()), timeout=30)
    assert not ok and clock.now == 30
    assert "no healthy agent loop after 30 s (health starting)" in text


def test_a_container_that_cannot_be_inspected_fails_and_says_why():
    ok, text, _ = wait(Scripted("Error: No such object: disinto-agents-dev"))
    assert (ok, text) == (False, "disinto-agents-dev: cannot be inspected: Error: No such object: disinto-agents-dev")


def test_inspect_documents_are_read_whole_or_not_at_all():
    document = [
        {
            "RestartCount": 2,
            "State": {"Status": "running", "ExitCode": 0, "Health": {"Status": "starting", "Log": [{"Output": "x\n"}]}},
        }
    ]
    assert Seen.from_inspect(document) == Seen("running", "starting", 2, 0, "x")
    assert Seen.from_inspect(None) == Seen("", "", 0, 0, "")
