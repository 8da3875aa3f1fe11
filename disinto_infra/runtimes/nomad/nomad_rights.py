"""What the stack's Nomad ACL token (`nomad:secretId`) must be allowed: the rights `pulumi up` uses.

From hashicorp/nomad v1.10.0: registering a job needs `submit-job` on its namespace, and for each
host volume a group asks for, `mount-readwrite` on that volume, or `mount-readonly` where the
request is read-only (nomad/job_endpoint.go `Register`); stopping and purging one needs
`submit-job` too (`Deregister`); the provider reads jobs back (`read-job`); a dynamic host volume
is made with `host-volume-create` (nomad/host_volume_endpoint.go `Create`). The stack never
deletes a volume (they are kept, retain_on_delete), so `host-volume-delete` is not among them.
examples/nomad/pulumi-token.hcl grants exactly these; a test holds it to this list and `check`
names each one the token lacks.
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
