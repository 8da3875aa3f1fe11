"""The Nomad area of `check`, on `runtime: nomad` stacks: what `pulumi up` and the agents' jobs need.

Read-only GETs of Nomad's HTTP API with the stack's token: a leader (without one nothing else is
asked), the namespace and its default node pool, the node pool's ready nodes, the `forgejo` service
the jobs take FORGE_URL from, a client's kill-timeout cap, the host volumes in the way
(host_volumes.py) and the token's rights (nomad_token_rights.py). A 403 names the capability the
token lacks. Why each answer is read as it is: docs/decisions/check-nomad.md.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from disinto_infra.commands.check import host_volumes, nomad_token_rights, reach
from disinto_infra.commands.check.facts import NomadFacts
from disinto_infra.commands.check.reach import Judged
from disinto_infra.config.stack_settings import NAMESPACE, StackSettings
from disinto_infra.http_get import Reply
from disinto_infra.parsed import JsonObject, object_or_empty, objects, text_or
from disinto_infra.runtimes import go_duration
from disinto_infra.runtimes.nomad.job import DEFAULT_NODE_POOL, FORGE_SERVICE
from disinto_infra.runtimes.nomad.nomad_rights import pulumi_rights

READY, ELIGIBLE = "ready", "eligible"  # a node that can take work; Why: docs/decisions/check-nomad.md


@dataclass(frozen=True)
class NomadTarget(reach.Target):
    namespace: str
    node_pool: str | None
    volumes: tuple[tuple[str, str], ...] = ()  # (volume name, agent) of the fleet; none: not asked
    agents: tuple[str, ...] = ()  # whose jobs and volumes `pulumi up` registers (nomad_token_rights.py)
    stop_grace: int = 0  # disinto:stopGraceSeconds: each task's kill_timeout


@dataclass(frozen=True)
class NomadReplies:
    leader: Reply
    namespace: Reply
    service: Reply
    pool: Reply | None = None
    nodes: Reply | None = None
    volumes: Reply | None = None
    own_volumes: frozenset[str] | None = None  # the stack's volume IDs; None: state unknown
    token_self: Reply | None = None  # /v1/acl/token/self
    roles: tuple[Reply, ...] = ()  # the token's roles
    policies: dict[str, Reply] | None = None  # the token's policies (its own and its roles')
    services: Reply | None = None  # /v1/services?namespace=* (ServiceRegistrationListStub per namespace)
    agent_self: Reply | None = None  # /v1/agent/self: the config of the agent asked


def target(
    settings: StackSettings, stack: str, stack_file: Path, environ: dict[str, str], agents: tuple[str, ...] = ()
) -> NomadTarget:
    return NomadTarget(
        reach.endpoint(reach.NOMAD, stack_file, stack, environ),
        str(stack_file),
        settings.nomad_namespace,
        settings.nomad_node_pool,
        tuple(host_volumes.fleet_volumes(agents).items()),
        agents,
        settings.stop_grace_seconds,
    )


def _name(value: str) -> str:
    return quote(value, safe="")


def start(
    pool: Executor, t: NomadTarget, timeout: float, own_volumes: Callable[[], frozenset[str] | None] = lambda: None
) -> Callable[[], NomadFacts]:
    """Submit every GET at once; the returned call waits for them and judges. `own_volumes` gives
    the stack's host volume IDs from its state (None: unknown)."""
    ask, token = t.asker(pool, timeout), t.endpoint.headers()
    leader = ask("/v1/status/leader", token)
    namespace = ask(f"/v1/namespace/{_name(t.namespace)}", token)
    service = ask(f"/v1/service/{FORGE_SERVICE}", token, {"namespace": t.namespace})
    services = ask("/v1/services", token, {"namespace": "*"})
    agent_self = ask("/v1/agent/self", token)
    pool_info = ask(f"/v1/node/pool/{_name(t.node_pool)}", token) if t.node_pool else None
    nodes = ask(f"/v1/node/pool/{_name(t.node_pool)}/nodes", token) if t.node_pool else None
    volumes = ask(host_volumes.PATH, token, host_volumes.PARAMS) if t.volumes else None
    token_self = ask(nomad_token_rights.SELF_PATH, token)

    def finish() -> NomadFacts:
        me = token_self.result()
        roles = tuple(
            f.result() for f in [ask(f"/v1/acl/role/{_name(i)}", token) for i in nomad_token_rights.role_ids(me)]
        )
        names = nomad_token_rights.policy_names(me, roles) if nomad_token_rights.token_kind(me) == "client" else []
        asked = {n: ask(f"/v1/acl/policy/{_name(n)}", token) for n in names}
        return judge(
            t,
            NomadReplies(
                leader.result(),
                namespace.result(),
                service.result(),
                pool_info.result() if pool_info else None,
                nodes.result() if nodes else None,
                volumes.result() if volumes else None,
                own_volumes(),
                me,
                roles,
                {n: f.result() for n, f in asked.items()},
                services.result(),
                agent_self.result(),
            ),
        )

    return finish


def _leader(t: NomadTarget, reply: Reply) -> tuple[str, Judged]:
    address = t.endpoint.address
    if reply.status is None:
        return "", t.endpoint.unanswered("Nomad", reply)
    if reply.status == 200 and isinstance(reply.body, str) and reply.body:
        return reply.body, Judged("elected")
    why = reply.text or ("none elected" if reply.status == 200 else reply.why())
    return "", Judged(f"no leader: {why}", f"{address}: Nomad has no leader ({why}): it schedules nothing")


def _other(t: NomadTarget, what: str, reply: Reply, capability: str) -> Judged:
    """A refusal or an unexpected answer."""
    if reply.status == 403:
        return Judged(f"refused: needs {capability}", lacks=capability)
    return Judged(reply.why(), f"{t.endpoint.address}: {what}: {reply.why()}")


def _kill_timeout(t: NomadTarget, reply: Reply) -> Judged:
    """A Nomad client caps each task's kill_timeout at its `max_kill_timeout` (30 s unless raised):
    the agents' jobs get that, not stopGraceSeconds, to finish. Only a client agent tells its own
    (`/v1/agent/self`); a server knows no client's. Why: docs/decisions/check-nomad.md."""
    if reply.status == 403:
        return Judged("not checked: the token may not read the agent (agent:read)")
    client = object_or_empty(object_or_empty(object_or_empty(reply.body).get("config")).get("Client"))
    if reply.status != 200 or client.get("Enabled") is not True:
        return Judged(f"not known here ({t.endpoint.address} is no Nomad client); a client's default is 30s")
    text = text_or(client, "MaxKillTimeout", "30s")
    try:
        cap = go_duration.parse(text) // 10**9
    except ValueError:
        return Judged(f"unreadable: {text!r}")
    if cap >= t.stop_grace:
        return Judged(f"{text}, enough for the {t.stop_grace} s grace")
    return Judged(
        f"{text}, below the {t.stop_grace} s grace",
        f"{t.endpoint.address}: this Nomad client caps a task's kill_timeout at {text} (client max_kill_timeout), "
        f"below {t.setting('stopGraceSeconds')} {t.stop_grace}: the agents get {text} to finish their jobs on a stop; "
        f'set client {{ max_kill_timeout = "{t.stop_grace}s" }} on every client that runs agents, or lower the grace',
    )


def _namespaces_with(reply: Reply | None, service: str) -> list[str]:
    """The namespaces a `/v1/services` answer lists `service` in."""
    if reply is None or reply.status != 200:
        return []
    return sorted(
        text_or(entry, "Namespace", "?")
        for entry in objects(reply.body)
        if any(text_or(s, "ServiceName", "") == service for s in objects(entry.get("Services")))
    )


def _namespace(t: NomadTarget, reply: Reply) -> Judged:
    if reply.status == 200:
        return _default_pool(t, reply.body)
    if reply.status == 404:
        return Judged(
            "not found",
            f'{t.setting("nomadNamespace")}: namespace "{t.namespace}" does not exist in Nomad at {t.endpoint.address}',
        )
    return _other(t, f'namespace "{t.namespace}"', reply, f'a capability on namespace "{t.namespace}"')


def _default_pool(t: NomadTarget, body: object) -> Judged:
    """Nomad Enterprise can give a namespace its own default node pool; the jobs and volumes of a
    stack without nomadNodePool name "default" (nomad_job.DEFAULT_NODE_POOL), so they would not go
    where that namespace sends jobs."""
    config = body.get("NodePoolConfiguration") if isinstance(body, dict) else None
    default = config.get("Default") if isinstance(config, dict) else None
    if t.node_pool or not default or default == DEFAULT_NODE_POOL:
        return Judged("exists")
    return Judged(
        f"exists, default node pool {default}",
        (
            f'{t.setting("nomadNodePool")}: unset, so the jobs and their volumes go to node pool "{DEFAULT_NODE_POOL}", '
            f'but namespace "{t.namespace}" sends its jobs to "{default}" by default: set {NAMESPACE}:nomadNodePool '
            f"to {default} (or to the pool you mean)"
        ),
    )


def _node_state(node: JsonObject) -> str:
    return f"{node.get('Name', '?')} {node.get('Status', '?')}/{node.get('SchedulingEligibility', '?')}"


def _pool(t: NomadTarget, pool: Reply, nodes: Reply) -> tuple[tuple[str, ...], Judged]:
    name = t.node_pool
    if pool.status == 404:
        return (), Judged(
            "not found",
            f'{t.setting("nomadNodePool")}: node pool "{name}" does not exist in Nomad at {t.endpoint.address}',
        )
    if pool.status != 200:
        return (), _other(t, f'node pool "{name}"', pool, f'read on node pool "{name}"')
    if nodes.status != 200:
        return (), _other(t, f'nodes of node pool "{name}"', nodes, f'node:read (and read on node pool "{name}")')
    stubs = objects(nodes.body)
    ready = tuple(
        str(n.get("Name", "")) for n in stubs if n.get("Status") == READY and n.get("SchedulingEligibility") == ELIGIBLE
    )
    found = f"{len(ready)} of {len(stubs)} node(s) ready and eligible"
    if ready:
        return ready, Judged(found)
    seen = f" ({', '.join(_node_state(n) for n in stubs)})" if stubs else ""
    return (), Judged(
        found,
        f'{t.setting("nomadNodePool")}: node pool "{name}" has no node that is ready and '
        f"eligible{seen}: the agents' jobs and volumes cannot be placed",
    )


def _service(t: NomadTarget, reply: Reply, everywhere: Reply | None = None) -> tuple[tuple[str, ...], Judged]:
    if reply.status == 200 and isinstance(reply.body, list):
        instances = tuple(f"{r.get('Address', '?')}:{r.get('Port', '?')}" for r in objects(reply.body))
        if instances:
            return instances, Judged("registered")
        elsewhere = _namespaces_with(everywhere, FORGE_SERVICE)
        where = (
            f"; it is registered in namespace {', '.join(repr(n) for n in elsewhere)}, which the agents' "
            "nomadService does not see (it reads only the job's own namespace)"
            if elsewhere
            else ""
        )
        return (), Judged(
            "not registered" + (f" (in {', '.join(elsewhere)})" if elsewhere else ""),
            (
                f'{t.endpoint.address}: no Nomad service "{FORGE_SERVICE}" in namespace "{t.namespace}"{where}: the '
                f"agents' jobs take FORGE_URL from it (run the factory's forgejo job there, or set "
                f"{NAMESPACE}:nomadNamespace to its namespace)"
            ),
        )
    return (), _other(t, f'service "{FORGE_SERVICE}"', reply, f'read-job on namespace "{t.namespace}"')


def _refusals(t: NomadTarget, lacking: list[str]) -> list[str]:
    ep = t.endpoint
    if not lacking:
        return []
    if not ep.token_source:
        return [
            f"{ep.address}: Nomad's ACLs are on and no token was given (export NOMAD_TOKEN, or "
            f"pulumi config set --secret nomad:secretId); it needs {', '.join(lacking)}"
        ]
    return [f"{ep.address}: the Nomad token ({ep.token_source}) lacks {capability}" for capability in lacking]


def judge(t: NomadTarget, r: NomadReplies) -> NomadFacts:
    ep = t.endpoint
    leader, elected = _leader(t, r.leader)
    ready: tuple[str, ...] = ()
    instances: tuple[str, ...] = ()
    pool = Judged("")  # no pool set
    volumes = host_volumes.VolumesJudged("")  # not asked
    if not leader:
        # A Nomad without an answer or a leader answers nothing else: one problem, not four.
        skipped = Judged("not checked: " + ((ep.unusable or "no answer") if r.leader.status is None else "no leader"))
        namespace, service = skipped, skipped
        pool = skipped if t.node_pool else pool
        volumes = host_volumes.VolumesJudged(skipped.found) if t.volumes else volumes
    else:
        namespace = _namespace(t, r.namespace)
        if r.pool is not None and r.nodes is not None:
            ready, pool = _pool(t, r.pool, r.nodes)
        if r.volumes is not None:
            volumes = host_volumes.judge(
                r.volumes, dict(t.volumes), r.own_volumes, t.namespace, t.node_pool or DEFAULT_NODE_POOL, ep.address
            )
        if namespace.found == "not found":
            service = Judged("not checked: no such namespace")
        else:
            instances, service = _service(t, r.service, r.services)
    kill = _kill_timeout(t, r.agent_self) if leader and r.agent_self is not None else Judged("")
    judged = (elected, namespace, pool, service, kill)
    lacking = [j.lacks for j in (*judged, volumes) if j.lacks]
    problems = [j.problem for j in judged if j.problem] + list(volumes.problems) + _refusals(t, lacking)
    rights = _rights(t, r) if leader else nomad_token_rights.NomadTokenRights("not checked: no leader")
    problems += rights.problems
    return NomadFacts(
        ep.address,
        ep.address_source,
        ep.token_source,
        leader,
        elected.found,
        t.namespace,
        namespace.found,
        t.node_pool,
        pool.found,
        ready,
        FORGE_SERVICE,
        service.found,
        instances,
        tuple(problems),
        host_volumes_found=volumes.found,
        kept_volumes=volumes.kept,
        rights_found=rights.found,
        kill_timeout_found=kill.found,
    )


def _rights(t: NomadTarget, r: NomadReplies) -> nomad_token_rights.NomadTokenRights:
    if r.token_self is None:
        return nomad_token_rights.NomadTokenRights("not checked: not asked")
    if not t.agents:
        return nomad_token_rights.NomadTokenRights("not checked: no agents")
    if r.token_self.status == 403:
        return nomad_token_rights.NomadTokenRights("not checked: the token may not read itself")
    ep = t.endpoint
    return nomad_token_rights.judge(
        r.token_self,
        r.policies or {},
        r.roles,
        pulumi_rights(t.namespace, t.agents),
        f"{ep.address}: the Nomad token ({ep.token_source or 'none'})",
    )
