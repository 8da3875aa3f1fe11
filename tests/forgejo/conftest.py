"""A Forgejo double and a provider host configured against it, fresh for each test."""

from __future__ import annotations

import pytest
import requests

from tests.support.engine import Engine, Host, Secret
from tests.support.forgejo_double import ForgejoDouble

ADMIN = "disinto-admin"
ADMIN_PASSWORD = "admin-pass-123"


def change_password_by_hand(forge: ForgejoDouble, username: str, **more: object) -> None:
    """What an admin does in Forgejo's UI: a new password the stack does not know."""
    answer = requests.patch(
        f"{forge.url}/api/v1/admin/users/{username}",
        json={"password": "changed-by-hand-1", **more},
        auth=(ADMIN, ADMIN_PASSWORD),
        timeout=5,
    )
    assert answer.status_code == 200, answer.text


def host_config(forge: ForgejoDouble, **extra: object) -> dict:
    config = {
        "disinto:forgeUrl": forge.url,
        "disinto:adminUser": ADMIN,
        "disinto:adminPassword": Secret(ADMIN_PASSWORD),
        "disinto:forgeTimeout": "3",
    }
    config.update({f"disinto:{k}": v for k, v in extra.items()})
    return config


@pytest.fixture
def forge():
    with ForgejoDouble(spec_check=True) as double:
        double.add_user(ADMIN, password=ADMIN_PASSWORD, is_admin=True, email="admin@disinto.local")
        double.add_user("johba", password="johba-pass-123", email="johba@disinto.local")
        double.add_repo("johba", "disinto")
        yield double
        assert double.internal_errors == [], "the Forgejo double failed internally:\n" + "\n".join(
            double.internal_errors
        )
        assert double.spec_violations == []


@pytest.fixture
def engine(forge):
    with Host(host_config(forge)) as host:
        yield Engine(host)
