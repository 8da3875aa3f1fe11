import pytest

from disinto_infra.forgejo import scopes


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


def test_dev_agent_minimum_is_valid_and_canonical():
    assert scopes.normalize(scopes.DEV_AGENT_MINIMUM) == [
        "read:notification",
        "write:issue",
        "write:repository",
        "read:user",
    ]
