"""What the stack's `vault:token` must be allowed, path by path: the rights `pulumi up` uses.

Per agent its secret's data and metadata paths (a rotation is an update, a removal deletes every
version), its policy and its JWT role; the review token's secret; and the Vault provider's child
token. examples/vault/pulumi-token.hcl grants exactly these; a test holds it to this list and
`check` names each one the token lacks. Why: docs/decisions/pulumi-token-rights.md
"""

from __future__ import annotations

from dataclasses import dataclass

from disinto_infra import naming
from disinto_infra.runtimes.nomad.vault_policy import agent_secret, review_secret

WRITE_SECRET = ("create", "update", "read")
KEEP_METADATA = ("read", "delete")
MANAGE = ("create", "update", "read", "delete")


@dataclass(frozen=True)
class Right:
    path: str
    capabilities: tuple[str, ...]
    why: str


def pulumi_rights(kv_mount: str, kv_prefix: str, auth_mount: str, agent: str) -> list[Right]:
    """The rights `pulumi up` needs for one agent (its names), and the stack's review secret."""
    secret, review, name = (
        agent_secret(kv_mount, kv_prefix, agent),
        review_secret(kv_mount, kv_prefix),
        naming.vault_policy(agent),
    )
    return [
        Right(secret.data, WRITE_SECRET, f"agent {agent}'s secret"),
        Right(secret.metadata, KEEP_METADATA, f"agent {agent}'s secret, deleted with every version"),
        Right(review.data, WRITE_SECRET, "the review token's secret"),
        Right(review.metadata, KEEP_METADATA, "the review token's secret, deleted with every version"),
        Right(f"sys/policies/acl/{name}", MANAGE, f"agent {agent}'s policy"),
        Right(f"auth/{auth_mount}/role/{name}", MANAGE, f"agent {agent}'s JWT role"),
        Right("auth/token/create", ("update",), "the Vault provider's child token (unless vault:skipChildToken)"),
    ]
