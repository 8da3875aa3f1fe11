"""Bad input: a corpus of malformed project TOMLs (tests/reliability/bad_toml/, each saying on its
first line what is wrong). Each one fails `load_fleet`, `python -m disinto_infra validate` and the
Pulumi program itself with a line naming the file and, where there is one, the agent and the field
(`<file>: agents.<name>.<field>: …`), and the program registers nothing.

EXPECTED is the table of what each file must produce: one (location, fragment) pair per problem
line, in order. A line must read `<file>: <location>: <text>` with `fragment` inside `<text>`:
the location is pinned exactly, the wording only by a fragment, so a better message is not a
failure but a message that loses the file, agent or field is.
"""

from __future__ import annotations

import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pulumi
import pytest

from disinto_infra.commands import cli
from disinto_infra.config.project_toml import ConfigError
from disinto_infra.program.plan import RecordingMocks, run_with_mocks
from tests.support.project_toml import GOOD, load_fleet

pytestmark = pytest.mark.reliability

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).resolve().parent / "bad_toml"

NAME_RULE = "lower-case letters, digits and single dashes"
LONG_NAME = "a" + "b" * 48  # 49 characters: disinto-agents-<name> is 64
LONG_DEFAULT = "a" + "b" * 36  # 37 characters: <name>-bot is 41
# file -> [(location, fragment)], one pair per problem line, in the order they are reported.
EXPECTED: dict[str, list[tuple[str, str]]] = {
    # TOML syntax: the line (and column) instead of a field
    "syntax_unclosed_string.toml": [("line 7", "Illegal character")],
    "syntax_duplicate_key.toml": [("line 8", "base_url is set twice in one table")],
    "syntax_duplicate_table.toml": [("line 9", "[agents.dev] is declared twice")],
    "syntax_bare_value.toml": [("line 8", "Expected newline or end of document")],
    "syntax_unterminated_table.toml": [("line 5", "Expected ']'")],
    # the file itself
    "not_utf8.toml": [("not UTF-8 text", "")],
    # project-level keys
    "missing_project_name.toml": [("name", "is required")],
    "missing_repo.toml": [("repo", "is required")],
    "repo_without_owner.toml": [("repo", 'must be "owner/name", not "disinto"')],
    "project_name_with_space.toml": [("name", '"my project"')],
    "woodpecker_repo_id_string.toml": [("ci.woodpecker_repo_id", 'non-negative integer, not "12"')],
    "agents_not_a_table.toml": [("agents", "must be a table")],
    # agent tables and names
    "agent_not_a_table.toml": [("agents.dev", "must be a table, not 3")],
    "agent_name_upper_case.toml": [("agents.Dev", NAME_RULE)],
    "agent_name_underscore.toml": [("agents.dev_qwen", NAME_RULE)],
    "agent_name_key.toml": [("agents.dev.name", "unknown key")],
    "agent_name_too_long.toml": [(f"agents.{LONG_NAME}", "at most 48 characters, not 49: its container name")],
    "default_forge_user_too_long.toml": [
        (f"agents.{LONG_DEFAULT}.forge_user", f'the default forge_user "{LONG_DEFAULT}-bot" is 41 characters'),
    ],
    # agent fields
    "missing_base_url.toml": [("agents.dev.base_url", "is required")],
    "missing_model.toml": [("agents.dev.model", "is required")],
    "base_url_not_http.toml": [("agents.dev.base_url", "http(s) URL")],
    "base_url_without_host.toml": [("agents.dev.base_url", "http(s) URL")],
    "model_blank.toml": [("agents.dev.model", "non-empty string")],
    "api_key_number.toml": [("agents.dev.api_key", "must be a string")],
    "roles_empty.toml": [("agents.dev.roles", "non-empty list")],
    "roles_string.toml": [("agents.dev.roles", "non-empty list")],
    "roles_blank_entry.toml": [("agents.dev.roles", "non-empty strings")],
    "forge_user_space.toml": [("agents.dev.forge_user", "letters, digits")],
    "forge_user_dot.toml": [("agents.dev.forge_user", "'.'")],
    "forge_user_too_long.toml": [("agents.dev.forge_user", "at most 40 characters, not 41")],
    "forge_user_reserved.toml": [("agents.dev.forge_user", '"admin" is reserved')],
    "forge_user_is_the_admin.toml": [("agents.dev.forge_user", 'admin user "disinto-admin"')],
    "forge_user_dash_run.toml": [("agents.dev.forge_user", "in a row")],
    "forge_user_trailing_dash.toml": [("agents.dev.forge_user", "must not end with")],
    "compact_pct_zero.toml": [("agents.dev.compact_pct", "from 1 to 100, not 0")],
    "compact_pct_boolean.toml": [("agents.dev.compact_pct", "not true")],
    "compact_pct_float.toml": [("agents.dev.compact_pct", "not 60.5")],
    "poll_interval_negative.toml": [("agents.dev.poll_interval", "whole number of seconds from 1 to 86400")],
    "poll_interval_string.toml": [("agents.dev.poll_interval", 'not "60"')],
    "rotate_token_negative.toml": [("agents.dev.rotate_token", "non-negative integer, not -1")],
    "rotate_password_float.toml": [("agents.dev.rotate_password", "non-negative integer, not 1.5")],
    "token_scopes_unknown.toml": [("agents.dev.token_scopes", '"repo" is not a Forgejo token scope')],
    "token_scopes_empty.toml": [("agents.dev.token_scopes", "non-empty list")],
    "token_scopes_cannot_push.toml": [
        ("agents.dev.token_scopes", "lacks write:repository: the token is also the agent's git password")
    ],
    "unknown_key_typo.toml": [
        ("agents.dev.model", "is required"),
        ("agents.dev.modle", 'did you mean "model"'),
    ],
    # across agents
    "duplicate_forge_user.toml": [("agents.review.forge_user", "already the forge_user of agents.dev")],
    "forge_user_case_clash.toml": [("agents.dev2.forge_user", "already the forge_user of agents.dev")],
    "env_suffix_clash.toml": [("agents.dev2.forge_user", "env suffix DEV_QWEN")],
    "default_forge_user_clash.toml": [
        ("agents.review.forge_user", '"dev-bot" is already the forge_user of agents.dev')
    ],
    # every problem at once
    "many_problems.toml": [
        ("repo", "is required"),
        ("agents.dev.base_url", '"localhost:8081"'),
        ("agents.dev.compact_pct", "not 200"),
        ("agents.review.base_url", "is required"),
    ],
    # the formula key itself
    "formula_absolute.toml": [("agents.dev.formula", "must be relative to the factory root")],
    "formula_leaves_the_root.toml": [("agents.dev.formula", '".." leaves it')],
    # valid TOML and model, but no usable formula (read before anything is registered); the line
    # names the formula file, on `formula` when the agent sets it, else on `roles`
    "role_without_formula.toml": [("agents.dev.roles", "no formula for role 'gardener'")],
    "role_not_a_plain_name.toml": [("agents.dev.roles", "not a plain name")],
    "review_without_formula.toml": [("agents.dev.roles", "formulas/run-review.toml or ")],
    "formula_missing.toml": [("agents.dev.formula", "formulas/missing.toml does not exist")],
    "formula_empty.toml": [("agents.dev.formula", "formulas/empty.toml is empty")],
    "formula_binary.toml": [("agents.dev.formula", "formulas/binary.toml is not UTF-8 text")],
    "formula_not_toml.toml": [("agents.dev.formula", "formulas/broken.toml is not valid TOML")],
    # the model's and the formulas' problems together
    "model_and_formula_problems.toml": [
        ("agents.dev.base_url", '"localhost:8081"'),
        ("agents.both.base_url", '"http://"'),
        ("agents.planner.roles", "no formula for role 'planner'"),
        ("agents.both.roles", "no formula for role 'architect'"),
    ],
}
# Files with problems only the formula check finds (load_fleet alone reads no formula):
# load_fleet reports the rest of their lines, or none.
FORMULA_LINES = {
    "role_without_formula.toml": 1,
    "role_not_a_plain_name.toml": 1,
    "review_without_formula.toml": 1,
    "formula_missing.toml": 1,
    "formula_empty.toml": 1,
    "formula_binary.toml": 1,
    "formula_not_toml.toml": 1,
    "model_and_formula_problems.toml": 2,
}
FILES = sorted(EXPECTED)


@pytest.fixture
def factory(tmp_path, monkeypatch):
    """A factory checkout: projects/ for the TOMLs, formulas/dev.toml for the default role, and an
    empty Pulumi project folder for the CLI (so the repository's own stack file does not leak in)."""
    (tmp_path / "projects").mkdir()
    (tmp_path / "formulas").mkdir()
    (tmp_path / "formulas" / "dev.toml").write_text('name = "dev"\n')
    (tmp_path / "formulas" / "empty.toml").write_text("")
    (tmp_path / "formulas" / "binary.toml").write_bytes(b"\x89PNG\r\n\x1a\n\x00")
    (tmp_path / "formulas" / "broken.toml").write_text("[steps\n")
    project_dir = tmp_path / "pulumi"
    project_dir.mkdir()
    monkeypatch.chdir(project_dir)
    return tmp_path


def place(factory: Path, name: str) -> Path:
    target = factory / "projects" / name
    shutil.copyfile(CORPUS / name, target)
    return target


def matches(line: str, path: Path, location: str, fragment: str) -> bool:
    prefix = f"{path}: {location}"
    if not line.startswith(prefix):
        return False
    rest = line[len(prefix) :]
    return (rest == "" or rest.startswith((": ", " "))) and fragment in rest


def assert_lines(problems: list[str], path: Path, name: str, expected: list[tuple[str, str]] | None = None) -> None:
    """Exactly the expected lines, in order."""
    expected = EXPECTED[name] if expected is None else expected
    assert len(problems) == len(expected), problems
    for line, (location, fragment) in zip(problems, expected, strict=True):
        assert matches(line, path, location, fragment), f"{line!r} is not {path}: {location}: …{fragment}…"


def assert_reported(problems: list[str], path: Path, name: str) -> None:
    """Every expected line is among the problems (other files may add clashes with this one)."""
    for location, fragment in EXPECTED[name]:
        assert any(matches(line, path, location, fragment) for line in problems), (path, location, problems)


def test_corpus_is_complete_and_documented():
    files = sorted(p.name for p in CORPUS.glob("*.toml"))
    assert len(files) >= 30
    assert files == FILES, "every file needs a row in EXPECTED, every row a file"
    for name in files:
        first = (CORPUS / name).read_bytes().splitlines()[0]
        assert first.startswith(b"# WRONG: ") and len(first) > 20, f"{name}: first line must say what is wrong"


@pytest.mark.parametrize("name", FILES)
def test_load_fleet_names_file_agent_and_field(factory, name):
    path = place(factory, name)
    model_lines = EXPECTED[name][: len(EXPECTED[name]) - FORMULA_LINES.get(name, 0)]
    if not model_lines:
        assert load_fleet([path]).agents()  # the model is fine: the formulas are not its business
        return
    with pytest.raises(ConfigError) as caught:
        load_fleet([path])
    assert str(caught.value) == "\n".join(caught.value.problems)
    assert_lines(caught.value.problems, path, name, model_lines)


@pytest.mark.parametrize("name", FILES)
def test_validate_exits_1_with_the_lines(factory, name, capsys):
    path = place(factory, name)
    assert cli.main(["validate", "--toml", str(path)]) == 1
    out = capsys.readouterr()
    assert out.out == ""
    assert_lines(out.err.splitlines(), path, name)


def run_entry_point(config: dict[str, str], mocks: RecordingMocks):
    """The real root `__main__.py`, as `pulumi preview` runs it (no model server probed), under recording mocks."""
    pulumi.runtime.set_all_config({f"disinto:{k}": v for k, v in config.items()}, [])
    try:
        return run_with_mocks(lambda: runpy.run_path(str(ROOT / "__main__.py")), mocks=mocks, preview=True)
    finally:
        pulumi.runtime.set_all_config({}, [])


@pytest.mark.parametrize("name", FILES)
def test_program_fails_and_registers_nothing(factory, name):
    path = place(factory, name)
    mocks = RecordingMocks()
    with pytest.raises(pulumi.RunError) as caught:
        run_entry_point({"projectToml": str(path)}, mocks)
    assert_lines(str(caught.value).splitlines(), path, name)
    assert mocks.created == []


def test_whole_corpus_beside_a_good_file_registers_nothing(factory):
    """One bad file among good ones stops everything; every problem of every file is reported."""
    for name in FILES:
        place(factory, name)
    (factory / "projects" / "good.toml").write_text(GOOD)
    mocks = RecordingMocks()
    with pytest.raises(pulumi.RunError) as caught:
        run_entry_point({"projectToml": str(factory / "projects" / "*.toml")}, mocks)
    assert mocks.created == []
    lines = str(caught.value).splitlines()
    for name in FILES:  # the formulas of the valid agents too, in the same run
        assert_reported(lines, factory / "projects" / name, name)
    assert all(line.startswith(f"{factory}/projects/") for line in lines), lines


def test_validate_command_as_a_process(factory):
    """`python -m disinto_infra validate` itself: exit 1, one line per problem, each naming its file."""
    for name in ("missing_model.toml", "many_problems.toml", "syntax_duplicate_key.toml"):
        place(factory, name)
    pattern = str(factory / "projects" / "*.toml")
    done = subprocess.run(
        [sys.executable, "-m", "disinto_infra", "validate", "--toml", pattern],
        cwd=factory / "pulumi",
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(factory)},
    )
    assert done.returncode == 1 and done.stdout == ""
    lines = done.stderr.splitlines()
    for name in ("missing_model.toml", "many_problems.toml", "syntax_duplicate_key.toml"):
        path = factory / "projects" / name
        assert_lines([line for line in lines if line.startswith(f"{path}: ")], path, name)
    assert all(re.match(rf"{re.escape(str(factory))}/projects/\S+\.toml: ", line) for line in lines), lines
