"""What the stack's Nomad ACL token (`nomad:secretId`) must be allowed: the rights `pulumi up` uses.

`submit-job` and `read-job` on the namespace (register, stop, purge and read the jobs),
`host-volume-create` for the agents' volumes (never deleted, so no `host-volume-delete`), and a mount
right on each host volume a job asks for. examples/nomad/pulumi-token.hcl grants exactly these; a
test holds it to this list and `check` names each one the token lacks.
Why: docs/decisions/pulumi-token-rights.md
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from disinto_infra.runtimes.nomad.job import SHARED_VOLUMES, agent_volumes

NAMESPACE, HOST_VOLUME = "namespace", "host_volume"  # the ACL policy's block names
READ_WRITE, READ_ONLY = "mount-readwrite", "mount-readonly"


@dataclass(frozen=True)
class NomadRight:
    block: str  # NAMESPACE or HOST_VOLUME
    name: str  # the namespace or the volume
    any_of: tuple[str, ...]  # one of these capabilities will do
    why: str

    def words(self) -> str:
        return f'{" or ".join(self.any_of)} on {self.block.replace("_", " ")} "{self.name}"'


def pulumi_rights(namespace: str, agents: Iterable[str]) -> list[NomadRight]:
    rights = [
        NomadRight(NAMESPACE, namespace, ("submit-job",), "to register, stop and purge the agents' jobs"),
        NomadRight(NAMESPACE, namespace, ("read-job",), "to read the jobs back"),
        NomadRight(NAMESPACE, namespace, ("host-volume-create",), "to make the agents' host volumes"),
    ]
    for agent in agents:
        rights += [
            NomadRight(HOST_VOLUME, v.name, (READ_WRITE,), f"agent {agent}'s job mounts it read-write")
            for v in agent_volumes(agent)
        ]
    rights += [
        NomadRight(HOST_VOLUME, v.key, (READ_ONLY, READ_WRITE), "every agent's job mounts it read-only")
        for v in SHARED_VOLUMES
    ]
    return rights
