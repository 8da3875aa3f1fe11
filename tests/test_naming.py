"""Naming rules: env suffixes, Docker names, logical child names, Forgejo username rules."""

import re
from pathlib import Path

import pytest

from disinto_infra import naming

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "forge_user, suffix",
    [
        ("dev-qwen", "DEV_QWEN"),
        ("dev_qwen", "DEV_QWEN"),
        ("dev-qwen2", "DEV_QWEN2"),
        ("Dev-Q", "DEV_Q"),
        ("review-bot", "REVIEW_BOT"),
    ],
)
def test_env_suffix_is_tr_upper_and_dash_to_underscore(forge_user, suffix):
    assert naming.env_suffix(forge_user) == suffix


def test_docker_names_and_email():
    assert naming.container_name("llama") == "disinto-agents-llama"
    assert naming.repos_volume("llama") == "project-repos-llama"
    assert naming.data_volume("llama") == "agents-llama-data"
    assert naming.bot_email("dev-qwen", "disinto") == "dev-qwen@disinto.local"
    assert naming.default_forge_user("llama") == "llama-bot"


def test_child_names_are_fixed_and_distinct():
    names = naming.child_names("dev-qwen2")
    expected = {
        "user": "dev-qwen2-user",
        "token": "dev-qwen2-token",
        "collaborator": "dev-qwen2-collaborator",
        "repos": "dev-qwen2-repos",
        "data": "dev-qwen2-data",
        "container": "dev-qwen2-container",
        "profile": "dev-qwen2-profile",
        "env": "dev-qwen2-env",
        "retire": "dev-qwen2-retire",
        "copy_data": "dev-qwen2-copy-data",
    }
    assert {k: getattr(names, k) for k in expected} == expected


@pytest.mark.parametrize("name", ["llama", "dev-qwen2", "a", "a1-b2"])
def test_valid_agent_names(name):
    assert naming.agent_name_problem(name) is None


@pytest.mark.parametrize("name", ["Llama", "1abc", "a--b", "a-", "a_b", "", "-a", "a.b"])
def test_invalid_agent_names(name):
    assert naming.agent_name_problem(name) == (
        "agent name must be lower-case letters, digits and single dashes, "
        "starting with a letter and not ending with a dash"
    )


@pytest.mark.parametrize("user", ["dev-qwen", "dev_qwen2", "Dev-Qwen", "a" * 40, "7bot", "x"])
def test_valid_forge_users(user):
    assert naming.forge_user_problem(user) is None


@pytest.mark.parametrize(
    "user, problem",
    [
        ("", "must not be empty"),
        ("a" * 41, "must be at most 40 characters, not 41"),
        ("dev.qwen", "must not contain '.' (it cannot appear in an env variable name)"),
        ("-dev", "must be letters, digits, '-' and '_', starting with a letter or digit"),
        ("dev qwen", "must be letters, digits, '-' and '_', starting with a letter or digit"),
        ("dév", "must be letters, digits, '-' and '_', starting with a letter or digit"),
        ("dev--qwen", "must not contain two of '-', '_' in a row"),
        ("dev-_qwen", "must not contain two of '-', '_' in a row"),
        ("dev-", "must not end with '-' or '_'"),
        ("dev_", "must not end with '-' or '_'"),
        ("admin", '"admin" is reserved by Forgejo 11, 12 and 15'),
        ("Ghost", '"Ghost" is reserved by Forgejo 11, 12 and 15'),
        ("forgejo-actions", '"forgejo-actions" is reserved by Forgejo 11, 12 and 15'),
        # models/user/user.go: v11.0.15 reserves "devtest" (line 621), v15.0.3 "report_abuse" (line 663).
        ("devtest", '"devtest" is reserved by Forgejo 11 and 12'),
        ("DevTest", '"DevTest" is reserved by Forgejo 11 and 12'),
        ("report_abuse", '"report_abuse" is reserved by Forgejo 12 and 15'),
        ("disinto-admin", 'must not be the admin user "disinto-admin"'),
        ("Disinto-Admin", 'must not be the admin user "disinto-admin"'),
    ],
)
def test_invalid_forge_users(user, problem):
    assert naming.forge_user_problem(user) == problem


def test_forge_user_is_checked_against_the_configured_admin():
    assert naming.forge_user_problem("root-admin", admin_user="root-admin") == 'must not be the admin user "root-admin"'
    assert naming.forge_user_problem("disinto-admin", admin_user="root-admin") is None


def test_env_example_documents_the_suffix_rule():
    text = (ROOT / ".env.example").read_text()
    names = re.findall(r"^(FORGE_(?:TOKEN|PASS)_\w+)=", text, flags=re.M)
    assert names == [f"FORGE_TOKEN_{naming.env_suffix('dev-qwen2')}", f"FORGE_PASS_{naming.env_suffix('dev-qwen2')}"]


def test_the_forgejo_11_list_is_the_one_the_forgejo_11_double_enforces():
    from tests.support.forgejo_double.state import RESERVED_USERNAMES

    assert naming.RESERVED_FORGE_USERS_BY_VERSION["11"] == RESERVED_USERNAMES
    assert naming.RESERVED_FORGE_USERS_BY_VERSION["11"] ^ naming.RESERVED_FORGE_USERS_BY_VERSION["15"] == {
        "devtest",
        "report_abuse",
    }
