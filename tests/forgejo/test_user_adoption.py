"""Issue 9: an adoption proves itself (module `user`, `_adopt`).

After the admin PATCH (new password, must_change_password: false) the provider checks the new
password with basic auth. Some Forgejo 11.x left the flag set after that PATCH (the factory's
issue #206; Disinto/disinto 2308c4c lib/hire-agent.sh uses the CLI instead): then the create fails
naming the user and the CLI command, instead of a bare 403 later. Through the engine harness
against the double, whose `patch_keeps_must_change_password` quirk plays that Forgejo.
"""

from __future__ import annotations

import subprocess

import pytest
import requests

from disinto_infra.forgejo.connection import Connection
from disinto_infra.forgejo.user import UNBLOCK, _admin_patch_command, clear_flag_command
from tests.forgejo.conftest import ADMIN, ADMIN_PASSWORD
from tests.support.engine import ProviderError
from tests.support.forge_login import assert_identity_works, login
from tests.support.identity import identity

LEGACY = ("dev-qwen", "legacy-pass-1")


def legacy_user(forge) -> None:
    """A user left by the old tooling: it must change its password (Forgejo's default on create)."""
    forge.add_user(LEGACY[0], password=LEGACY[1], email="dev-qwen@disinto.local", must_change_password=True)


def adoption_calls(forge) -> list[tuple[str, str, str | None, int | None]]:
    return [
        (r.method, r.path, r.username, r.status)
        for r in forge.requests
        if r.path in ("/api/v1/admin/users/dev-qwen", "/api/v1/user")
    ]


def test_adoption_checks_the_new_password(forge, engine):
    legacy_user(forge)
    engine.up(identity("dev-qwen"))
    calls = adoption_calls(forge)
    patch = calls.index(("PATCH", "/api/v1/admin/users/dev-qwen", ADMIN, 200))
    assert ("GET", "/api/v1/user", "dev-qwen", 200) in calls[patch + 1 :]
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


def test_the_admin_patch_command_expands_the_token_in_a_shell(tmp_path):
    """The command a message gives is run as it is: the shell must put $ADMIN_TOKEN in (issue 27)."""
    command = _admin_patch_command(Connection("http://forge:3000", "disinto-admin"), "dev-qwen", UNBLOCK)
    curl = tmp_path / "curl"
    curl.write_text('#!/bin/sh\nprintf "%s\\n" "$@"\n')
    curl.chmod(0o755)
    done = subprocess.run(
        ["sh", "-c", command],
        env={"PATH": f"{tmp_path}:/usr/bin:/bin", "ADMIN_TOKEN": "t0k"},
        capture_output=True,
        text=True,
    )
    assert "Authorization: token t0k" in done.stdout.splitlines()
    assert '{"prohibit_login": false}' in done.stdout.splitlines()
    assert done.stdout.splitlines()[-1] == "http://forge:3000/api/v1/admin/users/dev-qwen"


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


# Issue 18 item 3: accounts an adoption cannot make work are refused before any change, each with its
# own message and the fix; read from the admin view of the user and `GET /orgs/{name}`.


def _refused(forge, engine) -> str:
    forge.clear_requests()
    with pytest.raises(ProviderError) as caught:
        engine.up(identity("dev-qwen"))
    assert [r for r in forge.requests if r.method == "PATCH"] == []  # nothing written
    assert "dev-qwen-user" not in engine.state
    return caught.value.details


def test_an_organization_name_is_refused_without_writing_a_password_on_it(forge, engine):
    forge.add_org("dev-qwen")
    details = _refused(forge, engine)
    assert "'dev-qwen' belongs to an organization, not a user" in details and "Pick another forge_user" in details
    assert ("GET", "/api/v1/orgs/dev-qwen", 200) in [(r.method, r.path, r.status) for r in forge.requests]


def test_double_writes_the_password_on_an_organization_then_answers_500(forge):
    """What adopting an organization did: admin/user.go:212 then 227-234, services/user/email.go:40-43."""
    forge.add_org("dev-qwen")
    edit = {"password": "New-pass-1234", "email": "dev-qwen@disinto.local"}
    answer = requests.patch(
        f"{forge.url}/api/v1/admin/users/dev-qwen", auth=(ADMIN, ADMIN_PASSWORD), json=edit, timeout=5
    )
    assert answer.status_code == 500
    assert forge.check_password("dev-qwen", "New-pass-1234")
    assert requests.get(f"{forge.url}/api/v1/orgs/johba", auth=(ADMIN, ADMIN_PASSWORD), timeout=5).status_code == 404


def test_an_account_of_an_external_source_is_refused(forge, engine):
    ldap = forge.add_auth_source("ldap")
    forge.add_user("dev-qwen", source_id=ldap, login_name="qwen.ldap", email="dev-qwen@disinto.local")
    details = _refused(forge, engine)
    assert f"signs in through authentication source {ldap} (login name 'qwen.ldap')" in details
    assert "ignores a password" in details and '{"source_id": 0, "login_name": "dev-qwen"}' in details


def test_double_drops_a_password_for_an_external_account(forge):
    """services/user/update.go:206 @ v11.0.15: only a local or OAuth2 account takes a password."""
    ldap, oauth = forge.add_auth_source("ldap"), forge.add_auth_source("oauth2")
    forge.add_user("by-ldap", password="Old-pass-123", source_id=ldap, login_name="l")
    forge.add_user("by-oauth", password="Old-pass-123", source_id=oauth, login_name="o")
    for name in ("by-ldap", "by-oauth"):
        patched = requests.patch(
            f"{forge.url}/api/v1/admin/users/{name}",
            auth=(ADMIN, ADMIN_PASSWORD),
            json={"password": "New-pass-1234"},
            timeout=5,
        )
        assert patched.status_code == 200
    assert forge.check_password("by-ldap", "Old-pass-123") and forge.check_password("by-oauth", "New-pass-1234")


@pytest.mark.parametrize(
    ("flags", "words", "fix"),
    [
        ({"prohibit_login": True}, "is prohibited from signing in (prohibit_login)", '{"prohibit_login": false}'),
        ({"active": False}, "is not activated (active: false)", '{"active": true}'),
    ],
)
def test_a_blocked_account_is_refused_naming_the_fix(forge, engine, flags, words, fix):
    forge.add_user("dev-qwen", email="dev-qwen@disinto.local", **flags)
    details = _refused(forge, engine)
    assert f"Forgejo user 'dev-qwen' {words}" in details
    assert fix in details and f"{forge.url}/api/v1/admin/users/dev-qwen" in details
    assert "does not work" not in details  # the old message pointed at the password
    # The admin lifts the block; the next `up` adopts the user.
    forge.update_user("dev-qwen", prohibit_login=False, active=True)
    assert engine.up(identity("dev-qwen"))["dev-qwen-user"] == "create"
    assert_identity_works(forge, engine, "dev-qwen")


def test_a_block_set_after_the_create_is_recorded_and_the_password_left_alone(forge, engine):
    """A prohibited account refuses every password: that is no wrong password, so nothing is reset."""
    engine.up(identity("dev-qwen"))
    forge.update_user("dev-qwen", prohibit_login=True)
    engine.refresh()
    user = engine.outputs("dev-qwen-user")
    assert user["password_ok"] is True
    assert user["password_check"] == "not checked: the account is prohibited from signing in"
    forge.clear_requests()
    engine.up(identity("dev-qwen"))
    assert [r for r in forge.requests if r.method == "PATCH"] == []
    assert forge.check_password("dev-qwen", user["password"])


# Issue 18 item 4: the create leaves visibility to the server and sends `restricted: false`.


def test_create_leaves_visibility_to_the_server_and_is_not_restricted(forge, engine):
    forge.state.settings.allowed_user_visibility = ("limited", "private")
    forge.state.settings.default_user_restricted = True
    engine.up(identity("dev-qwen"))
    [create] = [r for r in forge.requests if r.method == "POST" and r.path == "/api/v1/admin/users"]
    assert "visibility" not in create.body and create.body["restricted"] is False
    assert forge.user("dev-qwen")["visibility"] == "limited" and forge.user("dev-qwen")["restricted"] is False
    assert_identity_works(forge, engine, "dev-qwen")


def test_double_answers_500_for_a_visibility_the_server_does_not_allow(forge):
    """models/user/user.go:912-914 (ValidateUser) and admin/user.go:147-148 @ v11.0.15."""
    forge.state.settings.allowed_user_visibility = ("limited", "private")
    body = {"username": "vis", "email": "vis@disinto.local", "password": "Pass-word-123", "visibility": "public"}
    answer = requests.post(f"{forge.url}/api/v1/admin/users", auth=(ADMIN, ADMIN_PASSWORD), json=body, timeout=5)
    assert answer.status_code == 500 and forge.user("vis") is None


def test_adoption_lifts_a_restriction(forge, engine):
    forge.add_user("dev-qwen", email="dev-qwen@disinto.local", restricted=True)
    engine.up(identity("dev-qwen"))
    assert forge.user("dev-qwen")["restricted"] is False
    assert_identity_works(forge, engine, "dev-qwen")
