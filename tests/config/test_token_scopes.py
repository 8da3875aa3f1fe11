"""Token scopes (config/token_scopes.py): Forgejo's grammar, and the least each role needs."""

import pytest

from disinto_infra.config import token_scopes


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (["all"], ["all"]),
        (["write:repository", "read:repository", "read:user"], ["write:repository", "read:user"]),
        (["read:user", "write:issue"], ["write:issue", "read:user"]),  # Forgejo's category order
        ([f"write:{c}" for c in token_scopes.CATEGORIES], ["all"]),
        (["public-only", "read:repository"], ["public-only", "read:repository"]),
        (["public-only", "all"], ["public-only", "all"]),
        (["sudo", "", "read:misc"], ["read:misc"]),
        (["write:user", "write:user"], ["write:user"]),
    ],
)
def test_normalize_matches_forgejo(given, expected):
    assert token_scopes.normalize(given) == expected


@pytest.mark.parametrize("given", [[], ["sudo"], ["public-only"], [""]])
def test_a_token_needs_a_scope(given):
    with pytest.raises(token_scopes.ScopeError, match="at least one scope"):
        token_scopes.normalize(given)


def test_old_scope_names_are_refused_by_name():
    with pytest.raises(token_scopes.ScopeError, match="repo, admin:org"):
        token_scopes.normalize(["repo", "admin:org", "read:user"])
    assert token_scopes.invalid_scopes(["repo", "read:user", "sudo"]) == ["repo"]


def test_every_factory_role_defaults_to_the_least_it_needs_and_roles_combine():
    for role in ("dev", "review", "gardener", "architect", "planner", "predictor", "supervisor"):
        assert token_scopes.for_roles([role]) == ["write:issue", "write:repository", "read:user"]
    assert token_scopes.for_roles(["dev", "review", "my-own-role"]) == ["write:issue", "write:repository", "read:user"]
    assert token_scopes.agent_scope_problem(token_scopes.AGENT_BASE) is None
    # Nothing an agent gets by default lets it block a user, add an SSH key or administer the site.
    assert not {"write:user", "write:admin", "all"} & set(token_scopes.for_roles(token_scopes.ROLE_SCOPES))


def test_broad_scopes_are_named_with_what_they_allow():
    said = token_scopes.broad(["write:issue", "all", "write:user", "write:user"])
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
    assert why in token_scopes.agent_scope_problem(given)


@pytest.mark.parametrize(
    "given",
    [["all"], ["write:repository", "read:user"], ["write:repository", "write:user"], list(token_scopes.AGENT_BASE)],
)
def test_scopes_an_agent_can_work_with(given):
    assert token_scopes.agent_scope_problem(given) is None


# Issue 27 item 1, against the double: what write:user would let an agent do, and that its default
# token cannot.
