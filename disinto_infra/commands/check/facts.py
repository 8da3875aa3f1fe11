"""What `check` found, as typed facts: one dataclass per area, the same for text and JSON.

Each area lists its own `problems` (lines an operator acts on); any problem makes `check` exit 1.
Facts never hold a credential: only which source it came from and what Forgejo said about it.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field

from disinto_infra.commands.check.host_volumes import KeptVolume
from disinto_infra.parsed import JsonObject


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
    admin_scopes: str = ""  # the admin token's scopes as Forgejo lists them; "" for a password
    password_check_pwn: str = ""  # "on" | "off" | "not checked: ..."
    notes: tuple[str, ...] = ()  # worth knowing, not a failure


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
class NomadFacts:
    """Nomad on a `runtime: nomad` stack. Each `*_found` is what was seen, in a few words."""

    address: str
    address_source: str  # "nomad:address in the stack file", "env NOMAD_ADDR" or "default"
    token_source: str  # where the ACL token came from; "" when none
    leader: str  # "ip:port" of the leader; "" when none or unknown
    leader_found: str  # "elected" | "no leader: ..." | "no answer: ..." | "not asked: ..."
    namespace: str
    namespace_found: str  # "exists" | "not found" | "refused: ..." | "not checked: ..."
    node_pool: str | None  # disinto:nomadNodePool; None: not set
    pool_found: str  # "2 of 3 node(s) ready and eligible" | "not found" | ... ; "" without a pool
    ready_nodes: tuple[str, ...]  # names of the pool's ready and eligible nodes
    forge_service: str
    forge_found: str  # "registered" | "not registered" | "refused: ..." | ...
    forge_instances: tuple[str, ...]  # "address:port" of each registration
    problems: tuple[str, ...] = ()
    host_volumes_found: str = ""  # "" when not asked (no agents)
    kept_volumes: tuple[KeptVolume, ...] = ()  # volumes of the fleet's names in the way of `pulumi up`
    rights_found: str = ""  # "8 of 8 rights `pulumi up` uses" | "a management token: every right" | "not checked: ..."
    kill_timeout_found: str = ""  # the client's max_kill_timeout against stopGraceSeconds; "" when not asked


@dataclass(frozen=True)
class VaultFacts:
    address: str
    address_source: str
    token_source: str
    state: str  # "active" | "standby" | "performance standby" | "sealed" | ... | "no answer: ..." | "not asked: ..."
    version: str
    token_found: str  # "valid" | "refused: ..." | "not checked: ..."
    token_policies: tuple[str, ...]
    token_ttl: int | None  # seconds left; 0: never expires; None: unknown
    kv_mount: str
    kv_found: str  # "kv v2" | "kv v1" | "<type>, not kv" | "not mounted" | "not checked: ..."
    auth_mount: str
    auth_found: str  # "jwt" | "<type>, not jwt" | "not enabled" | "not checked: ..."
    problems: tuple[str, ...] = ()
    bot_policies_found: str = ""  # "2 bot policies read, 1 reading kv/data/disinto/shared/forge" | "not checked: ..."
    # Lines an operator should act on that do not stop the stack working (check/bot_policies.py).
    warnings: tuple[str, ...] = ()
    rights_found: str = ""  # "7 of 7 rights `pulumi up` uses" | "a root token: every right" | "not checked: ..."


@dataclass(frozen=True)
class ContainerFacts:
    """An agent's container on the Docker host, as `docker inspect` and `docker logs` tell it."""

    agent: str
    container: str
    found: str  # "running", "absent" (not created yet), or why it could not be asked
    status: str = ""
    health: str = ""
    restarts: int = 0
    last_logs: tuple[str, ...] = ()
    sessions: tuple[str, ...] = ()  # the agent user's processes, longest first: a replacement would wait for them
    problems: tuple[str, ...] = ()


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
    # Only on `runtime: nomad` stacks; a docker stack's JSON has neither key.
    nomad: NomadFacts | None = None
    vault: VaultFacts | None = None
    # Only on `runtime: docker` stacks.
    containers: tuple[ContainerFacts, ...] | None = None

    @property
    def all_problems(self) -> list[str]:
        found = [p for s in self.servers for p in s.problems] + list(self.forge.problems)
        found += [p for c in self.containers or () for p in c.problems]
        found += [p for area in (self.nomad, self.vault) if area is not None for p in area.problems]
        return found + [p for c in self.credentials for p in c.problems] + list(self.problems)

    def to_json(self) -> JsonObject:
        facts = asdict(self, dict_factory=_plain)
        absent = [key for key in ("nomad", "vault", "containers") if facts[key] is None]
        return {**{k: v for k, v in facts.items() if k not in absent}, "all_problems": self.all_problems}


def _plain(items: list[tuple[str, object]]) -> JsonObject:
    return {k: v.value if isinstance(v, enum.Enum) else list(v) if isinstance(v, tuple) else v for k, v in items}
