"""Issue 27 item 3: a renamed or moved account is never written to by mistake.

Forgejo answers an old user name with 307 to the new one, for every method, and the same for a
repository (the double plays services/context/context_response.go RedirectToUser and repo.go
RedirectToRepo @ v11.0.15). The client follows no redirect: each 3xx is an error that names the move.
"""

from __future__ import annotations

import pytest
import requests

from disinto_infra.forgejo.client import BasicAuth, ForgejoClient, MovedError, path
from tests.forgejo.conftest import ADMIN, ADMIN_PASSWORD
from tests.support.engine import ProviderError
from tests.support.identity import identity


def test_the_double_redirects_an_old_user_name_for_every_method(forge):
    forge.add_user("dev-qwen")
    forge.rename_user("dev-qwen", "dev-qwen-x")
    for method in ("GET", "PATCH", "DELETE"):
        target = "users" if method == "GET" else "admin/users"
        answer = requests.request(
            method,
            f"{forge.url}/api/v1/{target}/dev-qwen?x=1",
            auth=(ADMIN, ADMIN_PASSWORD),
            json={} if method == "PATCH" else None,
            allow_redirects=False,
            timeout=5,
        )
        assert (answer.status_code, answer.headers["Location"]) == (307, f"/api/v1/{target}/dev-qwen-x?x=1")
    assert forge.user("dev-qwen-x") is not None


def test_the_client_follows_no_redirect_and_names_the_move(forge):
    forge.add_user("dev-qwen")
    forge.rename_user("dev-qwen", "dev-qwen-x")
    with ForgejoClient(forge.url) as client, pytest.raises(MovedError) as caught:
        client.request("PATCH", path("admin", "users", "dev-qwen"), auth=BasicAuth(ADMIN, ADMIN_PASSWORD), json={})
    assert caught.value.status == 307 and caught.value.location == "/api/v1/admin/users/dev-qwen-x"
    assert "renamed or moved" in str(caught.value) and "Nothing was changed" in str(caught.value)
    assert [r.path for r in forge.requests if r.method == "PATCH"] == ["/api/v1/admin/users/dev-qwen"]


def test_a_renamed_agent_is_reported_and_never_written_to(forge, engine):
    engine.up(identity("dev-qwen"))
    password = engine.outputs("dev-qwen-user")["password"]
    forge.rename_user("dev-qwen", "dev-qwen-x")
    forge.clear_requests()
    with pytest.raises(ProviderError, match="renamed or moved") as caught:
        engine.refresh()
    assert "dev-qwen-x" in str(caught.value)
    # No write reached the renamed account: its password and token are as they were.
    assert [r for r in forge.requests if r.method != "GET"] == []
    assert forge.check_password("dev-qwen-x", password)
    assert len(forge.tokens_of("dev-qwen-x")) == 1


def test_a_token_that_logs_in_under_a_new_name_is_a_rename_not_a_lost_token(forge, engine):
    """The token's own refresh (GET /user with the token) sees the new login, and says so."""
    engine.up(identity("dev-qwen"))
    forge.rename_user("dev-qwen", "dev-qwen-x")
    with pytest.raises(ProviderError, match="now logs in as 'dev-qwen-x'"):
        engine.refresh(only=["dev-qwen-token"])
    assert len(forge.tokens_of("dev-qwen-x")) == 1


def test_renaming_it_back_lets_the_next_run_change_nothing(forge, engine):
    engine.up(identity("dev-qwen"))
    forge.rename_user("dev-qwen", "dev-qwen-x")
    forge.rename_user("dev-qwen-x", "dev-qwen")
    engine.refresh()
    forge.clear_requests()
    assert set(engine.up(identity("dev-qwen")).values()) == {"same"}
    assert forge.requests == []
