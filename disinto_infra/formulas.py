"""Each agent's role formula, read on the Pulumi host before anything is registered.

The formula goes into the agent's `.profile` repository. A missing file is a problem with the
project TOML (the agent's first role names it), so it is reported like the other validation
problems: every one at once, each naming the file, the agent and the field, and nothing registered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .forgejo.profile_repo import formula_path
from .model import ConfigError, Fleet


@dataclass(frozen=True)
class Formula:
    path: Path
    text: str


def read_formulas(fleet: Fleet, factory_root: str) -> Mapping[str, Formula]:
    """The formula of each agent's first role, by agent name; ConfigError lists what is missing."""
    found: dict[str, Formula] = {}
    problems: list[str] = []
    for project, spec in fleet.agents():
        try:
            path = formula_path(Path(factory_root), spec.roles[0])
            found[spec.name] = Formula(path, path.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            problems.append(f"{project.path}: agents.{spec.name}.roles: {exc}")
    if problems:
        raise ConfigError(problems)
    return found
