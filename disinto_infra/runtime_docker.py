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

    def place(self, args: PlaceArgs) -> DockerPlacement:
        repos, data = _volumes(args)
        retire, copy_data = _migration(args, data, self.image)
        container = _container(args, repos, data, self.image, depends_on=[args.identity.collaborator, retire, copy_data])
        name = args.spec.name
        return DockerPlacement(
            repos, data, retire, copy_data, container,
            workload=naming.container_name(name), volume_names=[naming.repos_volume(name), naming.data_volume(name)],
            env=args.env,
        )


def for_stack(settings: StackSettings) -> DockerRuntime:
    # Pulled once per stack; keep_locally so destroying the stack never deletes an image
    # that other containers of the factory may still run.
    return DockerRuntime(docker.RemoteImage(IMAGE_RESOURCE, name=settings.agent_image, keep_locally=True))


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


def _migration(args: PlaceArgs, data: docker.Volume, image: docker.RemoteImage) -> tuple[Any, Any]:
    """Take over from a compose deployment: retire its container, seed our data volume once."""
    name, host = args.spec.name, args.settings.docker_host
    retire = retire_compose_container(name, naming.container_name(name), host, pulumi.ResourceOptions(parent=args.parent))
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
    args: PlaceArgs, repos: docker.Volume, data: docker.Volume, image: docker.RemoteImage,
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
        networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=args.settings.network)],
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
