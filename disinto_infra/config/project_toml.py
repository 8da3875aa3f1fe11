"""The project TOML model: what `[agents.*]` may say, and every way it can be wrong.

Validation happens here, before any resource is registered: a bad file must make `pulumi preview`
fail with readable lines and change nothing. Every problem is collected, so one run shows them all,
each as `<file>: agents.<name>.<field>: <what is wrong>`.
"""

from __future__ import annotations

import difflib
import json
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeGuard
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import ErrorDetails

from disinto_infra import input_file, naming
from disinto_infra.config import token_scopes as forgejo_scopes
from disinto_infra.config.formula_file import formula_key_problem
from disinto_infra.parsed import JsonObject, text_or
from disinto_infra.url_mask import mask_credentials

# Python's parsers recurse per level of nesting; past their limit no project file goes.
TOO_DEEP = "nested too deeply to read (arrays or tables inside one another hundreds of levels deep)"

# Not an agent: `[agents.schedule]` holds architect_interval / planner_interval.
NOT_AGENTS = frozenset({"schedule"})

# A project name becomes the bots' e-mail domain (<forge_user>@<name>.local) and a path segment;
# Forgejo checks e-mail domains as dot-separated labels of letters, digits and inner dashes.
_DOMAIN_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PROJECT_NAME_RE = re.compile(rf"^{_DOMAIN_LABEL}(?:\.{_DOMAIN_LABEL})*$")
_REPO_RE = re.compile(r"^[A-Za-z0-9][-._A-Za-z0-9]*/[A-Za-z0-9][-._A-Za-z0-9]*$")


class ConfigError(Exception):
    """One or more problems in the project files; str() is one problem per line."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class NotFound(ConfigError):
    """A stack file or project TOML missing where the rule looked (commands/project_files.py says
    which folder that was)."""


def show(value: object) -> str:
    """A TOML value as the user wrote it, for messages (a URL's credentials masked)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(mask_credentials(value))
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, dict):
        return "a table"
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError):
        return repr(value)


# TOML's integers are 64-bit signed; tomllib reads larger ones anyway.
TOML_INT_MAX = 2**63 - 1
# A counter that reaches a provider as an input: the engine carries numbers as doubles, exact only
# up to 2**53 - 1, so a bump past it would not change the input and rotate nothing.
# Why: docs/decisions/rotation-counters.md
COUNTER_MAX = 2**53 - 1
# A host as a server's name can be: DNS labels, an IPv4 address, or an IPv6 one in brackets.
_HOST_RE = re.compile(r"[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\]")


def has_control_or_space(text: str) -> bool:
    return any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in text)


def http_url_problem(value: object) -> str | None:
    """Why `value` is no http(s) URL a client can use (None when it is one): a scheme, a host of
    name characters, a port from 1 to 65535, and no blank or control character anywhere (urlsplit
    silently drops tabs and newlines, requests refuses what is left with InvalidURL)."""
    wrong = f"must be an http(s) URL, not {show(value)}"
    if not isinstance(value, str):
        return wrong
    try:
        parts = urlsplit(value)
    except ValueError:  # a bracketed host that is no IP address
        return wrong
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return wrong
    if has_control_or_space(value):
        return f"{wrong}: it holds a blank or control character"
    host = parts.netloc.rpartition("@")[2]
    host = host.partition("]")[0] + "]" if host.startswith("[") else host.partition(":")[0]
    if not _HOST_RE.fullmatch(host):
        return f"{wrong}: the host {show(host)} is no server name or address"
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is not None and not 1 <= port <= 65535:
        return f"{wrong}: the port must be from 1 to 65535"
    return None


# Paths an agent's client appends to base_url itself (Claude Code: /v1/messages; an OpenAI client:
# /v1/chat/completions): a base_url that already holds one reaches the server doubled.
_AGENT_APPENDS = re.compile(r"/v1(/|$)|/chat/completions/?$|/messages/?$")


def agent_url_problem(value: str) -> str | None:
    """Why a valid http(s) `base_url` still cannot work from the agent's container, or None: it
    reaches the container unchanged (ANTHROPIC_BASE_URL), and the agent appends /v1/messages."""
    parts = urlsplit(value)
    if "#" in value:
        return f"must hold no fragment ('#…'), not {mask_credentials(value)}: the agent's client would send it on"
    if _AGENT_APPENDS.search(parts.path):
        root = mask_credentials(value.split(parts.path, 1)[0] + _AGENT_APPENDS.split(parts.path, 1)[0])
        return (
            f"must be the server's root, not {mask_credentials(value)}: the agent appends /v1/messages itself "
            f"(write {root})"
        )
    return None


def forge_url_problem(value: str) -> str | None:
    """Why a valid http(s) Forgejo URL is not Forgejo's root, or None: we and the agents append /api/v1."""
    parts = urlsplit(value)
    if "#" in value or parts.query:
        return f"must be Forgejo's root URL, without a query or fragment, not {mask_credentials(value)}"
    if re.search(r"/api(/|$)", parts.path):
        root = value.split("/api", 1)[0]
        return f"must be Forgejo's root URL, not {mask_credentials(value)}: /api/v1 is appended to it (write {root})"
    return None


def is_loopback(value: str) -> bool:
    """Does the URL name this machine's loopback? From an agent's container that is the container."""
    host = (urlsplit(value).hostname or "").lower()
    return host == "localhost" or host.endswith(".localhost") or host.startswith("127.") or host == "::1"


# Why a loopback base_url fails in the agent (validate warns, check reports it even when it answers).
LOOPBACK_BASE_URL = (
    "names the loopback, which inside the agent's container is the container itself: give the address the "
    "container reaches the model server at (the host's address on the agents' network, for example)"
)


# Upper bounds no factory means past (issue 28 item 6): a larger number is a typo (seconds for
# minutes, an extra zero), and the message says the bound.
MAX_POLL_INTERVAL = 86400  # an agent that polls less than daily is no agent
MAX_TOKEN_AGE_DAYS = 3650
MAX_ROLE_INTERVAL = 604800  # architect, planner, supervisor: at least weekly
MAX_FORGE_TIMEOUT = 600


def _is_int(value: object) -> TypeGuard[int]:
    # TOML booleans are Python bools, which are ints: `compact_pct = true` must not pass.
    return isinstance(value, int) and not isinstance(value, bool)


def _require_str(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a string, not {show(value)}")
    return value


def _require_int(value: object, lowest: int, highest: int | None, wording: str) -> int:
    limit = ""
    if highest is None or highest == COUNTER_MAX:  # a bound the wording does not say
        highest = TOML_INT_MAX if highest is None else highest
        limit = f" (at most {highest})" if _is_int(value) and value > highest else ""
    if _is_int(value) and lowest <= value <= highest:
        return value
    raise ValueError(f"must be {wording}{limit}, not {show(value)}")


def _require_string_list(value: object, wording: str) -> list[str]:
    if not isinstance(value, (list, tuple)) or not value or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"must be {wording}, not {show(value)}")
    return list(value)


# The model name `hire` writes without --model: a placeholder `check` names when the server serves
# another model.
DEFAULT_MODEL = "local-model"


class AgentSpec(BaseModel):
    """One `[agents.<name>]` table, validated and with defaults filled in."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    base_url: str
    model: str
    api_key: str = "sk-no-key-required"
    roles: tuple[str, ...] = ("dev",)
    forge_user: str
    compact_pct: int = 60
    poll_interval: int = 60
    token_scopes: tuple[str, ...] | None = None
    rotate_token: int = 0
    rotate_password: int = 0
    # This program's own: the formula file, relative to the factory root (see config/formula_file.py).
    formula: str | None = None
    # Replace the token on the first `pulumi up` after it is this many days old (None: the
    # stack's disinto:tokenMaxAgeDays, unset there too: never).
    token_max_age_days: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _default_forge_user(cls, data: object) -> object:
        if isinstance(data, dict) and "forge_user" not in data and isinstance(data.get("name"), str):
            data = {**data, "forge_user": naming.default_forge_user(data["name"])}
        return data

    @field_validator("name", mode="before")
    @classmethod
    def _check_name(cls, value: object) -> str:
        name = _require_str(value)
        problem = naming.agent_name_problem(name)
        if problem:
            raise ValueError(problem)
        return name

    @field_validator("base_url", mode="before")
    @classmethod
    def _check_base_url(cls, value: object) -> str:
        problem = http_url_problem(value) or agent_url_problem(_require_str(value))
        if problem:
            raise ValueError(problem)
        return _require_str(value)  # a string: http_url_problem refuses anything else

    @field_validator("model", mode="before")
    @classmethod
    def _check_model(cls, value: object) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"must be a non-empty string, not {show(value)}")
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            # It goes into the agent's env and the server's request bodies: one line of text.
            raise ValueError(f"must be one line of text without control characters, not {show(value)}")
        return value

    @field_validator("api_key", mode="before")
    @classmethod
    def _check_api_key(cls, value: object) -> str:
        # A credential: never echo it, even mistyped.
        if not isinstance(value, str):
            raise ValueError(f"must be a string, got {type(value).__name__} (value not shown: it is a credential)")
        return value

    @field_validator("roles", mode="before")
    @classmethod
    def _check_roles(cls, value: object) -> tuple[str, ...]:
        return tuple(_require_string_list(value, "a non-empty list of non-empty strings"))

    @field_validator("forge_user", mode="before")
    @classmethod
    def _check_forge_user(cls, value: object, info: ValidationInfo[JsonObject | None]) -> str:
        context = info.context or {}
        if context.get("default_forge_user"):
            # Not written by the operator: say so, and what to change.
            if "name" not in info.data:
                return str(value)  # derived from a bad name, which is reported already
            problem = naming.default_forge_user_problem(info.data["name"])
            if problem:
                raise ValueError(problem)
        admin = text_or(context, "admin_user", naming.DEFAULT_ADMIN_USER)
        user = _require_str(value)
        problem = naming.forge_user_problem(user, admin)
        if problem:
            raise ValueError(problem)
        return user

    @field_validator("compact_pct", mode="before")
    @classmethod
    def _check_compact_pct(cls, value: object) -> int:
        return _require_int(value, 1, 100, "an integer from 1 to 100")

    @field_validator("poll_interval", mode="before")
    @classmethod
    def _check_poll_interval(cls, value: object) -> int:
        return _require_int(
            value, 1, MAX_POLL_INTERVAL, f"a whole number of seconds from 1 to {MAX_POLL_INTERVAL} (a day)"
        )

    @field_validator("rotate_token", "rotate_password", mode="before")
    @classmethod
    def _check_rotation(cls, value: object) -> int:
        return _require_int(value, 0, COUNTER_MAX, "a non-negative integer")

    @field_validator("formula", mode="before")
    @classmethod
    def _check_formula(cls, value: object) -> str:
        problem = formula_key_problem(value)
        if problem:
            raise ValueError(problem)
        return _require_str(value)  # a string: formula_key_problem refuses anything else

    @field_validator("token_max_age_days", mode="before")
    @classmethod
    def _check_token_max_age(cls, value: object) -> int:
        return _require_int(value, 1, MAX_TOKEN_AGE_DAYS, f"a whole number of days from 1 to {MAX_TOKEN_AGE_DAYS}")

    @field_validator("token_scopes", mode="before")
    @classmethod
    def _check_token_scopes(cls, value: object) -> tuple[str, ...]:
        scopes = _require_string_list(value, "a non-empty list of token scopes")
        unknown = [s for s in scopes if s not in forgejo_scopes.VALID]
        if unknown:
            raise ValueError(
                f"{show(unknown[0])} is not a Forgejo token scope (all, public-only, read:<group> or write:<group>)"
            )
        try:
            forgejo_scopes.normalize(scopes)
        except forgejo_scopes.ScopeError as exc:
            raise ValueError(str(exc)) from None
        if problem := forgejo_scopes.agent_scope_problem(scopes):
            raise ValueError(problem)
        return tuple(scopes)

    @property
    def env_suffix(self) -> str:
        return naming.env_suffix(self.forge_user)


def toml_keys() -> list[str]:
    """The keys an `[agents.<name>]` table may hold (the name is the table's own key)."""
    return [f for f in AgentSpec.model_fields if f != "name"]


class Project(BaseModel):
    """One project TOML file: the parts this program reads."""

    model_config = ConfigDict(frozen=True)

    path: Path
    name: str
    repo: str
    woodpecker_repo_id: int = 0
    agents: tuple[AgentSpec, ...] = ()

    @field_validator("name", mode="before")
    @classmethod
    def _check_name(cls, value: object) -> str:
        if not isinstance(value, str) or not _PROJECT_NAME_RE.match(value):
            raise ValueError(
                f"must be letters, digits, dots and inner dashes, not {show(value)} "
                "(it is the domain of the bots' e-mail <forge_user>@<name>.local)"
            )
        return value

    @field_validator("repo", mode="before")
    @classmethod
    def _check_repo(cls, value: object) -> str:
        if not isinstance(value, str) or not _REPO_RE.match(value):
            raise ValueError(f'must be "owner/name", not {show(value)}')
        return value

    @field_validator("woodpecker_repo_id", mode="before")
    @classmethod
    def _check_repo_id(cls, value: object) -> int:
        return _require_int(value, 0, None, "a non-negative integer")


class Fleet(BaseModel):
    """Every project file of a stack, checked across files."""

    model_config = ConfigDict(frozen=True)

    projects: tuple[Project, ...] = ()

    def agents(self) -> list[tuple[Project, AgentSpec]]:
        return [(p, a) for p in self.projects for a in p.agents]


# ---------------------------------------------------------------- reading one file


@dataclass(frozen=True)
class FormulaChoice:
    """What picks an agent's formula: its `formula` key, else its first role. Known also for an
    agent whose other fields are wrong, so that its formula is checked in the same run."""

    file: str
    agent: str
    role: str
    formula: str | None = None

    @property
    def field(self) -> str:
        """The field a formula problem is reported on: what chose the file."""
        return "formula" if self.formula is not None else "roles"

    @classmethod
    def of(cls, file: str, spec: AgentSpec) -> FormulaChoice:
        return cls(file, spec.name, spec.roles[0], spec.formula)


# An agent with problems in none of these still has a known formula (see FormulaChoice).
_FORMULA_FIELDS = frozenset({"name", "roles", "formula"})


@dataclass
class _Parsed:
    """A file's outcome: the valid agents are kept even when others fail, for cross-file checks."""

    project: Project | None
    agents: list[AgentSpec]
    problems: list[str]
    formula_choices: list[FormulaChoice]


def _did_you_mean(key: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    if close:
        return f'unknown key; did you mean "{close[0]}"?'
    return f"unknown key (known keys: {', '.join(known)})"


def _describe(error: ErrorDetails, known: Iterable[str]) -> str:
    if error["type"] == "missing":
        return "is required"
    if error["type"] == "extra_forbidden":
        return _did_you_mean(str(error["loc"][0]), known)
    if error["type"] == "value_error":
        return str(error["ctx"]["error"])
    return str(error["msg"])


def _problems(exc: ValidationError, prefix: str, known: Iterable[str], rename: dict[str, str]) -> list[str]:
    lines = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else ""
        where = rename.get(field, f"{prefix}{field}" if field else prefix.rstrip("."))
        lines.append(f"{where}: {_describe(error, known)}")
    return lines


def _syntax_problem(file: str, text: str, exc: tomllib.TOMLDecodeError) -> str:
    message = str(exc)
    found = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if found:
        what = message[: found.start()]
        if what == "Cannot overwrite a value":  # tomllib's words for a key set twice
            key = text.splitlines()[int(found[1]) - 1].split("=", 1)[0].strip()
            what = f"{key} is set twice in one table (TOML allows it once): keep one"
        elif table := re.fullmatch(r"Cannot declare \((.*)\) twice", what):  # a [table] given twice
            name = ".".join(part.strip().strip("'\"") for part in table[1].split(",") if part.strip())
            what = f"[{name}] is declared twice (TOML allows one table of a name): merge them"
        return f"{file}: line {found[1]}: {what} (column {found[2]})"
    line = len(text.rstrip().splitlines()) or 1  # the last line with content, not a trailing blank
    message = re.sub(r"\s*\(at end of document\)$", "", message)
    return f"{file}: line {line}: {message} (at end of file)"


def _parse_agent(
    file: str, name: str, table: object, admin_user: str
) -> tuple[AgentSpec | None, list[str], FormulaChoice | None]:
    where = f"{file}: agents.{name}"
    if not isinstance(table, dict):
        return None, [f"{where}: must be a table, not {show(table)}"], None
    if "name" in table:
        return None, [f"{where}.name: unknown key (an agent is named by its table, here [agents.{name}])"], None
    try:
        context = {"admin_user": admin_user, "default_forge_user": "forge_user" not in table}
        spec = AgentSpec.model_validate({**table, "name": name}, context=context)
    except ValidationError as exc:
        problems = _problems(exc, f"{where}.", toml_keys(), rename={"name": where})
        if any(e["loc"] and e["loc"][0] in _FORMULA_FIELDS for e in exc.errors()):
            return None, problems, None
        roles = table.get("roles", AgentSpec.model_fields["roles"].default)
        return None, problems, FormulaChoice(file, name, roles[0], table.get("formula"))
    return spec, [], FormulaChoice.of(file, spec)


def _parse_agents(
    file: str, data: JsonObject, admin_user: str
) -> tuple[list[AgentSpec], list[str], list[FormulaChoice]]:
    tables = data.get("agents", {})
    if not isinstance(tables, dict):
        return [], [f"{file}: agents: must be a table, not {show(tables)}"], []
    agents, problems, choices = [], [], []
    for name, table in tables.items():
        if name in NOT_AGENTS:
            continue
        spec, found, choice = _parse_agent(file, name, table, admin_user)
        problems += found
        if spec is not None:
            agents.append(spec)
        if choice is not None:
            choices.append(choice)
    return agents, problems, choices


def _parse_header(file: str, path: Path, data: JsonObject) -> tuple[Project | None, list[str]]:
    fields: dict[str, object] = {"path": path}
    for key in ("name", "repo"):
        if key in data:
            fields[key] = data[key]
    ci = data.get("ci")
    if isinstance(ci, dict) and "woodpecker_repo_id" in ci:
        fields["woodpecker_repo_id"] = ci["woodpecker_repo_id"]
    rename = {"woodpecker_repo_id": f"{file}: ci.woodpecker_repo_id"}
    try:
        return Project.model_validate(fields), []
    except ValidationError as exc:
        return None, _problems(exc, f"{file}: ", [], rename)


def _parse(path: Path, text: str, admin_user: str) -> _Parsed:
    file = str(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return _Parsed(None, [], [_syntax_problem(file, text, exc)], [])
    except RecursionError:  # tomllib parses nested arrays and inline tables recursively
        return _Parsed(None, [], [f"{file}: {TOO_DEEP}"], [])
    header, problems = _parse_header(file, path, data)
    agents, agent_problems, choices = _parse_agents(file, data, admin_user)
    problems += agent_problems
    problems += _collisions([(file, a) for a in agents], same_file=True)
    if problems or header is None:
        return _Parsed(None, agents, problems, choices)
    return _Parsed(header.model_copy(update={"agents": tuple(agents)}), agents, [], choices)


# ---------------------------------------------------------------- checks across agents


def _collisions(entries: list[tuple[str, AgentSpec]], same_file: bool) -> list[str]:
    """Clashes of a later agent with an earlier one: only within one file, or only across files.

    Each agent is reported once, against the earliest earlier agent it clashes with. Keyed lookups
    (name, user, env suffix), not every pair: a fleet of thousands validates in linear time."""
    problems = []
    earlier = _Earlier(same_file)
    for index, (file, agent) in enumerate(entries):
        found = earlier.first_clash(file, agent)
        if found is not None:
            other_file, other = entries[found]
            problem = _clash(agent, other, "" if same_file else f" in {other_file}")
            problems.append(f"{file}: agents.{agent.name}{problem}")
        earlier.add(index, file, agent)
    return problems


def _clash_keys(agent: AgentSpec) -> tuple[tuple[str, str], ...]:
    # Forgejo usernames are case-insensitive: Dev-Qwen and dev-qwen are one account.
    return (("name", agent.name), ("user", agent.forge_user.lower()), ("suffix", agent.env_suffix))


class _Earlier:
    """The agents seen so far, by clash key: per file (same_file), or the earliest agent with that
    key and the earliest one in another file than that (enough to find one in any other file)."""

    def __init__(self, same_file: bool):
        self.same_file = same_file
        self.files: list[str] = []
        self.by_key: dict[tuple[str, ...], list[int]] = {}

    def _slot(self, file: str, key: tuple[str, str]) -> tuple[str, ...]:
        return (file, *key) if self.same_file else key

    def first_clash(self, file: str, agent: AgentSpec) -> int | None:
        found = []
        for key in _clash_keys(agent):
            for index in self.by_key.get(self._slot(file, key), ()):
                if self.same_file or self.files[index] != file:
                    found.append(index)
                    break
        return min(found, default=None)

    def add(self, index: int, file: str, agent: AgentSpec) -> None:
        self.files.append(file)
        for key in _clash_keys(agent):
            kept = self.by_key.setdefault(self._slot(file, key), [])
            if not kept or (not self.same_file and len(kept) == 1 and self.files[kept[0]] != file):
                kept.append(index)


def _clash(agent: AgentSpec, other: AgentSpec, elsewhere: str) -> str | None:
    if agent.name == other.name:
        return f": agent name is already used{elsewhere} (container {naming.container_name(agent.name)})"
    if agent.forge_user.lower() == other.forge_user.lower():
        return f'.forge_user: "{agent.forge_user}" is already the forge_user of agents.{other.name}{elsewhere}'
    if agent.env_suffix == other.env_suffix:
        return (
            f'.forge_user: env suffix {agent.env_suffix} of "{agent.forge_user}" is already used by '
            f'agents.{other.name} ("{other.forge_user}"{elsewhere})'
        )
    return None


# ---------------------------------------------------------------- public API


def parse_project_text(path: Path, text: str, admin_user: str = naming.DEFAULT_ADMIN_USER) -> Project:
    """Validate one project file's text; raises ConfigError listing every problem."""
    parsed = _parse(path, text, admin_user)
    if parsed.project is None:
        raise ConfigError(parsed.problems)
    return parsed.project


@dataclass(frozen=True)
class FleetReading:
    """What the files say, problems and all: the valid projects, every problem found, and each
    agent's formula choice where it is known (agents with other problems, and those of files with
    problems, too: the formulas are checked in the same run)."""

    fleet: Fleet
    problems: tuple[str, ...]
    formula_choices: tuple[FormulaChoice, ...]


def read_fleet(paths: Sequence[Path], admin_user: str = naming.DEFAULT_ADMIN_USER) -> FleetReading:
    """Read and validate every file, then check agents across files; raises nothing."""
    problems: list[str] = []
    projects: list[Project] = []
    everyone: list[tuple[str, AgentSpec]] = []
    choices: list[FormulaChoice] = []
    for path in paths:
        try:
            text = input_file.read_text(path)
        except input_file.InputFileError as exc:
            problems.append(str(exc))
            continue
        parsed = _parse(path, text, admin_user)
        problems += parsed.problems
        everyone += [(str(path), a) for a in parsed.agents]
        choices += parsed.formula_choices
        if parsed.project is not None:
            projects.append(parsed.project)
    problems += _collisions(everyone, same_file=False)
    return FleetReading(Fleet(projects=tuple(projects)), tuple(problems), tuple(choices))
