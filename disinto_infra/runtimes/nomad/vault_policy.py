"""One agent's Vault policy: read its own KV v2 secret (and, for a review agent, the review
token's), nothing else.

The rules are typed; the HCL Vault takes is rendered from them (no string templates with holes).
Unlike the factory's own bot policies, no agent may read the shared forge secret, which holds the
Forgejo admin token (docs/decisions/vault-policy-per-agent.md).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

# Under the KV mount: where the factory keeps the Forgejo admin token (tools/vault-import.sh,
# category `forge`, 2308c4c). No policy of ours names it; `check` warns about a bot policy that does.
SHARED_FORGE_PATH = "disinto/shared/forge"
# Under the KV prefix: the stack's one review token (`forgeReviewToken`). Agent names start with a
# letter (naming.agent_name_problem), so no agent's own secret can be called this.
REVIEW_SECRET = "_forge-review"


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


def review_secret(mount: str, prefix: str) -> KvPath:
    """The review token's own secret: only agents with the `review` role may read it."""
    return KvPath(mount, f"{prefix}/{REVIEW_SECRET}")


def shared_forge(mount: str) -> KvPath:
    return KvPath(mount, SHARED_FORGE_PATH)


def bot_rules(secret: KvPath, also_reads: Sequence[KvPath] = ()) -> list[PolicyRule]:
    """The agent's own data (read) and metadata (list, read) paths; `read` on the data path of
    each of `also_reads` (the review token's secret, for a review agent)."""
    return [
        PolicyRule(secret.data, ("read",)),
        PolicyRule(secret.metadata, ("list", "read")),
        *(PolicyRule(other.data, ("read",)) for other in also_reads),
    ]


def render(rules: list[PolicyRule], title: str) -> str:
    return f"# {title}\n\n" + "\n".join(rule.hcl() for rule in rules)
