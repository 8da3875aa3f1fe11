"""What an agent runtime is given and what it gives back (the docker and the nomad one).

A runtime is two steps: `for_stack` registers what one stack shares (the docker image; nothing
or providers on Nomad) once, and its `place` registers one agent's own workload, parented to the
Agent component, from that agent's identity and env.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import pulumi

from disinto_infra import naming
from disinto_infra.config.project_toml import AgentSpec, Project
from disinto_infra.config.stack_settings import StackSettings
from disinto_infra.forgejo.identity import ForgejoIdentity
from disinto_infra.runtimes.env import EnvVar


@dataclass(frozen=True)
class PlaceArgs:
    """One agent, as its runtime needs it."""

    parent: pulumi.Resource  # the Agent component
    names: naming.ChildNames
    spec: AgentSpec
    project: Project
    settings: StackSettings
    stack: str
    identity: ForgejoIdentity
    env: list[EnvVar]


# What a component registers as its outputs and the stack exports: plain values and Outputs, as
# ComponentResource.register_outputs and pulumi.export take them.
OutputValues = dict[str, object]


class Placement(Protocol):
    """One agent's workload on a runtime, as the stack outputs and the plan show it."""

    kind: str  # "container" or "nomad job": how the plan names `workload`
    workload: str  # the container's or job's name
    volume_names: list[str]
    env: list[EnvVar]  # the env as the workload gets it (what the plan shows)

    def outputs(self) -> OutputValues:
        """The runtime's part of the agent's summary in the `agents` stack output."""
        ...


class Runtime(Protocol):
    """A runtime for one stack (what `for_stack` of a runtime module returns)."""

    def place(self, args: PlaceArgs) -> Placement: ...
