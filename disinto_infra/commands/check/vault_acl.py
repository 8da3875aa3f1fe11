"""Reading a Vault ACL policy someone else wrote: which of its rules governs a path, as Vault picks it.

`check` uses this to find bot policies that let an agent read the Forgejo admin token. A policy is
HCL or JSON with `path "<p>" { … }` blocks; an exact rule wins, else the longest prefix rule and
every matching `+` wildcard rule compete in Vault's order. A policy's own rules only: what other
policies of the same token add is not this module's business.
Why (Vault's parsing and matching rules, with their sources): docs/decisions/check-vault-acl.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from disinto_infra.parsed import JsonObject, strings

READ = "read"
DENY = "deny"
# The old-style `policy` values and the capabilities each stands for (docs/decisions/check-vault-acl.md).
OLD_POLICIES = {
    "deny": ("deny",),
    "read": ("read", "list"),
    "write": ("create", "read", "update", "delete", "list"),
    "sudo": ("create", "read", "update", "delete", "list", "sudo"),
}


class PolicyParseError(ValueError):
    pass


@dataclass(frozen=True)
class AclRule:
    written: str  # the path as the policy writes it (what an operator looks for to remove)
    capabilities: tuple[str, ...]

    @property
    def path(self) -> str:
        return self.written[1:] if self.written.startswith("/") else self.written

    @property
    def segment_wildcards(self) -> bool:
        p = self.path
        return p == "+" or "/+" in p or p.startswith("+/")

    @property
    def is_prefix(self) -> bool:
        return self.path.endswith("*")

    @property
    def stem(self) -> str:
        return self.path[:-1] if self.is_prefix else self.path

    def grants(self, capability: str) -> bool:
        return DENY not in self.capabilities and capability in self.capabilities


def _unquote(key: str) -> str:
    # python-hcl2 keeps a string's quotes and escapes; an HCL string literal reads as a JSON one.
    return json.loads(key) if key.startswith('"') else key


def _capabilities(body: JsonObject) -> list[str]:
    caps = [_unquote(c) for c in strings(body.get("capabilities"))]
    old = body.get("policy")
    if isinstance(old, str):
        caps += OLD_POLICIES.get(_unquote(old), ())
    return caps


def _blocks(text: str) -> list[tuple[str, JsonObject]]:
    try:
        parsed = json.loads(text)
        paths = parsed.get("path", {}) if isinstance(parsed, dict) else {}
        return [(p, b) for p, b in paths.items() if isinstance(b, dict)] if isinstance(paths, dict) else []
    except ValueError:
        pass
    # Imported here: loading python-hcl2 and building its grammar takes about a second, which only
    # a `check` that reads a policy should pay.
    import hcl2

    try:
        parsed = hcl2.loads(text)
    except Exception as exc:  # lark's parse errors have no common base worth naming
        raise PolicyParseError(" ".join(str(exc).split())[:200]) from exc
    return [(_unquote(p), b) for block in parsed.get("path", []) for p, b in block.items() if isinstance(b, dict)]


def parse_policy(text: str) -> list[AclRule]:
    """The policy's path rules; rules written twice for one path have their capabilities merged."""
    merged: dict[str, list[str]] = {}
    for written, body in _blocks(text):
        merged.setdefault(written, []).extend(_capabilities(body))
    return [AclRule(w, (DENY,) if DENY in caps else tuple(dict.fromkeys(caps))) for w, caps in merged.items()]


def _wildcard_match(rule: AclRule, parts: list[str]) -> bool:
    pattern = rule.stem.split("/")
    if len(parts) < len(pattern) or (not rule.is_prefix and len(parts) != len(pattern)):
        return False
    for i, seg in enumerate(pattern):
        last = i == len(pattern) - 1
        if not (seg == "+" or seg == parts[i] or (rule.is_prefix and last and parts[i].startswith(seg))):
            return False
    return True


def _priority(rule: AclRule) -> tuple[int, bool, int, int, str]:
    """Higher wins (Vault's order, reversed: docs/decisions/check-vault-acl.md)."""
    stem = rule.stem
    first = stem.find("+") if rule.segment_wildcards else len(stem)
    return first, not rule.is_prefix, -stem.split("/").count("+"), len(stem), stem


def governing_rule(rules: list[AclRule], path: str) -> AclRule | None:
    """The rule Vault applies to `path` among these, or None when none matches."""
    for rule in rules:
        if not rule.is_prefix and not rule.segment_wildcards and rule.path == path:
            return rule
    prefixes = [r for r in rules if r.is_prefix and not r.segment_wildcards and path.startswith(r.stem)]
    candidates = [max(prefixes, key=lambda r: len(r.stem))] if prefixes else []
    parts = path.split("/")
    candidates += [r for r in rules if r.segment_wildcards and _wildcard_match(r, parts)]
    return max(candidates, key=_priority) if candidates else None
