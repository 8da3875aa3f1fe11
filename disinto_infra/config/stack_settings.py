"""Stack settings: the `disinto:*` config keys, typed, with their defaults.

`from_mapping` is the pure constructor (tests, the offline `plan`); `from_stack_file` reads a stack
file offline; program/stack_config.py reads the running stack through the same model. The Forgejo
providers read their admin credentials through `ForgeAccess` in their own process, so the
credentials never become resource inputs.
"""

from __future__ import annotations

import difflib
import glob
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic.alias_generators import to_camel
from pydantic_core import ErrorDetails

from disinto_infra import input_file, naming
from disinto_infra.config import docker_host as docker_hosts
from disinto_infra.config import nomad_constraints
from disinto_infra.config import token_scopes as forgejo_scopes
from disinto_infra.config.image_name import digest_problem
from disinto_infra.config.project_toml import (
    MAX_FORGE_TIMEOUT,
    MAX_ROLE_INTERVAL,
    MAX_TOKEN_AGE_DAYS,
    ConfigError,
    NotFound,
    forge_url_problem,
    http_url_problem,
    show,
)
from disinto_infra.parsed import JsonObject
from disinto_infra.url_mask import mask_credentials

if TYPE_CHECKING:
    import pulumi

NAMESPACE = "disinto"

# How each key is read from `pulumi.Config`; the key set is also the set of accepted keys.
KEY_KINDS: dict[str, str] = {
    "projectToml": "str",
    "forgeUrl": "str",
    "forgeInternalUrl": "str",
    "forgeTimeout": "float",
    "adminToken": "secret",
    "adminUser": "str",
    "adminPassword": "secret",
    "agentImage": "str",
    "network": "str",
    "factoryRoot": "str",
    "claudeSharedDir": "str",
    "claudeConfigFile": "str",
    "sshDir": "str",
    "forgeBotUsernames": "str",
    "forgeReviewToken": "secret",
    "tokenScopes": "str",  # a YAML list in the stack file reaches the program as a JSON string
    "adoptExistingUsers": "bool",
    "architectInterval": "int",
    "plannerInterval": "int",
    "supervisorInterval": "int",
    "envFile": "str",
    "composeProject": "str",
    "tokenMaxAgeDays": "int",
    # The docker runtime's container: how long `up` waits for the agent loop, how long a stop waits.
    # Read as text, so a bad value gets our message naming the stack file (get_int's names neither).
    "startTimeoutSeconds": "str",
    "stopGraceSeconds": "str",
    "drainTimeoutSeconds": "str",
    # json-file rotation of each container's log.
    "logMaxSize": "str",
    "logMaxFiles": "str",
    # The runtime, and the nomad runtime's settings (addresses and tokens are the providers' own
    # config: nomad:address, nomad:secretId, vault:address, vault:token).
    "runtime": "str",
    "nomadNamespace": "str",
    "nomadDatacenters": "str",  # a YAML list reaches the program as a JSON string
    "nomadNodePool": "str",
    "nomadConstraint": "str",  # a YAML mapping reaches the program as a JSON string
    "vaultKvMount": "str",
    "vaultKvPrefix": "str",
    "vaultAuthMount": "str",
}
# The runtime modules' NAMEs (program.RUNTIMES maps them to the modules, which import this one).
RUNTIMES = ("docker", "nomad")
# The providers' own tokens: plain config would sit in the stack file and, as the default
# providers' inputs, in the state; only `--secret` keeps them encrypted in both.
# Each with the environment variable its provider also reads.
PROVIDER_SECRETS = {"nomad:secretId": "NOMAD_TOKEN", "vault:token": "VAULT_TOKEN"}
NOMAD_NAMESPACE = re.compile(r"[a-zA-Z0-9-]{1,128}")
# What a Vault policy's path reads as more than itself (`+` a segment wildcard, a trailing `*` a
# prefix glob, `{{…}}` an identity template), and what an API URL's path cannot hold as it is.
# Why: docs/decisions/vault-secrets-per-agent.md
VAULT_POLICY_SPECIAL = frozenset("+*{}")
URL_SPECIAL = frozenset("?#%")

_GLOB_CHARS = frozenset("*?[")
MAX_CONTAINER_SECONDS = 1140
# At least two healthcheck intervals (10 s, runtimes/docker.py): one probe may run just before the loop starts.
MIN_START_TIMEOUT = 30
# A json-file log's size per file, in our grammar (a subset of Docker's units.RAMInBytes), and its bounds.
LOG_SIZE = re.compile(r"([1-9][0-9]*)([kmg])")
LOG_SIZE_UNITS = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
MAX_LOG_BYTES = 1 << 30
MAX_LOG_FILES = 20
MAX_DRAIN_SECONDS = 86400
# Stands for an encrypted stack value when nothing may be decrypted (offline commands).
SECRET_PLACEHOLDER = "[secret]"


def _whole(value: object) -> int | None:
    """A whole number as the stack file or `pulumi config` holds it (an int, or its digits as text)."""
    number = int(value) if isinstance(value, str) and value.strip().isdigit() else value
    return number if isinstance(number, int) and not isinstance(number, bool) else None


def _bounded(value: object, low: int, high: int, unit: str) -> int:
    number = _whole(value)
    if number is None or not low <= number <= high:
        raise ValueError(
            f"must be a whole number of {unit} from {low} to {high}, not {show(value if number is None else number)}"
        )
    return number


def _expand_home(path: str, home: str) -> str:
    """`~` means the home of the user running Pulumi (where the Docker host usually is too)."""
    if path == "~" or path.startswith("~/"):
        return home + path[1:]
    return os.path.expanduser(path) if path.startswith("~") else path


# A credential setting: plain in a test's mapping, an Output of pulumi.Config.get_secret in a running
# stack (program/stack_config.py). This layer imports no Pulumi: the type is Pulumi's for mypy only,
# and an Output is known at run time by its `apply`.
if TYPE_CHECKING:
    SecretSetting = str | pulumi.Output[str] | None
else:
    SecretSetting = object  # judged by _check_secret


def _is_secret_value(value: object) -> bool:
    return value is None or isinstance(value, str) or callable(getattr(value, "apply", None))


def _secret(value: object) -> object:
    if not _is_secret_value(value):
        # A credential: never echo it, even mistyped.
        raise ValueError(f"must be a string, got {type(value).__name__} (value not shown: it is a secret)")
    return value


class NomadConstraint(BaseModel):
    """Where the nomad runtime's volumes and jobs go, when a node pool is not enough."""

    # validate_default: an omitted `value` is judged as "" under its operator (pydantic skips defaults
    # otherwise, and `=` without a value would pass `plan` and fail on the first volume at `up`).
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    attribute: str
    # Nomad's constraint operators (docs/decisions/nomad-constraints.md), so a typo fails at
    # `plan`, not at `pulumi up`. Before `value`: its check reads the operator.
    operator: Literal[
        "=",
        "==",
        "is",
        "!=",
        "not",
        ">",
        ">=",
        "<",
        "<=",
        "regexp",
        "version",
        "semver",
        "set_contains",
        "set_contains_all",
        "set_contains_any",
        "is_set",
        "is_not_set",
    ] = "="
    value: str = ""  # none for is_set / is_not_set

    @field_validator("attribute")
    @classmethod
    def _check_attribute(cls, attribute: str) -> str:
        problem = nomad_constraints.attribute_problem(attribute)
        if problem:
            raise ValueError(problem)
        return attribute

    @field_validator("value")
    @classmethod
    def _check_value(cls, value: str, info: ValidationInfo[object]) -> str:
        # A bad operator is reported on its own key; the value is then judged by nothing.
        operator = info.data.get("operator")
        problem = nomad_constraints.value_problem(operator, value) if operator else None
        if problem:
            raise ValueError(problem)
        return value


def _forge_url(value: str) -> str:
    problem = http_url_problem(value) or forge_url_problem(value)
    if problem:
        raise ValueError(problem)
    if "@" in urlsplit(value).netloc:
        # requests would send the user info as basic auth in place of the admin token, on every call.
        raise ValueError(
            f"must not hold a user name or password ({mask_credentials(value)}): give the admin's credentials "
            "as disinto:adminToken or disinto:adminUser + disinto:adminPassword (set with --secret)"
        )
    return value.rstrip("/")


class ForgeAccess(BaseModel):
    """The settings the Forgejo providers need, and all the provider process reads: how to reach
    Forgejo as its admin. StackSettings holds them too, defined here once."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        arbitrary_types_allowed=True,
    )

    forge_url: str = "http://localhost:3000"
    forge_timeout: float = 30.0
    admin_token: SecretSetting = Field(default=None, repr=False)
    admin_user: str = naming.DEFAULT_ADMIN_USER
    admin_password: SecretSetting = Field(default=None, repr=False)
    adopt_existing_users: bool = True

    @field_validator("forge_url")
    @classmethod
    def _check_forge_url(cls, value: str) -> str:
        return _forge_url(value)

    # Before the type's own check, which would echo the value in its message.
    @field_validator("admin_token", "admin_password", mode="before")
    @classmethod
    def _check_admin_secret(cls, value: object) -> object:
        return _secret(value)

    @field_validator("forge_timeout")
    @classmethod
    def _check_timeout(cls, value: float) -> float:
        if not 0 < value <= MAX_FORGE_TIMEOUT:
            raise ValueError(f"must be a number of seconds above 0 and at most {MAX_FORGE_TIMEOUT}, not {show(value)}")
        return value

    @classmethod
    def from_config(cls, get: Callable[[str], object]) -> ForgeAccess:
        """From the provider host's stack config (`get("disinto:forgeUrl")`, …); ConfigError names each bad key."""
        keys = [field.alias or name for name, field in cls.model_fields.items()]
        values = {key: get(f"{NAMESPACE}:{key}") for key in keys}
        try:
            return cls.model_validate({k: v for k, v in values.items() if v not in (None, "")})
        except ValidationError as exc:
            raise ConfigError([f"stack config {_problem(e)}" for e in exc.errors()]) from None


class StackSettings(ForgeAccess):
    """Every `disinto:*` setting of one stack, defaults filled and paths made absolute."""

    project_dir: Path
    project_toml: str = "projects/*.toml"
    forge_internal_url: str = "http://forgejo:3000"
    agent_image: str = "ghcr.io/disinto/agents:latest"
    network: str = "disinto_disinto-net"
    factory_root: str = ""
    claude_shared_dir: str = "/var/lib/disinto/claude-shared"
    claude_config_file: str = "~/.claude.json"
    ssh_dir: str = "~/.ssh"
    forge_bot_usernames: str = ""
    forge_review_token: SecretSetting = Field(default=None, repr=False)
    token_scopes: tuple[str, ...] | None = None  # None: each agent's roles decide (config/token_scopes.py)
    architect_interval: int = 900
    planner_interval: int = 43200
    supervisor_interval: int = 1200
    env_file: str | None = None
    compose_project: str = "disinto"
    token_max_age_days: int | None = None  # unset: tokens never expire by age
    # `pulumi up` waits this long for a new container's agent loop (the container's `wait_timeout`).
    start_timeout_seconds: int = 600
    # A stop (rotation, removal) lets the agent finish its jobs this long before Docker kills it.
    stop_grace_seconds: int = 120
    # Before a stop, the agent's sessions in flight may run this long (the factory's CLAUDE_TIMEOUT).
    drain_timeout_seconds: int = 7200
    # Each container's log: json-file, at most this size per file and this many files.
    log_max_size: str = "10m"
    log_max_files: int = 3
    # `docker:host`, the Docker provider's own setting: the migration commands talk to that host.
    docker_host: str | None = Field(default=None, alias="dockerHost")
    runtime: str = "docker"
    nomad_namespace: str = "default"
    nomad_datacenters: tuple[str, ...] = ("dc1",)
    nomad_node_pool: str | None = None
    nomad_constraint: NomadConstraint | None = None
    # The factory's layout: kv-v2 at kv/, bots under disinto/bots/<name>, JWT auth at jwt-nomad
    # (docs/decisions/vault-secrets-per-agent.md).
    vault_kv_mount: str = "kv"
    vault_kv_prefix: str = "disinto/bots"
    vault_auth_mount: str = "jwt-nomad"

    @field_validator("runtime")
    @classmethod
    def _check_runtime(cls, value: str) -> str:
        if value not in RUNTIMES:
            raise ValueError(f"must be one of {', '.join(RUNTIMES)}, not {show(value)}")
        return value

    @field_validator("nomad_datacenters", mode="before")
    @classmethod
    def _check_datacenters(cls, value: object) -> tuple[str, ...]:
        value = _json_list(value)
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)) or not value or not all(isinstance(v, str) and v for v in value):
            raise ValueError(f"must be a non-empty list of datacenter names, not {show(value)}")
        return tuple(value)

    @field_validator("nomad_constraint", mode="before")
    @classmethod
    def _read_constraint(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise ValueError(
                    f'must be a mapping like {{"attribute": "${{node.unique.name}}", "value": "box1"}}, not {show(value)}'
                ) from None
        return value

    @field_validator("nomad_namespace")
    @classmethod
    def _check_namespace(cls, value: str) -> str:
        # Nomad's own rule for namespace names (nomad/structs: validNamespaceName).
        if not NOMAD_NAMESPACE.fullmatch(value):
            raise ValueError(
                f"must be a Nomad namespace name (letters, digits and '-', at most 128), not {show(value)}"
            )
        return value

    @field_validator("vault_kv_mount", "vault_kv_prefix", "vault_auth_mount")
    @classmethod
    def _check_path(cls, value: str) -> str:
        value = value.strip("/")
        if (
            not value
            or any(not part or part in (".", "..") for part in value.split("/"))
            or any(c in value for c in ' "\\')
        ):
            raise ValueError(f"must be a path of names separated by '/', not {show(value)}")
        special = sorted({c for c in value if c in VAULT_POLICY_SPECIAL or c in URL_SPECIAL or not c.isprintable()})
        if special:
            raise ValueError(
                f"must not hold {' '.join(map(repr, special))} ({show(value)}): in a Vault policy's path '+' and '*' are "
                "wildcards (disinto/+ would grant every agent's secret) and '{{…}}' a template; in a Vault API URL "
                "'?', '#' and '%' end or escape the path"
            )
        return value

    @field_validator("agent_image")
    @classmethod
    def _check_image(cls, value: str) -> str:
        # A bad pin would plan fine and fail only when the provider pulls it (runtimes/image_pin.py).
        problem = digest_problem(value)
        if problem:
            raise ValueError(f"{problem}, not {show(value)}")
        return value

    @field_validator("forge_internal_url")
    @classmethod
    def _check_internal_url(cls, value: str) -> str:
        return _forge_url(value)

    @field_validator("forge_review_token", mode="before")
    @classmethod
    def _check_review_secret(cls, value: object) -> object:
        return _secret(value)

    @field_validator("forge_bot_usernames", mode="before")
    @classmethod
    def _join_bot_usernames(cls, value: object) -> str:
        # The agents read a comma-separated list; accept a YAML/JSON list as well.
        value = _json_list(value)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return ",".join(value)
        if not isinstance(value, str):
            raise ValueError(f"must be a comma-separated string or a list of names, not {show(value)}")
        return value

    @field_validator("token_scopes", mode="before")
    @classmethod
    def _check_scopes(cls, value: object) -> tuple[str, ...]:
        value = _json_list(value)
        if not isinstance(value, (list, tuple)) or not value or not all(isinstance(v, str) for v in value):
            raise ValueError(f"must be a non-empty list of token scopes, not {show(value)}")
        unknown = [s for s in value if s not in forgejo_scopes.VALID]
        if unknown:
            raise ValueError(f"{show(unknown[0])} is not a Forgejo token scope")
        if problem := forgejo_scopes.agent_scope_problem(value):
            raise ValueError(problem)
        return tuple(value)

    @field_validator("token_max_age_days", mode="before")
    @classmethod
    def _check_max_age(cls, value: object) -> int:
        return _bounded(value, 1, MAX_TOKEN_AGE_DAYS, "days")

    @field_validator("start_timeout_seconds", "stop_grace_seconds", mode="before")
    @classmethod
    def _check_container_seconds(cls, value: object, info: ValidationInfo[object]) -> int:
        # The provider gives a container's create and delete 20 minutes in all: the wait for a healthy
        # agent, or the stop's grace, must end before that, with a minute left for the rest.
        # Why: docs/decisions/agent-stop-and-health.md
        low = MIN_START_TIMEOUT if info.field_name == "start_timeout_seconds" else 1
        return _bounded(value, low, MAX_CONTAINER_SECONDS, "seconds")

    @field_validator("drain_timeout_seconds", mode="before")
    @classmethod
    def _check_drain(cls, value: object) -> int:
        return _bounded(value, 0, MAX_DRAIN_SECONDS, "seconds")

    @field_validator("log_max_size")
    @classmethod
    def _check_log_size(cls, value: str) -> str:
        match = LOG_SIZE.fullmatch(value)
        if not match or int(match[1]) * LOG_SIZE_UNITS[match[2]] > MAX_LOG_BYTES:
            raise ValueError(f"must be a size like 10m (a whole number and k, m or g), at most 1g, not {show(value)}")
        return value

    @field_validator("log_max_files", mode="before")
    @classmethod
    def _check_log_files(cls, value: object) -> int:
        return _bounded(value, 1, MAX_LOG_FILES, "files")

    @field_validator("architect_interval", "planner_interval", "supervisor_interval")
    @classmethod
    def _check_interval(cls, value: float) -> float:
        if not 0 < value <= MAX_ROLE_INTERVAL:
            raise ValueError(
                f"must be a number of seconds above 0 and at most {MAX_ROLE_INTERVAL} (a week), not {show(value)}"
            )
        return value

    # ------------------------------------------------------------ constructors

    @classmethod
    def from_mapping(
        cls,
        values: Mapping[str, object],
        project_dir: Path | None = None,
        home: str | None = None,
        source: str | None = None,
        also: Sequence[str] = (),
        docker_host: object = None,
    ) -> StackSettings:
        """Settings from camelCase keys (no namespace); raises ConfigError naming each bad key.

        `project_dir` is the Pulumi project folder relative paths start from (default: cwd);
        `home` replaces `~` (default: the current user's home); `source`, the stack file the
        values come from, starts each problem line; `also`: problems found before, reported with these;
        `docker_host`: the Docker provider's `docker:host` as the stack holds it (bind paths are
        judged for that host; the model checks it is a string).
        """
        project_dir = project_dir if project_dir is not None else Path.cwd()
        where = f"{source}: " if source else ""
        unknown = [f"{where}{NAMESPACE}:{k}: {_unknown_key(k)}" for k in values if k not in KEY_KINDS]
        if unknown:
            raise ConfigError([*unknown, *also])
        home = home if home is not None else os.path.expanduser("~")
        data = {k: v for k, v in values.items() if v is not None}
        try:
            settings = cls.model_validate({**data, "projectDir": Path(project_dir), "dockerHost": docker_host})
        except ValidationError as exc:
            raise ConfigError([*(f"{where}{_problem(e)}" for e in exc.errors()), *also]) from None
        paths = settings._path_problems(home, given=set(data))
        if also or paths:
            raise ConfigError([*(f"{where}{NAMESPACE}:{p.key}: {p.message}" for p in paths), *also])
        return settings._with_paths(home)

    @classmethod
    def from_stack_file(
        cls,
        path: Path,
        project_dir: Path,
        overrides: Mapping[str, object] | None = None,
        home: str | None = None,
        missing_ok: bool = False,
    ) -> StackSettings:
        """Settings from a `Pulumi.<stack>.yaml` without decrypting anything (the offline commands).

        Encrypted (`secure:`) values become a "[secret]" placeholder. A missing file is an error,
        or the defaults with `missing_ok`.
        """
        if not missing_ok and not path.exists():  # anything else there is read_stack_file's to refuse
            raise NotFound(
                [
                    f"{path}: no such stack file; `pulumi stack init {path.stem.removeprefix('Pulumi.')}` makes the "
                    "stack, and a copy of Pulumi.dev.yaml its settings"
                ]
            )
        values = {**read_stack_file(path), **(overrides or {})}
        secret_keys = [*PROVIDER_SECRETS, *(f"{NAMESPACE}:{k}" for k, kind in KEY_KINDS.items() if kind == "secret")]
        plain = [
            key
            for key in secret_keys
            if read_stack_file(path, key.split(":")[0]).get(key.split(":")[1]) not in (None, SECRET_PLACEHOLDER)
        ]
        return cls.from_mapping(
            values,
            project_dir,
            home,
            source=str(path),
            also=plain_problems(plain, str(path)),
            docker_host=read_stack_file(path, "docker").get("host"),
        )

    def _path_problems(self, home: str, given: set[str]) -> list[docker_hosts.PathProblem]:
        """Bind paths Docker or the Docker host would get wrong (runtimes/docker_host.py), defaults included."""
        if self.runtime != "docker":
            return []
        values = {
            "claudeSharedDir": self.claude_shared_dir,
            "claudeConfigFile": self.claude_config_file,
            "sshDir": self.ssh_dir,
            "factoryRoot": self.factory_root or None,
            "projectToml": self.project_toml,
        }
        host = docker_hosts.effective_host(self.docker_host)
        return docker_hosts.path_problems(values, given, host, lambda path: _expand_home(path, home))

    def _with_paths(self, home: str) -> StackSettings:
        """Expand `~` and make the TOML pattern absolute; default factoryRoot from it."""
        pattern = _expand_home(self.project_toml, home)
        if not os.path.isabs(pattern):
            pattern = str(self.project_dir / pattern)
        # The TOMLs live in <factory>/projects/: the factory root is the folder above.
        factory_root = _expand_home(self.factory_root, home) or str(PurePosixPath(pattern).parent.parent)
        # Bind mounts need absolute host paths; relative ones mean this project folder, as everywhere.
        factory_root = str(self.project_dir / factory_root)
        return self.model_copy(
            update={
                "project_toml": pattern,
                "factory_root": factory_root,
                "claude_shared_dir": _expand_home(self.claude_shared_dir, home),
                "claude_config_file": _expand_home(self.claude_config_file, home),
                "ssh_dir": _expand_home(self.ssh_dir, home),
                # Relative to the Pulumi project folder, like projectToml, wherever the command runs.
                "env_file": str(self.project_dir / _expand_home(self.env_file, home)) if self.env_file else None,
            }
        )

    # ------------------------------------------------------------ derived values

    def project_files(self) -> list[Path]:
        """The project TOMLs the pattern names; none at all is an error, not an empty fleet."""
        if not _GLOB_CHARS & set(self.project_toml):
            return [Path(self.project_toml)]
        found = sorted(Path(p) for p in glob.glob(self.project_toml))
        if not found:
            raise NotFound([f"{NAMESPACE}:projectToml: no file matches {self.project_toml}"])
        return found


def plain_problems(keys: list[str], stack_file: str) -> list[str]:
    """A secret written in clear into the stack file, which git tracks: refused, with the command
    that encrypts it (and the variable that can stand for a provider's token)."""
    return [
        f"{stack_file}: {key}: is plain text in a file git tracks; set it with `pulumi config set --secret {key}` "
        f"(it is then encrypted), and take the clear value out of the file's history if it was committed"
        + (f"; or leave it out and export {PROVIDER_SECRETS[key]}" if key in PROVIDER_SECRETS else "")
        for key in keys
    ]


class _UniqueKeys(yaml.SafeLoader):
    """YAML as the Pulumi CLI reads a stack file: a key set twice in one mapping is an error there
    (Go's yaml.v3 decoder refuses it), not the last value silently."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[object, object]:
        seen: dict[object, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"{key} is set twice (lines {seen[key]} and {key_node.start_mark.line + 1}); "
                    "Pulumi refuses the file: keep one",
                    key_node.start_mark,
                )
            if isinstance(key, str):
                seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def read_stack_file(path: Path, namespace: str = NAMESPACE) -> JsonObject:
    """The values of one namespace (`disinto:*` by default) of a stack file, namespace stripped."""
    if not path.exists():
        return {}
    try:
        document = yaml.load(input_file.read_text(path), Loader=_UniqueKeys)
    except input_file.InputFileError as exc:
        raise ConfigError([str(exc)]) from None
    except yaml.constructor.ConstructorError as exc:
        raise ConfigError([f"{path}: {exc.problem}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{path}: not valid YAML: {exc}"]) from None
    except RecursionError:  # PyYAML composes nested collections recursively
        raise ConfigError([f"{path}: not a usable stack file: nested too deeply"]) from None
    if not isinstance(document, dict):
        # Empty, a list, a bare value: not what `pulumi config set` writes; silently the defaults
        # would plan another fleet than the one the operator configured.
        raise ConfigError(
            [
                f"{path}: must be a mapping with a `config:` mapping (as `pulumi config set` writes it), "
                f"not {_yaml_kind(document)}"
            ]
        )
    config = document.get("config")
    if config is None:
        return {}  # a stack with no settings yet (`pulumi stack init` with a passphrase writes only its salt)
    if not isinstance(config, dict):
        raise ConfigError([f"{path}: config: must be a mapping of settings, not {_yaml_kind(config)}"])
    prefix = f"{namespace}:"
    return {
        key[len(prefix) :]: SECRET_PLACEHOLDER if isinstance(value, dict) and "secure" in value else value
        for key, value in config.items()
        if isinstance(key, str) and key.startswith(prefix)
    }


def _yaml_kind(value: object) -> str:
    if value is None:
        return "an empty document"
    if isinstance(value, list):
        return "a list"
    return f"the value {show(value)}"


def _json_list(value: object) -> object:
    """`pulumi config set disinto:tokenScopes '["all"]'` stores the list as a JSON string."""
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _unknown_key(key: str) -> str:
    close = difflib.get_close_matches(key, list(KEY_KINDS), n=1, cutoff=0.6)
    return f'unknown key; did you mean "{close[0]}"?' if close else "unknown key"


def _problem(error: ErrorDetails) -> str:
    # A nested key (nomadConstraint.value) is named in full.
    key = ".".join(str(part) for part in error["loc"]) if error["loc"] else "?"
    message = str(error["ctx"]["error"]) if error["type"] == "value_error" else error["msg"]
    # dockerHost is the Docker provider's key, not ours: name it as the stack file spells it.
    name = "docker:host" if key == "dockerHost" else f"{NAMESPACE}:{key}"
    return f"{name}: {message}"
