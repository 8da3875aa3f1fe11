"""Forgejo access-token scopes: validation and the normalisation Forgejo applies.

Forgejo stores a token's scopes as a bitmap and answers with a canonical list: duplicates and
implied `read:X` dropped, a fixed order, and all nine `write:*` folded into `all`. Comparing the
scopes we asked for with the scopes Forgejo reports only works after the same normalisation, or
every refresh would look like a change (and a token replacement).
"""

from __future__ import annotations

from collections.abc import Iterable

# Forgejo's category order; the canonical list follows it (docs/decisions/agent-token-scopes.md).
CATEGORIES = (
    "activitypub",
    "admin",
    "misc",
    "notification",
    "organization",
    "package",
    "issue",
    "repository",
    "user",
)
ALL = "all"
PUBLIC_ONLY = "public-only"
# Forgejo drops these silently instead of refusing them.
IGNORED = frozenset({"", "sudo"})

VALID = frozenset({ALL, PUBLIC_ONLY} | {f"{lvl}:{c}" for lvl in ("read", "write") for c in CATEGORIES})

# The least an agent's token needs, by role, read from what each role's scripts call in the factory
# (docs/decisions/agent-token-scopes.md): issues, labels and comments (write:issue); pull requests,
# branches, statuses, and git over HTTPS with the token as the password (write:repository); its own
# login (read:user). No role needs write:user (blocks, SSH keys), write:admin or organizations.
AGENT_BASE = ("write:issue", "write:repository", "read:user")
ROLE_SCOPES = dict.fromkeys(
    ("dev", "review", "gardener", "architect", "planner", "predictor", "supervisor"), AGENT_BASE
)
# What validate warns about when a TOML or the stack asks for it: each lets an agent act on others.
BROAD = {
    ALL: "every scope, write:user and write:admin among them",
    "write:user": "lets the agent block other users (its peers, the repository's owner) and add SSH keys, "
    "which no token scope bounds and which outlive its token",
    "write:admin": "site administration, if the bot is ever made an admin",
}


def for_roles(roles: Iterable[str]) -> list[str]:
    """The default scopes of an agent with these roles: the union of theirs (a role the factory does
    not have gets the base set), in Forgejo's canonical form."""
    wanted = [scope for role in roles for scope in ROLE_SCOPES.get(role, AGENT_BASE)]
    return normalize(wanted or AGENT_BASE)


def broad(scopes: Iterable[str]) -> list[str]:
    """Why each scope in `scopes` reaches past what an agent needs: 'scope: why'."""
    return [f"{scope}: {BROAD[scope]}" for scope in dict.fromkeys(scopes) if scope in BROAD]


# The agent's token is also its git password: a push needs write:repository, the factory's login
# check needs read:user (docs/decisions/agent-token-scopes.md).
AGENT_NEEDS = ("write:repository", "read:user")


def agent_scope_problem(scopes: Iterable[str]) -> str | None:
    """Why an agent could not push or prove its login with a token of these scopes; None if it can."""
    wanted = [s for s in scopes if s not in IGNORED]
    if PUBLIC_ONLY in wanted:
        return "public-only: the agent could not push to its private .profile (its token is its git password)"
    try:
        held = set(normalize(wanted))
    except ScopeError:
        return None  # reported on its own
    lacking = missing(held, AGENT_NEEDS)
    if lacking:
        return (
            f"lacks {', '.join(lacking)}: the token is also the agent's git password, and git push needs "
            "write:repository, the factory's login check read:user"
        )
    return None


def missing(held: Iterable[str], needs: Iterable[str]) -> list[str]:
    """The scopes of `needs` that a token holding `held` (as Forgejo lists them) lacks."""
    have = set(held)
    return [] if ALL in have else [need for need in needs if not _covers(have, need)]


def _covers(held: set[str], need: str) -> bool:
    level, category = need.split(":", 1)
    return need in held or (level == "read" and f"write:{category}" in held)


class ScopeError(ValueError):
    """A scope Forgejo would refuse (HTTP 400 on token creation)."""


def invalid_scopes(scopes: Iterable[str]) -> list[str]:
    """The entries Forgejo would refuse, in the order given."""
    return [s for s in scopes if s not in IGNORED and s not in VALID]


def normalize(scopes: Iterable[str]) -> list[str]:
    """Forgejo's canonical form of a scope list; raises ScopeError for unknown or empty lists."""
    wanted = [s for s in scopes if s not in IGNORED]
    bad = invalid_scopes(wanted)
    if bad:
        raise ScopeError(f"unknown token scope(s): {', '.join(bad)}")
    levels = dict.fromkeys(CATEGORIES, 0)  # 0 none, 1 read, 2 write
    for scope in wanted:
        if scope == ALL:
            levels = dict.fromkeys(CATEGORIES, 2)
        elif scope != PUBLIC_ONLY:
            level, category = scope.split(":", 1)
            levels[category] = max(levels[category], 2 if level == "write" else 1)
    result = [PUBLIC_ONLY] if PUBLIC_ONLY in wanted else []
    if all(v == 2 for v in levels.values()):
        return [*result, ALL]
    for category in CATEGORIES:
        if levels[category]:
            result.append(f"{'write' if levels[category] == 2 else 'read'}:{category}")
    if not result or result == [PUBLIC_ONLY]:
        raise ScopeError("a token needs at least one scope")
    return result
