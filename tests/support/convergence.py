"""What "converged" means for the reliability suite (tests/reliability), checked at the Forgejo double."""

from __future__ import annotations

from collections import Counter

from tests.support.engine import Engine, ProviderError, Res
from tests.support.forge_login import login
from tests.support.identity import REPO, identity, profile

FORMULA = 'name = "dev"\ndescription = "reliability-suite formula"\n'


def agent_resources(agent: str, **kwargs) -> list[Res]:
    """An agent's Forgejo identity as the real program registers it (the user is kept on removal)."""
    return identity(agent, **kwargs)


def profile_resource(agent: str, formula: str = FORMULA) -> Res:
    """`<agent>-profile` as the real program registers it."""
    return profile(agent, formula)


def up_tolerating_failure(engine: Engine, resources: list[Res]) -> ProviderError | None:
    """One `pulumi up` that may fail (the engine reports it and stops); the next one must converge."""
    try:
        engine.up(resources)
    except ProviderError as exc:
        return exc
    return None


def assert_no_duplicate_users(forge) -> None:
    logins = Counter(u["login"].lower() for u in forge.users)
    assert [name for name, n in logins.items() if n > 1] == []


def assert_identity_converged(forge, engine, agent: str, username: str | None = None, repo: str = REPO) -> None:
    """One user, exactly the token in state (no orphan), that token and the password log in as the agent."""
    username = username or agent
    assert_no_duplicate_users(forge)
    assert forge.user(username) is not None
    user, token = engine.outputs(f"{agent}-user"), engine.outputs(f"{agent}-token")
    assert [t["id"] for t in forge.tokens_of(username)] == [int(token["token_id"])], "orphaned or missing token"
    assert login(forge, token=token["token"]) == username
    assert login(forge, auth=(username, user["password"])) == username
    assert forge.user(username)["must_change_password"] is False
    assert forge.collaborators_of(repo).get(username) == "write"


def assert_removed(forge, username: str, repo: str = REPO) -> None:
    """A removed agent: its user is kept, its token revoked and its grant gone."""
    assert forge.user(username) is not None
    assert forge.tokens_of(username) == []
    assert username not in forge.collaborators_of(repo)


def assert_stable(forge, engine, resources: list[Res]) -> None:
    """After convergence a re-run changes nothing and sends no request."""
    forge.clear_requests()
    assert set(engine.up(resources).values()) <= {"same"}
    assert forge.requests == []
