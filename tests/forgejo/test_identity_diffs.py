"""The token's and the grant's `diff` on their own (no request, no host): what replaces them, and in
which order. The engine scenarios prove the same through the program's wiring; these pin the
providers' own promises, which hold whatever the engine asks."""

from __future__ import annotations

import pytest
import requests
from pulumi.output import Unknown

from disinto_infra.forgejo.collaborator import ForgejoCollaboratorProvider
from disinto_infra.forgejo.token import ForgejoTokenProvider

TOKEN_OUTS = {
    "username": "dev-qwen",
    "password": "pw-1",
    "scopes": ["all"],
    "rotation": 0.0,
    "token": "t" * 40,
    "token_id": 3.0,
    "token_name": "disinto-infra-r0-x",
    "token_last_eight": "tttttttt",
    "user_id": 7.0,
}
TOKEN_INS = {"username": "dev-qwen", "password": "pw-1", "scopes": ["all"], "rotation": 0.0, "user_id": 7.0}
GRANT_OUTS = {"repo": "johba/disinto", "username": "dev-qwen", "permission": "write", "user_id": 7.0}


@pytest.fixture(autouse=True)
def no_requests(monkeypatch):
    monkeypatch.setattr(requests.Session, "request", lambda *a, **k: pytest.fail("diff sent a request"))


def test_token_diff():
    diff = ForgejoTokenProvider().diff
    assert diff("3", TOKEN_OUTS, TOKEN_INS).changes is False
    new_password = diff("3", TOKEN_OUTS, {**TOKEN_INS, "password": "pw-2"})
    assert (new_password.changes, new_password.replaces) == (True, [])
    made_again = diff("3", TOKEN_OUTS, {**TOKEN_INS, "user_id": 8.0})  # Forgejo dropped its tokens
    assert made_again.replaces == ["user_id"]
    # New first, then the old one revoked: never a moment without a token (docs/commands.md, `rotate`).
    assert made_again.delete_before_replace is False
    assert diff("3", TOKEN_OUTS, {**TOKEN_INS, "rotation": 1.0}).delete_before_replace is False
    # A preview while the user is updated: its id is unknown, which is not a new user.
    assert diff("3", TOKEN_OUTS, {**TOKEN_INS, "user_id": Unknown()}).replaces == []


def test_grant_diff():
    diff = ForgejoCollaboratorProvider().diff
    assert diff("x", GRANT_OUTS, dict(GRANT_OUTS)).changes is False
    changed = diff("x", GRANT_OUTS, {**GRANT_OUTS, "permission": "read"})
    assert (changed.changes, changed.replaces) == (True, [])
    made_again = diff("x", GRANT_OUTS, {**GRANT_OUTS, "user_id": 8.0})
    assert made_again.replaces == ["user_id"] and made_again.delete_before_replace is True
    assert diff("x", GRANT_OUTS, {**GRANT_OUTS, "user_id": Unknown()}).replaces == []
