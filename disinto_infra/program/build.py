"""The Pulumi program proper: one image per stack, one Agent per validated `[agents.*]`, exports.

Used by the Pulumi entry point (`__main__.py`) and by the offline `plan` under mocks, so both run
the same code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import pulumi

from disinto_infra.config.project_toml import Fleet
from disinto_infra.config.stack_settings import StackSettings
from disinto_infra.factory.compose import COMPOSE_FILE, ComposeFileError, compose_conflicts, read_compose_file
from disinto_infra.factory.formulas import Formula, read_formulas
from disinto_infra.model_servers.capacity import Placed, crowded_servers
from disinto_infra.program.agent import Agent, AgentArgs
from disinto_infra.runtimes import docker as runtime_docker
from disinto_infra.runtimes.base import Runtime
from disinto_infra.runtimes.nomad import resources as runtime_nomad

IMAGE_RESOURCE = runtime_docker.IMAGE_RESOURCE
# Typed: left to inference, the two for_stack's differing return types join to `object`.
RUNTIMES: dict[str, Callable[[StackSettings], Runtime]] = {
    runtime_docker.NAME: runtime_docker.for_stack,
    runtime_nomad.NAME: runtime_nomad.for_stack,
}


def compose_path(settings: StackSettings) -> Path:
    return Path(settings.factory_root) / COMPOSE_FILE


def compose_warnings(settings: StackSettings, agent_names: Iterable[str]) -> list[str]:
    """One message per agent the factory's docker-compose.yml also defines a service for.

    The factory's generator writes that service back on every `disinto up` (factory/compose.py), so
    it is expected; what must not happen is a bare `disinto up`, which would start it and clash with
    our container by name. A missing file means no warning; an unreadable one is a warning too (we
    cannot tell), never an error. The messages carry no "warning: " prefix: Pulumi and the plan's
    text add it.
    """
    names = list(agent_names)
    if not names:
        return []
    path = compose_path(settings)
    try:
        conflicts = compose_conflicts(read_compose_file(path), names)
    except ComposeFileError as exc:
        # One line, whatever the YAML parser's message looks like.
        return [
            f"{' '.join(str(exc).split())}; cannot tell whether compose still runs these agents (see docs/migration.md)"
        ]
    return [
        f"{COMPOSE_FILE} at {path} still defines a service for agent {name}; start the rest of the factory "
        "with the `disinto up SERVICE…` that `python -m disinto_infra plan` prints, never a bare `disinto up` "
        "(see docs/migration.md)"
        for name in conflicts
    ]


def build_fleet(
    settings: StackSettings,
    fleet: Fleet,
    stack: str,
    formulas: Mapping[str, Formula] | None = None,
    warn: Callable[[str], None] | None = None,
    probe_servers: bool = False,
) -> dict[str, Agent]:
    """Register every agent of the fleet; the fleet must already be validated.

    The formulas are read first when not given, so a missing one registers nothing (ConfigError).
    Compose conflicts go to `warn` (default: `pulumi.log.warn`, shown by `pulumi preview`/`up`).
    `probe_servers` (the program sets it for `pulumi up`, never for a preview or `plan`): model
    servers that answer with fewer slots than agents are warned about too (issue 10).
    """
    if formulas is None:
        formulas = read_formulas(fleet, settings.factory_root)
    pairs = fleet.agents()
    messages = compose_warnings(settings, (spec.name for _, spec in pairs))
    if settings.runtime == runtime_nomad.NAME:
        messages += runtime_nomad.takeover_warnings(settings, (spec.name for _, spec in pairs))
    if probe_servers:
        messages += crowded_servers([Placed(str(project.path), spec) for project, spec in pairs])
    for message in messages:
        (warn or pulumi.log.warn)(message)
    agents: dict[str, Agent] = {}
    if pairs:
        runtime = RUNTIMES[settings.runtime](settings)
        for project, spec in pairs:
            agents[spec.name] = Agent(
                spec.name, AgentArgs(spec, project, settings, runtime, stack, formulas[spec.name])
            )
    export_agents(agents)
    return agents


def export_agents(agents: dict[str, Agent]) -> None:
    """Stack outputs: a readable summary per agent, and the credentials as secret outputs."""
    pulumi.export("agents", {name: agent.summary() for name, agent in agents.items()})
    # Secret explicitly, not only through the resources' additional_secret_outputs.
    pulumi.export("agentTokens", pulumi.Output.secret({n: a.token.token for n, a in agents.items()}))
    pulumi.export("agentPasswords", pulumi.Output.secret({n: a.user.password for n, a in agents.items()}))
