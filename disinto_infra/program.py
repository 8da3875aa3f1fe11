"""The Pulumi program proper: one image per stack, one Agent per validated `[agents.*]`, exports.

Used by the Pulumi entry point (`__main__.py`) and by the offline `plan` under mocks, so both run
the same code.
"""
from __future__ import annotations

import pulumi
import pulumi_docker as docker

from .agent import Agent, AgentArgs
from .model import Fleet
from .settings import StackSettings

IMAGE_RESOURCE = "agent-image"


def build_fleet(settings: StackSettings, fleet: Fleet, stack: str) -> dict[str, Agent]:
    """Register every agent of the fleet; the fleet must already be validated."""
    agents: dict[str, Agent] = {}
    pairs = fleet.agents()
    if pairs:
        # Pulled once per stack; keep_locally so destroying the stack never deletes an image
        # that other containers of the factory may still run.
        image = docker.RemoteImage(IMAGE_RESOURCE, name=settings.agent_image, keep_locally=True)
        for project, spec in pairs:
            agents[spec.name] = Agent(spec.name, AgentArgs(spec, project, settings, image, stack))
    export_agents(agents)
    return agents


def export_agents(agents: dict[str, Agent]) -> None:
    """Stack outputs: a readable summary per agent, and the credentials as secret outputs."""
    pulumi.export("agents", {
        name: {
            "user": agent.user.username,
            "container": agent.container.name,
            "volumes": [agent.repos_volume.name, agent.data_volume.name],
            "env_suffix": agent.spec.env_suffix,
            "token_last_eight": agent.token.token_last_eight,
        }
        for name, agent in agents.items()
    })
    # Secret explicitly, not only through the resources' additional_secret_outputs.
    pulumi.export("agentTokens", pulumi.Output.secret({n: a.token.token for n, a in agents.items()}))
    pulumi.export("agentPasswords", pulumi.Output.secret({n: a.user.password for n, a in agents.items()}))
