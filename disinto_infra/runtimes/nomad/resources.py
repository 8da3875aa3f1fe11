"""The nomad runtime: each agent as its own Nomad job with its own Vault identity.

Per agent, under its Agent component: `<name>-kv` (its own KV v2 secret), `<name>-policy` (reads
only that secret, and the review token's for a `review` agent), `<name>-role` (a JWT role bound to
this agent's job), `<name>-repos` / `<name>-data` (host volumes, kept when the agent goes) and
`<name>-job` (runtimes/nomad/job.py). Per stack, with `forgeReviewToken` set, that token's own
secret. The jobspec holds no secret: a new password changes only the secret, a rotated token also
the job's Meta, so the job is registered again. Why: docs/decisions/vault-secrets-per-agent.md,
docs/decisions/nomad-job-shape.md, docs/decisions/nomad-volume-placement.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_nomad as nomad
import pulumi_vault as vault

from disinto_infra import naming
from disinto_infra.config.stack_settings import StackSettings
from disinto_infra.runtimes.base import OutputValues, PlaceArgs
from disinto_infra.runtimes.env import EnvVar
from disinto_infra.runtimes.nomad.job import (
    ACCESS_MODE,
    ATTACHMENT_MODE,
    REVIEW_TOKEN_VAR,
    VAULT_AUDIENCES,
    AgentVolume,
    agent_job,
    agent_volumes,
    kv_key,
    node_pool,
    reads_review_token,
    role_env,
    secret_env,
    task_env,
    volume_constraints,
)
from disinto_infra.runtimes.nomad.vault_policy import KvPath, agent_secret, bot_rules, render, review_secret

NAME = "nomad"
# The audience the job's Vault identity carries (nomad_job.VAULT_AUDIENCES): one list for both.
ROLE_AUDIENCES = list(VAULT_AUDIENCES)
# The factory's own role settings (why: docs/decisions/vault-secrets-per-agent.md).
ROLE_USER_CLAIM = "nomad_job_id"
ROLE_TOKEN_TYPE = "service"
# A periodic token, renewed for as long as Nomad renews it: with a max TTL Vault would stop renewing
# it and every agent would restart once a day. Why: docs/decisions/vault-secrets-per-agent.md
ROLE_TOKEN_PERIOD = 1800
VOLUME_PLUGIN = "mkdir"


@dataclass
class NomadPlacement:
    kv_secret: vault.kv.SecretV2
    policy: vault.Policy
    role: vault.jwt.AuthBackendRole
    repos_volume: nomad.DynamicHostVolume
    data_volume: nomad.DynamicHostVolume
    job: nomad.Job
    workload: str
    volume_names: list[str]
    env: list[EnvVar]
    kind: str = "nomad job"

    def outputs(self) -> OutputValues:
        return {"job": self.workload, "volumes": [self.repos_volume.name, self.data_volume.name]}


@dataclass(frozen=True)
class NomadRuntime:
    """Per stack only the review token's secret, when one is set (`for_stack`): Nomad pulls the
    image itself; the providers come from the stack's `nomad:*` / `vault:*` config (addresses;
    tokens as secrets)."""

    review_kv: vault.kv.SecretV2 | None = None  # the review token's own secret, when set

    def place(self, args: PlaceArgs) -> NomadPlacement:
        name, settings = args.spec.name, args.settings
        env = role_env(args.env, args.spec.roles)
        secret = agent_secret(settings.vault_kv_mount, settings.vault_kv_prefix, name)
        kv = _kv_secret(args, secret, env)
        reviews = self.review_kv is not None and reads_review_token(env)
        also_reads = [review_secret(settings.vault_kv_mount, settings.vault_kv_prefix)] if reviews else []
        policy = vault.Policy(
            args.names.vault_policy,
            name=naming.vault_policy(name),
            policy=render(
                bot_rules(secret, also_reads), f"{naming.vault_policy(name)}: agent {name}'s own secret (disinto-infra)"
            ),
            opts=pulumi.ResourceOptions(parent=args.parent),
        )
        role = _role(args, policy)
        repos_spec, data_spec = agent_volumes(name)
        repos = _volume(args, repos_spec)
        # On the repos volume's node: the job needs both on one node, and Nomad would pick each
        # volume's node on its own (docs/decisions/nomad-volume-placement.md).
        data = _volume(args, data_spec, node_id=repos.node_id)
        stack = args.stack
        jobspec = pulumi.Output.from_input(args.identity.token.token_name).apply(
            lambda token_name: agent_job(name, settings, stack, env, token_name).jobspec()
        )
        job = nomad.Job(
            args.names.job,
            jobspec=jobspec,
            json=True,
            # Removing the agent stops the job and purges it, so its id is free again.
            purge_on_destroy=True,
            opts=pulumi.ResourceOptions(
                parent=args.parent,
                # The first start finds its secret, its role and its volumes.
                depends_on=[
                    kv,
                    role,
                    repos,
                    data,
                    args.identity.collaborator,
                    *([self.review_kv] if reviews and self.review_kv else []),
                ],
            ),
        )
        return NomadPlacement(
            kv,
            policy,
            role,
            repos,
            data,
            job,
            workload=naming.nomad_job(name),
            volume_names=[naming.repos_volume(name), naming.data_volume(name)],
            env=task_env(env),
        )


def takeover_warnings(settings: StackSettings, agents: Iterable[str]) -> list[str]:
    """One line per agent named like a bot whose policy the factory writes by hand
    (`<factoryRoot>/vault/policies/bot-<name>.hcl`): the same names, so this stack takes them over.
    Meant for a migration, harmful by accident (docs/decisions/vault-secrets-per-agent.md)."""
    policies = Path(settings.factory_root) / "vault" / "policies"
    lines = []
    for agent in agents:
        own = policies / f"{naming.vault_policy(agent)}.hcl"
        if own.is_file():
            secret = agent_secret(settings.vault_kv_mount, settings.vault_kv_prefix, agent)
            lines.append(
                f"agent {agent}: {own} is the factory's own policy for that bot: this stack takes over the policy "
                f"and role {naming.vault_policy(agent)} and the secret {secret.mount}/{secret.name} (removing the agent "
                "deletes that secret with every version), and the factory's tools/vault-apply-policies.sh and "
                "vault-apply-roles.sh would put theirs back (see docs/nomad.md)"
            )
    return lines


def for_stack(settings: StackSettings) -> NomadRuntime:
    """The stack's one shared registration: the review token's own KV secret, when it is set."""
    token = settings.forge_review_token
    if not token:  # unset or empty, as container_env leaves FORGE_REVIEW_TOKEN out
        return NomadRuntime()
    where = review_secret(settings.vault_kv_mount, settings.vault_kv_prefix)
    return NomadRuntime(review_kv=_secret_v2(REVIEW_KV, where, {kv_key(REVIEW_TOKEN_VAR): token}, None))


REVIEW_KV = "forge-review-token"  # its logical name, at the stack's top


def _kv_secret(args: PlaceArgs, secret: KvPath, env: list[EnvVar]) -> vault.kv.SecretV2:
    values = {kv_key(var.name): var.value for var in secret_env(env)}
    return _secret_v2(args.names.kv_secret, secret, values, args.parent)


def _secret_v2(
    child: str, secret: KvPath, values: dict[str, pulumi.Input[str]], parent: pulumi.Resource | None
) -> vault.kv.SecretV2:
    # Typed as an Input[str]: Output.secret takes Input[U], which an Output[str] matches two ways
    # (U=str or U=Output[str]), and mypy then infers neither.
    data_json: pulumi.Input[str] = pulumi.Output.json_dumps(values)
    return vault.kv.SecretV2(
        child,
        mount=secret.mount,
        name=secret.name,
        data_json=pulumi.Output.secret(data_json),
        # Removing it removes the secret with its history, not only its latest version.
        delete_all_versions=True,
        opts=pulumi.ResourceOptions(parent=parent, additional_secret_outputs=["dataJson", "data"]),
    )


def _role(args: PlaceArgs, policy: vault.Policy) -> vault.jwt.AuthBackendRole:
    name, settings = args.spec.name, args.settings
    return vault.jwt.AuthBackendRole(
        args.names.vault_role,
        backend=settings.vault_auth_mount,
        role_name=naming.vault_policy(name),
        role_type="jwt",
        bound_audiences=ROLE_AUDIENCES,
        user_claim=ROLE_USER_CLAIM,
        # Claim names of Nomad's workload identity, as the factory binds them.
        bound_claims={"nomad_namespace": settings.nomad_namespace, "nomad_job_id": naming.nomad_job(name)},
        token_type=ROLE_TOKEN_TYPE,
        token_policies=[policy.name],
        token_period=ROLE_TOKEN_PERIOD,
        opts=pulumi.ResourceOptions(parent=args.parent),
    )


# Nomad refuses to move a volume to another pool or namespace, and the provider would send that as an
# update, so `up` would fail: a replacement instead, which the preview shows. The old volume is kept
# (retain_on_delete) and holds its name on its node: docs/nomad.md, Moving a live stack.
# Why: docs/decisions/nomad-volume-placement.md
VOLUME_REPLACED_ON = ["namespace", "nodePool"]


def _volume(args: PlaceArgs, volume: AgentVolume, node_id: pulumi.Input[str] | None = None) -> nomad.DynamicHostVolume:
    settings = args.settings
    return nomad.DynamicHostVolume(
        volume.child,
        name=volume.name,
        namespace=settings.nomad_namespace,
        plugin_id=VOLUME_PLUGIN,
        node_id=node_id,
        node_pool=node_pool(settings),
        constraints=[
            nomad.DynamicHostVolumeConstraintArgs(attribute=c.LTarget, operator=c.Operand, value=c.RTarget)
            for c in volume_constraints(settings)
        ],
        capabilities=[nomad.DynamicHostVolumeCapabilityArgs(access_mode=ACCESS_MODE, attachment_mode=ATTACHMENT_MODE)],
        opts=pulumi.ResourceOptions(
            parent=args.parent,
            # Data outlives the agent, as on docker.
            retain_on_delete=True,
            replace_on_changes=VOLUME_REPLACED_ON,
            # Constraints steer only the first placement, and the provider sends any change to them as an
            # update, which Nomad refuses for a volume an allocation claims ("cannot update a volume in
            # use"): a new constraint moves new agents only.
            ignore_changes=["constraints"],
        ),
    )
