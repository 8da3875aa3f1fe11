"""Issue 18 item 6: FORGE_PASS carries the agent's token; the factory's use of it still works.

The factory uses FORGE_PASS only as a basic-auth password: its git credential helper, and the check
`curl -u <bot>:$FORGE_PASS $FORGE_URL/api/v1/user` (Disinto/disinto 2308c4c lib/git-creds.sh:111).
Forgejo takes a token there as token auth (services/auth/basic.go:63-112 @ v11.0.15), which the
double models; git's own paths (githttp.go) are not served by the double.
"""

from __future__ import annotations

import requests

from tests.support.forge_login import login
from tests.support.identity import identity


def test_the_token_as_the_password_logs_in_as_the_agent_within_its_scopes(forge, engine):
    fleet = [*identity("dev-qwen", scopes=["read:user", "write:repository"]), *identity("other", scopes=["all"])]
    engine.up(fleet)
    token = engine.outputs("dev-qwen-token")["token"]
    assert login(forge, auth=("dev-qwen", token)) == "dev-qwen"  # what git-creds.sh:111 asks
    [seen] = [r for r in forge.requests if r.path == "/api/v1/user" and r.username == "dev-qwen"][-1:]
    assert seen.auth_kind == "token"
    # As a token it is bounded by the token's scopes, unlike the password: no write:user, no token route.
    assert _make_token(forge, "dev-qwen", token) == 403
    # Even a token with every scope is no password login: Forgejo 11 makes tokens only for one.
    assert _make_token(forge, "other", engine.outputs("other-token")["token"]) == 401
    assert [t["name"] for t in forge.tokens_of("dev-qwen")] == [engine.outputs("dev-qwen-token")["token_name"]]


def _make_token(forge, user: str, password: str) -> int:
    return requests.post(
        f"{forge.url}/api/v1/users/{user}/tokens",
        auth=(user, password),
        json={"name": "mine", "scopes": ["all"]},
        timeout=5,
    ).status_code
