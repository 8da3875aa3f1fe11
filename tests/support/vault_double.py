"""A Vault HTTP API double on 127.0.0.1: the few GETs `check` makes, shaped as Vault answers them.

From developer.hashicorp.com/vault/api-docs:
- `/v1/sys/health` (system/health): 200 active, 429 standby, 472 DR secondary, 473 performance
  standby, 501 not initialised, 503 sealed; `standbyok` / `perfstandbyok` turn the standby codes
  into 200. The body: initialized, sealed, standby, performance_standby, version, ...
- `/v1/auth/token/lookup-self` (auth/token): `data` with id (the token itself), policies, ttl
  (0: never expires), ...; 403 `{"errors": ["permission denied"]}` for a bad or expired token.
- `/v1/sys/mounts/:path` (system/mounts, "Get the configuration of a secret engine"): `data`
  with type, options.version; a missing mount is 400 "No secret engine mount at <path>/".
- `/v1/sys/auth` (system/auth): `data` keyed by "<path>/", each with a type.
- `/v1/sys/policies/acl?list=true` (system/policies, "List ACL policies"; the path takes only
  LIST, which Vault's HTTP layer makes of a GET with `list=true`): `data.keys`, every policy name
  with "root" among them. `/v1/sys/policies/acl/:name`: `data` with name and policy (the text as
  written); an unknown name is 404 `{"errors": []}` (vault/logical_system.go, api/sys_policy.go).
- `/v1/sys/internal/ui/resultant-acl` (vault/logical_system.go pathInternalUIResultantACL): for
  the token's policies (`policies`, their texts from `acl`), `data.root`, and `exact_paths` /
  `glob_paths` (a `*` path under its prefix without the `*`), each `{"capabilities": [...]}`,
  merged over the policies; paths with a `+` segment are left out, as Vault leaves them out.
One write: `PUT /v1/auth/:mount/role/:name` (a JWT role), judged as Vault's ACL judges a request
(vault/acl.go AllowOperation): the token's rule for the path is the exact one, else the longest
matching `*` glob; `create` for a new role, `update` for an existing one; where the rule has
`allowed_parameters`, every parameter must be listed (or `*` be), and every value (each element of a
list) must match one of the listed values, `*` globs at either end, an empty list allowing any:
else 403 "permission denied".
A sealed Vault answers every other path 503 "Vault is sealed".

    with VaultDouble(token="hvs.x") as vault:
        vault.configure(state="sealed")                   # or standby, perfstandby, drsecondary, uninitialized
        vault.configure(mounts={"kv/": kv_mount("1")})    # a KV v1 mount
        vault.configure(forbidden={"/v1/sys/auth"})       # 403 there even with the token
        vault.configure(acl={"bot-dev": 'path "kv/data/x" {...}'})  # the ACL policies besides root
"""

from __future__ import annotations

import json
from typing import Any

import hcl2

from .http_double import Answer, HttpDouble, Seen

DENIED = Answer(403, {"errors": ["permission denied"]})
# state: (initialized, sealed, standby, performance_standby, default status code)
STATES = {
    "active": (True, False, False, False, 200),
    "standby": (True, False, True, False, 429),
    "perfstandby": (True, False, True, True, 473),
    "drsecondary": (True, False, True, False, 472),
    "sealed": (True, True, True, False, 503),
    "uninitialized": (False, True, True, False, 501),
}


def kv_mount(version: str | None = "2") -> dict[str, Any]:
    return {
        "type": "kv",
        "description": "",
        "accessor": "kv_0000",
        "local": False,
        "seal_wrap": False,
        "config": {"default_lease_ttl": 0, "max_lease_ttl": 0, "force_no_cache": False},
        "options": {"version": version} if version else None,
    }


def auth_method(kind: str) -> dict[str, Any]:
    return {
        "type": kind,
        "description": "",
        "accessor": f"auth_{kind}_0000",
        "local": False,
        "seal_wrap": False,
        "config": {"default_lease_ttl": 0, "max_lease_ttl": 0, "token_type": "default-service"},
        "options": None,
    }


# Vault's built-in `default` policy, abridged to its first rule.
DEFAULT_POLICY = 'path "auth/token/lookup-self" {\n    capabilities = ["read"]\n}\n'


def _logical(data: Any) -> dict[str, Any]:
    return {
        "request_id": "0000-request",
        "lease_id": "",
        "renewable": False,
        "lease_duration": 0,
        "data": data,
        "wrap_info": None,
        "warnings": None,
        "auth": None,
    }


class VaultDouble(HttpDouble):
    def __init__(
        self,
        *,
        state: str = "active",
        version: str = "1.18.3",
        token: str | None = None,
        policies: tuple[str, ...] = ("root",),
        ttl: int = 0,
        expired: bool = False,
        mounts: dict[str, dict] | None = None,
        auth: dict[str, dict] | None = None,
        forbidden: frozenset[str] = frozenset(),
        acl: dict[str, str] | None = None,
    ):
        super().__init__()
        self.acl = acl if acl is not None else {"default": DEFAULT_POLICY}
        self.state, self.version, self.token, self.policies, self.ttl = state, version, token, policies, ttl
        self.expired, self.forbidden = expired, forbidden
        self.mounts = mounts if mounts is not None else {"kv/": kv_mount(), "sys/": {"type": "system"}}
        self.auth = auth if auth is not None else {"token/": auth_method("token"), "jwt-nomad/": auth_method("jwt")}
        self.roles: dict[str, dict[str, Any]] = {}  # "auth/<mount>/role/<name>" -> the parameters written

    def _health(self, seen: Seen) -> Answer:
        initialized, sealed, standby, perf, code = STATES[self.state]
        if code == 429 and seen.query.get("standbyok") == "true":
            code = 200
        if code == 473 and seen.query.get("perfstandbyok") == "true":
            code = 200
        return Answer(
            code,
            {
                "initialized": initialized,
                "sealed": sealed,
                "standby": standby,
                "performance_standby": perf,
                "replication_performance_mode": "disabled",
                "replication_dr_mode": "secondary" if self.state == "drsecondary" else "disabled",
                "server_time_utc": 1764547200,
                "version": self.version,
                "cluster_name": "vault-cluster-0000",
                "cluster_id": "0000-cluster",
            },
        )

    def _lookup_self(self, token: str) -> Answer:
        return Answer(
            200,
            _logical(
                {
                    "accessor": "0000-accessor",
                    "creation_time": 1764500000,
                    "creation_ttl": self.ttl,
                    "display_name": "token",
                    "entity_id": "",
                    "expire_time": None,
                    "explicit_max_ttl": 0,
                    "id": token,
                    "issue_time": "2026-11-30T10:53:20Z",
                    "meta": None,
                    "num_uses": 0,
                    "orphan": True,
                    "path": "auth/token/create",
                    "policies": list(self.policies),
                    "renewable": False,
                    "ttl": self.ttl,
                    "type": "service",
                }
            ),
        )

    def _resultant_acl(self) -> Answer:
        if "root" in self.policies:
            return Answer(200, _logical({"root": True}))
        exact: dict[str, set[str]] = {}
        glob: dict[str, set[str]] = {}
        for name in self.policies:
            for block in hcl2.loads(self.acl.get(name, "")).get("path", []):
                for quoted, body in block.items():
                    path = json.loads(quoted)
                    if "+" in path.split("/"):
                        continue
                    caps = {json.loads(c) for c in body.get("capabilities", [])}
                    table, key = (glob, path[:-1]) if path.endswith("*") else (exact, path)
                    table.setdefault(key, set()).update(caps)
        shown = {
            "root": False,
            **{
                k: {p: {"capabilities": sorted(c)} for p, c in t.items()}
                for k, t in (("exact_paths", exact), ("glob_paths", glob))
            },
        }
        return Answer(200, _logical(shown))

    def _rule(self, path: str) -> dict[str, Any] | None:
        """The body of the token's rule for `path`: exact before glob, the longest glob first."""
        rules: dict[str, dict[str, Any]] = {}
        for name in self.policies:
            for block in hcl2.loads(self.acl.get(name, "")).get("path", []):
                rules.update({json.loads(quoted): body for quoted, body in block.items()})
        if path in rules:
            return rules[path]
        globs = [p for p in rules if p.endswith("*") and path.startswith(p[:-1])]
        return rules[max(globs, key=len)] if globs else None

    def _write_role(self, seen: Seen) -> Answer:
        path = seen.path.removeprefix("/v1/")
        body = dict(seen.body or {})
        if "root" not in self.policies:
            rule = self._rule(path)
            needed = "update" if path in self.roles else "create"
            if rule is None or needed not in {json.loads(c) for c in rule.get("capabilities", [])}:
                return DENIED
            allowed = _unquoted(rule.get("allowed_parameters"))
            if allowed is not None and not _parameters_allowed(body, allowed):
                return DENIED
        self.roles[path] = {**self.roles.get(path, {}), **body}
        return Answer(204, None)

    def answer(self, seen: Seen) -> Answer:
        if seen.method in ("PUT", "POST") and "/role/" in seen.path and seen.path.startswith("/v1/auth/"):
            if seen.headers.get("X-Vault-Token") != self.token or self.token is None:
                return DENIED
            return self._write_role(seen)
        if seen.method != "GET":
            return Answer(405, {"errors": []})
        if seen.path == "/v1/sys/health":
            return self._health(seen)
        if STATES[self.state][1]:
            return Answer(503, {"errors": ["Vault is sealed"]})
        given = seen.headers.get("X-Vault-Token")
        if self.token is None or given != self.token or self.expired or seen.path in self.forbidden:
            return DENIED
        if seen.path == "/v1/auth/token/lookup-self":
            return self._lookup_self(given)
        if seen.path == "/v1/sys/internal/ui/resultant-acl":
            return self._resultant_acl()
        if seen.path.startswith("/v1/sys/mounts/"):
            mount = seen.path.removeprefix("/v1/sys/mounts/").strip("/") + "/"
            if mount not in self.mounts:
                return Answer(400, {"errors": [f"No secret engine mount at {mount}"]})
            return Answer(200, _logical(self.mounts[mount]))
        if seen.path.rstrip("/") == "/v1/sys/policies/acl":
            if seen.query.get("list") != "true":
                return Answer(405, {"errors": []})  # a plain GET is no operation of that path
            return Answer(200, _logical({"keys": sorted([*self.acl, "root"])}))
        if seen.path.startswith("/v1/sys/policies/acl/"):
            name = seen.path.removeprefix("/v1/sys/policies/acl/")
            if name not in self.acl:
                return Answer(404, {"errors": []})
            return Answer(200, _logical({"name": name, "policy": self.acl[name]}))
        if seen.path == "/v1/sys/auth":
            # Vault repeats the table at the top level, for old clients.
            return Answer(200, {**self.auth, **_logical(self.auth)})
        return Answer(404, {"errors": []})


def _unquoted(allowed: Any) -> dict[str, list[str]] | None:
    """hcl2 keeps the quotes of keys and string values: `{'"token_policies"': ['"bot-*"']}`."""
    if allowed is None:
        return None
    return {json.loads(k) if k.startswith('"') else k: [json.loads(v) for v in values] for k, values in allowed.items()}


def _glob(pattern: str, value: str) -> bool:
    if pattern == "*":
        return True
    if pattern.startswith("*") and pattern.endswith("*") and len(pattern) > 1:
        return pattern[1:-1] in value
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    if pattern.startswith("*"):
        return value.endswith(pattern[1:])
    return value == pattern


def _parameters_allowed(body: dict[str, Any], allowed: dict[str, list[str]]) -> bool:
    for key, value in body.items():
        if key not in allowed and "*" not in allowed:
            return False
        patterns = allowed.get(key, allowed.get("*", []))
        values = value if isinstance(value, list) else [value]
        if patterns and not all(any(_glob(p, str(v)) for p in patterns) for v in values):
            return False
    return True
