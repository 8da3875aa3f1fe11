"""Host volumes of this fleet's names that `pulumi up` cannot make again: `check` names each, with
the commands that free it.

A removed agent's volumes stay in Nomad, and a stack that moved to another namespace or node pool
leaves its old ones; Nomad places no new volume of the same name on that node. The program cannot
adopt them, so `check` lists the host volumes (`/v1/volumes?type=host&namespace=*`) and compares
them with the stack's own volume IDs from its state: another's volume blocks a hire, the stack's
own outside nomadNamespace / nomadNodePool blocks its replacement. Without the state, only a volume
outside the stack's namespace or pool is known to block. Why: docs/decisions/check-host-volumes.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from disinto_infra import naming
from disinto_infra.http_get import Reply
from disinto_infra.parsed import JsonObject, object_or_empty

PATH = "/v1/volumes"
PARAMS = {"type": "host", "namespace": "*"}
CAPABILITY = 'host-volume-read (on every namespace: namespace "*")'
STATE_TYPE = "nomad:index/dynamicHostVolume:DynamicHostVolume"


@dataclass(frozen=True)
class KeptVolume:
    """A host volume of one of the fleet's names that stands in the way of `pulumi up`."""

    name: str
    agent: str
    id: str
    namespace: str
    node_pool: str
    node_id: str
    why: str  # "not this stack's" | "this stack's, in namespace/pool …"


@dataclass(frozen=True)
class VolumesJudged:
    found: str
    kept: tuple[KeptVolume, ...] = ()
    problems: tuple[str, ...] = ()
    lacks: str | None = None


def fleet_volumes(agents: Iterable[str]) -> dict[str, str]:
    """Each agent's two volume names, to the agent."""
    return {volume: agent for agent in agents for volume in (naming.repos_volume(agent), naming.data_volume(agent))}


def own_volume_ids(resources: Iterable[JsonObject]) -> frozenset[str]:
    """The IDs of the stack's host volumes in a `pulumi stack export` document's resources."""
    return frozenset(
        str(r.get("id") or object_or_empty(r.get("outputs")).get("id") or "")
        for r in resources
        if r.get("type") == STATE_TYPE
    ) - {""}


def judge(
    reply: Reply, wanted: dict[str, str], own: frozenset[str] | None, namespace: str, pool: str, address: str
) -> VolumesJudged:
    """`own` None: the state is unknown."""
    if reply.status == 403:
        return VolumesJudged(f"refused: needs {CAPABILITY}", lacks=CAPABILITY)
    if reply.status != 200 or not isinstance(reply.body, list):
        return VolumesJudged(reply.why(), problems=(f"{address}: host volumes: {reply.why()}",))
    ours = [v for v in reply.body if isinstance(v, dict) and v.get("Name") in wanted]
    kept = tuple(k for k in (_blocking(v, wanted, own, namespace, pool) for v in ours) if k)
    found = f"{len(ours)} of this fleet's names, {len(kept)} in the way"
    if own is None:
        found += " (stack state unknown: only those outside its namespace or pool are known to be)"
    return VolumesJudged(found, kept, tuple(_problem(k, address) for k in kept))


def _blocking(
    volume: JsonObject, wanted: dict[str, str], own: frozenset[str] | None, namespace: str, pool: str
) -> KeptVolume | None:
    where = (str(volume.get("Namespace", "")), str(volume.get("NodePool", "")))
    moved = where != (namespace, pool)
    mine = own is not None and volume.get("ID") in own
    if own is not None and not mine:
        why = "not this stack's"
    elif moved:
        why = (
            f"{'this stack' if mine else 'perhaps this stack'}'s, in namespace {where[0]} / pool {where[1]} "
            f"where the stack now says {namespace} / {pool}"
        )
    else:
        return None
    return KeptVolume(
        str(volume.get("Name")),
        wanted[str(volume.get("Name"))],
        str(volume.get("ID", "")),
        where[0],
        where[1],
        str(volume.get("NodeID", "")),
        why,
    )


def _problem(k: KeptVolume, address: str) -> str:
    flags = f"-type host -namespace {k.namespace} {k.id}"
    job = naming.nomad_job(k.agent)
    return (
        f"{address}: host volume {k.name} ({k.id}) on node {k.node_id} is {k.why}: it holds the name on that "
        f"node, so `pulumi up` cannot make agent {k.agent}'s there (on one node it fails; on several the new "
        f"volume is empty and elsewhere). Nomad refuses to delete a volume an allocation claims: first stop the job "
        f"that may, `nomad job stop -purge -namespace {k.namespace} {job}` (an outage: the agent is down until "
        f"`pulumi up` starts it again), copy out what you want (`nomad volume status {flags}` shows its host "
        f"path), then `nomad volume delete {flags}`, then `pulumi up --refresh`"
    )
