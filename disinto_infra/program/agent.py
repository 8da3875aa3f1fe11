"""The Agent component: one isolated agent per `[agents.*]`: its Forgejo identity and its runtime part.

Children have fixed logical names (naming.ChildNames): they are part of every URN, so adding or
removing another agent never touches this one. The identity (forgejo/identity.py) is the same on every
runtime; the runtime (runtimes/docker.py, runtimes/nomad/resources.py) places the agent's workload and its
volumes. Removing the agent revokes its token and repository access, removes its workload, and
retires its Forgejo user (no sign-in, no SSH key); the account, its `.profile` and its volumes stay
(`retain_on_delete`): history and data are never lost by default.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from disinto_infra import naming
from disinto_infra.config.project_toml import AgentSpec, Project
from disinto_infra.config.stack_settings import StackSettings
from disinto_infra.factory.env_export import export_credentials
from disinto_infra.factory.formulas import Formula
from disinto_infra.forgejo.identity import forgejo_identity
from disinto_infra.runtimes.base import OutputValues, PlaceArgs, Placement, Runtime
from disinto_infra.runtimes.env import AgentCredentials, EnvVar, build_env

AGENT_TYPE = "disinto:index:Agent"


@dataclass(frozen=True)
class AgentArgs:
    spec: AgentSpec
    project: Project
    settings: StackSettings
    runtime: Runtime  # the stack's runtime (`for_stack` of runtime_docker / runtime_nomad)
    stack: str
    formula: Formula  # the first role's formula, for the .profile repository


class Agent(pulumi.ComponentResource):
    """`disinto:index:Agent`, named after the agent."""

    spec: AgentSpec
    project: Project
    env: list[EnvVar]
    placement: Placement

    def __init__(self, name: str, args: AgentArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(AGENT_TYPE, name, None, opts)
        self.spec = args.spec
        self.project = args.project
        self.names = naming.child_names(name)
        self.identity = forgejo_identity(self.names, args.spec, args.project, args.settings, args.formula, self)
        self.user, self.token = self.identity.user, self.identity.token
        self.collaborator, self.profile = self.identity.collaborator, self.identity.profile
        self.env = build_env(args.spec, args.project, args.settings, self._credentials())
        self.placement = args.runtime.place(
            PlaceArgs(
                self,
                self.names,
                args.spec,
                args.project,
                args.settings,
                args.stack,
                self.identity,
                self.env,
            )
        )
        self.env = self.placement.env
        self._export_credentials(args)
        self.register_outputs(self.summary())

    def _credentials(self) -> AgentCredentials:
        """Its token, as FORGE_TOKEN and as FORGE_PASS; the password stays in the state
        (docs/decisions/forge-pass-is-the-token.md)."""
        return AgentCredentials(token=self.token.token, password=self.token.token)

    def summary(self) -> OutputValues:
        """The agent in the `agents` stack output (and the component's own outputs)."""
        return {
            "user": self.user.username,
            **self.placement.outputs(),
            "env_suffix": self.spec.env_suffix,
            "token_last_eight": self.token.token_last_eight,
        }

    def _export_credentials(self, args: AgentArgs) -> None:
        """`FORGE_TOKEN_<SUFFIX>` / `FORGE_PASS_<SUFFIX>` in the factory's .env, when asked for."""
        self.env_export = None
        if args.settings.env_file:
            self.env_export = export_credentials(
                args.spec.name,
                args.spec.env_suffix,
                self.token.token,
                self._credentials().password,
                args.settings.env_file,
                args.spec.base_url,
                pulumi.ResourceOptions(parent=self),
            )
