"""Issue 9: an adoption proves itself (module `user`, `_adopt`).

After the admin PATCH (new password, must_change_password: false) the provider checks the new
password with basic auth. Some Forgejo 11.x left the flag set after that PATCH (the factory's
issue #206; Disinto/disinto 2308c4c lib/hire-agent.sh uses the CLI instead): then the create fails
naming the user and the CLI command, instead of a bare 403 later. Through the engine harness
against the double, whose `patch_keeps_must_change_password` quirk plays that Forgejo.
"""

from __future__ import annotations

import pytest
import requests

from disinto_infra.forgejo.user import clear_flag_command
from tests.forgejo.conftest import ADMIN, ADMIN_PASSWORD
from tests.forgejo.test_engine_scenarios import assert_identity_works, login
from tests.support.engine import ProviderError
from tests.support.identity import identity

LEGACY = ("dev-qwen", "legacy-pass-1")


def legacy_user(forge) -> None:
    """A user left by the old tooling: it must change its password (Forgejo's default on create)."""
    forge.add_user(LEGACY[0], password=LEGACY[1], email="dev-qwen@disinto.local", must_change_password=True)


def adoption_calls(forge) -> list[tuple[str, str, str | None, int | None]]:
    return [(r.method, r.path, r.username, r.status) for r in forge.requests
            if r.path in ("/api/v1/admin/users/dev-qwen", "/api/v1/user")]


def test_adoption_checks_the_new_password(forge, engine):
    legacy_user(forge)
    engine.up(identity("dev-qwen"))
    calls = adoption_calls(forge)
    patch = calls.index(("PATCH", "/api/v1/admin/users/dev-qwen", ADMIN, 200))
    assert ("GET", "/api/v1/user", "dev-qwen", 200) in calls[patch + 1:]
    proof = next(r for r in forge.requests if r.method == "GET" and r.path == "/api/v1/user" and r.status == 200)
    assert proof.auth_kind == "basic"
    assert engine.outputs("dev-qwen-user")["adopted"] is True
    assert_identity_works(forge, engine, "dev-qwen")
    assert forge.state.quirks.hits == {}


def test_a_flag_the_patch_did_not_clear_fails_naming_the_user_and_the_cli_command(forge, engine):
    legacy_user(forge)
    forge.state.quirks.patch_keeps_must_change_password = True
    with pytest.raises(ProviderError) as caught:
        engine.up(identity("dev-qwen"))
    details = caught.value.details
    assert "'dev-qwen'" in details and "still demands a password change" in details
    assert "`forgejo admin user must-change-password --unset dev-qwen`" in details
    assert "You must change your password" in details  # Forgejo's own words
    assert forge.state.quirks.hits["patch_keeps_must_change_password"] >= 1
    assert forge.user("dev-qwen")["must_change_password"] is True
    assert "dev-qwen-user" not in engine.state and "dev-qwen-token" not in engine.state
    # The operator runs the command (the flag cleared, the password kept); with the quirk still
    # there, the next `up` adopts the user for good.
    forge.update_user("dev-qwen", must_change_password=False)
    assert engine.up(identity("dev-qwen"))["dev-qwen-user"] == "create"
    assert engine.outputs("dev-qwen-user")["adopted"] is True
    assert_identity_works(forge, engine, "dev-qwen")
    assert login(forge, auth=LEGACY) == 401
    assert forge.spec_violations == []


def test_clear_flag_command_is_the_forgejo_cli():
    # cmd/admin_user_must_change_password.go (v11.0.15): `must-change-password [--unset] USER…`.
    assert clear_flag_command("dev-qwen") == "forgejo admin user must-change-password --unset dev-qwen"


def test_double_refuses_basic_auth_while_the_flag_is_set_and_its_quirk_keeps_it(forge):
    """What the provider relies on: Forgejo's 403 for a must-change-password user, and the quirk."""
    legacy_user(forge)
    refused = requests.get(f"{forge.url}/api/v1/user", auth=LEGACY, timeout=5)
    assert refused.status_code == 403 and refused.json()["message"].startswith("You must change your password.")
    edit = {"password": "new-pass-1234", "must_change_password": False}
    admin_patch = f"{forge.url}/api/v1/admin/users/dev-qwen"
    forge.state.quirks.patch_keeps_must_change_password = True
    assert requests.patch(admin_patch, auth=(ADMIN, ADMIN_PASSWORD), json=edit, timeout=5).status_code == 200
    assert forge.user("dev-qwen")["must_change_password"] is True and forge.check_password("dev-qwen", "new-pass-1234")
    assert forge.state.quirks.hits == {"patch_keeps_must_change_password": 1}
    forge.state.quirks.patch_keeps_must_change_password = False
    assert requests.patch(admin_patch, auth=(ADMIN, ADMIN_PASSWORD), json=edit, timeout=5).status_code == 200
    assert login(forge, auth=("dev-qwen", "new-pass-1234")) == "dev-qwen"
    assert forge.spec_violations == []
