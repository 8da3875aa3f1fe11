"""Issue 27 item 4: a refresh resets a password only when Forgejo says it is wrong.

Forgejo refuses a basic-auth password in words that tell a wrong password (services/auth/source/db/
authenticate.go) from a server or an account that takes no password at all: basic auth switched off
("token is required"), TOTP ("invalid provided OTP"), a security key (basic.go:141-149 @ v11.0.15).
A reset on those would change nothing but the password and mail the bot a notice on every `up`.
"""

from __future__ import annotations

import pytest
import requests

from tests.forgejo.conftest import ADMIN, change_password_by_hand, host_config
from tests.support.engine import Engine, Host, Secret
from tests.support.forge_login import assert_identity_works, login
from tests.support.identity import identity


@pytest.fixture
def token_engine(forge):
    """The provider host acting with an admin token, which a server without basic auth still takes."""
    token = forge.add_token(ADMIN, "admin", scopes=("all",))
    with Host(host_config(forge, adminToken=Secret(token))) as host:
        yield Engine(host)


def _lock_down(forge, how: str) -> None:
    if how == "basic auth off":
        forge.state.settings.basic_auth = False
    elif how == "totp":
        forge.update_user("dev-qwen", totp="123456")
    else:
        forge.update_user("dev-qwen", webauthn=True)


@pytest.mark.parametrize(
    ("how", "said"),
    [
        ("basic auth off", "ENABLE_BASIC_AUTHENTICATION"),
        ("totp", "two-factor authentication"),
        ("security key", "security key (WebAuthn)"),
    ],
)
def test_a_password_that_cannot_be_checked_is_never_reset(forge, token_engine, how, said):
    engine = token_engine
    engine.up(identity("dev-qwen"))
    password = engine.outputs("dev-qwen-user")["password"]
    _lock_down(forge, how)
    engine.refresh()
    user = engine.outputs("dev-qwen-user")
    assert user["password_ok"] is True
    assert user["password_check"].startswith("not checked: ") and said in user["password_check"]
    # What can be checked was: the token's refresh kept it (it still logs in).
    token = engine.outputs("dev-qwen-token")["token"]
    assert login(forge, token=token) == "dev-qwen"
    forge.clear_requests()
    assert set(engine.up(identity("dev-qwen")).values()) == {"same"}
    assert forge.requests == []  # no PATCH, so no password-change mail either
    assert forge.check_password("dev-qwen", password)


def test_a_wrong_password_is_recorded_as_wrong_and_reset(forge, engine):
    engine.up(identity("dev-qwen"))
    change_password_by_hand(forge, "dev-qwen")
    engine.refresh()
    user = engine.outputs("dev-qwen-user")
    assert (user["password_ok"], user["password_check"]) == (False, "wrong")
    assert engine.up(identity("dev-qwen"))["dev-qwen-user"] == "update"
    assert_identity_works(forge, engine, "dev-qwen")


def test_a_password_that_works_is_recorded_ok(forge, engine):
    engine.up(identity("dev-qwen"))
    engine.refresh()
    assert engine.outputs("dev-qwen-user")["password_check"] == "ok"


def test_the_double_tells_a_wrong_password_from_a_security_key(forge):
    forge.add_user("dev-qwen", password="right-pass-123", webauthn=True)
    wrong = requests.get(f"{forge.url}/api/v1/user", auth=("dev-qwen", "wrong-pass-123"), timeout=5)
    right = requests.get(f"{forge.url}/api/v1/user", auth=("dev-qwen", "right-pass-123"), timeout=5)
    assert wrong.status_code == right.status_code == 401
    assert wrong.json()["message"].startswith("user's password is invalid [uid: ")
    assert right.json()["message"] == "Basic authorization is not allowed while having security keys enrolled"
