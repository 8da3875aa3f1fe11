"""The Vault area of `check`, on `runtime: nomad` stacks: what `pulumi up` writes to and the jobs log in at.

Read-only GETs of Vault's HTTP API with the stack's token: the node's health (a node that serves
no requests is one problem, and nothing else is asked), the token itself, the KV v2 mount, the jwt
auth mount, the factory's bot policies (bot_policies.py) and the token's rights
(vault_token_rights.py). A path the token may not read (403) is "not checked", not a problem: the
token `pulumi up` needs writes policies, roles and secrets, and need not read `sys/`.
Why each answer is read as it is: docs/decisions/check-vault.md.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from disinto_infra.commands.check import bot_policies, reach, vault_token_rights
from disinto_infra.commands.check.bot_policies import BotPolicies
from disinto_infra.commands.check.facts import VaultFacts
from disinto_infra.commands.check.reach import Judged
from disinto_infra.commands.check.vault_token_rights import TokenRights
from disinto_infra.config.stack_settings import StackSettings, read_stack_file
from disinto_infra.http_get import Reply
from disinto_infra.parsed import JsonObject, object_or_empty

HEALTH_PARAMS = {"standbyok": "true", "perfstandbyok": "true"}
KV_VERSION = "2"
AUTH_TYPE = "jwt"
# /sys/health's default status codes, and whether such a node serves requests.
HEALTH_CODES: dict[int, tuple[str, bool]] = {
    429: ("standby", True),
    472: ("DR secondary", False),
    473: ("performance standby", True),
    474: ("standby without an active node", False),
    501: ("not initialised", False),
    503: ("sealed", False),
    530: ("removed from its cluster", False),
}
HEALTH_HINTS = {"sealed": ": unseal it (vault operator unseal)", "not initialised": ": vault operator init"}


@dataclass(frozen=True)
class VaultTarget(reach.Target):
    kv_mount: str
    auth_mount: str
    factory_root: str = ""  # where the factory's own policy files are, for a warning naming one
    kv_prefix: str = "disinto/bots"
    agents: tuple[str, ...] = ()  # whose Vault names `pulumi up` writes (vault_token_rights.py)
    child_token: bool = True  # the provider makes a child token (no vault:skipChildToken)


@dataclass(frozen=True)
class VaultReplies:
    health: Reply
    token: Reply | None = None  # None: no token, not asked
    kv: Reply | None = None
    auth: Reply | None = None
    policies: Reply | None = None  # LIST sys/policies/acl
    bots: dict[str, Reply] | None = None  # each bot-* policy listed
    rights: Reply | None = None  # sys/internal/ui/resultant-acl


# The Vault provider's own switch, in the stack file or its env variable.
# Why: docs/decisions/check-vault.md
SKIP_CHILD_TOKEN_ENV = "TERRAFORM_VAULT_SKIP_CHILD_TOKEN"


def _child_token(stack_file: Path, environ: dict[str, str]) -> bool:
    skip = read_stack_file(stack_file, reach.VAULT.namespace).get("skipChildToken")
    if skip is None:
        skip = environ.get(SKIP_CHILD_TOKEN_ENV, "")
    return str(skip).lower() not in reach.TRUE


def target(
    settings: StackSettings, stack: str, stack_file: Path, environ: dict[str, str], agents: tuple[str, ...] = ()
) -> VaultTarget:
    return VaultTarget(
        reach.endpoint(reach.VAULT, stack_file, stack, environ),
        str(stack_file),
        settings.vault_kv_mount,
        settings.vault_auth_mount,
        settings.factory_root,
        settings.vault_kv_prefix,
        agents,
        _child_token(stack_file, environ),
    )


def start(pool: Executor, t: VaultTarget, timeout: float) -> Callable[[], VaultFacts]:
    """Submit every GET at once (the bot policies once they are listed); the returned call waits
    for them and judges."""
    ep, ask = t.endpoint, t.asker(pool, timeout)
    health = ask("/v1/sys/health", {}, HEALTH_PARAMS)  # unauthenticated: no token sent
    asked: list[Future[Reply] | None] = [None, None, None, None, None]
    if ep.token:
        asked = [
            ask("/v1/auth/token/lookup-self", ep.headers()),
            ask(f"/v1/sys/mounts/{quote(t.kv_mount)}", ep.headers()),
            ask("/v1/sys/auth", ep.headers()),
            ask(bot_policies.LIST_PATH, ep.headers(), bot_policies.LIST_PARAMS),
            ask(vault_token_rights.PATH, ep.headers()),
        ]

    def finish() -> VaultFacts:
        token, kv, auth, listing, rights = (f.result() if f else None for f in asked)
        bots = None
        if listing is not None:
            each = bot_policies.ask_each(ask, ep.headers(), bot_policies.bot_names(listing))
            bots = {name: f.result() for name, f in each.items()}
        return judge(t, VaultReplies(health.result(), token, kv, auth, listing, bots, rights))

    return finish


def _data(body: object) -> JsonObject:
    """A response's `data` (sys/ answers also repeat it at the top level)."""
    if not isinstance(body, dict):
        return {}
    data = body.get("data")
    return data if isinstance(data, dict) else body


def _health(t: VaultTarget, reply: Reply) -> tuple[Judged, bool, str]:
    """The node's state, whether it serves requests, its version."""
    address = t.endpoint.address
    if reply.status is None:
        return t.endpoint.unanswered("Vault", reply), False, ""
    body = reply.body if isinstance(reply.body, dict) else {}
    version = str(body.get("version") or "")
    if reply.status == 200:
        state = (
            "performance standby" if body.get("performance_standby") else "standby" if body.get("standby") else "active"
        )
        return Judged(state), True, version
    state, serves = HEALTH_CODES.get(reply.status, (reply.why(), False))
    if serves:
        return Judged(state), True, version
    return Judged(state, f"{address}: Vault is {state}{HEALTH_HINTS.get(state, '')}"), False, version


def _token(t: VaultTarget, reply: Reply) -> tuple[Judged, tuple[str, ...], int | None]:
    ep = t.endpoint
    if reply.status == 200:
        data = _data(reply.body)
        listed = data.get("policies")
        policies = tuple(str(p) for p in listed) if isinstance(listed, list) else ()
        ttl = data.get("ttl")
        return Judged("valid"), policies, int(ttl) if isinstance(ttl, (int, float)) else None
    if reply.status == 403:
        return (
            Judged(
                "refused (HTTP 403)",
                f"{ep.address}: the Vault token ({ep.token_source}) is refused: expired, revoked or not a token",
            ),
            (),
            None,
        )
    return Judged(reply.why(), f"{ep.address}: GET /v1/auth/token/lookup-self: {reply.why()}"), (), None


def _kv(t: VaultTarget, reply: Reply) -> Judged:
    mount, where = t.kv_mount, f"Vault at {t.endpoint.address}"
    if reply.status == 200:
        data = _data(reply.body)
        kind, version = data.get("type"), str(object_or_empty(data.get("options")).get("version") or "1")
        if kind == "kv" and version == KV_VERSION:
            return Judged("kv v2")
        if kind == "kv":
            return Judged(
                f"kv v{version}",
                f'{t.setting("vaultKvMount")}: "{mount}/" in {where} is KV version '
                f"{version}; the program writes KV v2 ({mount}/data/...): "
                f"vault kv enable-versioning {mount}",
            )
        return Judged(
            f"{kind}, not kv", f'{t.setting("vaultKvMount")}: "{mount}/" in {where} is a {kind} mount, not KV v2'
        )
    if reply.status in (400, 404):
        return Judged(
            "not mounted",
            f'{t.setting("vaultKvMount")}: nothing is mounted at "{mount}/" in {where}: '
            f"vault secrets enable -path={mount} -version=2 kv",
        )
    return _unread(t, reply, f"sys/mounts/{mount}")


def _auth(t: VaultTarget, reply: Reply) -> Judged:
    mount, where = t.auth_mount, f"Vault at {t.endpoint.address}"
    if reply.status == 200:
        entry = _data(reply.body).get(f"{mount}/")
        if not isinstance(entry, dict):
            return Judged(
                "not enabled",
                f'{t.setting("vaultAuthMount")}: no auth method at "{mount}/" in {where}: '
                "the agents' jobs log in there with their workload identity",
            )
        kind = entry.get("type")
        if kind != AUTH_TYPE:
            return Judged(
                f"{kind}, not jwt",
                f'{t.setting("vaultAuthMount")}: "{mount}/" in {where} is a {kind} auth method, not jwt',
            )
        return Judged(AUTH_TYPE)
    return _unread(t, reply, "sys/auth")


def _unread(t: VaultTarget, reply: Reply, path: str) -> Judged:
    if reply.status == 403:
        return Judged(f"not checked: the token may not read {path}")
    return Judged(reply.why(), f"{t.endpoint.address}: GET /v1/{path}: {reply.why()}")


def judge(t: VaultTarget, r: VaultReplies) -> VaultFacts:
    ep = t.endpoint
    state, serves, version = _health(t, r.health)
    policies: tuple[str, ...] = ()
    ttl: int | None = None
    if not serves:
        why = (ep.unusable or "no answer") if r.health.status is None else f"Vault is {state.found}"
        token = kv = auth = Judged(f"not checked: {why}")
        bots, rights = BotPolicies(token.found), TokenRights(token.found)
    elif r.token is None or r.kv is None or r.auth is None:
        token = kv = auth = Judged("not checked: no token (export VAULT_TOKEN, or set vault:token with --secret)")
        bots, rights = BotPolicies(token.found), TokenRights(token.found)
    else:
        token, policies, ttl = _token(t, r.token)
        if r.token.status == 403:
            kv = auth = Judged("not checked: the token is refused")
            bots, rights = BotPolicies(kv.found), TokenRights(kv.found)
        else:
            kv, auth = _kv(t, r.kv), _auth(t, r.auth)
            bots, rights = _bots(t, r), _rights(t, r)
    problems = tuple(j.problem for j in (state, token, kv, auth) if j.problem) + rights.problems
    return VaultFacts(
        ep.address,
        ep.address_source,
        ep.token_source,
        state.found,
        version,
        token.found,
        policies,
        ttl,
        t.kv_mount,
        kv.found,
        t.auth_mount,
        auth.found,
        problems,
        bots.found,
        bots.warnings,
        rights.found,
    )


def _rights(t: VaultTarget, r: VaultReplies) -> TokenRights:
    if r.rights is None:
        return TokenRights("not checked: not asked")
    ep = t.endpoint
    needed = vault_token_rights.needed(t.kv_mount, t.kv_prefix, t.auth_mount, t.agents, t.child_token)
    return vault_token_rights.judge(r.rights, needed, f"{ep.address}: the Vault token ({ep.token_source})")


def _bots(t: VaultTarget, r: VaultReplies) -> BotPolicies:
    if r.policies is None:
        return BotPolicies("not checked: not asked")
    return bot_policies.judge(r.policies, r.bots or {}, t.kv_mount, t.factory_root)
