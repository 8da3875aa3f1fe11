"""The Agent component: one isolated agent (Forgejo identity, volumes, container) per `[agents.*]`.

Children have fixed logical names (naming.ChildNames): they are part of every URN, so adding or
removing another agent never touches this one. Removing the agent revokes its token and repository
access and removes its container, but keeps its Forgejo user and both volumes (`retain_on_delete`):
history and data are never lost by default.
"""
from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from . import naming
from .container_env import CONTAINER_HOME, AgentCredentials, EnvVar, build_env, docker_envs
from .env_export import export_credentials
from .forgejo import (
    ForgejoCollaborator,
    ForgejoCollaboratorArgs,
    ForgejoProfileRepo,
    ForgejoProfileRepoArgs,
    ForgejoToken,
    ForgejoTokenArgs,
    ForgejoUser,
    ForgejoUserArgs,
)
from .formulas import Formula
from .migration_resources import copy_legacy_data, retire_compose_container
from .model import AgentSpec, Project
from .settings import StackSettings

AGENT_TYPE = "disinto:index:Agent"
DEFAULT_TOKEN_SCOPES = ("all",)


@dataclass(frozen=True)
class AgentArgs:
    spec: AgentSpec
    project: Project
    settings: StackSettings
    image: docker.RemoteImage  # one per stack, pulled once
    stack: str
    formula: Formula  # the first role's formula, for the .profile repository


def image_reference(image: docker.RemoteImage) -> pulumi.Output[str]:
    """The pulled image by digest, so a new image under the same tag replaces the containers."""
    return pulumi.Output.all(image.repo_digest, image.image_id).apply(lambda ref: ref[0] or ref[1])


def token_scopes(spec: AgentSpec, settings: StackSettings) -> list[str]:
    return list(spec.token_scopes or settings.token_scopes or DEFAULT_TOKEN_SCOPES)


def token_max_age(spec: AgentSpec, settings: StackSettings) -> int | None:
    """The agent's own limit, else the stack's; None: the token never expires by age."""
    return spec.token_max_age_days or settings.token_max_age_days


def labels(agent: str, stack: str) -> dict[str, str]:
    return {"disinto.agent": agent, "disinto.stack": stack, "disinto.managed-by": naming.MANAGED_BY}


def bind_mounts(settings: StackSettings) -> list[docker.ContainerVolumeArgs]:
    """Host folders, as the old compose file mounted them (binds create missing host folders)."""
    factory = settings.factory_root.rstrip("/")
    binds = [
        (settings.claude_shared_dir, settings.claude_shared_dir, False),
        (settings.claude_config_file, f"{CONTAINER_HOME}/.claude.json", True),
        (settings.ssh_dir, f"{CONTAINER_HOME}/.ssh", True),
        (f"{factory}/projects", f"{CONTAINER_HOME}/disinto/projects", True),
        (f"{factory}/.env", f"{CONTAINER_HOME}/disinto/.env", True),
        (f"{factory}/state", f"{CONTAINER_HOME}/disinto/state", False),
    ]
    return [
        docker.ContainerVolumeArgs(host_path=host, container_path=inside, read_only=ro or None)
        for host, inside, ro in binds
    ]


class Agent(pulumi.ComponentResource):
    """`disinto:index:Agent`, named after the agent."""

    spec: AgentSpec
    project: Project
    env: list[EnvVar]

    def __init__(self, name: str, args: AgentArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(AGENT_TYPE, name, None, opts)
        self.spec = args.spec
        self.project = args.project
        self.names = naming.child_names(name)
        self._identity(args)
        self._volumes(args)
        self._migration(args)
        self.env = build_env(
            args.spec, args.project, args.settings,
            AgentCredentials(token=self.token.token, password=self.user.password),
        )
        self._container(args)
        self._export_credentials(args)
        self.register_outputs({
            "user": self.user.username,
            "container": self.container.name,
            "volumes": [self.repos_volume.name, self.data_volume.name],
            "env_suffix": args.spec.env_suffix,
            "token_last_eight": self.token.token_last_eight,
        })

    def _identity(self, args: AgentArgs) -> None:
        spec = args.spec
        # The user outlives the agent: its issues, comments and commits stay attributed.
        self.user = ForgejoUser(
            self.names.user,
            ForgejoUserArgs(
                username=spec.forge_user,
                email=naming.bot_email(spec.forge_user, args.project.name),
                full_name=f"disinto agent {spec.name}",
                password_rotation=spec.rotate_password,
            ),
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
        )
        # Token and collaborator are deleted with the agent: that is the revocation.
        self.token = ForgejoToken(
            self.names.token,
            ForgejoTokenArgs(
                username=self.user.username,
                password=self.user.password,
                scopes=token_scopes(spec, args.settings),
                rotation=spec.rotate_token,
                user_id=self.user.user_id,
                max_age_days=token_max_age(spec, args.settings),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.collaborator = ForgejoCollaborator(
            self.names.collaborator,
            ForgejoCollaboratorArgs(
                repo=args.project.repo, username=self.user.username, permission="write", user_id=self.user.user_id
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Kept when the agent goes, like the user: its journal is the agent's history.
        self.profile = ForgejoProfileRepo(
            self.names.profile,
            ForgejoProfileRepoArgs(
                username=self.user.username,
                formula=args.formula.text,
                formula_source=str(args.formula.path),
            ),
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
        )

    def _volumes(self, args: AgentArgs) -> None:
        name = args.spec.name
        volume_labels = [
            docker.VolumeLabelArgs(label="disinto.agent", value=name),
            docker.VolumeLabelArgs(label="disinto.managed-by", value=naming.MANAGED_BY),
        ]
        keep = pulumi.ResourceOptions(parent=self, retain_on_delete=True)
        self.repos_volume = docker.Volume(
            self.names.repos, name=naming.repos_volume(name), labels=volume_labels, opts=keep
        )
        self.data_volume = docker.Volume(
            self.names.data, name=naming.data_volume(name), labels=volume_labels, opts=keep
        )

    def _migration(self, args: AgentArgs) -> None:
        """Take over from a compose deployment: retire its container, seed our data volume once."""
        name, host = args.spec.name, args.settings.docker_host
        self.retire = retire_compose_container(
            name, naming.container_name(name), host, pulumi.ResourceOptions(parent=self)
        )
        self.copy_data = copy_legacy_data(
            name,
            args.settings.compose_project,
            name,
            self.data_volume,
            image_reference(args.image),
            host,
            # Never copy from a compose agent that is still writing to it.
            pulumi.ResourceOptions(parent=self, depends_on=[self.retire]),
        )

    def _export_credentials(self, args: AgentArgs) -> None:
        """`FORGE_TOKEN_<SUFFIX>` / `FORGE_PASS_<SUFFIX>` in the factory's .env, when asked for."""
        self.env_export = None
        if args.settings.env_file:
            self.env_export = export_credentials(
                args.spec.name,
                args.spec.env_suffix,
                self.token.token,
                self.user.password,
                args.settings.env_file,
                args.spec.base_url,
                pulumi.ResourceOptions(parent=self),
            )

    def _container(self, args: AgentArgs) -> None:
        name = args.spec.name
        volumes = [
            docker.ContainerVolumeArgs(volume_name=self.data_volume.name, container_path=f"{CONTAINER_HOME}/data"),
            docker.ContainerVolumeArgs(volume_name=self.repos_volume.name, container_path=f"{CONTAINER_HOME}/repos"),
            *bind_mounts(args.settings),
        ]
        self.container = docker.Container(
            self.names.container,
            name=naming.container_name(name),
            image=image_reference(args.image),
            restart="unless-stopped",
            security_opts=["apparmor=unconfined"],
            networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=args.settings.network)],
            labels=[docker.ContainerLabelArgs(label=k, value=v) for k, v in labels(name, args.stack).items()],
            envs=docker_envs(self.env),
            volumes=volumes,
            opts=pulumi.ResourceOptions(
                parent=self,
                # Container names are unique on the host: the old one must go first.
                delete_before_replace=True,
                additional_secret_outputs=["envs"],
                # Start only once the bot can reach the repository, the compose container that
                # held this name is gone and the old data is copied in.
                depends_on=[self.collaborator, self.retire, self.copy_data],
            ),
        )
