"""The container's host folders (`binds`), and what the Pulumi host can see of them.

Two findings, both only for the docker runtime on a Docker host that is this machine
(config/docker_host.py; of another machine nothing is claimed): `entrypoint_problems`, a
projects folder without a project TOML, which makes the agents' entrypoint exit at once and the
container restart forever; and `missing_sources`, bind sources that do not exist, which Docker
would create as empty root-owned folders. Why: docs/decisions/docker-host-paths.md
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path

from disinto_infra.config import docker_host
from disinto_infra.config.stack_settings import NAMESPACE, StackSettings
from disinto_infra.runtimes.env import CONTAINER_HOME


@dataclass(frozen=True)
class Bind:
    host: str  # a path on the Docker host
    container: str
    read_only: bool
    setting: str  # the disinto:* setting the host path comes from


def binds(settings: StackSettings) -> list[Bind]:
    """Host folders, as the old compose file mounted them, less the factory's `.env`.

    The compose file also bound `<factoryRoot>/.env`, which after `envFile` holds every agent's
    FORGE_TOKEN_* / FORGE_PASS_*. Nothing in the image reads it; bound, it only let every agent's
    model read every other agent's credentials (docs/decisions/docker-host-paths.md).
    A missing source becomes an empty root-owned folder on the Docker host: `check` names them.
    """
    factory = settings.factory_root.rstrip("/")
    return [
        Bind(settings.claude_shared_dir, settings.claude_shared_dir, False, "claudeSharedDir"),
        Bind(settings.claude_config_file, f"{CONTAINER_HOME}/.claude.json", True, "claudeConfigFile"),
        Bind(settings.ssh_dir, f"{CONTAINER_HOME}/.ssh", True, "sshDir"),
        Bind(f"{factory}/projects", f"{CONTAINER_HOME}/disinto/projects", True, "factoryRoot"),
        Bind(f"{factory}/state", f"{CONTAINER_HOME}/disinto/state", False, "factoryRoot"),
    ]


def applies(settings: StackSettings) -> bool:
    return settings.runtime == "docker" and docker_host.is_local(docker_host.effective_host(settings.docker_host))


def projects_folder(settings: StackSettings) -> str:
    return f"{settings.factory_root.rstrip('/')}/projects"


def entrypoint_problems(settings: StackSettings, source: str | None = None) -> list[str]:
    """One line when the agents' entrypoint would find no project TOML; none when it cannot be told."""
    if not applies(settings):
        return []
    folder = projects_folder(settings)
    if glob.glob(glob.escape(folder) + "/*.toml"):
        return []
    where = f"{source}: " if source else ""
    return [
        (
            f"{where}{NAMESPACE}:factoryRoot: {folder} holds no *.toml; it is the agents' projects folder, and their "
            "entrypoint.sh exits at once without one (validate_projects_dir, Disinto/disinto docker/agents/entrypoint.sh)"
        )
    ]


def missing_sources(settings: StackSettings) -> list[str]:
    """One line per bind source that does not exist on this machine, the Docker host."""
    if not applies(settings):
        return []
    return [
        f"{NAMESPACE}:{bind.setting}: {bind.host} does not exist; Docker would create it as an empty folder owned by "
        f"root, mounted at {bind.container}"
        for bind in binds(settings)
        if not Path(bind.host).exists()
    ]
