import pytest
import requests

from disinto_infra.forgejo import scopes
from tests.support.engine import ProviderError
from tests.support.identity import identity


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (["all"], ["all"]),
        (["write:repository", "read:repository", "read:user"], ["write:repository", "read:user"]),
        (["read:user", "write:issue"], ["write:issue", "read:user"]),  # Forgejo's category order
        ([f"write:{c}" for c in scopes.CATEGORIES], ["all"]),
        (["public-only", "read:repository"], ["public-only", "read:repository"]),
        (["public-only", "all"], ["public-only", "all"]),
        (["sudo", "", "read:misc"], ["read:misc"]),
        (["write:user", "write:user"], ["write:user"]),
    ],
)
def test_normalize_matches_forgejo(given, expected):
    assert scopes.normalize(given) == expected


@pytest.mark.parametrize("given", [[], ["sudo"], ["public-only"], [""]])
def test_a_token_needs_a_scope(given):
    with pytest.raises(scopes.ScopeError, match="at least one scope"):
        scopes.normalize(given)


def test_old_scope_names_are_refused_by_name():
    with pytest.raises(scopes.ScopeError, match="repo, admin:org"):
        scopes.normalize(["repo", "admin:org", "read:user"])
    assert scopes.invalid_scopes(["repo", "read:user", "sudo"]) == ["repo"]


def test_every_factory_role_defaults_to_the_least_it_needs_and_roles_combine():
    for role in ("dev", "review", "gardener", "architect", "planner", "predictor", "supervisor"):
        assert scopes.for_roles([role]) == ["write:issue", "write:repository", "read:user"]
    assert scopes.for_roles(["dev", "review", "my-own-role"]) == ["write:issue", "write:repository", "read:user"]
    assert scopes.agent_scope_problem(scopes.AGENT_BASE) is None
    # Nothing an agent gets by default lets it block a user, add an SSH key or administer the site.
    assert not {"write:user", "write:admin", "all"} & set(scopes.for_roles(scopes.ROLE_SCOPES))


def test_broad_scopes_are_named_with_what_they_allow():
    said = scopes.broad(["write:issue", "all", "write:user", "write:user"])
    assert [line.split(":", 1)[0] for line in said] == ["all", "write"]
    assert "SSH keys" in said[1] and "block" in said[1]


@pytest.mark.parametrize(
    ("given", "why"),
    [
        (["write:issue", "read:user"], "lacks write:repository"),
        (["read:repository", "read:user"], "lacks write:repository"),
        (["write:repository"], "lacks read:user"),
        (["write:issue"], "lacks write:repository, read:user"),
        (["public-only", "all"], "public-only"),
    ],
)
def test_an_agent_token_must_push_and_prove_its_login(given, why):
    """The token is also the agent's git password: git push needs write:repository, the factory's
    credential helper's GET /user read:user, and the private .profile no public-only."""
    assert why in scopes.agent_scope_problem(given)


@pytest.mark.parametrize(
    "given",
    [["all"], ["write:repository", "read:user"], ["write:repository", "write:user"], list(scopes.AGENT_BASE)],
)
def test_scopes_an_agent_can_work_with(given):
    assert scopes.agent_scope_problem(given) is None


# Issue 27 item 1, against the double: what write:user would let an agent do, and that its default
# token cannot.


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
