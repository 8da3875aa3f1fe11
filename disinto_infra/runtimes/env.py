"""An agent container's environment, as one typed list.

The Agent component turns this list into docker `envs`, and the offline `plan` prints it: both read
the same list, so what an operator sees is what the container gets. Values that are credentials
are marked secret and wrapped with `Output.secret` when rendered, so they stay secret even where the
engine's `additional_secret_outputs` does not apply (mocks); one secret element makes Pulumi treat
the whole registered `envs` list as secret.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeGuard

import pulumi

from disinto_infra import naming
from disinto_infra.config.project_toml import AgentSpec, Project
from disinto_infra.config.stack_settings import StackSettings
from disinto_infra.url_mask import has_credentials

CONTAINER_HOME = "/home/agent"
BASE_URL_VAR = "ANTHROPIC_BASE_URL"


@dataclass(frozen=True)
class EnvVar:
    name: str
    value: pulumi.Input[str]
    secret: bool = False

    def entry(self) -> pulumi.Input[str]:
        """`NAME=value` as docker wants it; secret values stay wrapped as secrets."""
        if self.secret:
            return pulumi.Output.secret(self.value).apply(lambda v: f"{self.name}={v}")
        if isinstance(self.value, str):
            return f"{self.name}={self.value}"
        return pulumi.Output.concat(self.name, "=", self.value)


@dataclass(frozen=True)
class AgentCredentials:
    """What the agent authenticates with: its own token, and what goes in FORGE_PASS (the token too:
    `Agent._credentials` says why the password itself is not handed out)."""

    token: pulumi.Input[str]
    password: pulumi.Input[str]


def _is_set(value: pulumi.Input[str] | None) -> TypeGuard[pulumi.Input[str]]:
    return value is not None and not (isinstance(value, str) and not value)


def repo_root(project: Project) -> str:
    return f"{CONTAINER_HOME}/repos/{project.name}"


def build_env(
    agent: AgentSpec, project: Project, settings: StackSettings, credentials: AgentCredentials
) -> list[EnvVar]:
    """Everything the old compose generator set for a local-model agent, in its order."""
    claude_config = f"{settings.claude_shared_dir.rstrip('/')}/config"
    env = [
        EnvVar("FORGE_URL", settings.forge_internal_url),
        EnvVar("FORGE_REPO", project.repo),
        EnvVar("FACTORY_REPO", project.repo),
        EnvVar("FORGE_TOKEN", credentials.token, secret=True),
        EnvVar("FORGE_PASS", credentials.password, secret=True),
        EnvVar(f"FORGE_BOT_USER_{naming.env_suffix(agent.forge_user)}", agent.forge_user),
        # Comma-joined: the agent entrypoint matches ",<role>," against ",$AGENT_ROLES,".
        EnvVar("AGENT_ROLES", ",".join(agent.roles)),
        # Secret when it holds a user:password, so state and preview never show them in clear.
        EnvVar(BASE_URL_VAR, agent.base_url, secret=has_credentials(agent.base_url)),
        # Usually a placeholder for a local model, but a real key is a credential.
        EnvVar("ANTHROPIC_API_KEY", agent.api_key, secret=True),
        EnvVar("CLAUDE_MODEL", agent.model),
        EnvVar("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE", str(agent.compact_pct)),
        EnvVar("POLL_INTERVAL", str(agent.poll_interval)),
        EnvVar("PROJECT_NAME", project.name),
        EnvVar("PROJECT_REPO_ROOT", repo_root(project)),
        EnvVar("DISINTO_CONTAINER", "1"),
        EnvVar("CLAUDE_CONFIG_DIR", claude_config),
        EnvVar("CLAUDE_CREDENTIALS_DIR", f"{claude_config}/credentials"),
        EnvVar("CLAUDE_TIMEOUT", "7200"),
        EnvVar("CLAUDE_CODE_ATTRIBUTION_HEADER", "0"),
        EnvVar("CLAUDE_CODE_ENABLE_TELEMETRY", "0"),
        EnvVar("WOODPECKER_DATA_DIR", "/woodpecker-data"),
        EnvVar("WOODPECKER_REPO_ID", str(project.woodpecker_repo_id)),
        EnvVar("FORGE_BOT_USERNAMES", settings.forge_bot_usernames),
    ]
    if _is_set(settings.forge_review_token):
        env.append(EnvVar("FORGE_REVIEW_TOKEN", settings.forge_review_token, secret=True))
    env += [
        EnvVar("ARCHITECT_INTERVAL", str(settings.architect_interval)),
        EnvVar("PLANNER_INTERVAL", str(settings.planner_interval)),
        EnvVar("SUPERVISOR_INTERVAL", str(settings.supervisor_interval)),
    ]
    return env


def docker_envs(env: Sequence[EnvVar]) -> list[pulumi.Input[str]]:
    return [var.entry() for var in env]
