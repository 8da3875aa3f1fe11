"""The docker runtime: each agent as its own container, with two docker volumes, on one host.

What the first version of this program made, unchanged (the recorded plan
tests/data/plans/docker.json holds it): removing the agent removes its container and keeps both
volumes (`retain_on_delete`), so data is never lost by default.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_docker as docker

from . import naming
from .container_env import CONTAINER_HOME, EnvVar, docker_envs
from .image_pin import pull_name
from .migration_resources import copy_legacy_data, retire_compose_container
from .runtime import PlaceArgs
from .settings import StackSettings

NAME = "docker"
IMAGE_RESOURCE = "agent-image"


# The factory's own healthcheck of its main agents service (lib/generators.sh, the `agents`
# service, Disinto/disinto 2308c4c): the agent loop is alive while entrypoint.sh runs, so
# `docker ps` shows a dead loop as unhealthy.
HEALTHCHECK = docker.ContainerHealthcheckArgs(
    tests=["CMD", "pgrep", "-f", "entrypoint.sh"],
    interval="60s",
    timeout="5s",
    retries=3,
    start_period="30s",
)


def image_reference(image: docker.RemoteImage) -> pulumi.Output[str]:
    """The pulled image by digest, so a new image under the same tag replaces the containers."""
    return pulumi.Output.all(image.repo_digest, image.image_id).apply(lambda ref: ref[0] or ref[1])


def labels(agent: str, stack: str) -> dict[str, str]:
    return {"disinto.agent": agent, "disinto.stack": stack, "disinto.managed-by": naming.MANAGED_BY}


def bind_mounts(settings: StackSettings) -> list[docker.ContainerVolumeArgs]:
    """Host folders, as the old compose file mounted them (binds create missing host folders)."""
    factory = settings.factory_root.rstrip("/")
    binds = [
        (settings.claude_shared_dir, settings.claude_shared_dir, False),
        (settings.claude_config_file, f"{CONTAINER_HOME}/.claude.json", True),
        (settings.ssh_dir, f"{CONTAINER_HOME}/.ssh", True),
        (f"{factory}/projects", f"{CONTAINER_HOME}/disinto/projects", True),
        (f"{factory}/.env", f"{CONTAINER_HOME}/disinto/.env", True),
        (f"{factory}/state", f"{CONTAINER_HOME}/disinto/state", False),
    ]
    return [
        docker.ContainerVolumeArgs(host_path=host, container_path=inside, read_only=ro or None)
        for host, inside, ro in binds
    ]


@dataclass
class DockerPlacement:
    repos_volume: docker.Volume
    data_volume: docker.Volume
    retire: Any  # command.local.Command
    copy_data: Any  # command.local.Command
    container: docker.Container
    workload: str
    volume_names: list[str]
    env: list[EnvVar]
    kind: str = "container"

    def outputs(self) -> dict[str, Any]:
        return {"container": self.container.name, "volumes": [self.repos_volume.name, self.data_volume.name]}


@dataclass(frozen=True)
class DockerRuntime:
    image: docker.RemoteImage  # one per stack, pulled once
    network_id: str  # the network `find_network` found: the containers attach to exactly that one

    def place(self, args: PlaceArgs) -> DockerPlacement:
        repos, data = _volumes(args)
        retire, copy_data = _migration(args, data, self.image, needs=[*_identity(args), repos, data, self.image])
        container = _container(
            args, repos, data, self.image, self.network_id, depends_on=[args.identity.collaborator, retire, copy_data],
        )
        name = args.spec.name
        return DockerPlacement(
            repos, data, retire, copy_data, container,
            workload=naming.container_name(name), volume_names=[naming.repos_volume(name), naming.data_volume(name)],
            env=args.env,
        )


def for_stack(settings: StackSettings) -> DockerRuntime:
    """The stack's network and image, looked up before any agent registers anything.

    Both lookups are invokes the program makes as it runs, in a preview too: a missing network, an
    unknown tag or an unreachable registry fails `pulumi preview` (and `up`) with nothing registered,
    so no agent's `<name>-retire` ever runs before them.
    """
    network_id = find_network(settings.network)
    # Pulled once per stack, by digest (image_pin.py); keep_locally so destroying the stack never
    # deletes an image that other containers of the factory may still run.
    image = docker.RemoteImage(IMAGE_RESOURCE, name=pull_name(settings.agent_image), keep_locally=True)
    return DockerRuntime(image, network_id)


def find_network(name: str) -> str:
    """The id of the docker network `name`; fails the program when there is none.

    Attached at container create, a missing network fails only after `ContainerCreate` (the provider
    creates, then `NetworkConnect`s: resourceDockerContainerCreate, internal/provider/
    resource_docker_container_funcs.go @ 5074970, v4.5.0) and leaves a created, never-started
    container behind. The `getNetwork` data source (`NetworkInspect`, "Could not find docker
    network": data_source_docker_network.go @ 5074970) fails before anything is registered.
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
    args: PlaceArgs, data: docker.Volume, image: docker.RemoteImage, needs: list[pulumi.Resource],
) -> tuple[Any, Any]:
    """Take over from a compose deployment: retire its container, seed our data volume once.

    The compose agent goes last: `<name>-retire` waits for everything the new container needs before
    it starts (`needs`: the Forgejo identity, both volumes, the image; the network was looked up
    before any of them), so a failing `up` anywhere before it leaves the compose agent running.
    """
    name, host = args.spec.name, args.settings.docker_host
    retire = retire_compose_container(
        name, naming.container_name(name), host, pulumi.ResourceOptions(parent=args.parent, depends_on=needs),
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
    args: PlaceArgs, repos: docker.Volume, data: docker.Volume, image: docker.RemoteImage, network_id: str,
    depends_on: list[pulumi.Resource],
) -> docker.Container:
    name = args.spec.name
    volumes = [
        docker.ContainerVolumeArgs(volume_name=data.name, container_path=f"{CONTAINER_HOME}/data"),
        docker.ContainerVolumeArgs(volume_name=repos.name, container_path=f"{CONTAINER_HOME}/repos"),
        *bind_mounts(args.settings),
    ]
    return docker.Container(
        args.names.container,
        name=naming.container_name(name),
        image=image_reference(image),
        restart="unless-stopped",
        security_opts=["apparmor=unconfined"],
        healthcheck=HEALTHCHECK,
        networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=network_id)],  # NetworkConnect takes an id
        labels=[docker.ContainerLabelArgs(label=k, value=v) for k, v in labels(name, args.stack).items()],
        envs=docker_envs(args.env),
        volumes=volumes,
        opts=pulumi.ResourceOptions(
            parent=args.parent,
            # Container names are unique on the host: the old one must go first.
            delete_before_replace=True,
            additional_secret_outputs=["envs"],
            # Start only once the bot can reach the repository, the compose container that
            # held this name is gone and the old data is copied in.
            depends_on=depends_on,
        ),
    )
