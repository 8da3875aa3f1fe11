"""The Pulumi side of taking agents over from the factory's docker-compose deployment.

Per agent, two host commands run `disinto_infra.migrate` once each, on create only: `<name>-retire`
removes the compose container whose name ours takes (only a compose-labelled one), stopped with the
stack's grace; `<name>-copy-data` copies the compose data volume into our fresh one, once. The
retirement goes last, after everything the new container needs; the copy waits for it, and the
container for both (runtimes/docker.py `_migration` wires them).
Why: docs/decisions/compose-migration.md
"""

from __future__ import annotations

import pulumi
import pulumi_command as command
import pulumi_docker as docker

from disinto_infra import naming
from disinto_infra.factory.env_export import host_environment, python_module_command

# What both commands run on an in-place update: nothing (`true` in the shell). Without an `update`
# pulumi-command runs `create` again. Why: docs/decisions/compose-migration.md
NO_OP_UPDATE = "true"
# `disinto_infra.migrate` is named in commands that state holds: docs/decisions/module-paths-frozen-by-state.md


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
