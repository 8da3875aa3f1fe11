"""The factory's `docker-compose.yml`, and the `disinto up` that starts the rest of the factory.

The factory's compose file may also define services for agents this program runs. This module reads
the file's services and builds the `disinto up SERVICE…` that `plan` prints: every service a plain
`disinto up` starts, less those of our agents, with `--no-regen` when regenerating the file would
write an agent's service back. Why: docs/decisions/disinto-up-command.md
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from disinto_infra import input_file, naming
from disinto_infra.parsed import JsonObject

COMPOSE_FILE = "docker-compose.yml"
NO_REGEN = "--no-regen"


class ComposeFileError(ValueError):
    """The factory's docker-compose.yml could not be read; the message names the file."""


def agent_service(agent: str) -> str:
    """The service the factory's generator writes for `[agents.<agent>]`."""
    return f"agents-{agent}"


@dataclass(frozen=True)
class ComposeService:
    name: str
    container_name: str | None
    profiles: tuple[str, ...]
    depends_on: tuple[str, ...]


@dataclass(frozen=True)
class ComposeFile:
    path: Path
    services: tuple[ComposeService, ...]

    def services_of(self, agent: str) -> list[str]:
        """Services that run this agent: `agents-<name>`, or any with its container name."""
        container = naming.container_name(agent)
        return [s.name for s in self.services if s.name == agent_service(agent) or s.container_name == container]


def _strings(value: object) -> tuple[str, ...]:
    """A compose list (or, for depends_on, a mapping keyed by service) as names."""
    if isinstance(value, dict):
        return tuple(str(k) for k in value)
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return ()


def _service(name: object, body: object) -> ComposeService:
    body = body if isinstance(body, dict) else {}
    container = body.get("container_name")
    return ComposeService(
        name=str(name),
        container_name=container if isinstance(container, str) else None,
        profiles=_strings(body.get("profiles")),
        depends_on=_strings(body.get("depends_on")),
    )


def read_compose_file(path: Path) -> ComposeFile | None:
    """The file's services in file order; None when there is no such file."""
    if not os.path.exists(path):
        return None
    try:
        document = yaml.safe_load(input_file.read_text(path))
    except input_file.InputFileError as exc:
        raise ComposeFileError(str(exc)) from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise ComposeFileError(f"{path}: cannot read it as YAML: {exc or 'nested too deeply'}") from None
    services = document.get("services") if isinstance(document, dict) else None
    if not isinstance(services, dict):
        return ComposeFile(path, ())
    return ComposeFile(path, tuple(_service(name, body) for name, body in services.items()))


def compose_conflicts(compose: ComposeFile | None, agent_names: Iterable[str]) -> list[str]:
    """Agents (each once, in order) that the compose file also defines a service for."""
    if compose is None:
        return []
    found: list[str] = []
    for agent in agent_names:
        if agent not in found and compose.services_of(agent):
            found.append(agent)
    return found


# ---------------------------------------------------------------- the command


@dataclass(frozen=True)
class UpCommand:
    """`disinto up [--no-regen] SERVICE…` for everything in the compose file but our agents."""

    compose_file: str
    services: tuple[str, ...]  # what the command names, in file order
    left_to_program: tuple[str, ...]  # services of the agents this program runs
    left_out_profiled: tuple[str, ...]  # as a plain `disinto up` leaves them out
    no_regen: bool
    notes: tuple[str, ...]  # why --no-regen; dependencies that would pull an agent in

    @property
    def argv(self) -> tuple[str, ...] | None:
        """None when nothing is left to start: a bare `disinto up` would start every service."""
        if not self.services:
            return None
        return ("disinto", "up", *((NO_REGEN,) if self.no_regen else ()), *self.services)

    def shell(self) -> str | None:
        return shlex.join(self.argv) if self.argv else None

    def to_json(self) -> JsonObject:
        return {
            "compose_file": self.compose_file,
            "command": list(self.argv) if self.argv else None,
            "shell": self.shell(),
            "services": list(self.services),
            "left_to_program": list(self.left_to_program),
            "left_out_profiled": list(self.left_out_profiled),
            "no_regen": self.no_regen,
            "notes": list(self.notes),
        }

    def to_text(self) -> list[str]:
        where = f"{COMPOSE_FILE} at {self.compose_file}"
        head = (
            f"start the rest of the factory with: {self.shell()}"
            if self.argv
            else f"nothing else to start: every service of {where} is an agent run here or has a profile "
            "(never a bare `disinto up`: it starts them all)"
        )
        left = [f"{listed(self.left_to_program) or 'no service'} (run by this program)"]
        if self.left_out_profiled:
            left.append(f"{listed(self.left_out_profiled)} (profiles; a plain `disinto up` skips them too)")
        return [head, f"  from {where}; left out: {'; '.join(left)}", *(f"  {note}" for note in self.notes)]


# A text line names at most this many services (`--json` has them all): 1,000 agents made one
# 17 KB line of the plan (issue 19).
SHOWN = 8


def listed(names: Sequence[str], most: int = SHOWN) -> str:
    """`a, b, c`, or past `most`: `a, b, …, h and 992 more`."""
    if len(names) <= most:
        return ", ".join(names)
    return f"{', '.join(names[:most])} and {len(names) - most} more"


def _needs(compose: ComposeFile, names: Iterable[str]) -> set[str]:
    """The services compose starts for `names`: them and what they depend on, transitively."""
    by_name = {s.name: s for s in compose.services}
    todo, seen = list(names), set()
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(by_name[name].depends_on if name in by_name else ())
    return seen


def up_command(compose: ComposeFile, agents: Sequence[str]) -> UpCommand:
    ours = {service for agent in agents for service in compose.services_of(agent)}
    profiled = [s.name for s in compose.services if s.profiles and s.name not in ours]
    services = tuple(s.name for s in compose.services if s.name not in ours and not s.profiles)
    notes = []
    missing = [agent for agent in agents if not compose.services_of(agent)]
    if missing:
        added = listed([agent_service(a) for a in missing])
        notes.append(
            f"{NO_REGEN}: the file has no {added}; regenerating it (what `disinto up` does otherwise) "
            "would write them back"
        )
    pulled_in = sorted(_needs(compose, services) & ours)
    if pulled_in:
        notes.append(
            f"the services named depend on {listed(pulled_in)}: compose would start those too; remove that depends_on"
        )
    return UpCommand(
        compose_file=str(compose.path),
        services=services,
        left_to_program=tuple(s.name for s in compose.services if s.name in ours),
        left_out_profiled=tuple(profiled),
        no_regen=bool(missing),
        notes=tuple(notes),
    )
