"""Each agent's formula, found and judged before anything is registered, with the model's problems."""

from __future__ import annotations

from pathlib import Path

import pytest

from disinto_infra.config.project_toml import ConfigError
from disinto_infra.config.stack_settings import StackSettings
from disinto_infra.factory import formulas
from disinto_infra.factory.formulas import Formula, load_fleet_and_formulas
from tests.support.factory import give_formulas
from tests.support.project_toml import HEADER, agent


def factory(tmp_path: Path, text: str) -> tuple[Path, StackSettings]:
    """<tmp>/projects/p.toml and the test formulas; settings as the offline commands make them."""
    give_formulas(tmp_path)
    (tmp_path / "projects").mkdir()
    toml = tmp_path / "projects" / "p.toml"
    toml.write_text(text)
    return toml, StackSettings.from_mapping({"projectToml": str(toml)}, tmp_path)


def test_review_and_explicit_formulas_are_found(tmp_path):
    text = HEADER + agent("dev") + agent("rev", roles='["review"]') + agent("mine", formula='"formulas/mine.toml"')
    _toml, settings = factory(tmp_path, text)
    (tmp_path / "formulas" / "review-pr.toml").write_text('name = "review-pr"\n')
    (tmp_path / "formulas" / "mine.toml").write_text('name = "mine"\n')
    fleet, found = load_fleet_and_formulas(settings)
    assert [a.name for _, a in fleet.agents()] == ["dev", "rev", "mine"]
    assert {n: f.path.name for n, f in found.items()} == {
        "dev": "dev.toml",
        "rev": "review-pr.toml",
        "mine": "mine.toml",
    }
    assert found["rev"] == Formula(tmp_path / "formulas" / "review-pr.toml", 'name = "review-pr"\n')


def test_model_and_formula_problems_are_reported_together(tmp_path):
    """A bad URL in one agent does not hide the formulas of the others; each line names the file."""
    text = (
        HEADER
        + agent("a", base_url='"localhost"')
        + agent("b", roles='["planner"]')
        + agent("c", formula='"formulas/empty.toml"')
        + agent("d", formula='"formulas/binary.toml"')
        + agent("e", formula='"formulas/broken.toml"')
        + agent("f", formula='"formulas/gone.toml"')
    )
    toml, settings = factory(tmp_path, text)
    f = tmp_path / "formulas"
    (f / "empty.toml").write_text("\n")
    (f / "binary.toml").write_bytes(b"\x00\xff\x10")
    (f / "broken.toml").write_text("[steps\n")
    with pytest.raises(ConfigError) as caught:
        load_fleet_and_formulas(settings)
    lines = caught.value.problems
    assert lines[:2] == [
        f'{toml}: agents.a.base_url: must be an http(s) URL, not "localhost"',
        f"{toml}: agents.b.roles: no formula for role 'planner': neither {f}/planner.toml nor {f}/run-planner.toml "
        "exists (check the agent's roles and disinto:factoryRoot)",
    ]
    assert lines[2:4] == [
        f"{toml}: agents.c.formula: {f}/empty.toml is empty: expected the content of the role's formula file",
        f"{toml}: agents.d.formula: {f}/binary.toml is not UTF-8 text (invalid start byte at byte 1)",
    ]
    assert lines[4].startswith(f"{toml}: agents.e.formula: {f}/broken.toml is not valid TOML: ")
    assert lines[5] == (
        f"{toml}: agents.f.formula: formula file {f}/gone.toml does not exist "
        "(the path is relative to disinto:factoryRoot)"
    )
    assert len(lines) == 6


def test_an_agent_with_other_problems_still_has_its_formula_checked(tmp_path):
    text = (
        HEADER
        + agent("a", base_url='"localhost"', roles='["planner"]')
        + agent("b", compact_pct="0", formula='"formulas/gone.toml"')
        + agent("c", roles="[]")
        + agent("d", formula='"/abs.toml"', model='""')
    )
    toml, settings = factory(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_fleet_and_formulas(settings)
    f = tmp_path / "formulas"
    assert caught.value.problems == [
        f'{toml}: agents.a.base_url: must be an http(s) URL, not "localhost"',
        f"{toml}: agents.b.compact_pct: must be an integer from 1 to 100, not 0",
        f"{toml}: agents.c.roles: must be a non-empty list of non-empty strings, not []",
        f'{toml}: agents.d.model: must be a non-empty string, not ""',
        f'{toml}: agents.d.formula: must be relative to the factory root (disinto:factoryRoot), not "/abs.toml"',
        # a bad roles or formula value is said once, by the model; the formulas of the others follow
        f"{toml}: agents.a.roles: no formula for role 'planner': neither {f}/planner.toml nor {f}/run-planner.toml "
        "exists (check the agent's roles and disinto:factoryRoot)",
        f"{toml}: agents.b.formula: formula file {f}/gone.toml does not exist (the path is relative to "
        "disinto:factoryRoot)",
    ]


def test_one_formula_file_is_read_once_for_many_agents(tmp_path, monkeypatch):
    _toml, settings = factory(tmp_path, HEADER + "".join(agent(f"a{i}") for i in range(50)))
    reads = []
    real = formulas.read_formula
    monkeypatch.setattr(formulas, "read_formula", lambda path: reads.append(path) or real(path))
    _fleet, found = load_fleet_and_formulas(settings)
    assert len(found) == 50 and reads == [tmp_path / "formulas" / "dev.toml"]


def test_agents_that_choose_alike_share_one_lookup_and_each_gets_its_problem(tmp_path, monkeypatch):
    """The lookup (stat, realpath) runs once per (role, formula key), not once per agent; an agent
    whose shared choice fails still gets its own problem line."""
    body = "".join(agent(f"d{i}") for i in range(30)) + "".join(agent(f"p{i}", roles='["planner"]') for i in range(3))
    _toml, settings = factory(tmp_path, HEADER + body)
    lookups = []
    real = formulas.formula_path
    monkeypatch.setattr(formulas, "formula_path", lambda *a: lookups.append(a[1:]) or real(*a))
    with pytest.raises(ConfigError) as err:
        load_fleet_and_formulas(settings)
    assert lookups == [("dev", None), ("planner", None)]
    assert [line.split(": ")[1] for line in err.value.problems] == [f"agents.p{i}.roles" for i in range(3)]
