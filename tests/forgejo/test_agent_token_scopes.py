"""What an agent's default token can and cannot do on Forgejo (the double): the roles' least scopes
(config/token_scopes.py) against the owner, through the real provider host."""

import pytest
import requests

from tests.support.engine import ProviderError
from tests.support.identity import identity


def test_an_agent_token_of_its_roles_cannot_block_the_repository_owner(forge, engine):
    engine.up(identity("dev-qwen"))
    token = engine.outputs("dev-qwen-token")["token"]
    assert engine.outputs("dev-qwen-token")["scopes"] == ["write:issue", "write:repository", "read:user"]
    answer = requests.put(
        f"{forge.url}/api/v1/user/block/johba", headers={"Authorization": f"token {token}"}, timeout=5
    )
    assert answer.status_code == 403 and "write:user" in answer.json()["message"]


def test_with_all_an_agent_could_block_the_owner_and_its_own_grant_then_fails(forge, engine):
    """What `all` (write:user) allowed: the agent blocks the project's owner; Forgejo then refuses the
    grant between them in either direction, so the next grant of the agent fails with 403."""
    engine.up(identity("dev-qwen", scopes=("all",)))
    token = engine.outputs("dev-qwen-token")["token"]
    answer = requests.put(
        f"{forge.url}/api/v1/user/block/johba", headers={"Authorization": f"token {token}"}, timeout=5
    )
    assert answer.status_code == 204
    with pytest.raises(ProviderError, match="HTTP 403: user is blocked by the poster or repository owner"):
        engine.up(identity("dev-qwen", scopes=("all",), replace=["collaborator"]))
