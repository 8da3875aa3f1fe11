"""What `check` found, as typed facts: one dataclass per area, the same for text and JSON.

Each area lists its own `problems` (lines an operator acts on); any problem makes `check` exit 1.
Facts never hold a credential: only which source it came from and what Forgejo said about it.
"""
from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class AgentOnServer:
    agent: str
    model: str
    serves_model: bool | None  # None: the server did not say what it serves


@dataclass(frozen=True)
class ServerFacts:
    base_url: str
    state: str  # model_server.ServerState value
    detail: str
    models: tuple[str, ...]
    slots: int | None
    source: str
    agents: tuple[AgentOnServer, ...]
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class RepoFacts:
    repo: str
    file: str
    exists: bool | None  # None: could not ask
    detail: str = ""


@dataclass(frozen=True)
class ForgeFacts:
    url: str
    answers: bool
    version: str
    detail: str
    admin_user: str
    admin_source: str  # where the admin credential came from, or "" when none was given
    admin_status: str  # "site admin" | "not a site admin" | "refused" | "not checked: ..."
    repos: tuple[RepoFacts, ...]
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class CredentialFacts:
    agent: str
    forge_user: str
    token: str  # "ok" | "missing" | "refused" | "answers as <user>" | "no answer: ..."
    password: str  # same words
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class TokenAgeFacts:
    agent: str
    made_at: str | None  # ISO UTC; None: unknown
    age_days: float | None
    max_age_days: int | None  # None: never rotates by age
    due: bool | None  # the next `pulumi up` replaces it; None: unknown


@dataclass(frozen=True)
class CheckReport:
    stack: str
    servers: tuple[ServerFacts, ...]
    forge: ForgeFacts
    env_file: str | None
    credentials: tuple[CredentialFacts, ...]  # empty without envFile
    token_age_source: str  # "pulumi stack export", a state file, or "unknown: <why>"
    token_ages: tuple[TokenAgeFacts, ...]
    problems: tuple[str, ...] = field(default=())

    @property
    def all_problems(self) -> list[str]:
        found = [p for s in self.servers for p in s.problems] + list(self.forge.problems)
        return found + [p for c in self.credentials for p in c.problems] + list(self.problems)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self, dict_factory=_plain), "all_problems": self.all_problems}


def _plain(items: list[tuple[str, Any]]) -> dict[str, Any]:
    return {k: v.value if isinstance(v, enum.Enum) else list(v) if isinstance(v, tuple) else v for k, v in items}
