"""Issue 28 item 2: every network call has a total deadline, not a per-read timeout.

A server that drips a byte at a time answers every read in time; only a total deadline ends the
call. The deadline's timer is the test's own here (`deadline.START_TIMER`): it fires once the drip
has begun, so no test waits for wall-clock time or depends on the machine's speed.
"""

from __future__ import annotations

import threading

import pytest

from disinto_infra import deadline, http_get
from disinto_infra.commands.check import forge as check_forge
from disinto_infra.forgejo.client import ForgejoClient, ForgejoError
from tests.support.drip import Drip


class HandTimer:
    """A deadline timer the test fires; `armed` is set when a Deadline starts it."""

    def __init__(self) -> None:
        self.armed = threading.Event()
        self.expire: object = None

    def __call__(self, seconds: float, expire):
        self.seconds, self.expire = seconds, expire
        timer = self

        class _Started:
            def start(self) -> None:
                timer.armed.set()

            def cancel(self) -> None:
                pass

        return _Started()

    def fire(self) -> None:
        assert self.armed.wait(300)
        self.expire()


@pytest.fixture
def hand_timer(monkeypatch):
    timer = HandTimer()
    monkeypatch.setattr(deadline, "START_TIMER", timer)
    return timer


def _in_thread(call):
    result: dict = {}
    thread = threading.Thread(target=lambda: result.setdefault("value", _catch(call)), daemon=True)
    thread.start()
    return thread, result


def _catch(call):
    try:
        return call()
    except ForgejoError as exc:
        return exc


def test_a_dripping_reply_is_ended_at_the_deadline_and_called_a_timeout(hand_timer):
    with Drip() as drip:
        thread, result = _in_thread(lambda: http_get.get(drip.url + "/v1/sys/health", {}, 3.0))
        drip.give(40)
        drip.wait_sent(40)  # the status line and more went out: every read was answered in time
        hand_timer.fire()
        thread.join(300)
        assert not thread.is_alive()
    assert result["value"].failure == "no whole answer within 3s (timed out)"
    assert hand_timer.seconds == 3.0


def test_the_forgejo_client_is_ended_the_same_way(hand_timer):
    with Drip() as drip:
        client = ForgejoClient(drip.url, timeout=3.0, attempts=0)
        thread, result = _in_thread(lambda: client.request("GET", "/version", auth=None))
        drip.give(10)
        drip.wait_sent(10)
        hand_timer.fire()
        thread.join(300)
        client.close()
    error = result["value"]
    assert isinstance(error, ForgejoError) and error.message == "no answer (no whole answer within 3s (timed out))"


def test_check_reports_a_dripping_forgejo_as_a_timeout(hand_timer):
    with Drip() as drip:
        thread, result = _in_thread(lambda: check_forge.version(drip.url, 3.0))
        drip.give(5)
        drip.wait_sent(5)
        hand_timer.fire()
        thread.join(300)
    answer = result["value"]
    assert not answer.ok and "timed out" in answer.text and "refused or reset" not in answer.text


def test_with_the_real_timer_a_drip_every_half_second_still_ends():
    """The real clock, once: the call ends, whatever the drip; nothing is asserted of how fast."""
    with Drip(interval=0.5) as drip:
        reply = http_get.get(drip.url, {}, 1.0)
    assert reply.failure == "no whole answer within 1s (timed out)"


def test_a_deadline_that_expired_shuts_a_socket_registered_late():
    import socket

    left, right = socket.socketpair()
    with deadline.Deadline(3600) as limit:
        limit.expire()
        limit.register(left)
    assert left.recv(1) == b""  # shut: reads end at once
    left.close()
    right.close()
