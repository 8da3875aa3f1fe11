"""http_get: one GET, failures in our own words (never an exception), a token echoed by the server masked."""
from __future__ import annotations

import pytest

from disinto_infra import http_get
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
    assert http_get.get(echo.url + "/json", {}, 2.0) == http_get.Reply(200, {"ok": True})
    denied = http_get.get(echo.url + "/x", {"X-Token": "tok-123"}, 2.0)
    assert (denied.status, denied.text, denied.why()) == (403, "token *** denied", "HTTP 403: token *** denied")
    bearer = http_get.get(echo.url + "/x", {"Authorization": "Bearer sk-9"}, 2.0)
    assert bearer.text == "token *** denied"


def test_failures_in_our_words(echo):
    tls = http_get.get(echo.url.replace("http:", "https:") + "/json", {}, 2.0)
    assert (tls.status, tls.why()) == (None, "TLS handshake failed (certificate not trusted?)")
    echo.configure(mode="reset")
    try:
        assert http_get.get(echo.url + "/json", {}, 2.0).why() == "connection refused or reset"
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
    reply = http_get.get(echo.url + "/json", {"X-Token": "tök€n-5"}, 2.0)
    assert reply == http_get.Reply(None, failure="the token holds characters an HTTP header cannot carry")
