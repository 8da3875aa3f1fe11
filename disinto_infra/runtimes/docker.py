"""The docker runtime: each agent as its own container, with two docker volumes, on one host.

Per agent: its repos and data volumes (kept when the agent goes, so data is never lost by default),
the container, and host commands tied to it: `<name>-retire` / `<name>-copy-data` (taking over a
compose agent, runtimes/migration.py), `<name>-started` (`up` waits for the agent loop) and
`<name>-drain` (sessions in flight finish before a stop). The recorded plan
tests/data/plans/docker.json holds the shape.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_command as command
import pulumi_docker as docker

from disinto_infra import naming
from disinto_infra.config.stack_settings import StackSettings
from disinto_infra.factory.env_export import python_module_command
from disinto_infra.runtimes import agent_entrypoint, go_duration
from disinto_infra.runtimes.base import OutputValues, PlaceArgs
from disinto_infra.runtimes.bind_sources import binds
from disinto_infra.runtimes.env import CONTAINER_HOME, EnvVar, docker_envs
from disinto_infra.runtimes.image_pin import pull_name
from disinto_infra.runtimes.migration import copy_legacy_data, docker_cli_environment, retire_compose_container

NAME = "docker"
IMAGE_RESOURCE = "agent-image"


# Healthy: the loop runs in this start (runtimes/agent_entrypoint.py says how the wrapper tells).
HEALTH_INTERVAL = (
    10  # seconds between probes: `up` sees the loop at most this late (Docker 20.10 has no start_interval)
)
HEALTH_RETRIES = 3


def healthcheck(settings: StackSettings) -> docker.ContainerHealthcheckArgs:
    """Durations in the provider's read-back form (runtimes/go_duration.py), so a refresh finds no change."""
    return docker.ContainerHealthcheckArgs(
        tests=["CMD-SHELL", agent_entrypoint.HEALTH_SCRIPT],
        interval=go_duration.of_seconds(HEALTH_INTERVAL),
        timeout=go_duration.of_seconds(5),
        # Failures before the loop may take this long (first clones) do not count as unhealthy.
        start_period=go_duration.of_seconds(settings.start_timeout_seconds),
        # Left at Docker's default: a daemon older than API 1.44 drops it, which a read would show as a change.
        start_interval=go_duration.of_seconds(0),
        retries=HEALTH_RETRIES,
    )


def log_options(settings: StackSettings) -> dict[str, str]:
    """json-file rotation: `docker logs` and `check` keep working, and the disk stays bounded."""
    return {"max-size": settings.log_max_size, "max-file": str(settings.log_max_files)}


def image_reference(image: docker.RemoteImage) -> pulumi.Output[str]:
    """The pulled image by digest, so a new image under the same tag replaces the containers."""
    return pulumi.Output.all(image.repo_digest, image.image_id).apply(lambda ref: ref[0] or ref[1])


def labels(agent: str, stack: str) -> dict[str, str]:
    return {"disinto.agent": agent, "disinto.stack": stack, "disinto.managed-by": naming.MANAGED_BY}


def bind_mounts(settings: StackSettings) -> list[docker.ContainerVolumeArgs]:
    return [
        docker.ContainerVolumeArgs(host_path=b.host, container_path=b.container, read_only=b.read_only or None)
        for b in binds(settings)
    ]


@dataclass
class DockerPlacement:
    repos_volume: docker.Volume
    data_volume: docker.Volume
    retire: command.local.Command
    copy_data: command.local.Command
    container: docker.Container
    started: command.local.Command
    drain: command.local.Command
    workload: str
    volume_names: list[str]
    env: list[EnvVar]
    kind: str = "container"

    def outputs(self) -> OutputValues:
        return {"container": self.container.name, "volumes": [self.repos_volume.name, self.data_volume.name]}


@dataclass(frozen=True)
class DockerRuntime:
    image: docker.RemoteImage  # one per stack, pulled once
    network_id: str  # the network `find_network` found: the containers attach to exactly that one

    def place(self, args: PlaceArgs) -> DockerPlacement:
        repos, data = _volumes(args)
        retire, copy_data = _migration(args, data, self.image, needs=[*_identity(args), repos, data, self.image])
        container = _container(
            args,
            repos,
            data,
            self.image,
            self.network_id,
            depends_on=[args.identity.collaborator, retire, copy_data],
        )
        name = args.spec.name
        return DockerPlacement(
            repos,
            data,
            retire,
            copy_data,
            container,
            _started(args, container),
            _drain(args, container),
            workload=naming.container_name(name),
            volume_names=[naming.repos_volume(name), naming.data_volume(name)],
            env=args.env,
        )


def for_stack(settings: StackSettings) -> DockerRuntime:
    """The stack's network and image, looked up before any agent registers anything.

    Both lookups are invokes the program makes as it runs, in a preview too: a missing network, an
    unknown tag or an unreachable registry fails `pulumi preview` (and `up`) with nothing registered,
    so no agent's `<name>-retire` ever runs before them.
    """
    network_id = find_network(settings.network)
    # Pulled once per stack, by digest (runtimes/image_pin.py); keep_locally so destroying the stack never
    # deletes an image that other containers of the factory may still run.
    image = docker.RemoteImage(IMAGE_RESOURCE, name=pull_name(settings.agent_image), keep_locally=True)
    return DockerRuntime(image, network_id)


def find_network(name: str) -> str:
    """The id of the docker network `name`; fails the program when there is none.

    Left to the container's create, a missing network fails only after the container is created,
    leaving a never-started container behind; this lookup fails before anything is registered.
    Why: docs/decisions/network-looked-up-first.md
    """
    return docker.get_network(name=name).id


def _identity(args: PlaceArgs) -> list[pulumi.Resource]:
    identity = args.identity
    return [identity.user, identity.token, identity.collaborator, identity.profile]


def _volumes(args: PlaceArgs) -> tuple[docker.Volume, docker.Volume]:
    name = args.spec.name
    volume_labels = [
        docker.VolumeLabelArgs(label="disinto.agent", value=name),
        docker.VolumeLabelArgs(label="disinto.managed-by", value=naming.MANAGED_BY),
    ]
    keep = pulumi.ResourceOptions(parent=args.parent, retain_on_delete=True)
    repos = docker.Volume(args.names.repos, name=naming.repos_volume(name), labels=volume_labels, opts=keep)
    data = docker.Volume(args.names.data, name=naming.data_volume(name), labels=volume_labels, opts=keep)
    return repos, data


def _migration(
    args: PlaceArgs,
    data: docker.Volume,
    image: docker.RemoteImage,
    needs: list[pulumi.Resource],
) -> tuple[command.local.Command, command.local.Command]:
    """Take over from a compose deployment: retire its container, seed our data volume once.

    The compose agent goes last: `<name>-retire` waits for everything the new container needs before
    it starts (`needs`: the Forgejo identity, both volumes, the image; the network was looked up
    before any of them), so a failing `up` anywhere before it leaves the compose agent running.
    """
    name, host = args.spec.name, args.settings.docker_host
    retire = retire_compose_container(
        name,
        naming.container_name(name),
        host,
        args.settings.stop_grace_seconds,
        pulumi.ResourceOptions(parent=args.parent, depends_on=needs),
    )
    copy_data = copy_legacy_data(
        name,
        args.settings.compose_project,
        name,
        data,
        image_reference(image),
        host,
        # Never copy from a compose agent that is still writing to it.
        pulumi.ResourceOptions(parent=args.parent, depends_on=[retire]),
    )
    return retire, copy_data


def _container(
    args: PlaceArgs,
    repos: docker.Volume,
    data: docker.Volume,
    image: docker.RemoteImage,
    network_id: str,
    depends_on: list[pulumi.Resource],
) -> docker.Container:
    name = args.spec.name
    volumes = [
        docker.ContainerVolumeArgs(volume_name=data.name, container_path=f"{CONTAINER_HOME}/data"),
        docker.ContainerVolumeArgs(volume_name=repos.name, container_path=f"{CONTAINER_HOME}/repos"),
        *bind_mounts(args.settings),
    ]
    grace = args.settings.stop_grace_seconds
    return docker.Container(
        args.names.container,
        name=naming.container_name(name),
        image=image_reference(image),
        # The image's /entrypoint.sh, wrapped: healthy means its loop runs, and a stop waits for its jobs.
        entrypoints=agent_entrypoint.ENTRYPOINT,
        restart="unless-stopped",
        security_opts=["apparmor=unconfined"],
        healthcheck=healthcheck(args.settings),
        # No `wait`: the `<name>-started` command waits instead, and fails with the container's logs.
        # No init: the wrapper is PID 1 and handles SIGTERM itself (docs/decisions/agent-stop-and-health.md).
        init=False,
        # Delete stops with this timeout; unset it is 0, an immediate kill (docs/decisions/agent-stop-and-health.md).
        destroy_grace_seconds=grace,
        # The same grace for a `docker stop` without -t (a daemon shutdown, an operator's stop).
        stop_timeout=grace,
        log_driver="json-file",
        log_opts=log_options(args.settings),
        networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=network_id)],  # NetworkConnect takes an id
        labels=[docker.ContainerLabelArgs(label=k, value=v) for k, v in labels(name, args.stack).items()],
        envs=docker_envs(args.env),
        volumes=volumes,
        opts=pulumi.ResourceOptions(
            parent=args.parent,
            # Container names are unique on the host: the old one must go first.
            delete_before_replace=True,
            # The provider neither replaces nor updates on these: without this a changed healthcheck
            # or init would show in the preview and never apply (docs/decisions/agent-stop-and-health.md).
            replace_on_changes=["healthcheck", "init"],
            additional_secret_outputs=["envs"],
            # Start only once the bot can reach the repository, the compose container that
            # held this name is gone and the old data is copied in.
            depends_on=depends_on,
        ),
    )


def _drain(args: PlaceArgs, container: docker.Container) -> command.local.Command:
    """`<name>-drain`: before the engine deletes the container, the agent's sessions in flight may finish.

    Its input depends on the container's id, so when the container is replaced (delete-before-replace)
    or removed, the engine deletes this dependent first and its `delete` runs the drain
    (docs/decisions/drain-before-stop.md). Nothing runs on create.
    """
    drain = _watch(args, "disinto_infra.runtimes.drain", args.settings.drain_timeout_seconds)
    return _follower(args, args.names.drain, container, delete=drain)


def _started(args: PlaceArgs, container: docker.Container) -> command.local.Command:
    """`<name>-started`: `up` succeeds only once the agent loop runs, and fails fast with the logs when it cannot.

    Replaced with every new container (its id is the trigger), so each start is checked once. A failed
    check records nothing, so the next `up` checks the same container again (docs/decisions/agent-stop-and-health.md).
    """
    started = _watch(args, "disinto_infra.runtimes.started", args.settings.start_timeout_seconds)
    return _follower(args, args.names.started, container, create=started)


def _watch(args: PlaceArgs, module: str, seconds: int) -> str:
    """A host script's command line that watches the agent's container for at most `seconds`."""
    # The module path is part of a command that state holds: docs/decisions/module-paths-frozen-by-state.md
    return python_module_command(
        module, "--container", naming.container_name(args.spec.name), "--timeout", str(seconds)
    )


def _follower(
    args: PlaceArgs, name: str, container: docker.Container, create: str | None = None, delete: str | None = None
) -> command.local.Command:
    """A host command tied to one container: replaced with it (its id is the trigger), run where `docker` reaches it."""
    return command.local.Command(
        name,
        create=create,
        delete=delete,
        environment=docker_cli_environment(args.settings.docker_host),
        triggers=[container.id],
        opts=pulumi.ResourceOptions(parent=args.parent, depends_on=[container]),
    )
