"""The real program under recording mocks: one Agent component (`build`), the whole fleet of one
project (`run_fleet`), and the entry point `__main__.py` (`run_entry_point`).

Projects are read as if from `F`; `SETTINGS` are a docker stack's with the test factory's formulas
(the program reads them itself, under factoryRoot); `settings(...)` a stack's settings from
`disinto:*` values.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import pulumi

from disinto_infra.config.project_toml import Fleet, parse_project_text
from disinto_infra.config.stack_settings import StackSettings
from disinto_infra.program.agent import Agent, AgentArgs
from disinto_infra.program.build import build_fleet
from disinto_infra.program.plan import RecordingMocks, run_with_mocks
from disinto_infra.runtimes.docker import for_stack
from tests.support.examples import legacy_example_text
from tests.support.factory import FACTORY, formula

ROOT = Path(__file__).resolve().parents[2]
F = Path("/opt/factory/projects/disinto.toml")
# The formulas come from the test factory (the program reads them itself, under factoryRoot).
SETTINGS = StackSettings.from_mapping(
    {"projectToml": "/opt/factory/projects/*.toml", "factoryRoot": str(FACTORY)}, Path("/srv"), home="/home/op"
)


def settings(**values) -> StackSettings:
    return StackSettings.from_mapping(
        {"projectToml": "/opt/factory/projects/*.toml", **values}, Path("/srv/infra"), home="/home/op"
    )


def build(text: str | None = None, stack_settings: StackSettings | None = None, **run_options):
    """The first agent of `text` (the legacy example by default) as one Agent component."""
    project = parse_project_text(F, text or legacy_example_text())
    s = stack_settings or settings()

    def program():
        # The stack's network and image as the program looks them up (the mocks answer the invokes).
        return Agent(project.agents[0].name, AgentArgs(project.agents[0], project, s, for_stack(s), "dev", formula()))

    return run_with_mocks(program, **run_options)


def run_fleet(text: str, settings: StackSettings = SETTINGS, **options):
    project = parse_project_text(F, text)
    return run_with_mocks(lambda: build_fleet(settings, Fleet(projects=(project,)), "dev"), **options)


def run_entry_point(config: dict[str, str], mocks: RecordingMocks, preview: bool = True):
    """Run the real `__main__.py` under mocks with the given `disinto:*` config, as `pulumi preview`
    (the default: the program probes no model server then) or as `pulumi up`."""
    pulumi.runtime.set_all_config({f"disinto:{k}": v for k, v in config.items()}, [])
    try:
        return run_with_mocks(lambda: runpy.run_path(str(ROOT / "__main__.py")), mocks=mocks, preview=preview)
    finally:
        pulumi.runtime.set_all_config({}, [])
