"""Bad input in a nomad stack's settings: each rule Nomad or Vault would enforce at `pulumi up`
(config/nomad_constraints.py, config/stack_settings.py `_check_path`) fails `plan` and the Pulumi program first:
exit 1 / a RunError, one line per mistake naming the stack file and the key, nothing registered."""

from __future__ import annotations

import json

import pulumi
import pytest
import yaml

from disinto_infra.commands import cli
from disinto_infra.program.plan import RecordingMocks
from tests.support.examples import legacy_example_text
from tests.support.factory import FACTORY, give_formulas
from tests.support.mocked_program import run_entry_point

pytestmark = pytest.mark.reliability


def constraint(attribute="${node.class}", operator="=", value="agents") -> str:
    return json.dumps({"attribute": attribute, "operator": operator, "value": value})


# One bad setting each: the key the line must name and a fragment of its reason.
CASES = {
    "is_set-with-a-value": (
        {"nomadConstraint": constraint(operator="is_set", value="true")},
        [("nomadConstraint.value", "must be left out")],
    ),
    "equals-without-a-value": ({"nomadConstraint": constraint(value="")}, [("nomadConstraint.value", "is required")]),
    "regexp-go-refuses": (
        {"nomadConstraint": constraint(operator="regexp", value="^(?!gpu)")},
        [("nomadConstraint.value", "Go (RE2)")],
    ),
    "regexp-that-does-not-compile": (
        {"nomadConstraint": constraint(operator="regexp", value="box[0-9")},
        [("nomadConstraint.value", "missing ]: [0-9")],
    ),
    "version-that-does-not-parse": (
        {"nomadConstraint": constraint(operator="version", value=">= 1.x")},
        [("nomadConstraint.value", "go-version constraint")],
    ),
    "semver-with-pessimistic": (
        {"nomadConstraint": constraint(operator="semver", value="~> 1.2")},
        [("nomadConstraint.value", "no ~>")],
    ),
    "attribute-nomad-cannot-resolve": (
        {"nomadConstraint": constraint(attribute="${node.name}")},
        [("nomadConstraint.attribute", "not an attribute Nomad can resolve")],
    ),
    "kv-prefix-wildcard": ({"vaultKvPrefix": "disinto/+"}, [("vaultKvPrefix", "must not hold '+'")]),
    "kv-mount-glob": ({"vaultKvMount": "kv*"}, [("vaultKvMount", "must not hold '*'")]),
    "auth-mount-query": ({"vaultAuthMount": "jwt?x"}, [("vaultAuthMount", "must not hold '?'")]),
    # every mistake at once, in the settings' order
    "three-at-once": (
        {"nomadConstraint": constraint(attribute="", operator="regexp", value="(a)\\1"), "vaultKvPrefix": "bots/*"},
        [
            ("nomadConstraint.attribute", "must name a node attribute"),
            ("nomadConstraint.value", "backreference"),
            ("vaultKvPrefix", "must not hold '*'"),
        ],
    ),
}


def assert_lines(lines: list[str], stack_file: str, expected: list[tuple[str, str]]) -> None:
    assert len(lines) == len(expected), lines
    for line, (key, fragment) in zip(lines, expected, strict=True):
        assert line.startswith(f"{stack_file}: disinto:{key}: ") and fragment in line, line


@pytest.fixture
def project_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    give_formulas(tmp_path)
    (tmp_path / "projects").mkdir()
    (tmp_path / "projects" / "disinto.toml").write_text(legacy_example_text())
    return tmp_path


@pytest.mark.parametrize("case", CASES)
def test_plan_exits_1_naming_the_stack_file_and_key(case, project_dir, capsys):
    values, expected = CASES[case]
    stack_file = project_dir / "Pulumi.dev.yaml"
    config = {"disinto:runtime": "nomad", **{f"disinto:{k}": v for k, v in values.items()}}
    stack_file.write_text(yaml.safe_dump({"config": config}))
    assert cli.main(["plan", "--stack", "dev"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert_lines(captured.err.splitlines(), str(stack_file), expected)


@pytest.mark.parametrize("case", CASES)
def test_the_program_registers_nothing(case, tmp_path):
    values, expected = CASES[case]
    toml = tmp_path / "projects" / "disinto.toml"
    toml.parent.mkdir()
    toml.write_text(legacy_example_text())
    mocks = RecordingMocks()
    with pytest.raises(pulumi.RunError) as caught:
        run_entry_point({"projectToml": str(toml), "factoryRoot": str(FACTORY), "runtime": "nomad", **values}, mocks)
    assert_lines(str(caught.value).splitlines(), "Pulumi.dev.yaml", expected)
    assert mocks.created == []
