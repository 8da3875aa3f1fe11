"""The docker runtime: each agent as its own container, with two docker volumes, on one host.

What the first version of this program made, unchanged (the recorded plan
tests/data/plans/docker.json holds it): removing the agent removes its container and keeps both
volumes (`retain_on_delete`), so data is never lost by default.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_command as command
import pulumi_docker as docker

from disinto_infra import naming
from disinto_infra.runtimes import go_duration
from disinto_infra.runtimes.base import OutputValues, PlaceArgs
from disinto_infra.runtimes.bind_sources import binds
from disinto_infra.runtimes.env import CONTAINER_HOME, EnvVar, docker_envs
from disinto_infra.runtimes.image_pin import pull_name
from disinto_infra.runtimes.migration import copy_legacy_data, retire_compose_container
from disinto_infra.settings import StackSettings

NAME = "docker"
IMAGE_RESOURCE = "agent-image"


# Healthy: the agent's poll loop was entered in *this* start of the container.
#
# The factory's own check (`pgrep -f entrypoint.sh`, lib/generators.sh) always matches PID 1, so
# it says only "started". The image's entrypoint (docker/agents/entrypoint.sh, Disinto/disinto
# 2308c4c) logs to /home/agent/data/agent-entrypoint.log, on the data volume: "Agent container
# starting" first thing, and "Entering polling loop" once every precondition has passed (projects
# found, repos cloned) and the `while true` loop begins. Any start that dies before the loop (the
# restart policy hides it: a restarting container shows as running) leaves "starting" as the last of
# the two lines. The file outlives restarts, so a line only counts if the file was written after
# PID 1 started (`ps -o etimes`: its age in whole seconds; an older write is at most in PID 1's own
# second, which `-gt` excludes). A failing probe says why, with the log's last line, in
# `docker inspect`'s State.Health.Log.
ENTRYPOINT_LOG = f"{CONTAINER_HOME}/data/agent-entrypoint.log"
STARTED_LINE = "Agent container starting"
LOOP_LINE = "Entering polling loop"
HEALTH_SCRIPT = "; ".join(
    [
        f"log={ENTRYPOINT_LOG}",
        "started=$(( $(date +%s) - $(ps -o etimes= -p 1) ))",
        (
            'if [ -f "$log" ] && [ "$(stat -c %Y "$log")" -gt "$started" ]'
            f" && tac \"$log\" | grep -m 1 -F -e '{STARTED_LINE}' -e '{LOOP_LINE}' | grep -q -F '{LOOP_LINE}'; then exit 0; fi"
        ),
        'echo "agent loop not entered since this start; last entrypoint log line: $(tail -n 1 "$log" 2>/dev/null)"',
        "exit 1",
    ]
)
HEALTH_INTERVAL = 30  # seconds between probes: `up` sees the loop at most this late
HEALTH_RETRIES = 3


def healthcheck(settings: StackSettings) -> docker.ContainerHealthcheckArgs:
    """Durations in the provider's read-back form (runtimes/go_duration.py), so a refresh finds no change."""
    return docker.ContainerHealthcheckArgs(
        tests=["CMD-SHELL", HEALTH_SCRIPT],
        interval=go_duration.seconds(HEALTH_INTERVAL),
        timeout=go_duration.seconds(10),
        # Failures before the loop may take this long (first clones) do not count as unhealthy.
        start_period=go_duration.seconds(settings.start_timeout_seconds),
        # Left at Docker's default: a daemon older than API 1.44 drops it, which a read would show as a change.
        start_interval=go_duration.seconds(0),
        retries=HEALTH_RETRIES,
    )


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
    return docker.Container(
        args.names.container,
        name=naming.container_name(name),
        image=image_reference(image),
        restart="unless-stopped",
        security_opts=["apparmor=unconfined"],
        healthcheck=healthcheck(args.settings),
        # Create waits for "healthy" (the loop runs) and fails after the timeout; without `wait` it
        # returns right after ContainerStart (resource_docker_container_funcs.go, v4.5.0).
        wait=True,
        wait_timeout=args.settings.start_timeout_seconds,
        # No init, on purpose. Docker's init (`docker-init -- /entrypoint.sh`, moby's oci_linux.go)
        # forwards SIGTERM to the entrypoint, which traps nothing and dies at once; docker-init then
        # exits with it and the kernel kills every other process of the container, so the grace
        # below would never be used. Bash as PID 1 ignores SIGTERM instead: the agent works on
        # (a push in flight completes) until the grace ends, then Docker kills it. The provider
        # always sends Init (false when unset), so this only makes the choice visible.
        init=False,
        # Delete stops with this timeout; unset it is 0, an immediate kill (resource_docker_container_funcs.go).
        destroy_grace_seconds=args.settings.stop_grace_seconds,
        networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=network_id)],  # NetworkConnect takes an id
        labels=[docker.ContainerLabelArgs(label=k, value=v) for k, v in labels(name, args.stack).items()],
        envs=docker_envs(args.env),
        volumes=volumes,
        opts=pulumi.ResourceOptions(
            parent=args.parent,
            # Container names are unique on the host: the old one must go first.
            delete_before_replace=True,
            # Neither is ForceNew and Update ignores both (resource_docker_container.go, v4.5.0):
            # without this a changed healthcheck or init would show in the preview and never apply.
            replace_on_changes=["healthcheck", "init"],
            additional_secret_outputs=["envs"],
            # Start only once the bot can reach the repository, the compose container that
            # held this name is gone and the old data is copied in.
            depends_on=depends_on,
        ),
    )
