"""Who shares which model server, and whether it has a slot for each: the rule `check`, `hire`
and `pulumi up` apply alike.

Agents are grouped by `base_url` (trailing `/` ignored); a server is probed once, with the api key
of the first agent that names it. More agents than the server has slots (llama-server's
`--parallel`, from `/props`) means some wait for a free slot. A base_url may carry credentials:
every line here shows it masked (`Assignment.shown`), never as given.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from disinto_infra import input_file
from disinto_infra.config.project_toml import NOT_AGENTS, AgentSpec
from disinto_infra.model_servers import probe as model_server
from disinto_infra.model_servers.probe import ServerProbe, ServerState
from disinto_infra.url_mask import mask_credentials
from disinto_infra.workers import workers


def server_key(base_url: str) -> str:
    return base_url.rstrip("/")


@dataclass(frozen=True)
class Placed:
    """An agent and the project file that declares it (for problem lines)."""

    file: str
    spec: AgentSpec


@dataclass(frozen=True)
class Assignment:
    """The agents one server is meant to serve."""

    base_url: str
    api_key: str
    agents: tuple[Placed, ...]

    @property
    def shown(self) -> str:
        """The server as lines show it: credentials in its URL masked."""
        return mask_credentials(self.base_url)


def assignments(agents: Sequence[Placed]) -> list[Assignment]:
    grouped: dict[str, list[Placed]] = {}
    for placed in agents:
        grouped.setdefault(server_key(placed.spec.base_url), []).append(placed)
    return [Assignment(url, group[0].spec.api_key, tuple(group)) for url, group in grouped.items()]


def over_capacity(slots: int | None, agents: Sequence[str]) -> str | None:
    """`3 agents (a, b, c) for 2 slots`, when there are more agents than slots."""
    if slots is None or len(agents) <= slots:
        return None
    return f"{counted(len(agents), 'agent')} ({', '.join(agents)}) for {counted(slots, 'slot')}"


def counted(number: int, noun: str) -> str:
    """`1 agent`, `2 agents`: the count with its noun, in the number it takes."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


# ---------------------------------------------------------------- pulumi up: a warning, never a failure

UP_PROBE_TIMEOUT = 2.0


def crowded_servers(agents: Sequence[Placed], timeout: float = UP_PROBE_TIMEOUT) -> list[str]:
    """One line per server that answers and has fewer slots than agents. A server that does not
    answer is left to `check`: `pulumi up` must not fail, nor nag, over a server under maintenance."""
    groups = assignments(agents)
    if not groups:
        return []
    with workers(len(groups)) as pool:
        found = list(pool.map(lambda a: _quiet_probe(a, timeout), groups))
    lines = []
    for assignment, probe in zip(groups, found, strict=True):
        crowded = (
            over_capacity(probe.slots, [p.spec.name for p in assignment.agents]) if probe and probe.reachable else None
        )
        if crowded:
            lines.append(
                f"{assignment.shown}: {crowded}: the rest wait for a free slot "
                "(raise the server's --parallel or move an agent; `python -m disinto_infra check` shows more)"
            )
    return lines


def _quiet_probe(assignment: Assignment, timeout: float) -> ServerProbe | None:
    """The probe, or None whatever went wrong: this runs inside `pulumi up`, which it must never
    fail (a broken CA bundle, say, is `check`'s to report)."""
    try:
        return model_server.probe(assignment.base_url, assignment.api_key, timeout)
    except Exception:
        return None


# ---------------------------------------------------------------- hire: room for one more?


@dataclass(frozen=True)
class Room:
    """What `hire` learnt about the server of a new agent."""

    refuse: bool
    lines: tuple[str, ...]  # warnings or the refusal, with the numbers


def room_for(agent: str, base_url: str, sharing: Sequence[str], found: ServerProbe, force: bool) -> Room:
    """`sharing`: the other agents already on `base_url`. Unreachable is a warning (maintenance),
    as in the factory's own `hire-an-agent`. Why: docs/decisions/model-server-probe.md."""
    url = mask_credentials(server_key(base_url))
    if found.state is ServerState.UNREACHABLE:
        return Room(False, (f"warning: {url} does not answer ({found.detail}); its slots were not checked",))
    if found.state is ServerState.ERROR:
        return Room(
            False,
            (f"warning: {url} answers, but not as a model server does ({found.detail}); its slots were not checked",),
        )
    if found.state is ServerState.LOADING:
        return Room(False, (f"warning: {url} is loading its model; its slots were not checked",))
    if found.slots is None:
        return Room(
            False,
            (
                f"warning: {url} does not say how many slots it has (no llama-server /props); "
                f"{counted(len(sharing) + 1, 'agent')} will share it",
            ),
        )
    crowded = over_capacity(found.slots, [*sharing, agent])
    if crowded is None:
        return Room(False, (f"{url}: {counted(len(sharing) + 1, 'agent')} for {counted(found.slots, 'slot')}",))
    if force:
        return Room(False, (f"warning: {url} would have {crowded}; hiring anyway (--force)",))
    return Room(
        True,
        (
            f"{url} would have {crowded}: {agent} would wait for a free slot. "
            "Raise the server's --parallel, pick another server, or hire with --force",
        ),
    )


def sharing(toml: Path, agent: str, base_url: str) -> tuple[list[str], str]:
    """The other agents of `toml` on `base_url`, and the api key to probe it with (the agent's
    own when it exists already, else the first sharer's, else the default). Unreadable: none."""
    try:
        tables = tomllib.loads(input_file.read_text(toml)).get("agents", {})
    except (OSError, tomllib.TOMLDecodeError, RecursionError):
        return [], AgentSpec.model_fields["api_key"].default
    tables = {
        n: t
        for n, t in (tables.items() if isinstance(tables, dict) else ())
        if isinstance(t, dict) and n not in NOT_AGENTS
    }
    others = [
        n for n, t in tables.items() if n != agent and server_key(str(t.get("base_url", ""))) == server_key(base_url)
    ]
    keys = [tables[n].get("api_key") for n in (agent, *others) if n in tables]
    key = next((k for k in keys if isinstance(k, str)), AgentSpec.model_fields["api_key"].default)
    return others, key


def probe_room(toml: Path, agent: str, base_url: str, force: bool, api_key: str | None = None) -> Room:
    """`api_key`: the one `hire --api-key` gives, else the TOML's (`sharing`)."""
    others, known = sharing(toml, agent, base_url)
    return room_for(agent, base_url, others, model_server.probe(base_url, api_key or known), force)
