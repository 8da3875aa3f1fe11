"""An agent's Forgejo resources as the real program registers them: a thin view of that recording.

`program(...)` writes one `[agents.<name>]` the way an operator would (forge_user, rotate_token,
rotate_password, token_scopes, the project's name and repo), runs `disinto_infra.program.build.build_fleet` (what
`__main__.py` runs) under the recording mocks, and returns the dynamic resources it registered, with
their registered options and `__provider`, wired by `tests/support/registrations.py`. `identity(...)`
is its user, token and collaborator; `profile(...)` its `.profile` repository.

The agent is built without the TOML's validation (`model_construct`): scenarios also feed the
providers what validation would refuse (an unknown scope, the admin as forge_user) to prove their own
defences. Recordings are cached per set of knobs; each call returns fresh copies.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Sequence
from pathlib import Path

from disinto_infra.config.project_toml import AgentSpec, Fleet, Project
from disinto_infra.config.stack_settings import StackSettings
from disinto_infra.factory.formulas import Formula
from disinto_infra.program.build import build_fleet
from disinto_infra.program.plan import MockRun, run_with_mocks
from tests.support.engine import Res
from tests.support.factory import FACTORY
from tests.support.registrations import dynamic_resources

REPO = "johba/disinto"
PROJECT = "disinto"
FORMULA = 'name = "dev"\n[steps]\nfirst = "read the issue"\n'
FORMULA_SOURCE = "formulas/dev.toml"
IDENTITY = ("user", "token", "collaborator")

_SETTINGS = StackSettings.from_mapping(
    {"projectToml": "/opt/factory/projects/*.toml", "factoryRoot": str(FACTORY)}, Path("/srv"), home="/home/op"
)


@functools.lru_cache(maxsize=512)
def _recorded(
    agent: str,
    username: str,
    rotation: int,
    password_rotation: int,
    scopes: tuple[str, ...] | None,
    repo: str,
    formula: str,
    project_name: str,
) -> tuple[Res, ...]:
    return tuple(
        dynamic_resources(
            recorded_run(agent, username, rotation, password_rotation, scopes, repo, formula, project_name)
        )
    )


def recorded_run(
    agent: str,
    username: str | None = None,
    rotation: int = 0,
    password_rotation: int = 0,
    scopes: tuple[str, ...] | None = None,
    repo: str = REPO,
    formula: str = FORMULA,
    project_name: str = PROJECT,
) -> MockRun:
    """The whole recording of one agent's program (every resource, not only the Forgejo ones)."""
    spec = AgentSpec.model_construct(
        name=agent,
        base_url="http://10.10.10.1:8081",
        model="unsloth/Qwen3.5-35B-A3B",
        forge_user=username or agent,
        token_scopes=scopes,
        rotate_token=rotation,
        rotate_password=password_rotation,
    )
    project = Project.model_construct(
        path=Path(f"/opt/factory/projects/{project_name}.toml"), name=project_name, repo=repo, agents=(spec,)
    )
    formulas = {agent: Formula(Path(FORMULA_SOURCE), formula)}
    return run_with_mocks(lambda: build_fleet(_SETTINGS, Fleet.model_construct(projects=(project,)), "dev", formulas))


def program(
    agent: str,
    *,
    username: str | None = None,
    rotation: int = 0,
    password_rotation: int = 0,
    scopes: Sequence[str] | None = None,  # None: not written, the program's default
    repo: str = REPO,
    formula: str = FORMULA,
    project: str = PROJECT,
    replace: Sequence[str] = (),
) -> list[Res]:
    """Every Forgejo resource of one agent, as registered; `replace` names children to `--replace`."""
    resources = copy.deepcopy(
        list(
            _recorded(
                agent,
                username or agent,
                rotation,
                password_rotation,
                None if scopes is None else tuple(scopes),
                repo,
                formula,
                project,
            )
        )
    )
    for res in resources:
        res.replace = res.name.removeprefix(f"{agent}-") in replace
    return resources


def identity(agent: str, *, email: str | None = None, **knobs) -> list[Res]:
    """`<agent>-user`, `<agent>-token`, `<agent>-collaborator`, as the program registers them.

    `email` overrides the user's recorded address (the program derives it: naming.bot_email); prefer
    `project=`, which changes it the way the program does."""
    wanted = [f"{agent}-{child}" for child in IDENTITY]
    by_name = {r.name: r for r in program(agent, **knobs)}
    if email is not None:
        by_name[wanted[0]].inputs["email"] = email
    return [by_name[name] for name in wanted]


def profile(agent: str = "dev-qwen", formula: str = FORMULA, username: str | None = None, **options) -> Res:
    """`<agent>-profile` as registered; `username` stands for a user the program does not manage
    (its input is then that name, not the user resource's output); `options` override the registered ones."""
    [res] = [r for r in program(agent, formula=formula) if r.name == f"{agent}-profile"]
    if username is not None:
        res.inputs["username"] = username
        res.depends_on = []
    for key, value in options.items():
        setattr(res, key, value)
    return res
