"""Issue 18 item 5: the grant settles when the bot has more access than granted.

`GET …/collaborators/{u}/permission` answers the *effective* access (teams of the owning organization,
ownership; models/perm/access/repo_permission.go:236-262 @ v11.0.15). At least the wanted level counts
as granted; the higher level shows as `effective_permission`. Less than wanted is still a change.
"""

from __future__ import annotations

import pytest
import requests

from disinto_infra.forgejo.collaborator import settled
from tests.forgejo.conftest import ADMIN, ADMIN_PASSWORD
from tests.support.identity import identity


@pytest.mark.parametrize(
    ("wanted", "effective", "recorded"),
    [
        ("write", "write", "write"),
        ("write", "admin", "write"),
        ("write", "owner", "write"),
        ("admin", "write", "write"),
        ("write", "read", "read"),
        ("read", "none", "none"),
    ],
)
def test_at_least_the_wanted_level_counts_as_granted(wanted, effective, recorded):
    assert settled(wanted, effective) == recorded


def _puts(forge) -> list:
    return [r for r in forge.requests if r.method == "PUT" and "/collaborators/" in r.path]


def test_a_bot_with_admin_through_a_team_settles_and_shows_the_higher_access(forge, engine):
    engine.up(identity("dev-qwen"))
    forge.add_team_access("johba/disinto", "dev-qwen", "admin")
    engine.refresh()
    outs = engine.outputs("dev-qwen-collaborator")
    assert (outs["permission"], outs["effective_permission"]) == ("write", "admin")
    forge.clear_requests()
    assert set(engine.up(identity("dev-qwen")).values()) == {"same"}
    assert _puts(forge) == []


def test_less_than_wanted_is_granted_again(forge, engine):
    engine.up(identity("dev-qwen"))
    forge.add_collaborator("johba/disinto", "dev-qwen", "read")
    engine.refresh()
    assert engine.outputs("dev-qwen-collaborator")["effective_permission"] == "read"
    forge.clear_requests()
    assert engine.up(identity("dev-qwen"))["dev-qwen-collaborator"] == "update"
    assert [r.body for r in _puts(forge)] == [{"permission": "write"}]
    assert forge.collaborators_of("johba/disinto")["dev-qwen"] == "write"


def test_double_reports_team_access_as_the_permission(forge):
    """GetRepoPermissions answers GetUserRepoPermission, teams included (collaborators.go @ v11.0.15)."""
    forge.add_user("teamed")
    forge.add_team_access("johba/disinto", "teamed", "admin")
    answer = requests.get(
        f"{forge.url}/api/v1/repos/johba/disinto/collaborators/teamed/permission",
        auth=(ADMIN, ADMIN_PASSWORD),
        timeout=5,
    )
    assert answer.json()["permission"] == "admin"
