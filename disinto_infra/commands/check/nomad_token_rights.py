"""Whether the stack's Nomad token may do what `pulumi up` will ask of it (a part of `check`'s Nomad area).

Nomad has no "what may I do" answer, but a token may read itself, its roles and its policies. A
management token, or Nomad with ACLs off, has every right; otherwise the policies' rules are merged
and matched as Nomad does (policy words expanded to capabilities, `deny` wins, an exact namespace
name before the closest glob), and there is one problem per right of nomad_rights.py the token
lacks. Why: docs/decisions/check-nomad-token-rights.md.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from disinto_infra.http_get import Reply
from disinto_infra.parsed import JsonObject, objects
from disinto_infra.runtimes.nomad.nomad_rights import HOST_VOLUME, NAMESPACE, NomadRight

SELF_PATH = "/v1/acl/token/self"
EXAMPLE = "examples/nomad/pulumi-token.hcl"
DENY = "deny"
_READ = [
    "list-jobs",
    "parse-job",
    "read-job",
    "csi-list-volume",
    "csi-read-volume",
    "read-job-scaling",
    "list-scaling-policies",
    "read-scaling-policy",
    "host-volume-read",
]
NAMESPACE_POLICIES = {
    "deny": [DENY],
    "read": _READ,
    "write": [
        *_READ,
        "scale-job",
        "submit-job",
        "dispatch-job",
        "read-logs",
        "read-fs",
        "alloc-exec",
        "alloc-lifecycle",
        "csi-mount-volume",
        "csi-write-volume",
        "submit-recommendation",
        "host-volume-create",
    ],
    "scale": ["list-scaling-policies", "read-scaling-policy", "read-job-scaling", "scale-job"],
}
IMPLIED = {
    "host-volume-write": ["host-volume-register", "host-volume-create", "host-volume-delete", "host-volume-read"],
    "host-volume-register": ["host-volume-create", "host-volume-read"],
    "host-volume-create": ["host-volume-read"],
}
HOST_VOLUME_POLICIES = {"deny": [DENY], "read": ["mount-readonly"], "write": ["mount-readonly", "mount-readwrite"]}


@dataclass(frozen=True)
class NomadTokenRights:
    found: str
    problems: tuple[str, ...] = ()


def token_kind(reply: Reply) -> str:
    """ "management", "client", "acl off" or "" (unknown)."""
    if reply.status == 400 and "disabled" in (reply.text or "").lower():
        return "acl off"
    body = reply.body if reply.status == 200 and isinstance(reply.body, dict) else {}
    return str(body.get("Type") or "")


def role_ids(reply: Reply) -> list[str]:
    body = reply.body if reply.status == 200 and isinstance(reply.body, dict) else {}
    return [str(r["ID"]) for r in body.get("Roles") or () if isinstance(r, dict) and r.get("ID")]


def policy_names(token: Reply, roles: Iterable[Reply]) -> list[str]:
    names = [str(p) for p in (token.body or {}).get("Policies") or ()] if isinstance(token.body, dict) else []
    for role in roles:
        if role.status == 200 and isinstance(role.body, dict):
            names += [str(p["Name"]) for p in role.body.get("Policies") or () if isinstance(p, dict) and p.get("Name")]
    return sorted(set(names))


def _blocks(parsed: Mapping[str, object], block: str) -> list[tuple[str, JsonObject]]:
    return [
        (json.loads(k) if k.startswith('"') else k, v)
        for entry in objects(parsed.get(block, []))
        for k, v in entry.items()
        if isinstance(v, dict)
    ]


def _strings(value: object) -> list[str]:
    items = value if isinstance(value, list) else [value] if isinstance(value, str) else []
    return [json.loads(v) if v.startswith('"') else v for v in items if isinstance(v, str)]


def merged_sets(rules: Iterable[str]) -> dict[str, dict[str, set[str]]]:
    """Per block kind, name -> capabilities over all the policies' rules."""
    import hcl2  # as in vault_acl: its import costs about a second, paid only here

    out: dict[str, dict[str, set[str]]] = {NAMESPACE: {}, HOST_VOLUME: {}}
    for text in rules:
        parsed = hcl2.loads(text)
        for block, policies in ((NAMESPACE, NAMESPACE_POLICIES), (HOST_VOLUME, HOST_VOLUME_POLICIES)):
            for name, body in _blocks(parsed, block):
                caps = _strings(body.get("capabilities"))
                for policy in _strings(body.get("policy")):
                    caps += policies.get(policy, [])
                if block == NAMESPACE:
                    caps += [extra for cap in caps for extra in IMPLIED.get(cap, [])]
                have = out[block].setdefault(name, set())
                have.update(caps)
                if DENY in have:
                    have.intersection_update({DENY})
    return out


def matching_set(sets: Mapping[str, set[str]], name: str) -> set[str] | None:
    if name in sets:
        return sets[name]
    globs = [
        (len(name) - len(k) + k.count("*"), i, k)
        for i, k in enumerate(sorted(sets))
        if "*" in k and fnmatch.fnmatchcase(name, k)
    ]  # names hold no `?` or `[`: docs/decisions/check-nomad-token-rights.md
    return sets[min(globs)[2]] if globs else None


def judge(
    token: Reply, policies: Mapping[str, Reply], roles: Iterable[Reply], rights: list[NomadRight], who: str
) -> NomadTokenRights:
    kind = token_kind(token)
    if kind == "acl off":
        return NomadTokenRights("ACLs are off: every right")
    if kind == "management":
        return NomadTokenRights("a management token: every right")
    if kind != "client":
        return NomadTokenRights(f"not checked: GET {SELF_PATH.removeprefix('/v1/')}: {token.why()}")
    unread = sorted(name for name, reply in policies.items() if reply.status != 200)
    if unread:  # a right could be in it: judging without it would report rights the token has
        return NomadTokenRights(f"not checked: policy {', '.join(unread)} not readable")
    texts = [str(r.body.get("Rules") or "") for r in policies.values() if r.status == 200 and isinstance(r.body, dict)]
    try:
        sets = merged_sets(texts)
    except Exception:  # python-hcl2's parse errors have no common base worth naming
        return NomadTokenRights("not checked: a policy of the token does not parse")
    problems = []
    for right in rights:
        have = matching_set(sets[right.block], right.name) or set()
        if DENY in have or not have & set(right.any_of):
            problems.append(f"{who} lacks {right.words()} ({right.why}): `pulumi up` would be refused; see {EXAMPLE}")
    return NomadTokenRights(f"{len(rights) - len(problems)} of {len(rights)} rights `pulumi up` uses", tuple(problems))
