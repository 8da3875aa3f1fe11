"""The offline plan: run the real program under recording mocks, in-process.

No Forgejo, no Docker, no Pulumi CLI, no credentials: a mock monitor records every registration
(URN, type, name, inputs as registered, options) and answers with deterministic fake outputs (a
token, a password, an image digest). `run_with_mocks` is reused by the tests.

The mock monitor also applies `additional_secret_outputs` to the fake outputs, as the engine does
(the SDK's own mocks ignore it); tests that must prove our own secret wrapping turn that off.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

import pulumi
from pulumi.runtime import rpc
from pulumi.runtime.proto import resource_pb2

from disinto_infra.config.image_name import local_image_id, pinned_digest, repository
from disinto_infra.config.project_toml import Fleet
from disinto_infra.config.stack_settings import NAMESPACE, SECRET_PLACEHOLDER, StackSettings
from disinto_infra.factory.compose import COMPOSE_FILE, ComposeFileError, UpCommand, read_compose_file, up_command
from disinto_infra.factory.formulas import Formula
from disinto_infra.fleet_warnings import fleet_warnings
from disinto_infra.forgejo.profile_repo import REPO_NAME as PROFILE_REPO
from disinto_infra.forgejo.token import token_name as forgejo_token_name
from disinto_infra.model_servers.capacity import counted
from disinto_infra.parsed import JsonObject, object_or_empty, strings, whole
from disinto_infra.program import sdk_internals
from disinto_infra.program.agent import Agent
from disinto_infra.program.build import build_fleet, compose_path
from disinto_infra.runtimes import docker as runtime_docker
from disinto_infra.runtimes.bind_sources import missing_sources
from disinto_infra.runtimes.env import BASE_URL_VAR, EnvVar
from disinto_infra.runtimes.image_pin import ImageChoice
from disinto_infra.url_mask import mask_all, mask_credentials

SECRET = SECRET_PLACEHOLDER  # how every secret value is shown
STACK_TYPE = "pulumi:pulumi:Stack"
T = TypeVar("T")


@dataclass(frozen=True)
class RegisteredOptions:
    """The resource options the engine acts on, as the SDK sent them in RegisterResource."""

    retain_on_delete: bool
    delete_before_replace: bool
    additional_secret_outputs: tuple[str, ...]
    protect: bool
    dependencies: tuple[str, ...]
    # False: the option was not given, so the provider's diff decides the replacement order.
    delete_before_replace_defined: bool = False
    replace_on_changes: tuple[str, ...] = ()
    ignore_changes: tuple[str, ...] = ()
    # Per input key, the URNs of the resources whose outputs that input came from.
    property_dependencies: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def to_json(self) -> JsonObject:
        """The options as `plan --json` shows them, in the engine's names.

        `dependsOn` is every resource the engine waits for before this one (the SDK sends the
        explicit `depends_on` and the sources of its inputs in one list); `deleteBeforeReplace` is
        null when the program left the order to the provider's diff.
        """
        return {
            "dependsOn": sorted(self.dependencies),
            "deleteBeforeReplace": self.delete_before_replace if self.delete_before_replace_defined else None,
            "retainOnDelete": self.retain_on_delete,
            "replaceOnChanges": list(self.replace_on_changes),
            "ignoreChanges": list(self.ignore_changes),
            "protect": self.protect,
            "additionalSecretOutputs": list(self.additional_secret_outputs),
        }


@dataclass(frozen=True)
class Registration:
    """One resource as the program registered it; secret inputs stay wrapped (see `is_secret`)."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    inputs: JsonObject
    options: RegisteredOptions
    # The RegisterResource request as sent (every option; the recorded plans read it).
    request: resource_pb2.RegisterResourceRequest | None = field(default=None, compare=False, repr=False)


def is_secret(value: object) -> bool:
    return rpc.is_rpc_secret(value)


def reveal(value: object) -> object:
    """A registered value with every secret unwrapped (for assertions on the real content)."""
    if is_secret(value):
        return reveal(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


def whole_numbers(value: object) -> object:
    """A deserialized value with every integral float as an int.

    The wire between the SDK and the monitor is a google.protobuf.Struct, which holds every number
    as a double: the int inputs the program registers (`user_id`, `rotation`, `password_rotation`)
    arrive as 3.0. The program registers no fractional input, so an integral double was an int.
    """
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if is_secret(value):
        return rpc.wrap_rpc_secret(whole_numbers(rpc.unwrap_rpc_secret(value)))
    if isinstance(value, dict):
        return {k: whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [whole_numbers(v) for v in value]
    return value


def redact(value: object) -> object:
    """A registered value with every secret shown as "[secret]"."""
    if is_secret(value):
        return SECRET
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


# ---------------------------------------------------------------- fake outputs


def _fake_hex(*parts: str, length: int = 40) -> str:
    """Deterministic per resource, so two runs of the same program register the same inputs."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def _fake_int(*parts: str) -> int:
    return int(_fake_hex(*parts, length=6), 16)


def fake_outputs(typ: str, name: str, inputs: JsonObject) -> JsonObject:
    """Plausible outputs per resource type, on top of the inputs."""
    outs = dict(inputs)
    if typ.endswith("forgejo:User"):
        outs.update(
            user_id=_fake_int("user", name),
            password=f"mock-password-{_fake_hex('pw', name, length=16)}",
            adopted=False,
            password_ok=True,
        )
    elif typ.endswith("forgejo:Token"):
        token = _fake_hex("token", name)
        outs.update(
            token=token,
            token_id=_fake_int("token", name),
            # Named as the provider names it (forgejo/token.py), so a rotation shows where the name flows.
            token_name=forgejo_token_name(whole(inputs, "rotation") or 0, strings(inputs.get("scopes"))),
            token_last_eight=token[-8:],
        )
    elif typ == "docker:index/remoteImage:RemoteImage":
        name = str(inputs.get("name", "image"))
        digest = _fake_hex("image", name, length=64)
        if local_image_id(name):
            # A local build has no repo digest (determineRepoDigest, provider v4.5.0): the id is all there is.
            outs.update(repo_digest="", image_id=name)
        else:
            # Pulled by digest, the image's repo digest is that one.
            outs.update(
                repo_digest=f"{repository(name)}@{pinned_digest(name) or 'sha256:' + digest}",
                image_id=f"sha256:{digest}",
            )
    elif typ == "docker:index/volume:Volume":
        outs.setdefault("mountpoint", f"/var/lib/docker/volumes/{inputs.get('name')}/_data")
    elif typ == "nomad:index/dynamicHostVolume:DynamicHostVolume":
        # Nomad picks the node (one per pool in the plan: a fake node id from the pool's name).
        outs.setdefault("nodeId", f"node-{_fake_hex('node', str(inputs.get('nodePool') or 'any'), length=8)}")
    return outs


NETWORK_INVOKE = "docker:index/getNetwork:getNetwork"
REGISTRY_IMAGE_INVOKE = "docker:index/getRegistryImage:getRegistryImage"


def fake_invoke(token: str, args: JsonObject) -> JsonObject:
    """Plausible answers to the invokes the program makes (runtime_docker.find_network, image_pin).

    Offline there is no Docker and no registry: the network is taken to exist (`check` and the
    preview look), and a tag's digest is a fake one (`plan` says it is resolved at preview/up).
    """
    if token == NETWORK_INVOKE:
        name = str(args.get("name"))
        return {
            "id": _fake_hex("network", name, length=64),
            "name": name,
            "driver": "bridge",
            "scope": "local",
            "internal": False,
        }
    if token == REGISTRY_IMAGE_INVOKE:
        name = str(args.get("name"))
        return {"id": name, "name": name, "sha256Digest": f"sha256:{_fake_hex('registry', name, length=64)}"}
    return {}


class RecordingMocks(pulumi.runtime.Mocks):
    """Fake outputs per type; subclass and override `outputs` to fake differently."""

    def __init__(self) -> None:
        self.created: list[str] = []  # logical names, in the order the engine would create them
        self.invoked: list[str] = []  # invoke tokens, in the order the program made them

    def outputs(self, typ: str, name: str, inputs: JsonObject) -> JsonObject:
        return fake_outputs(typ, name, inputs)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, JsonObject]:
        self.created.append(args.name)
        return f"{args.name}-id", self.outputs(args.typ, args.name, args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[JsonObject, list[tuple[str, str]] | None]:
        self.invoked.append(args.token)
        return fake_invoke(args.token, dict(args.args)), []  # no check failures


class RecordingMonitor(sdk_internals.MockMonitor):
    """MockMonitor that records each registration with its options (runs in executor threads)."""

    def __init__(self, mocks: RecordingMocks, honour_secret_outputs: bool = True):
        super().__init__(mocks)
        self.honour_secret_outputs = honour_secret_outputs
        self.registrations: list[Registration] = []
        self.outputs: dict[str, JsonObject] = {}  # by URN: the fake outputs each resource got
        self._lock = threading.Lock()

    def RegisterResource(  # noqa: N802 (the SDK's gRPC method, overridden)
        self, request: resource_pb2.RegisterResourceRequest
    ) -> resource_pb2.RegisterResourceResponse:
        # Pulumi's MockMonitor carries no annotations: the ignore below is its.
        if request.type == STACK_TYPE:
            response: resource_pb2.RegisterResourceResponse = super().RegisterResource(request)  # type: ignore[no-untyped-call]
            return response
        sdk_internals.ensure_event_loop()
        # The engine leaves the root stack's type out of its children's URNs.
        parent = "" if request.parent.split("::")[-2:-1] == [STACK_TYPE] else request.parent
        urn = self.make_urn(parent, request.type, request.name)
        inputs = rpc.deserialize_properties(request.object)
        self._record(urn, request, object_or_empty(whole_numbers(inputs)))  # a Struct deserialises to a dict
        id_, state = self.mocks.new_resource(
            pulumi.runtime.MockResourceArgs(
                typ=request.type,
                name=request.name,
                inputs=inputs,
                provider=request.provider,
                resource_id=request.importId,
                custom=request.custom or False,
            )
        )
        if self.honour_secret_outputs:
            for key in request.additionalSecretOutputs:
                if key in state:
                    state[key] = rpc.wrap_rpc_secret(state[key])
        obj = sdk_internals.wait_for(rpc.serialize_properties(state, {}))
        self.resources[urn] = sdk_internals.ResourceRegistration(urn, id_ or "", state)
        with self._lock:
            self.outputs[urn] = state
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_ or "", object=obj)

    def _record(self, urn: str, request: resource_pb2.RegisterResourceRequest, inputs: JsonObject) -> None:
        options = RegisteredOptions(
            retain_on_delete=bool(request.retainOnDelete),
            delete_before_replace=bool(request.deleteBeforeReplace),
            additional_secret_outputs=tuple(request.additionalSecretOutputs),
            protect=bool(request.protect),
            dependencies=tuple(request.dependencies),
            delete_before_replace_defined=bool(request.deleteBeforeReplaceDefined),
            replace_on_changes=tuple(request.replaceOnChanges),
            ignore_changes=tuple(request.ignoreChanges),
            property_dependencies=tuple(
                sorted((key, tuple(sorted(deps.urns))) for key, deps in request.propertyDependencies.items())
            ),
        )
        with self._lock:
            self.registrations.append(
                Registration(
                    urn=urn,
                    type=request.type,
                    name=request.name,
                    parent=request.parent,
                    custom=bool(request.custom),
                    inputs=inputs,
                    options=options,
                    request=request,
                )
            )


# ---------------------------------------------------------------- running a program


@dataclass(frozen=True)
class Exported:
    value: object
    secret: bool


@dataclass
class MockRun(Generic[T]):
    result: T
    registrations: list[Registration]
    exports: dict[str, Exported] = field(default_factory=dict)
    outputs: dict[str, JsonObject] = field(default_factory=dict)  # fake outputs by URN

    def by_name(self) -> dict[str, Registration]:
        return {r.name: r for r in self.registrations}

    def named(self, name: str) -> Registration:
        return self.by_name()[name]


async def resolve(value: object) -> Exported:
    """An Input's final value and whether it is secret."""
    out = pulumi.Output.from_input(value)
    return Exported(await out.future(), bool(await out.is_secret()))


def run_with_mocks(
    program: Callable[[], T],
    *,
    project: str = NAMESPACE,  # the Pulumi project is named as its config namespace
    stack: str = "dev",
    transformations: Sequence[pulumi.ResourceTransformation] = (),
    honour_secret_outputs: bool = True,
    mocks: RecordingMocks | None = None,
    preview: bool = False,
) -> MockRun[T]:
    """Run `program` as a Pulumi program against recording mocks and wait for every registration.

    Exceptions of the program propagate; pass your own `mocks` to inspect `mocks.created` then.
    `preview`: what `pulumi.runtime.is_dry_run()` answers (the program probes nothing in a preview).
    """
    mocks = mocks if mocks is not None else RecordingMocks()
    monitor = RecordingMonitor(mocks, honour_secret_outputs)
    sdk_internals.fresh_run()
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=preview, monitor=monitor)
    root = sdk_internals.root_resource()
    for transformation in transformations:
        pulumi.runtime.register_stack_transformation(transformation)
    holder: dict[str, T] = {}

    def body() -> None:
        holder["result"] = program()

    sdk_internals.run_program(body)
    exports = {k: sdk_internals.wait_for(resolve(v)) for k, v in getattr(root, "outputs", {}).items()}
    registrations = sorted(monitor.registrations, key=lambda r: r.urn)
    return MockRun(holder["result"], registrations, exports, dict(monitor.outputs))


def resolve_all(values: Iterable[object]) -> list[Exported]:
    """Resolve Inputs after a run (e.g. an agent's env values)."""
    return [sdk_internals.wait_for(resolve(v)) for v in values]


# ---------------------------------------------------------------- the plan of a fleet


@dataclass(frozen=True)
class AgentPlan:
    name: str
    forge_user: str
    env_suffix: str
    repo: str
    workload: str  # the container's or the Nomad job's name
    volumes: list[str]
    env: dict[str, str]
    kind: str = "container"  # or "nomad job": what `workload` names
    # The image the docker runtime's containers run (image_pin.ImageChoice.describe); None on Nomad.
    image: str | None = None

    @property
    def workload_key(self) -> str:
        """Its key in --json, the same as in the `agents` stack output (runtime `outputs()`)."""
        return "container" if self.kind == "container" else "job"

    def summary(self) -> str:
        return (
            f"{self.name}: user {self.forge_user}, token, collaborator on {self.repo}, "
            f"profile {self.forge_user}/{PROFILE_REPO}, volumes {' + '.join(self.volumes)}, {self.kind} {self.workload}"
        )


@dataclass(frozen=True)
class PlanReport:
    stack: str
    agents: list[AgentPlan]
    resources: list[JsonObject]
    warnings: list[str] = field(default_factory=list)  # without the "warning: " prefix
    # `disinto up` for the rest of the factory; None without a readable docker-compose.yml.
    disinto_up: UpCommand | None = None
    compose_file: str = ""
    # How a container's replacement or removal treats the agent's work (docker only).
    stop_line: str | None = None

    def up_lines(self) -> list[str]:
        if self.disinto_up is not None:
            return self.disinto_up.to_text()
        return [
            f"no readable {COMPOSE_FILE} at {self.compose_file}: no `disinto up` command to show "
            "(set disinto:factoryRoot to the factory checkout)"
        ]

    def to_json(self) -> JsonObject:
        return {
            "agents": [
                {
                    "name": a.name,
                    "forge_user": a.forge_user,
                    "env_suffix": a.env_suffix,
                    a.workload_key: a.workload,
                    "volumes": a.volumes,
                    "env": a.env,
                    **({"image": a.image} if a.image else {}),
                }
                for a in self.agents
            ],
            "resources": self.resources,
            "warnings": self.warnings,
            "disinto_up": self.disinto_up.to_json() if self.disinto_up else None,
        }

    def to_text(self) -> str:
        if not self.agents:
            return f"stack {self.stack}: no agents, nothing to create"
        lines = [a.summary() for a in self.agents]
        env = "the job env" if self.agents[0].kind != "container" else "the container env"
        lines.append(
            f"stack {self.stack}: {counted(len(self.agents), 'agent')}, {len(self.resources)} resources "
            f"(--json shows every input and option, and {env})"
        )
        lines.extend(self.up_lines())
        lines.extend(f"every container runs {image}" for image in sorted({a.image for a in self.agents if a.image}))
        lines.extend([self.stop_line] if self.stop_line else [])
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)


def shown(var: EnvVar, value: Exported) -> str:
    """An env value as the plan prints it: a secret as "[secret]"; the model server's URL, secret
    when it holds credentials, with those masked (`http://user:***@host:8081`)."""
    if (var.secret or value.secret) and var.name != BASE_URL_VAR:
        return SECRET
    return mask_credentials(str(value.value))


def _agent_plan(agent: Agent, image: str | None) -> AgentPlan:
    spec = agent.spec
    values = resolve_all([var.value for var in agent.env])
    env = {var.name: shown(var, got) for var, got in zip(agent.env, values, strict=True)}
    return AgentPlan(
        name=spec.name,
        forge_user=spec.forge_user,
        env_suffix=spec.env_suffix,
        repo=agent.project.repo,
        workload=agent.placement.workload,
        volumes=list(agent.placement.volume_names),
        env=env,
        kind=agent.placement.kind,
        image=image,
    )


def plan_fleet(
    settings: StackSettings, fleet: Fleet, stack: str, formulas: Mapping[str, Formula] | None = None
) -> PlanReport:
    """What `pulumi up` would register for this fleet, from the real program under mocks."""
    warnings: list[str] = []
    run = run_with_mocks(lambda: build_fleet(settings, fleet, stack, formulas, warn=warnings.append), stack=stack)
    resources = [
        {
            "urn": r.urn,
            "type": r.type,
            "name": r.name,
            "inputs": mask_all(redact(r.inputs)),
            "options": r.options.to_json(),
        }
        for r in run.registrations
    ]
    path = compose_path(settings)
    warnings += missing_sources(settings)  # where the Docker host is this machine
    warnings += fleet_warnings(fleet, settings, f"Pulumi.{stack}.yaml")
    # Offline, no registry answers: a pinned digest is shown, a tag says where its digest comes from.
    image = ImageChoice(settings.agent_image).describe() if settings.runtime == runtime_docker.NAME else None
    return PlanReport(
        stack,
        [_agent_plan(a, image) for a in run.result.values()],
        resources,
        warnings,
        disinto_up=_disinto_up(path, list(run.result)),
        compose_file=str(path),
        stop_line=_stop_line(settings) if settings.runtime == runtime_docker.NAME else None,
    )


def _stop_line(settings: StackSettings) -> str:
    return (
        "a container that `pulumi up` replaces or removes (the preview shows its <name>-drain replaced or deleted) "
        f"first drains its agent: no new session, and up to {settings.drain_timeout_seconds} s "
        f"(drainTimeoutSeconds) for those in flight; then it stops with a grace of {settings.stop_grace_seconds} s"
    )


def _disinto_up(path: Path, agents: list[str]) -> UpCommand | None:
    # An unreadable file is already a warning (program.compose_warnings).
    try:
        compose = read_compose_file(path)
    except ComposeFileError:
        return None
    return up_command(compose, agents) if compose is not None else None
