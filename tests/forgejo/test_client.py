"""Issue 18 item 2: the operator's environment never changes who the program acts as.

`requests` fills in a `~/.netrc` entry for the host when a request has no `auth`, which replaced
our `Authorization: token` header: the admin-token requests then ran as whoever the netrc names.
Proxies and a CA bundle are taken from the environment on purpose (module `client`'s docstring).
"""

from __future__ import annotations

import pytest

from disinto_infra.forgejo.client import (
    RATE_LIMIT_WAIT,
    BasicAuth,
    ForgejoClient,
    ForgejoError,
    Response,
    TokenAuth,
    environment_settings,
    retry_after,
)
from tests.forgejo.conftest import ADMIN, ADMIN_PASSWORD, host_config
from tests.support.clock import FakeClock
from tests.support.engine import Engine, Host, Secret
from tests.support.forge_login import assert_identity_works
from tests.support.forgejo_double import Fault
from tests.support.identity import identity


@pytest.fixture
def netrc_for_the_forge(forge, tmp_path, monkeypatch):
    """A netrc that names another user for the Forgejo host, found through $NETRC and $HOME."""
    host = forge.url.split("://", 1)[1].split(":")[0]
    netrc = tmp_path / ".netrc"
    netrc.write_text(f"machine {host} login johba password johba-pass-123\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setenv("HOME", str(tmp_path))
    return netrc


def test_a_netrc_entry_does_not_replace_the_admin_token(forge, netrc_for_the_forge):
    token = forge.add_token(ADMIN, "admin", scopes=("all",))
    with ForgejoClient(forge.url) as client:
        assert client.request("GET", "/user", auth=TokenAuth(token)).body["login"] == ADMIN
        # Nor does it log an anonymous request in.
        assert client.request("GET", "/version", auth=None).status == 200
    sent = [r for r in forge.requests if r.path in ("/api/v1/user", "/api/v1/version")]
    assert [(r.auth_kind, r.username) for r in sent] == [("token", ADMIN), ("none", None)]


def test_the_providers_act_as_the_admin_token_with_a_netrc_around(forge, netrc_for_the_forge, monkeypatch):
    token = forge.add_token(ADMIN, "admin", scopes=("all",))
    with Host(host_config(forge, adminToken=Secret(token))) as host:  # the host inherits $NETRC and $HOME
        monkeypatch.undo()  # the test's own requests (assert_identity_works) are plain `requests` calls
        engine = Engine(host)
        engine.up(identity("dev-qwen"))
        assert_identity_works(forge, engine, "dev-qwen")
        engine.refresh()
        assert engine.outputs("dev-qwen-token")["token"]  # the refresh found the token, as its owner's
    admin_calls = [r for r in forge.requests if r.method == "POST" and r.path == "/api/v1/admin/users"]
    assert [(r.auth_kind, r.username) for r in admin_calls] == [("token", ADMIN)]
    assert "johba" not in {r.username for r in forge.requests}


def test_proxies_and_ca_bundle_come_from_the_environment_on_purpose(monkeypatch):
    for var in (
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
    ):
        monkeypatch.delenv(var, raising=False)
    assert environment_settings("https://forge.example") == ({}, True)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/ssl/curl.pem")
    proxies, verify = environment_settings("https://forge.example")
    assert proxies["https"] == "http://proxy.example:3128" and verify == "/etc/ssl/curl.pem"
    assert environment_settings("http://127.0.0.1:3000")[0] == {}  # NO_PROXY honoured
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/forge.pem")
    assert environment_settings("https://forge.example")[1] == "/etc/ssl/forge.pem"


# Issue 18 item 8: a server whose MAX_RESPONSE_ITEMS is lower than the 50 we ask for.


@pytest.mark.parametrize("max_items", [50, 7, 1])
def test_paginate_reads_every_item_when_the_server_caps_pages_lower(forge, max_items):
    forge.state.settings.max_response_items = max_items
    token = forge.add_token(ADMIN, "admin", scopes=("all",))
    for n in range(23):
        forge.add_user(f"user{n}")
    forge.clear_requests()
    with ForgejoClient(forge.url) as client:
        logins = [u["login"] for u in client.paginate("/admin/users", auth=TokenAuth(token))]
    assert len(logins) == 25 and len(set(logins)) == 25  # the admin, johba and the 23
    assert len(forge.requests) == -(-25 // max_items)  # X-Total-Count ends it: no empty page asked


def test_paginate_stops_on_an_empty_page_without_a_total(forge, monkeypatch):
    """A proxy may drop X-Total-Count: then only an empty page ends the list."""
    original = forge.api._paginate
    monkeypatch.setattr(forge.api, "_paginate", lambda ctx, items: (original(ctx, items)[0], {}))
    forge.state.settings.max_response_items = 7
    token = forge.add_token(ADMIN, "admin", scopes=("all",))
    for n in range(23):
        forge.add_user(f"user{n}")
    forge.clear_requests()
    with ForgejoClient(forge.url) as client:
        assert len(list(client.paginate("/admin/users", auth=TokenAuth(token)))) == 25
    assert [r.query["page"] for r in forge.requests] == ["1", "2", "3", "4", "5"]  # 7, 7, 7, 4, then empty


def test_paginate_ends_at_a_page_that_is_no_list(monkeypatch):
    """An object where a list belongs (a proxy's error page as JSON, say) ends the listing: before
    the reply became `object`, `yield from` walked the object's keys as if they were items."""
    pages = [Response(200, {"message": "not a list"}, {})]
    monkeypatch.setattr(ForgejoClient, "request", lambda self, *a, **kw: pages.pop(0))
    with ForgejoClient("http://127.0.0.1:9") as client:
        assert list(client.paginate("/admin/users", auth=None)) == []
    assert pages == []  # one page asked, then stopped


# Issue 27 item 7: a 429 from a proxy in front of Forgejo (Forgejo has none of its own) is waited out.


def _rate_limit(forge, retry_after: str, times: int, method: str = "POST") -> None:
    forge.inject(
        Fault(method=method, path_regex=r"/admin/users$", status=429, times=times, headers={"Retry-After": retry_after})
    )


def test_a_429_is_waited_out_as_retry_after_says_even_for_a_post(forge):
    _rate_limit(forge, "7", times=2)
    clock = FakeClock()
    with ForgejoClient(forge.url) as client:
        client.sleep = clock.sleep
        body = {"username": "dev-qwen", "email": "q@x.test", "password": "Pass-word-123", "must_change_password": False}
        created = client.request("POST", "/admin/users", auth=BasicAuth(ADMIN, ADMIN_PASSWORD), json=body, ok=(201,))
    assert created.status == 201 and clock.now == 14.0
    assert len(forge.users) == 3  # one user made, however many times it was sent


@pytest.mark.parametrize(("retry_after", "times", "said"), [("120", 1, "Retry-After 120 s"), ("1", 9, "after 3 wait")])
def test_a_429_that_lasts_fails_naming_the_limit(forge, retry_after, times, said):
    _rate_limit(forge, retry_after, times=times, method="GET")
    clock = FakeClock()
    with ForgejoClient(forge.url) as client, pytest.raises(ForgejoError) as caught:
        client.sleep = clock.sleep
        client.request("GET", "/admin/users", auth=BasicAuth(ADMIN, ADMIN_PASSWORD))
    assert caught.value.status == 429 and said in str(caught.value) and "rate limited" in str(caught.value)
    assert clock.now <= 3 * RATE_LIMIT_WAIT


def test_retry_after_reads_seconds_and_dates():
    assert retry_after({"Retry-After": "5"}) == 5.0
    assert retry_after({}) == 1.0
    assert retry_after({"retry-after": "soon"}) is None
    assert retry_after({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0  # in the past
