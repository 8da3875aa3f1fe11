"""check.rest: one GET, failures in our own words, a token echoed by the server masked."""
from __future__ import annotations

import pytest

from disinto_infra.check import rest
from tests.support.http_double import Answer, HttpDouble


class Echo(HttpDouble):
    """Answers in plain text what it was sent, as a careless server might."""

    def answer(self, seen):
        if seen.path == "/json":
            return Answer(200, {"ok": True})
        return Answer(403, text=f"token {seen.headers.get('X-Token')} denied\nsecond line")


@pytest.fixture(scope="module")
def echo():
    with Echo() as double:
        yield double


def test_json_and_text_bodies(echo):
    assert rest.get(echo.url, "/json", {}, 2.0) == rest.Reply(200, {"ok": True})
    denied = rest.get(echo.url, "/x", {"X-Token": "tok-123"}, 2.0)
    assert (denied.status, denied.text, denied.why()) == (403, "token *** denied", "HTTP 403: token *** denied")


def test_failures_in_our_words(echo):
    tls = rest.get(echo.url.replace("http:", "https:"), "/json", {}, 2.0)
    assert (tls.status, tls.why()) == (None, "TLS handshake failed (certificate not trusted?)")
    echo.configure(mode="reset")
    try:
        assert rest.get(echo.url, "/json", {}, 2.0).why() == "connection refused or reset"
    finally:
        echo.configure(mode="ok")
