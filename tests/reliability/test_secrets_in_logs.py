"""Secrets and `--verbose`: what the Forgejo client and http_get log at DEBUG never holds a token or a
password, whatever the exchange (an answer, an error that echoes the secret, a 429, no answer).

Seeded unique values, searched in every captured record's message and arguments, as test_secrets.py
searches everything else our code writes.
"""

from __future__ import annotations

import logging
import uuid

import pytest

from disinto_infra import http_get
from disinto_infra.forgejo.client import BasicAuth, ForgejoClient, ForgejoError, TokenAuth
from tests.support.forgejo_double import Fault, ForgejoDouble

pytestmark = pytest.mark.reliability

ADMIN = "disinto-admin"


def seed(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex}"


@pytest.fixture
def forge():
    with ForgejoDouble(spec_check=True) as double:
        yield double


def logged(caplog) -> str:
    """Every DEBUG record of this package, formatted as --verbose prints it, and its raw arguments."""
    records = [r for r in caplog.records if r.name.startswith("disinto_infra")]
    assert records, "nothing was logged: the test would prove nothing"
    return "\n".join(f"{r.getMessage()} {r.args!r}" for r in records)


def test_the_forgejo_client_logs_no_token_or_password(forge, caplog):
    password, new_password, echoed = seed("pw"), seed("newpw"), seed("echo")
    forge.add_user(ADMIN, password=password, is_admin=True, email="admin@disinto.local")
    token = forge.add_token(ADMIN, "admin", scopes=("all",))
    caplog.set_level(logging.DEBUG, logger="disinto_infra")
    with ForgejoClient(forge.url, timeout=3, attempts=0) as client:
        client.sleep = lambda seconds: None
        assert client.request("GET", "/user", auth=TokenAuth(token)).status == 200
        assert client.request("GET", "/user", auth=BasicAuth(ADMIN, password)).status == 200
        # A body carrying a password, sent with basic auth.
        body = {"username": "dev-qwen", "email": "dev-qwen@disinto.local", "password": new_password}
        client.request("POST", "/admin/users", auth=BasicAuth(ADMIN, password), json=body, ok=(201,))
        # An error whose message echoes the credentials in use.
        forge.inject(Fault("GET", "/api/v1/user$", status=422, message=f"{token} {password} {echoed}"))
        with pytest.raises(ForgejoError):
            client.request("GET", "/user", auth=TokenAuth(token))
        # A proxy's 429, waited out; then no answer at all.
        forge.inject(Fault("GET", "/api/v1/user$", status=429, headers={"Retry-After": "0"}))
        assert client.request("GET", "/user", auth=TokenAuth(token)).status == 200
        forge.inject(Fault("GET", "/api/v1/user$", kind="reset"))
        with pytest.raises(ForgejoError):
            client.request("GET", "/user", auth=TokenAuth(token))
    text = logged(caplog)
    assert "GET" in text and "/api/v1/user: HTTP 200" in text and "HTTP 429" in text and "no answer" in text
    for secret in (token, password, new_password, echoed):
        assert secret not in text


def test_http_get_logs_no_key_from_the_url_or_the_headers(forge, caplog):
    in_query, in_header, in_userinfo = seed("key"), seed("bearer"), seed("userpw")
    caplog.set_level(logging.DEBUG, logger="disinto_infra")
    host = forge.url.split("://", 1)[1]
    http_get.get(f"{forge.url}/api/v1/version?key={in_query}", {"Authorization": f"Bearer {in_header}"}, 3)
    http_get.get(f"http://user:{in_userinfo}@{host}/api/v1/version", {}, 3)
    text = logged(caplog)
    assert "/api/v1/version?key=***: 401" in text and "http://user:***@" in text  # the double refuses both
    for secret in (in_query, in_header, in_userinfo):
        assert secret not in text
