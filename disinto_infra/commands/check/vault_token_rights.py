"""Whether the stack's Vault token may do what `pulumi up` will ask of it (a part of `check`'s Vault area).

Vault answers, for the calling token, its policies merged (`sys/internal/ui/resultant-acl`, which
every token may read). Each right of runtimes/nomad/vault_rights.py is judged against those rules
as Vault matches paths (vault_acl.py); one problem per right the token lacks, naming the
capabilities, the path and examples/vault/pulumi-token.hcl. That answer leaves out rules with a
`+` segment, so a right granted only through one is reported as lacking, and the problem line says
so. Why: docs/decisions/check-vault-token-rights.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from disinto_infra.commands.check.vault_acl import AclRule, governing_rule
from disinto_infra.http_get import Reply
from disinto_infra.parsed import JsonObject
from disinto_infra.runtimes.nomad.vault_rights import Right, pulumi_rights

PATH = "/v1/sys/internal/ui/resultant-acl"
EXAMPLE = "examples/vault/pulumi-token.hcl"
CHILD_TOKEN_PATH = "auth/token/create"


@dataclass(frozen=True)
class TokenRights:
    found: str
    problems: tuple[str, ...] = ()


def _rules(data: JsonObject) -> list[AclRule]:
    def caps(entry: object) -> tuple[str, ...]:
        return tuple(str(c) for c in (entry or {}).get("capabilities") or ()) if isinstance(entry, dict) else ()

    exact = data.get("exact_paths") or {}
    globs = data.get("glob_paths") or {}
    return ([AclRule(p, caps(e)) for p, e in exact.items()] if isinstance(exact, dict) else []) + (
        [AclRule(p + "*", caps(e)) for p, e in globs.items()] if isinstance(globs, dict) else []
    )


def _lacking(rules: list[AclRule], right: Right) -> tuple[str, ...]:
    rule = governing_rule(rules, right.path)
    return tuple(c for c in right.capabilities if rule is None or not rule.grants(c))


def needed(kv_mount: str, kv_prefix: str, auth_mount: str, agents: Iterable[str], child_token: bool) -> list[Right]:
    """Every right, each path once (the review secret and the child token are the stack's)."""
    seen: dict[str, Right] = {}
    for agent in agents:
        for right in pulumi_rights(kv_mount, kv_prefix, auth_mount, agent):
            if right.path == CHILD_TOKEN_PATH and not child_token:
                continue
            seen.setdefault(right.path, right)
    return list(seen.values())


def judge(reply: Reply, rights: list[Right], who: str) -> TokenRights:
    """`who`: the token in a problem line, "<address>: the Vault token (env VAULT_TOKEN)"."""
    if not rights:
        return TokenRights("not checked: no agents")
    if reply.status == 403:
        return TokenRights("not checked: the token may not read sys/internal/ui/resultant-acl")
    data = reply.body.get("data") if reply.status == 200 and isinstance(reply.body, dict) else None
    if not isinstance(data, dict):
        return TokenRights(f"not checked: GET {PATH.removeprefix('/v1/')}: {reply.why()}")
    if data.get("root") is True:
        return TokenRights("a root token: every right")
    rules = _rules(data)
    problems = []
    for right in rights:
        lacking = _lacking(rules, right)
        if lacking:
            problems.append(
                f"{who} lacks {', '.join(lacking)} on {right.path} ({right.why}): `pulumi up` would be refused; "
                f"see {EXAMPLE} (a right granted only through a `+` path does not show here)"
            )
    found = f"{len(rights) - len(problems)} of {len(rights)} rights `pulumi up` uses"
    return TokenRights(found, tuple(problems))
