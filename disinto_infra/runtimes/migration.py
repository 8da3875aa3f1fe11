"""The Pulumi side of taking agents over from the factory's docker-compose deployment.

Per agent, two `command.local.Command`s run `disinto_infra.migrate` on the Pulumi host, each once
(on create; neither has a delete: undoing a retirement is the operator's `disinto up`; neither's
`update` does anything, so an in-place change never retires or copies again):
- `<name>-retire` removes the compose container `disinto-agents-<name>`, whose name our container
  takes, stopped with the stack's grace; it removes only a container labelled `com.docker.compose.project`.
- `<name>-copy-data` copies the compose data volume `<composeProject>_agents-<name>-data` into our
  fresh `agents-<name>-data`, once (a marker file in the target records it).

Wiring, for the Agent component (the order is what makes this safe):
    retire = retire_compose_container(name, naming.container_name(name), docker_host, stop_grace_seconds,
                                      opts(parent, depends_on=[user, token, collaborator, profile,
                                                               repos_volume, data_volume, image]))  # last
    copy = copy_legacy_data(name, compose_project, name, data_volume, image, docker_host,
                            opts(parent, depends_on=[retire]))   # never copy from a running agent
    container = docker.Container(..., opts(parent, depends_on=[retire, copy]))
`copy_legacy_data` adds the dependency on `data_volume` itself.
"""

from __future__ import annotations

import pulumi
import pulumi_command as command
import pulumi_docker as docker

from disinto_infra import naming
from disinto_infra.factory.env_export import host_environment, python_module_command

# What copy-data runs on an update: nothing. pulumi-command 1.2.1 runs `update` on an in-place
# update and, without one, runs `create` again (Command.Update, provider/pkg/provider/local/
# commandController.go @ 7f3eb6f, tag v1.2.1); `/bin/sh -c` is its interpreter on Linux and macOS.
NO_OP_UPDATE = "true"


def legacy_data_volume(compose_project: str, agent: str) -> str:
    """The compose generator's data volume: compose prefixes volumes with its project name."""
    return f"{compose_project}_agents-{agent}-data"


def docker_cli_environment(docker_host: str | None) -> dict[str, str]:
    """What a host command needs to reach the Docker host: our modules on PYTHONPATH, DOCKER_HOST."""
    # Without docker:host the provider and the CLI both fall back to DOCKER_HOST or the local socket.
    # A plain str, as settings hold it: an Output would always test as set.
    env = dict(host_environment())
    if docker_host:
        env["DOCKER_HOST"] = docker_host
    return env


def retire_compose_container(
    name: str,
    container_name: str,
    docker_host: str | None,
    grace: int,
    opts: pulumi.ResourceOptions | None = None,
) -> command.local.Command:
    """`<name>-retire`: make room for our container by removing the compose-made one, stopped with `grace`."""
    return command.local.Command(
        naming.child_names(name).retire,
        create=python_module_command(
            "disinto_infra.migrate", "retire", "--container", container_name, "--grace", str(grace)
        ),
        # A retirement happens once: a changed command (a new grace) must not run it again.
        update=NO_OP_UPDATE,
        environment=docker_cli_environment(docker_host),
        triggers=[container_name],  # another container name: retire whatever holds that one
        opts=opts,
    )


def copy_legacy_data(
    name: str,
    compose_project: str,
    agent: str,
    data_volume: docker.Volume,
    image: pulumi.Input[str],
    docker_host: str | None,
    opts: pulumi.ResourceOptions | None = None,
) -> command.local.Command:
    """`<name>-copy-data`: seed our new data volume from the compose one, before the container starts."""
    source = legacy_data_volume(compose_project, agent)
    create = pulumi.Output.all(data_volume.name, image).apply(
        lambda values: python_module_command(
            "disinto_infra.migrate", "copy-data", "--from", source, "--to", values[0], "--image", values[1]
        )
    )
    return command.local.Command(
        naming.child_names(name).copy_data,
        create=create,
        # An in-place change (the environment: DOCKER_HOST, the checkout's PYTHONPATH) must not copy again; only a new
        # source or target volume (the triggers) replaces it, and so runs `create` once more.
        update=NO_OP_UPDATE,
        environment=docker_cli_environment(docker_host),
        # Not the image: a new image must not re-run a copy (the marker would skip it anyway). Its
        # digest is in `create`, so that is ignored after the first run; the triggers replace it.
        triggers=[source, data_volume.name],
        opts=pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(depends_on=[data_volume], ignore_changes=["create"])
        ),
    )
