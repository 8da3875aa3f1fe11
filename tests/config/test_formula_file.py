"""The formula file: the lookup rules and the one judge shared by the provider's check and validate."""

from __future__ import annotations

import pytest

from disinto_infra.config.formula_file import (
    FormulaNotFoundError,
    formula_key_problem,
    formula_path,
    formula_problem,
    read_formula,
)
from disinto_infra.forgejo.profile_repo import ForgejoProfileRepoProvider

FORMULA = 'name = "review"\n'


def formulas(tmp_path, *names):
    folder = tmp_path / "formulas"
    folder.mkdir(exist_ok=True)
    for name in names:
        (folder / name).write_text(FORMULA)
    return folder


def test_review_finds_the_factorys_review_pr_formula(tmp_path):
    folder = formulas(tmp_path, "review-pr.toml")
    assert formula_path(tmp_path, "review") == folder / "review-pr.toml"
    # The general rules come first: a factory that has formulas/review.toml means it.
    (folder / "run-review.toml").write_text(FORMULA)
    assert formula_path(tmp_path, "review") == folder / "run-review.toml"
    (folder / "review.toml").write_text(FORMULA)
    assert formula_path(tmp_path, "review") == folder / "review.toml"


def test_a_review_without_any_formula_names_all_three_places(tmp_path):
    with pytest.raises(FormulaNotFoundError) as caught:
        formula_path(tmp_path, "review")
    f = tmp_path / "formulas"
    assert str(caught.value) == (
        f"no formula for role 'review': none of {f}/review.toml, {f}/run-review.toml or {f}/review-pr.toml exists "
        "(check the agent's roles and disinto:factoryRoot)"
    )


def test_a_plain_role_looks_for_role_then_run_role(tmp_path):
    folder = formulas(tmp_path, "run-planner.toml")
    assert formula_path(tmp_path, "planner") == folder / "run-planner.toml"
    (folder / "planner.toml").write_text(FORMULA)
    assert formula_path(tmp_path, "planner") == folder / "planner.toml"
    with pytest.raises(FormulaNotFoundError) as caught:
        formula_path(tmp_path, "gardener")
    assert isinstance(caught.value, FileNotFoundError)
    assert str(caught.value) == (
        f"no formula for role 'gardener': neither {folder}/gardener.toml nor {folder}/run-gardener.toml exists "
        "(check the agent's roles and disinto:factoryRoot)"
    )


@pytest.mark.parametrize("role", ["", "../etc/passwd", "a/b", ".hidden"])
def test_formula_path_refuses_non_plain_roles(tmp_path, role):
    with pytest.raises(ValueError, match="not a plain name"):
        formula_path(tmp_path, role)


def test_an_explicit_formula_wins_and_is_not_looked_up_further(tmp_path):
    folder = formulas(tmp_path, "dev.toml", "custom.toml")
    assert formula_path(tmp_path, "dev", "formulas/custom.toml") == folder / "custom.toml"
    with pytest.raises(FormulaNotFoundError) as caught:
        formula_path(tmp_path, "dev", "formulas/nope.toml")
    assert str(caught.value) == (
        f"formula file {folder}/nope.toml does not exist (the path is relative to disinto:factoryRoot)"
    )
    with pytest.raises(FormulaNotFoundError, match="is a folder"):
        formula_path(tmp_path, "dev", "formulas")
    with pytest.raises(ValueError, match="inside the factory root"):
        formula_path(tmp_path, "dev", "../formulas/dev.toml")


@pytest.mark.parametrize(
    "value", ["formulas/review-pr.toml", "review-pr.toml", "./formulas/x.toml", "formulas/../formulas/x.toml"]
)
def test_relative_formula_keys_inside_the_root_are_accepted(value):
    assert formula_key_problem(value) is None


@pytest.mark.parametrize(
    "value, fragment",
    [
        ("/abs/x.toml", "must be relative"),
        ("~/x.toml", "must be relative"),
        ("..", '".." leaves it'),
        ("formulas/../../x.toml", '".." leaves it'),
        (".", '".." leaves it'),
        ("a\\b.toml", "not a plain path"),
        ("", "non-empty string"),
        (None, "non-empty string"),
    ],
)
def test_formula_keys_outside_the_root_are_refused(value, fragment):
    assert fragment in formula_key_problem(value)


@pytest.mark.parametrize(
    "content, problem",
    [
        (b'name = "x"\n', None),
        ('name = "x"\n', None),
        (b"\xff\xfe\x00binary", "F is not UTF-8 text (invalid start byte at byte 0)"),
        (b"", "F is empty: expected the content of the role's formula file"),
        (" \n\t", "F is empty: expected the content of the role's formula file"),
        (7, "F: expected the text of a formula file, got int"),
    ],
)
def test_formula_problem_judges_bytes_and_text_alike(content, problem):
    assert formula_problem(content, "F") == problem


def test_formula_problem_refuses_toml_errors_naming_the_file():
    assert formula_problem("name = \n", "F").startswith("F is not valid TOML: Invalid value")


def test_read_formula_names_the_file(tmp_path):
    good, binary = tmp_path / "good.toml", tmp_path / "binary.toml"
    good.write_text(FORMULA)
    binary.write_bytes(b"\x89PNG\r\n")
    assert read_formula(good) == (FORMULA, None)
    assert read_formula(binary) == (None, f"{binary} is not UTF-8 text (invalid start byte at byte 0)")
    assert read_formula(tmp_path / "gone.toml") == (
        None,
        f"{tmp_path}/gone.toml: cannot read: No such file or directory",
    )


@pytest.mark.parametrize("content", [FORMULA, "", "name = \n", "[[x]\n"])
def test_the_provider_check_and_the_offline_judge_agree(content):
    """What validate refuses, the provider's check refuses with the same words, and the reverse."""
    failures = (
        ForgejoProfileRepoProvider()
        .check({}, {"username": "u", "formula": content, "formula_source": "formulas/x.toml"})
        .failures
    )
    assert [f.reason for f in failures] == [p for p in [formula_problem(content, "formulas/x.toml")] if p]


def test_a_symlink_out_of_the_factory_root_is_refused(tmp_path):
    """The root's rule held to the file itself, not only to how the path is spelt (issue 19)."""
    root, outside = tmp_path / "factory", tmp_path / "secret.toml"
    (root / "formulas").mkdir(parents=True)
    outside.write_text('token = "not for the agent"\n')
    (root / "formulas" / "dev.toml").symlink_to(outside)
    (root / "formulas" / "mine.toml").symlink_to(outside)
    for role, formula in (("dev", None), ("review", "formulas/mine.toml")):
        with pytest.raises(ValueError, match="outside the factory root"):
            formula_path(root, role, formula)
    inside = root / "formulas" / "real.toml"
    inside.write_text('name = "x"\n')
    (root / "formulas" / "alias.toml").symlink_to(inside)  # a link that stays inside is fine
    assert formula_path(root, "dev", "formulas/alias.toml") == root / "formulas" / "alias.toml"


def test_a_folder_where_a_formula_should_be_says_so(tmp_path):
    (tmp_path / "formulas" / "dev.toml").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match=r"dev\.toml is a folder, not a file"):
        formula_path(tmp_path, "dev", "formulas/dev.toml")
    with pytest.raises(FileNotFoundError, match=r"exists as a file \(.*/formulas/dev\.toml is a folder\)"):
        formula_path(tmp_path, "dev")
