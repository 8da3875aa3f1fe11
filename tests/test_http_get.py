"""http_get: one GET, failures in our own words (never an exception), a token echoed by the server masked."""

from __future__ import annotations

import tracemalloc

import pytest

from disinto_infra import http_get
from disinto_infra.model_servers import probe as model_server
from tests.support.budgets import ANSWER_BUDGET
from tests.support.flood import Flood
from tests.support.http_double import Answer, HttpDouble


class Echo(HttpDouble):
    """Answers in plain text what it was sent, as a careless server might."""

    def answer(self, seen):
        if seen.path == "/json":
            return Answer(200, {"ok": True})
        return Answer(403, text=f"token {seen.headers.get('X-Token') or seen.authorization} denied\nsecond line")


@pytest.fixture(scope="module")
def echo():
    with Echo() as double:
        yield double


def test_json_and_text_bodies(echo):
    assert http_get.get(echo.url + "/json", {}, ANSWER_BUDGET) == http_get.Reply(200, {"ok": True})
    denied = http_get.get(echo.url + "/x", {"X-Token": "tok-123"}, ANSWER_BUDGET)
    assert (denied.status, denied.text, denied.why()) == (403, "token *** denied", "HTTP 403: token *** denied")
    bearer = http_get.get(echo.url + "/x", {"Authorization": "Bearer sk-9"}, ANSWER_BUDGET)
    assert bearer.text == "token *** denied"


def test_failures_in_our_words(echo):
    tls = http_get.get(echo.url.replace("http:", "https:") + "/json", {}, ANSWER_BUDGET)
    assert (tls.status, tls.why()) == (None, "TLS handshake failed (certificate not trusted?)")
    echo.configure(mode="reset")
    try:
        assert http_get.get(echo.url + "/json", {}, ANSWER_BUDGET).why() == "connection refused or reset"
    finally:
        echo.configure(mode="ok")
    assert http_get.get(echo.url.split("//")[1] + "/json", {}, 2.0).why() == http_get.NO_SCHEME


def test_a_missing_ca_file_is_named_not_raised(echo, tmp_path, monkeypatch):
    https = echo.url.replace("http:", "https:") + "/json"
    missing = tmp_path / "ca.pem"
    assert http_get.get(https, {}, 2.0, verify=str(missing)).why() == f"CA file {missing} not found"
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(missing))
    assert http_get.get(https, {}, 2.0).why() == f"CA file {missing} (env REQUESTS_CA_BUNDLE) not found"


def test_a_token_no_header_can_carry_is_named_not_shown(echo):
    reply = http_get.get(echo.url + "/json", {"X-Token": "tök€n-5"}, ANSWER_BUDGET)
    assert reply == http_get.Reply(None, failure="the token holds characters an HTTP header cannot carry")


@pytest.mark.parametrize("chunked", [True, False])
def test_a_reply_past_the_limit_is_not_read(chunked):
    """Issue 19: a reply of hundreds of MB is refused at the limit, with memory near the limit."""
    tracemalloc.start()
    try:
        with Flood(chunked) as flood:
            reply = http_get.get(flood.url + "/props", {}, 5.0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert reply == http_get.Reply(None, failure=http_get.TOO_LARGE) and "8 MiB" in reply.why()
    assert peak < 3 * http_get.REPLY_LIMIT


def test_a_model_server_flooding_its_reply_is_a_probe_not_a_crash():
    with Flood() as flood:
        found = model_server.probe(flood.url, "", 5.0)
    assert found.state is model_server.ServerState.UNREACHABLE and http_get.TOO_LARGE in found.detail


def test_a_reply_nested_past_the_parser_is_text_not_a_crash(echo):
    deep = http_get.json_body
    with pytest.raises(ValueError):
        deep(b"[" * 100000 + b"]" * 100000)
