"""One agent's Nomad job, as typed objects of the Nomad API (runtimes/nomad/jobspec.py): the factory's
agents task shape for one agent alone.

One group, one docker task: the agents image, its own two volumes and the factory's two shared
read-only ones, the non-secret env the docker container gets, and two env templates: FORGE_URL from
Nomad's service discovery, the secrets from the agent's own KV secret (and the review token from its
own secret for a `review` agent). Nothing secret is in the job, so a rotation changes only its Meta.
The task never holds a Vault token; only the templates use it, and only a changed secret restarts
the task. Why: docs/decisions/nomad-job-shape.md, docs/decisions/nomad-volume-placement.md.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from disinto_infra import naming
from disinto_infra.config.stack_settings import StackSettings
from disinto_infra.runtimes import agent_entrypoint
from disinto_infra.runtimes.env import BASE_URL_VAR, CONTAINER_HOME, EnvVar
from disinto_infra.runtimes.nomad.jobspec import (
    Constraint,
    DockerConfig,
    Job,
    Resources,
    RestartPolicy,
    Task,
    TaskGroup,
    Template,
    Vault,
    VolumeMount,
    VolumeRequest,
    WaitConfig,
    WorkloadIdentity,
    nanoseconds,
)
from disinto_infra.runtimes.nomad.vault_policy import KvPath, agent_secret, review_secret

FORGE_SERVICE = "forgejo"  # the Nomad service the factory's Forgejo job registers
# The factory's key names in a bot's KV secret; other secret env values go under their own names.
KV_KEYS = {"FORGE_TOKEN": "token", "FORGE_PASS": "pass"}
# The factory's agents job: fail fast to the scheduler; room for Claude/llama sessions.
TOKEN_META = "disinto.token"
FORGE_URL_WAIT_MIN, FORGE_URL_WAIT_MAX = 15, 60  # seconds
RESTART = RestartPolicy(Attempts=3, Interval=nanoseconds(300), Delay=nanoseconds(15), Mode="delay")
RESOURCES = Resources(CPU=500, MemoryMB=1024)
# One agent's volumes serve one allocation at a time, mounted as folders.
ACCESS_MODE = "single-node-writer"
ATTACHMENT_MODE = "file-system"
SECRETS_FILE = "secrets/forge.env"
# The review credential: in the env only of agents with this role, from its own KV secret.
REVIEW_ROLE = "review"
REVIEW_TOKEN_VAR = "FORGE_REVIEW_TOKEN"
# The audience of the task's Vault identity; the JWT role's bound_audiences (runtimes/nomad/resources.py) is
# this same list: the factory's and Nomad's default. Why: docs/decisions/nomad-job-shape.md
VAULT_AUDIENCES = ("vault.io",)
# Nomad names the identity a task's Vault block uses "vault_" + its cluster ("default").
VAULT_IDENTITY = "vault_default"
# How long each identity JWT lives (the factory's); Nomad renews it before it expires. Only a
# non-default identity may have a TTL.
VAULT_IDENTITY_TTL = nanoseconds(3600)
FORGE_URL_FILE = "local/forge-url.env"


@dataclass(frozen=True)
class SharedVolume:
    """A static host volume of the factory's Nomad client, mounted read-only into every agent, as
    the factory's agents job does. Read-only, so sharing it is not the collision this project ends."""

    key: str
    destination: str


# The project TOMLs (the agents image holds none, and its entrypoint exits without them) and the ops
# repository, as the factory mounts them. Why: docs/decisions/nomad-job-shape.md
SHARED_VOLUMES = (
    SharedVolume("factory-projects", "/srv/disinto/project-repos/_factory/projects"),
    SharedVolume("ops-repo", f"{CONTAINER_HOME}/repos/_factory/disinto-ops"),
)


@dataclass(frozen=True)
class AgentVolume:
    key: str  # the volume's name inside the job
    name: str  # the Nomad volume's own name
    destination: str
    child: str  # its logical name under the Agent component (the docker runtime's volume names)


def agent_volumes(agent: str) -> list[AgentVolume]:
    names = naming.child_names(agent)
    return [
        AgentVolume("repos", naming.repos_volume(agent), f"{CONTAINER_HOME}/repos", names.repos),
        AgentVolume("data", naming.data_volume(agent), f"{CONTAINER_HOME}/data", names.data),
    ]


def kv_key(env_name: str) -> str:
    return KV_KEYS.get(env_name, env_name.lower())


def secret_env(env: list[EnvVar]) -> list[EnvVar]:
    """The secret env the agent's own KV secret holds: all but the review token (its own secret)."""
    return [var for var in env if var.secret and var.name != REVIEW_TOKEN_VAR]


def role_env(env: list[EnvVar], roles: tuple[str, ...] | list[str]) -> list[EnvVar]:
    """The env an agent with these roles gets on Nomad: the review token only with the `review` role."""
    return [var for var in env if var.name != REVIEW_TOKEN_VAR or REVIEW_ROLE in roles]


def reads_review_token(env: list[EnvVar]) -> bool:
    return any(var.name == REVIEW_TOKEN_VAR for var in env)


# Claude Code's folder (sessions, settings, OAuth files) on the agent's own data volume: the task's
# home is not on a volume, so `~/.claude` or the docker runtime's shared host folder (which the job
# does not bind) would be lost at each restart. The entrypoint creates it when missing.
CLAUDE_CONFIG_DIR = f"{CONTAINER_HOME}/data/.claude"
# What the factory's Nomad job sets for agents on a local model and the docker env does not.
# Why: docs/decisions/nomad-job-shape.md
ANTHROPIC_API_HOST = "anthropic.com"
LLAMA_ENV = (
    EnvVar("CLAUDE_MAX_TURNS", "60"),
    EnvVar("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1"),
    EnvVar("CLAUDE_CODE_DISABLE_EXPERIMENTAL_BETAS", "1"),
)


def talks_to_a_local_model(env: list[EnvVar]) -> bool:
    """Every `[agents.<name>]` has a model server of its own (the factory's generator skips one without
    `base_url`); one pointed at Anthropic's own API is no local model."""
    base = next((var.value for var in env if var.name == BASE_URL_VAR), None)
    host = urlsplit(base).hostname if isinstance(base, str) else None
    return host is None or not (host == ANTHROPIC_API_HOST or host.endswith("." + ANTHROPIC_API_HOST))


def job_env(env: list[EnvVar]) -> list[EnvVar]:
    """The docker container's env as the job needs it: Claude's folder on the data volume and, for an
    agent on a local model, the factory job's local-model settings after the other CLAUDE_* (docs/nomad.md:
    the env on Nomad)."""
    moved = {"CLAUDE_CONFIG_DIR": CLAUDE_CONFIG_DIR, "CLAUDE_CREDENTIALS_DIR": f"{CLAUDE_CONFIG_DIR}/credentials"}
    out = [EnvVar(var.name, moved[var.name]) if var.name in moved else var for var in env]
    have = {var.name for var in out}
    local = LLAMA_ENV if talks_to_a_local_model(env) else ()
    added = [var for var in local if var.name not in have]
    last_claude = max((i for i, var in enumerate(out) if var.name.startswith("CLAUDE_")), default=len(out) - 1)
    return [*out[: last_claude + 1], *added, *out[last_claude + 1 :]]


def plain_env(env: list[EnvVar]) -> dict[str, str]:
    """What the job's `Env` holds: the non-secret job env, less FORGE_URL (discovered, see below)."""
    out = {}
    for var in job_env(env):
        if var.secret or var.name == "FORGE_URL":
            continue
        if not isinstance(var.value, str):
            raise TypeError(f"{var.name}: a jobspec value must be known when the program runs")
        out[var.name] = var.value
    return out


def task_env(env: list[EnvVar]) -> list[EnvVar]:
    """The env as the task gets it: FORGE_URL is found at start, the rest is `job_env`."""
    found = f"http://<address>:<port> of Nomad service {FORGE_SERVICE}"
    return [EnvVar(var.name, found) if var.name == "FORGE_URL" else var for var in job_env(env)]


def _go_string(value: str) -> str:
    # A JSON string is a valid Go template string literal.
    return json.dumps(value)


def _secret_block(secret: KvPath, names: list[str]) -> list[str]:
    lines = [f"{name}={{{{ .Data.data.{kv_key(name)} | toJSON }}}}" for name in names]
    return [f"{{{{ with secret {_go_string(secret.data)} }}}}", *lines, "{{ end }}"]


def secrets_template(secret: KvPath, env: list[EnvVar], review: KvPath | None = None) -> Template:
    """Renders the secret env vars from the agent's own KV secret, as an env file, and the review
    token from `review` when the env has it. Each value as a JSON string: Nomad reads the file with
    go-envparse, which unquotes it, so an api_key with a quote, `#` or a space arrives whole (a bare
    value would be cut or mis-parsed)."""
    lines = _secret_block(secret, [var.name for var in secret_env(env)])
    if review is not None and reads_review_token(env):
        lines += _secret_block(review, [REVIEW_TOKEN_VAR])
    body = "\n".join(lines) + "\n"
    return Template(DestPath=SECRETS_FILE, EmbeddedTmpl=body, Envvars=True, ChangeMode="restart")


def forge_url_template(service: str = FORGE_SERVICE) -> Template:
    """FORGE_URL from Nomad's service discovery, as the factory's jobs find Forgejo: a task in a
    bridge network cannot resolve the compose-era host name `forgejo`. The first instance wins.

    A Forgejo redeploy removes the service, then registers it again: without a wait the template
    renders twice and restarts the agent twice, once with no FORGE_URL. The wait renders only once
    the registrations have been quiet for FORGE_URL_WAIT_MIN (at most FORGE_URL_WAIT_MAX apart), so a
    redeploy quicker than that restarts the agent once, or not at all when the address is the same.
    """
    body = (
        f"{{{{ with nomadService {_go_string(service)} }}}}{{{{ with index . 0 }}}}"
        "FORGE_URL=http://{{ .Address }}:{{ .Port }}{{ end }}{{ end }}\n"
    )
    wait = WaitConfig(Min=nanoseconds(FORGE_URL_WAIT_MIN), Max=nanoseconds(FORGE_URL_WAIT_MAX))
    return Template(DestPath=FORGE_URL_FILE, EmbeddedTmpl=body, Envvars=True, ChangeMode="restart", Wait=wait)


def placement_constraints(settings: StackSettings) -> list[Constraint] | None:
    c = settings.nomad_constraint
    return [Constraint(LTarget=c.attribute, RTarget=c.value, Operand=c.operator)] if c else None


# Where the job may run, said for the volumes too: Nomad places a volume on its own, knowing
# nothing of the job. A job without a pool runs in the namespace's default pool, "default" on Nomad
# CE; the job and its volumes both name it. Why: docs/decisions/nomad-volume-placement.md
DEFAULT_NODE_POOL = "default"
# What Nomad itself asks of a node for this job: a detected docker driver and, for a task with a
# vault block, a Vault client.
DOCKER_DRIVER = Constraint(LTarget="${attr.driver.docker}", RTarget="1", Operand="=")
VAULT_CLIENT = Constraint(LTarget="${attr.vault.version}", RTarget=">= 0.6.1", Operand="semver")


def node_pool(settings: StackSettings) -> str:
    return settings.nomad_node_pool or DEFAULT_NODE_POOL


def datacenter_constraint(datacenters: tuple[str, ...]) -> Constraint:
    """The job's datacenters as one constraint on `${node.datacenter}`; `*` in a name is Nomad's
    glob, so it becomes `.*`."""
    names = "|".join(re.escape(dc).replace(r"\*", ".*") for dc in datacenters)
    return Constraint(LTarget="${node.datacenter}", RTarget=f"^({names})$", Operand="regexp")


def volume_constraints(settings: StackSettings) -> list[Constraint]:
    """The volumes go only where the job can run: its own constraint, its datacenters, and what
    the job implies of a node (the docker driver, a Vault client)."""
    return [
        *(placement_constraints(settings) or []),
        datacenter_constraint(settings.nomad_datacenters),
        DOCKER_DRIVER,
        VAULT_CLIENT,
    ]


def agent_job(agent: str, settings: StackSettings, stack: str, env: list[EnvVar], token_name: str = "") -> Job:
    """The agent's job: one group, one docker task, its own volumes, its own Vault role.

    `token_name`, the name of the agent's current Forgejo token (not secret), goes into the job's
    Meta: a rotation changes it, so `up` registers that agent's job again and its new allocation
    renders the new secret at once (a KV v2 secret has no lease: a template re-reads it only every
    few minutes, and the old token is revoked before that). Other agents' jobs stay as they were.
    """
    volumes = agent_volumes(agent)
    secret = agent_secret(settings.vault_kv_mount, settings.vault_kv_prefix, agent)
    review = review_secret(settings.vault_kv_mount, settings.vault_kv_prefix)
    task = Task(
        Name="agent",
        Driver="docker",
        # Claude Code needs ptrace and /proc, as under compose. The image's
        # entrypoint under the same wrapper as on docker: on the stop signal the loop starts no new
        # poll and the jobs in flight may finish (runtimes/agent_entrypoint.py).
        Config=DockerConfig(
            image=settings.agent_image, security_opt=["apparmor=unconfined"], entrypoint=agent_entrypoint.ENTRYPOINT
        ),
        # How long they may: the stack's grace, as docker's destroy_grace_seconds. Nomad's own default
        # is 5 s, and a client caps it at its `max_kill_timeout` (30 s unless raised).
        KillTimeout=nanoseconds(settings.stop_grace_seconds),
        Env=plain_env(env),
        Templates=[forge_url_template(), secrets_template(secret, env, review)],
        # The task needs no Vault token of its own (neither env nor file); the templates get theirs.
        # "noop": a new token re-renders the templates and restarts nothing by itself
        # (docs/decisions/nomad-job-shape.md).
        Vault=Vault(Role=naming.vault_policy(agent), Env=False, DisableFile=True, ChangeMode="noop"),
        # Which JWT Vault gets, so the job needs no server-side `vault.default_identity`.
        Identities=[WorkloadIdentity(Name=VAULT_IDENTITY, Audience=list(VAULT_AUDIENCES), TTL=VAULT_IDENTITY_TTL)],
        VolumeMounts=[
            *(VolumeMount(Volume=v.key, Destination=v.destination) for v in volumes),
            *(VolumeMount(Volume=v.key, Destination=v.destination, ReadOnly=True) for v in SHARED_VOLUMES),
        ],
        Resources=RESOURCES,
    )
    group = TaskGroup(
        Name="agent",
        Count=1,
        RestartPolicy=RESTART,
        Volumes={
            **{
                v.key: VolumeRequest(
                    Name=v.key, Type="host", Source=v.name, AccessMode=ACCESS_MODE, AttachmentMode=ATTACHMENT_MODE
                )
                for v in volumes
            },
            **{v.key: VolumeRequest(Name=v.key, Type="host", Source=v.key, ReadOnly=True) for v in SHARED_VOLUMES},
        },
        Tasks=[task],
    )
    job_id = naming.nomad_job(agent)
    return Job(
        ID=job_id,
        Name=job_id,
        Namespace=settings.nomad_namespace,
        Type="service",
        Datacenters=list(settings.nomad_datacenters),
        TaskGroups=[group],
        NodePool=node_pool(settings),
        Constraints=placement_constraints(settings),
        Meta={
            "disinto.agent": agent,
            "disinto.stack": stack,
            "disinto.managed-by": naming.MANAGED_BY,
            **({TOKEN_META: token_name} if token_name else {}),
        },
    )
