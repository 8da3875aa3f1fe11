from pathlib import Path

import pytest

from disinto_infra.forgejo import connection
from disinto_infra.forgejo.client import BasicAuth, TokenAuth


def conf(**values):
    return {f"disinto:{k}": v for k, v in values.items()}


def test_admin_token_is_preferred_and_defaults_apply():
    conn = connection.from_config(conf(adminToken="t0k", adminPassword="pw"))
    assert conn.url == "http://localhost:3000"
    assert conn.admin_user == "disinto-admin"
    assert conn.admin_auth == TokenAuth("t0k")
    assert conn.admin_basic_auth() == BasicAuth("disinto-admin", "pw")
    assert conn.adopt_existing_users is True


def test_password_only():
    conn = connection.from_config(conf(forgeUrl="http://forge:3000/", adminUser="root", adminPassword="pw"))
    assert conn.admin_auth == BasicAuth("root", "pw")
    assert conn.is_admin_user("ROOT")


def test_token_only_cannot_do_password_only_things():
    conn = connection.from_config(conf(adminToken="t0k"))
    with pytest.raises(connection.ConfigurationError, match="adminPassword"):
        conn.admin_basic_auth()


def test_missing_credentials_named():
    with pytest.raises(connection.ConfigurationError, match="disinto:adminToken"):
        connection.from_config(conf(forgeUrl="http://x"))


@pytest.mark.parametrize(("raw", "expected"), [("false", False), ("True", True), ("0", False)])
def test_adoption_flag(raw, expected):
    assert connection.from_config(conf(adminToken="t", adoptExistingUsers=raw)).adopt_existing_users is expected


def test_bad_flag_and_timeout_named():
    with pytest.raises(connection.ConfigurationError, match="adoptExistingUsers"):
        connection.from_config(conf(adminToken="t", adoptExistingUsers="maybe"))
    with pytest.raises(connection.ConfigurationError, match="forgeTimeout"):
        connection.from_config(conf(adminToken="t", forgeTimeout="soon"))


def test_repr_hides_credentials():
    conn = connection.from_config(conf(adminToken="tok-secret-1", adminPassword="pw-secret-2"))
    assert "secret" not in repr(conn)
    assert "secret" not in repr(conn.admin_auth) + repr(conn.admin_basic_auth())


def test_unconfigured_problem_surfaces_on_use():
    connection.configure(conf(forgeUrl="http://x"))
    with pytest.raises(connection.ConfigurationError, match="adminToken"):
        connection.current()
    connection.configure(conf(adminToken="t"))
    assert connection.current().admin_auth == TokenAuth("t")


def test_missing_credentials_list_every_right_the_admin_token_needs_as_the_settings_page_does():
    with pytest.raises(connection.ConfigurationError) as caught:
        connection.from_config({})
    settings = (Path(__file__).resolve().parents[2] / "docs" / "settings.md").read_text()
    [row] = [line for line in settings.splitlines() if line.startswith("| `adminToken` (secret)")]
    for scope in connection.ADMIN_TOKEN_SCOPES:
        assert scope in str(caught.value) and f"`{scope}`" in row


def test_the_provider_judges_its_settings_by_the_stack_settings_own_rules():
    """One model (config/stack_settings.py ForgeAccess): what validate refuses, the provider refuses."""
    with pytest.raises(connection.ConfigurationError, match="forgeUrl: must be Forgejo's root URL"):
        connection.from_config(conf(adminToken="t", forgeUrl="http://forge:3000/api/v1"))
    with pytest.raises(connection.ConfigurationError, match=r"forgeTimeout: .*at most 600"):
        connection.from_config(conf(adminToken="t", forgeTimeout="9999"))
    assert connection.from_config(conf(adminToken="t", forgeTimeout="7.5")).timeout == 7.5
