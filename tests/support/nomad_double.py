"""A Nomad HTTP API double on 127.0.0.1: the few GETs `check` makes, shaped as Nomad answers them.

Shapes from the Go package `api` of github hashicorp/nomad: `NodeListStub` (api/nodes.go, with
`NodePool`, `Status` "ready"/"down"/..., `SchedulingEligibility` "eligible"/"ineligible"),
`NodePool` (api/node_pools.go), `ServiceRegistration` (api/service_registrations.go), `Namespace`
(Nomad's OpenAPI spec, `nomad/openapi.yaml` in the shared folder beside the checkout). Paths and ACLs from developer.hashicorp.com/nomad/api-docs:
`/v1/status/leader` (no ACL; a JSON string "ip:port", or 500 "No cluster leader"),
`/v1/namespace/:ns` (404 when missing), `/v1/node/pool/:pool` and `/v1/node/pool/:pool/nodes`,
`/v1/service/:name?namespace=` (200 `[]` for a service nobody registered), `/v1/volumes?type=host`
(`HostVolumeStub`s of api/host_volumes.go, filtered by `namespace` ("*": all) as
nomad/host_volume_endpoint.go List does; command/agent/volumes_endpoint.go: no `type` gives `[]`, another
type 404). One write: `PUT /v1/volume/host/create` with an existing volume's `ID` is an update, and a
volume that allocations claim refuses every update (`HostVolume.ValidateUpdate`, nomad/structs/
host_volumes.go: "cannot update a volume in use: claimed by allocs (…)"). Errors are plain text,
as Nomad's HTTP server writes them ("Permission denied", "ACL token not found").
ACL reads (nomad/acl_endpoint.go, api/acl.go; v1.10.0): `/v1/acl/token/self` (an `ACLToken`:
`Type` "management" or "client", `Policies`, `Roles` [{ID, Name}]; without ACLs 400 "ACL support
disabled"), `/v1/acl/role/:id` (`ACLRole`, `Policies` [{Name}]) and `/v1/acl/policy/:name`
(`ACLPolicy`, `Rules` the HCL): a client token reads only its own roles and policies (403 else).

    with NomadDouble(acl_token="s3cr3t", pools={"gpu": [node("box1", "gpu")]}) as nomad:
        nomad.configure(leader=None)       # a cluster without a leader
        nomad.configure(forbidden={"/v1/node/pool/gpu"})   # 403 there even with the token
        nomad.configure(token_type="client", token_policies=("ops",), acl_policies={"ops": 'namespace "default" {...}'})
"""

from __future__ import annotations

from typing import Any

from .http_double import Answer, HttpDouble, Seen

DENIED = Answer(403, text="Permission denied")


def node(name: str, pool: str = "default", status: str = "ready", eligibility: str = "eligible") -> dict[str, Any]:
    return {
        "ID": f"{name}-0000-4000-8000-000000000000",
        "Name": name,
        "Address": "10.0.0.5",
        "Datacenter": "dc1",
        "NodeClass": "",
        "NodePool": pool,
        "Version": "1.10.3",
        "Drain": False,
        "SchedulingEligibility": eligibility,
        "Status": status,
        "StatusDescription": "",
        "Drivers": {},
        "LastDrain": None,
        "CreateIndex": 10,
        "ModifyIndex": 12,
    }


def host_volume(
    name: str,
    namespace: str = "default",
    pool: str = "default",
    node_id: str = "box1-0000",
    volume_id: str | None = None,
) -> dict[str, Any]:
    return {
        "Namespace": namespace,
        "ID": volume_id or f"{name}-0000-4000-8000-000000000000",
        "Name": name,
        "PluginID": "mkdir",
        "NodePool": pool,
        "NodeID": node_id,
        "CapacityBytes": 0,
        "State": "ready",
        "CreateIndex": 30,
        "CreateTime": 1,
        "ModifyIndex": 30,
        "ModifyTime": 1,
    }


def registration(
    service: str, namespace: str, address: str = "10.0.0.5", port: int = 3000, job: str = "forgejo"
) -> dict[str, Any]:
    return {
        "ID": f"_nomad-task-0000-{job}-{service}-http",
        "ServiceName": service,
        "Namespace": namespace,
        "NodeID": "box1-0000",
        "Datacenter": "dc1",
        "JobID": job,
        "AllocID": "0000-alloc",
        "Tags": [],
        "Address": address,
        "Port": port,
        "CreateIndex": 20,
        "ModifyIndex": 20,
    }


class NomadDouble(HttpDouble):
    def __init__(
        self,
        *,
        leader: str | None = "10.0.0.1:4647",
        namespaces: tuple[str, ...] = ("default",),
        pools: dict[str, list[dict]] | None = None,
        services: dict[tuple[str, str], list] | None = None,
        acl_token: str | None = None,
        forbidden: frozenset[str] = frozenset(),
        volumes: tuple[dict[str, Any], ...] = (),
        namespace_pools: dict[str, str] | None = None,
        token_type: str = "management",
        token_policies: tuple[str, ...] = (),
        token_roles: tuple[str, ...] = (),
        acl_roles: dict[str, list[str]] | None = None,
        acl_policies: dict[str, str] | None = None,
        agent_client: dict[str, Any] | None = None,
    ):
        super().__init__()
        # Nomad Enterprise: a namespace's default node pool (api/namespace.go NodePoolConfiguration)
        self.volumes, self.namespace_pools = volumes, namespace_pools or {}
        self.token_type, self.token_policies, self.token_roles = token_type, token_policies, token_roles
        self.acl_roles = acl_roles or {}  # role ID -> its policy names
        self.acl_policies = acl_policies or {}  # policy name -> rules
        # /v1/agent/self's config.Client (command/agent/config.go ClientConfig): a server's by default.
        self.agent_client = agent_client or {"Enabled": False, "MaxKillTimeout": "30s"}
        self.leader, self.namespaces, self.acl_token, self.forbidden = leader, namespaces, acl_token, forbidden
        self.pools = pools if pools is not None else {"default": [node("box1")], "all": [node("box1")]}
        default_services = {("default", "forgejo"): [registration("forgejo", "default")]}
        self.services = services if services is not None else default_services

    def _refused(self, seen: Seen) -> Answer | None:
        if self.acl_token is not None:
            given = seen.headers.get("X-Nomad-Token")
            if given is None:
                return DENIED
            if given != self.acl_token:
                return Answer(403, text="ACL token not found")
        return DENIED if seen.path in self.forbidden else None

    def _own_policies(self) -> set[str]:
        return {*self.token_policies, *(p for r in self.token_roles for p in self.acl_roles.get(r, []))}

    def _acl(self, parts: list[str]) -> Answer:
        if self.acl_token is None:
            return Answer(400, text="ACL support disabled")
        client = self.token_type != "management"
        if parts[2:] == ["token", "self"]:
            return Answer(
                200,
                {
                    "AccessorID": "0000-accessor",
                    "SecretID": self.acl_token,
                    "Name": "ops",
                    "Type": self.token_type,
                    "Policies": list(self.token_policies),
                    "Roles": [{"ID": r, "Name": f"role-{r}"} for r in self.token_roles],
                    "Global": False,
                    "CreateIndex": 5,
                    "ModifyIndex": 5,
                },
            )
        if parts[2] == "role" and len(parts) == 4:
            if parts[3] not in self.acl_roles:
                return Answer(404, text="ACL role not found")
            if client and parts[3] not in self.token_roles:
                return DENIED
            return Answer(
                200,
                {
                    "ID": parts[3],
                    "Name": f"role-{parts[3]}",
                    "Description": "",
                    "Policies": [{"Name": p} for p in self.acl_roles[parts[3]]],
                },
            )
        if parts[2] == "policy" and len(parts) == 4:
            if parts[3] not in self.acl_policies:
                return Answer(404, text="ACL policy not found")
            if client and parts[3] not in self._own_policies():
                return DENIED
            return Answer(
                200,
                {
                    "Name": parts[3],
                    "Description": "",
                    "Rules": self.acl_policies[parts[3]],
                    "JobACL": None,
                    "CreateIndex": 6,
                    "ModifyIndex": 6,
                },
            )
        return Answer(404, text="Invalid URL")

    def _volume_write(self, seen: Seen) -> Answer:
        wanted = dict((seen.body or {}).get("Volume") or {})
        existing = next((v for v in self.volumes if wanted.get("ID") and v["ID"] == wanted["ID"]), None)
        claims = [a["ID"] for a in (existing or {}).get("Allocations") or []]
        if claims:
            return Answer(
                400,
                text=f"1 error occurred:\n\t* cannot update a volume in use: claimed by allocs ({', '.join(claims)})\n\n",
            )
        volume = {**(existing or {}), **wanted}
        self.volumes = (*(v for v in self.volumes if v is not existing), volume)
        return Answer(200, {"Volume": volume, "Warnings": None})

    def answer(self, seen: Seen) -> Answer:
        if seen.method == "PUT" and seen.path == "/v1/volume/host/create":
            return self._refused(seen) or self._volume_write(seen)
        if seen.method != "GET":
            return Answer(405, text="Invalid method")
        parts = seen.path.strip("/").split("/")
        if seen.path == "/v1/status/leader":
            return Answer(200, self.leader) if self.leader else Answer(500, text="No cluster leader")
        refused = self._refused(seen)
        if refused:
            return refused
        if parts[:2] == ["v1", "acl"] and len(parts) >= 4:
            return self._acl(parts)
        if parts[:2] == ["v1", "namespace"] and len(parts) == 3:
            if parts[2] not in self.namespaces:
                return Answer(404, text="Namespace not found")
            pools = self.namespace_pools.get(parts[2])
            return Answer(
                200,
                {
                    "Name": parts[2],
                    "Description": "",
                    "Quota": "",
                    "Meta": None,
                    "Capabilities": None,
                    "CreateIndex": 1,
                    "ModifyIndex": 1,
                    "NodePoolConfiguration": {"Default": pools, "Allowed": None, "Denied": None} if pools else None,
                },
            )
        if parts[:3] == ["v1", "node", "pool"] and len(parts) in (4, 5):
            if parts[3] not in self.pools:
                return Answer(404, text="node pool not found")
            if len(parts) == 5 and parts[4] == "nodes":
                return Answer(200, self.pools[parts[3]])
            return Answer(
                200,
                {
                    "Name": parts[3],
                    "Description": "",
                    "Meta": None,
                    "SchedulerConfiguration": None,
                    "CreateIndex": 1,
                    "ModifyIndex": 1,
                },
            )
        if parts == ["v1", "volumes"]:
            if "type" not in seen.query:
                return Answer(200, [])
            if seen.query["type"] != "host":
                return Answer(404, text="resource not found")
            namespace = seen.query.get("namespace", "default")
            return Answer(200, [v for v in self.volumes if namespace == "*" or v["Namespace"] == namespace])
        if parts == ["v1", "agent", "self"]:
            return Answer(200, {"config": {"Client": self.agent_client}, "member": {}, "stats": {}})
        if parts == ["v1", "services"]:
            # ServiceRegistrationListStub per namespace (api/services.go; "*": every namespace).
            wanted = seen.query.get("namespace", "default")
            spaces = sorted({ns for ns, _ in self.services if wanted in ("*", ns) and self.services[(ns, _)]})
            return Answer(
                200,
                [
                    {
                        "Namespace": ns,
                        "Services": [{"ServiceName": name, "Tags": []} for n, name in self.services if n == ns],
                    }
                    for ns in spaces
                ],
            )
        if parts[:2] == ["v1", "service"] and len(parts) == 3:
            return Answer(200, self.services.get((seen.query.get("namespace", "default"), parts[2]), []))
        return Answer(404, text="Invalid URL")
