"""One agent's Vault policy: read its own KV v2 secret and the factory's shared forge path, nothing else.

The rules are typed; the HCL Vault takes is rendered from them (no string templates with holes).
The grants copy the factory's bot policies (vault/policies/bot-dev-qwen.hcl, Disinto/disinto
2308c4c): `read` on the secret's data path, `list` + `read` on its metadata path, `read` on the
shared forge config `<mount>/data/disinto/shared/forge`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

# Under the KV mount; every bot policy of the factory grants it.
SHARED_FORGE_PATH = "disinto/shared/forge"


@dataclass(frozen=True)
class PolicyRule:
    path: str
    capabilities: tuple[str, ...]

    def hcl(self) -> str:
        # JSON strings are valid HCL strings: quotes and backslashes come out escaped.
        capabilities = ", ".join(json.dumps(c) for c in self.capabilities)
        return f"path {json.dumps(self.path)} {{\n  capabilities = [{capabilities}]\n}}\n"


@dataclass(frozen=True)
class KvPath:
    """A KV v2 secret: `mount` is the engine's mount, `name` the secret under it."""

    mount: str
    name: str

    @property
    def data(self) -> str:
        return f"{self.mount}/data/{self.name}"

    @property
    def metadata(self) -> str:
        return f"{self.mount}/metadata/{self.name}"


def agent_secret(mount: str, prefix: str, agent: str) -> KvPath:
    return KvPath(mount, f"{prefix}/{agent}")


def bot_rules(secret: KvPath) -> list[PolicyRule]:
    return [
        PolicyRule(secret.data, ("read",)),
        PolicyRule(secret.metadata, ("list", "read")),
        PolicyRule(KvPath(secret.mount, SHARED_FORGE_PATH).data, ("read",)),
    ]


def render(rules: list[PolicyRule], title: str) -> str:
    return f"# {title}\n\n" + "\n".join(rule.hcl() for rule in rules)
