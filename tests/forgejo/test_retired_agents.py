"""Issue 27 item 2: a removed agent can no longer log in, and hiring it again brings it back.

Removal retires the account (prohibit_login, a mark in its description, no SSH key) and keeps it:
its issues and commits keep their author. The double plays Forgejo v11.0.15's admin edit, SSH key
routes and the refusals of a prohibited account (routers/api/shared/middleware.go:80-86).
"""

from __future__ import annotations

import pytest
import requests

from disinto_infra.forgejo.user import RETIRED_MARK
from tests.forgejo.conftest import ADMIN, ADMIN_PASSWORD, host_config
from tests.support.engine import Engine, Host, ProviderError
from tests.support.forge_login import assert_identity_works, login
from tests.support.identity import identity


def test_a_removed_agent_can_neither_sign_in_nor_use_its_keys(forge, engine):
    engine.up(identity("dev-qwen"))
    password = engine.outputs("dev-qwen-user")["password"]
    token = engine.outputs("dev-qwen-token")["token"]
    forge.add_ssh_key("dev-qwen", "added by the agent")
    forge.add_ssh_key("dev-qwen", "another")
    other = forge.add_ssh_key("johba")
    forge.clear_requests()
    engine.destroy()
    user = forge.user("dev-qwen")
    assert user["prohibit_login"] is True and user["description"].startswith(RETIRED_MARK)
    assert login(forge, auth=("dev-qwen", password)) == 401 and login(forge, token=token) == 401
    assert forge.ssh_keys_of("dev-qwen") == [] and [k["id"] for k in forge.ssh_keys_of("johba")] == [other]
    # One PATCH, one key listing, one DELETE per key (after the token and the grant).
    user_calls = [(r.method, r.path) for r in forge.requests if "/users/dev-qwen" in r.path and "tokens" not in r.path]
    assert user_calls == [
        ("PATCH", "/api/v1/admin/users/dev-qwen"),
        ("GET", "/api/v1/users/dev-qwen/keys"),
        ("DELETE", "/api/v1/admin/users/dev-qwen/keys/1"),
        ("DELETE", "/api/v1/admin/users/dev-qwen/keys/2"),
    ]


def test_hiring_it_again_brings_the_account_back(forge, engine):
    engine.up(identity("dev-qwen"))
    user_id = forge.user("dev-qwen")["id"]
    engine.destroy()
    ops = engine.up(identity("dev-qwen"))
    assert set(ops.values()) == {"create"}
    user = forge.user("dev-qwen")
    assert (user["id"], user["prohibit_login"], user["description"]) == (user_id, False, "")
    assert_identity_works(forge, engine, "dev-qwen")


def test_hiring_it_again_works_with_adoption_off(forge):
    with Host(host_config(forge, adoptExistingUsers="false")) as host:
        engine = Engine(host)
        engine.up(identity("dev-qwen"))
        engine.destroy()
        engine.up(identity("dev-qwen"))
        assert_identity_works(forge, engine, "dev-qwen")


def test_an_account_an_admin_locked_is_still_refused(forge, engine):
    forge.add_user("dev-qwen", prohibit_login=True, description="locked: left the team")
    with pytest.raises(ProviderError, match="prohibited from signing in"):
        engine.up(identity("dev-qwen"))
    assert forge.user("dev-qwen")["prohibit_login"] is True


def test_a_user_deleted_by_hand_is_retired_already(forge, engine):
    engine.up(identity("dev-qwen"))
    requests.delete(f"{forge.url}/api/v1/admin/users/dev-qwen", auth=(ADMIN, ADMIN_PASSWORD), timeout=5)
    assert set(engine.destroy().values()) == {"delete"}


def test_the_double_deletes_only_the_named_users_keys(forge):
    forge.add_user("dev-qwen")
    theirs = forge.add_ssh_key("johba")
    answer = requests.delete(
        f"{forge.url}/api/v1/admin/users/dev-qwen/keys/{theirs}", auth=(ADMIN, ADMIN_PASSWORD), timeout=5
    )
    assert (answer.status_code, answer.json()["message"]) == (403, "You do not have access to this key")
    assert len(forge.ssh_keys_of("johba")) == 1
