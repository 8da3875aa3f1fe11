"""An agent's Forgejo identity: bot user, API token, write access, private `.profile` repository.

The same on every runtime: a runtime only decides where the agent runs and how the token and
password reach it. The children are the Agent component's own (its URNs never name a runtime).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from disinto_infra import naming
from disinto_infra.config import token_scopes
from disinto_infra.config.project_toml import AgentSpec, Project
from disinto_infra.config.stack_settings import StackSettings
from disinto_infra.factory.formulas import Formula
from disinto_infra.forgejo.collaborator import ForgejoCollaborator, ForgejoCollaboratorArgs
from disinto_infra.forgejo.profile_repo import ForgejoProfileRepo, ForgejoProfileRepoArgs
from disinto_infra.forgejo.token import ForgejoToken, ForgejoTokenArgs
from disinto_infra.forgejo.user import ForgejoUser, ForgejoUserArgs


@dataclass(frozen=True)
class ForgejoIdentity:
    user: ForgejoUser
    token: ForgejoToken
    collaborator: ForgejoCollaborator
    profile: ForgejoProfileRepo


def scopes_of(spec: AgentSpec, settings: StackSettings) -> list[str]:
    """The agent's own, else the stack's, else the least its roles need."""
    return list(spec.token_scopes or settings.token_scopes or token_scopes.for_roles(spec.roles))


def token_max_age(spec: AgentSpec, settings: StackSettings) -> int | None:
    """The agent's own limit, else the stack's; None: the token never expires by age."""
    return spec.token_max_age_days or settings.token_max_age_days


def forgejo_identity(
    names: naming.ChildNames,
    spec: AgentSpec,
    project: Project,
    settings: StackSettings,
    formula: Formula,
    parent: pulumi.Resource,
) -> ForgejoIdentity:
    # Removing the agent retires the user (its delete): no sign-in, no SSH key; the account stays, so
    # its issues, comments and commits stay attributed (docs/decisions/retired-agents.md).
    user = ForgejoUser(
        names.user,
        ForgejoUserArgs(
            username=spec.forge_user,
            email=naming.bot_email(spec.forge_user, project.name),
            full_name=f"disinto agent {spec.name}",
            password_rotation=spec.rotate_password,
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    # Token and collaborator are deleted with the agent: that is the revocation.
    token = ForgejoToken(
        names.token,
        ForgejoTokenArgs(
            username=user.username,
            password=user.password,
            scopes=scopes_of(spec, settings),
            rotation=spec.rotate_token,
            user_id=user.user_id,
            max_age_days=token_max_age(spec, settings),
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    collaborator = ForgejoCollaborator(
        names.collaborator,
        ForgejoCollaboratorArgs(repo=project.repo, username=user.username, permission="write", user_id=user.user_id),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    # Kept when the agent goes, like the user: its journal is the agent's history.
    profile = ForgejoProfileRepo(
        names.profile,
        ForgejoProfileRepoArgs(username=user.username, formula=formula.text, formula_source=str(formula.path)),
        opts=pulumi.ResourceOptions(parent=parent, retain_on_delete=True),
    )
    return ForgejoIdentity(user, token, collaborator, profile)
