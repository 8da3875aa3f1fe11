"""Each agent's formula, found and read on the Pulumi host before anything is registered.

The formula goes into the agent's `.profile` repository. Where it is looked up is
`config/formula_file.py` (`formula_path`: the agent's `formula` key, else by its first role); a
file that is missing, not UTF-8, empty or not TOML is refused by the same judge the provider's
`check` uses. Such a file is a problem with the project TOML, reported like the others: every one
at once, together with the model's problems, each as `<file>: agents.<name>.<field>: …` (field
`formula` when the agent sets it, else `roles`) naming the formula file, and nothing registered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from disinto_infra.config.formula_file import formula_path, read_formula
from disinto_infra.config.project_toml import ConfigError, Fleet, FormulaChoice, read_fleet
from disinto_infra.config.stack_settings import StackSettings
from disinto_infra.runtimes.bind_sources import entrypoint_problems


@dataclass(frozen=True)
class Formula:
    path: Path
    text: str


class FormulaProblem(Exception):
    """Why an agent has no usable formula; the message names the formula file (or where it was sought)."""


def formula_for(factory_root: str | Path, role: str, formula: str | None = None) -> Formula:
    """The formula `formula` (relative to the factory root) or `role` leads to, read and judged;
    raises FormulaProblem."""
    try:
        path = formula_path(Path(factory_root), role, formula)
    except (OSError, ValueError) as exc:
        raise FormulaProblem(str(exc)) from None
    text, problem = read_formula(path)
    if text is None:  # read_formula gives the text or why not
        raise FormulaProblem(problem or f"{path}: unreadable")
    return Formula(path, text)


def find_formulas(choices: Iterable[FormulaChoice], factory_root: str | Path) -> tuple[dict[str, Formula], list[str]]:
    """Each agent's formula by agent name, and one problem line per agent whose formula fails.

    Agents that choose alike (same first role, same `formula` key) share one lookup: a fleet of
    thousands of `dev` agents looks for `formulas/dev.toml` and reads it once, not once each."""
    found: dict[str, Formula] = {}
    problems: list[str] = []
    outcomes: dict[tuple[str, str | None], Formula | FormulaProblem] = {}
    for choice in choices:
        key = (choice.role, choice.formula)
        if key not in outcomes:
            try:
                outcomes[key] = formula_for(factory_root, *key)
            except FormulaProblem as exc:
                outcomes[key] = exc
        outcome = outcomes[key]
        if isinstance(outcome, Formula):
            found[choice.agent] = outcome
        else:
            problems.append(f"{choice.file}: agents.{choice.agent}.{choice.field}: {outcome}")
    return found, problems


def read_formulas(fleet: Fleet, factory_root: str | Path) -> Mapping[str, Formula]:
    """The formulas of a validated fleet, by agent name; ConfigError lists every problem."""
    choices = (FormulaChoice.of(str(project.path), spec) for project, spec in fleet.agents())
    found, problems = find_formulas(choices, factory_root)
    if problems:
        raise ConfigError(problems)
    return found


def load_fleet_and_formulas(
    settings: StackSettings,
    source: str | None = None,
) -> tuple[Fleet, Mapping[str, Formula]]:
    """The stack's fleet and every agent's formula; ConfigError lists the model's problems and the
    formulas' together (a bad URL hides no missing formula, of another agent or of its own), and
    what would make the agents' entrypoint exit at once (runtimes/bind_sources.py; `source`: the stack file)."""
    reading = read_fleet(settings.project_files(), admin_user=settings.admin_user)
    found, problems = find_formulas(reading.formula_choices, settings.factory_root)
    if reading.fleet.agents():
        problems += entrypoint_problems(settings, source)
    if reading.problems or problems:
        raise ConfigError([*reading.problems, *problems])
    return reading.fleet, found
