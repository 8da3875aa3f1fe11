"""Issue 27 item 4: a server with [security] PASSWORD_CHECK_PWN that cannot reach Have I Been Pwned
refuses every create (400 PasswordPwned) and every rotation; the error names the setting and the fix,
and `check` finds the setting before `up` (the double plays admin/user.go:111-116, 218-219 @ v11.0.15)."""

from __future__ import annotations

import pytest

from disinto_infra.commands.check import forge as check_forge
from disinto_infra.commands.check.sources import AdminCredential
from disinto_infra.forgejo.client import BasicAuth, TokenAuth
from tests.forgejo.conftest import ADMIN, ADMIN_PASSWORD
from tests.support.budgets import ANSWER_BUDGET
from tests.support.engine import ProviderError
from tests.support.identity import identity

CREDENTIAL = AdminCredential("stack disinto:adminPassword", BasicAuth(ADMIN, ADMIN_PASSWORD))


def test_a_create_refused_by_the_breach_check_names_the_setting(forge, engine):
    forge.state.settings.password_check_pwn, forge.state.settings.hibp_reachable = True, False
    with pytest.raises(ProviderError) as caught:
        engine.up(identity("dev-qwen"))
    said = str(caught.value)
    assert "PasswordPwned" in said and "PASSWORD_CHECK_PWN = false" in said and "api.pwnedpasswords.com" in said
    assert forge.user("dev-qwen") is None


def test_a_rotation_refused_by_the_breach_check_names_the_setting(forge, engine):
    engine.up(identity("dev-qwen"))
    forge.state.settings.password_check_pwn, forge.state.settings.hibp_reachable = True, False
    with pytest.raises(ProviderError, match=r"Have-I-Been-Pwned service failed.*PASSWORD_CHECK_PWN = false"):
        engine.up(identity("dev-qwen", password_rotation=1))


def test_with_the_service_reachable_the_random_passwords_pass(forge, engine):
    forge.state.settings.password_check_pwn = True
    engine.up(identity("dev-qwen"))
    assert forge.user("dev-qwen") is not None


@pytest.mark.parametrize(("on", "found"), [(False, "off"), (True, "on")])
def test_check_finds_the_setting_without_creating_anyone(forge, on, found):
    forge.state.settings.password_check_pwn = on
    users = len(forge.users)
    state, note = check_forge.password_pwn_check(forge.url, ADMIN, CREDENTIAL, ANSWER_BUDGET)
    assert state == found and ("PASSWORD_CHECK_PWN is on" in note) is on
    assert len(forge.users) == users


def test_check_names_what_the_admin_token_lacks(forge):
    token = forge.add_token(ADMIN, "narrow", scopes=("write:admin", "read:user"))
    forge.add_token(ADMIN, "other", scopes=("all",))
    credential = AdminCredential("env DISINTO_ADMIN_TOKEN", TokenAuth(token))
    found, problems = check_forge.admin_token_scopes(forge.url, ADMIN, credential, ANSWER_BUDGET)
    assert found == "write:admin, read:user (lacks read:organization, write:repository)"
    assert len(problems) == 1 and "env DISINTO_ADMIN_TOKEN" in problems[0] and token not in problems[0]
    whole = check_forge.admin_token_scopes(
        forge.url, ADMIN, AdminCredential("x", TokenAuth(forge.add_token(ADMIN, "all"))), ANSWER_BUDGET
    )
    assert whole == ("all", [])
