"""Issue 18 item 7: `check` names the Forgejo settings that block the program, against the double.

- basic authentication switched off: no agent token can be made (Forgejo 11's token routes take only
  a password login);
- an admin password while the admin has TOTP: refused without a one-time code;
- an admin token whose owner is not `disinto:adminUser`: the `.profile` rules whitelist the wrong user.
"""

from __future__ import annotations

import pytest
import requests

from disinto_infra.commands.check import forge as check_forge
from disinto_infra.commands.check.sources import AdminCredential
from disinto_infra.forgejo.client import BasicAuth, TokenAuth
from disinto_infra.forgejo.profile_rule import protection_rule
from tests.support.budgets import ANSWER_BUDGET
from tests.support.forgejo_double import Fault, ForgejoDouble

ADMIN, ADMIN_PASSWORD = "disinto-admin", "admin-pass-123"


@pytest.fixture
def forge():
    with ForgejoDouble(spec_check=True) as double:
        double.add_user(ADMIN, password=ADMIN_PASSWORD, is_admin=True)
        double.add_user("root", password="root-pass-123", is_admin=True)
        yield double
        assert double.internal_errors == [] and double.spec_violations == []


def _password() -> AdminCredential:
    return AdminCredential("env DISINTO_ADMIN_PASSWORD", BasicAuth(ADMIN, ADMIN_PASSWORD))


def test_basic_auth_on_is_no_problem(forge):
    assert check_forge.basic_auth_problem(forge.url, ANSWER_BUDGET) is None
    [probe] = [r for r in forge.requests if r.path == "/api/v1/version"]
    assert probe.status == 401 and probe.auth_kind == "basic"


def test_basic_auth_off_is_named_with_the_setting(forge):
    forge.state.settings.basic_auth = False
    problem = check_forge.basic_auth_problem(forge.url, ANSWER_BUDGET)
    assert problem is not None and problem.startswith(f"{forge.url}: basic authentication is switched off")
    assert "no agent token can be made" in problem and "ENABLE_BASIC_AUTHENTICATION = true" in problem


def test_basic_auth_off_and_sign_in_required_is_named_too(forge):
    """REQUIRE_SIGNIN_VIEW answers an anonymous call 403 (routers/api/shared/middleware.go:103-109 @ v11.0.15);
    the double does not model that setting: a fault plays it."""
    forge.state.settings.basic_auth = False
    forge.inject(
        Fault(
            method="GET",
            path_regex=r"^/api/v1/version$",
            kind="status",
            status=403,
            message="Only signed in user is allowed to call APIs.",
        )
    )
    assert check_forge.basic_auth_problem(forge.url, ANSWER_BUDGET) is not None


def test_no_answer_is_not_reported_as_basic_auth_off():
    assert check_forge.basic_auth_problem("http://127.0.0.1:9", 0.5) is None


def test_admin_password_with_totp_names_two_factor_and_the_token_to_use(forge):
    forge.update_user(ADMIN, totp="123456")
    status, problems = check_forge.admin_status(forge.url, ADMIN, _password(), ANSWER_BUDGET)
    assert status == "has two-factor authentication"
    assert problems == [
        f"{forge.url}: the admin password (env DISINTO_ADMIN_PASSWORD) is refused: {ADMIN} has two-factor "
        f"authentication and Forgejo takes its password only with a one-time code; give a token of {ADMIN} "
        "instead (disinto:adminToken or DISINTO_ADMIN_TOKEN, with write:admin, read:user, read:organization "
        "and write:repository, or all)"
    ]


def test_a_wrong_admin_password_stays_a_plain_refusal(forge):
    wrong = AdminCredential("env DISINTO_ADMIN_PASSWORD", BasicAuth(ADMIN, "wrong-pass-123"))
    assert check_forge.admin_status(forge.url, ADMIN, wrong, ANSWER_BUDGET) == (
        "refused (HTTP 401)",
        [f"{forge.url}: admin credential (env DISINTO_ADMIN_PASSWORD): refused (HTTP 401)"],
    )


def test_an_admin_token_of_another_admin_is_named(forge):
    token = forge.add_token("root", "admin")
    credential = AdminCredential("env DISINTO_ADMIN_TOKEN", TokenAuth(token))
    status, problems = check_forge.admin_status(forge.url, ADMIN, credential, ANSWER_BUDGET)
    assert status == "token of root"
    assert problems == [
        f"{forge.url}: the admin token (env DISINTO_ADMIN_TOKEN) belongs to root, not disinto:adminUser "
        f"{ADMIN}: the .profile rules whitelist {ADMIN}, so the provider's own pushes to .profile would be "
        "refused; set disinto:adminUser to root, or use a token of disinto-admin"
    ]
    own = AdminCredential("env DISINTO_ADMIN_TOKEN", TokenAuth(forge.add_token(ADMIN, "admin")))
    assert check_forge.admin_status(forge.url, ADMIN, own, ANSWER_BUDGET) == ("site admin", [])


# Issue 18 item 6: `check` reports a `.profile` rule that differs from the one the provider keeps.


def _profile_with_rule(forge, **changes) -> None:
    forge.add_user("dev-qwen")
    forge.add_repo("dev-qwen", ".profile", private=True)
    forge.add_file("dev-qwen/.profile", "formula.toml", "name = 'dev'\n")
    admin = (ADMIN, ADMIN_PASSWORD)
    made = requests.post(
        f"{forge.url}/api/v1/repos/dev-qwen/.profile/branch_protections",
        auth=admin,
        json=protection_rule(ADMIN),
        timeout=5,
    )
    assert made.status_code == 201
    if changes:  # what the agent, owner of its .profile, may do with its password
        edited = requests.patch(
            f"{forge.url}/api/v1/repos/dev-qwen/.profile/branch_protections/main",
            auth=("dev-qwen", "dev-qwen-pass-123"),
            json=changes,
            timeout=5,
        )
        assert edited.status_code == 200


def test_the_wanted_profile_rule_is_no_problem(forge):
    _profile_with_rule(forge)
    assert check_forge.profile_rule_problem(forge.url, "dev", "dev-qwen", ADMIN, _password(), ANSWER_BUDGET) is None


def test_a_relaxed_profile_rule_is_named_with_what_differs(forge):
    _profile_with_rule(forge, required_approvals=0, enable_push=True, enable_push_whitelist=False)
    problem = check_forge.profile_rule_problem(forge.url, "dev", "dev-qwen", ADMIN, _password(), ANSWER_BUDGET)
    assert problem == (
        f"{forge.url}: dev-qwen/.profile (agents.dev): the rule on main differs from the wanted one "
        "in enable_push_whitelist, required_approvals; the next `pulumi up` puts it back"
    )


def test_a_removed_profile_rule_is_named(forge):
    _profile_with_rule(forge)
    assert (
        requests.delete(
            f"{forge.url}/api/v1/repos/dev-qwen/.profile/branch_protections/main",
            auth=("dev-qwen", "dev-qwen-pass-123"),
            timeout=5,
        ).status_code
        == 204
    )
    problem = check_forge.profile_rule_problem(forge.url, "dev", "dev-qwen", ADMIN, _password(), ANSWER_BUDGET)
    assert problem is not None and "no branch rule on main" in problem


def test_no_profile_yet_or_no_admin_credential_reports_nothing(forge):
    forge.add_user("dev-qwen")
    assert check_forge.profile_rule_problem(forge.url, "dev", "dev-qwen", ADMIN, _password(), ANSWER_BUDGET) is None
    assert (
        check_forge.profile_rule_problem(forge.url, "dev", "dev-qwen", ADMIN, AdminCredential(""), ANSWER_BUDGET)
        is None
    )


def test_admin_password_with_a_security_key_has_its_own_hint(forge):
    """Issue 27 item 4: a security key refuses every password over basic auth, even with a code."""
    forge.update_user(ADMIN, webauthn=True, totp="123456")
    status, problems = check_forge.admin_status(forge.url, ADMIN, _password(), ANSWER_BUDGET)
    assert status == "has a security key"
    assert len(problems) == 1 and "security key (WebAuthn)" in problems[0] and "one-time code or not" in problems[0]
    assert "write:admin, read:user, read:organization, write:repository, or all" in problems[0]
