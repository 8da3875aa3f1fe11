"""An agent's role formula file: where the factory keeps it, and whether it can be used.

Found as the factory finds it: the agent's `formula` key, else `formulas/<role>.toml`, else
`formulas/run-<role>.toml` (and `formulas/review-pr.toml` for `review`). One judge
(`formula_problem`) for the `.profile` provider's `check` and for the offline commands and the
program (`read_formula`): what one accepts, the other accepts. No side effects at import time (the
dynamic-provider host imports this package to unpickle providers).
Why: docs/decisions/formula-files.md
"""

from __future__ import annotations

import os
import posixpath
import tomllib
from pathlib import Path, PurePosixPath

from disinto_infra import input_file

FORMULAS_DIR = "formulas"
# Roles whose formula file has a name of its own; every other role has `formulas/<role>.toml` or
# `formulas/run-<role>.toml` (docs/decisions/formula-files.md).
ROLE_FORMULAS: dict[str, str] = {"review": f"{FORMULAS_DIR}/review-pr.toml"}


class FormulaNotFoundError(FileNotFoundError):
    """No formula file where the lookup rules look (see `formula_path`)."""


def formula_key_problem(value: object) -> str | None:
    """Why `value` cannot be an agent's `formula` key (a path relative to the factory root), or None.

    Relative only, and inside the factory root: the project TOML is shared with the factory and
    read on whichever host runs Pulumi, so a path of one machine (absolute, `~`, or climbing out
    with `..`) would name another file, or none, elsewhere."""
    if not isinstance(value, str) or not value.strip():
        return "must be a non-empty string: a path relative to the factory root, like formulas/review-pr.toml"
    if "\0" in value or "\\" in value:
        return f"{value!r} is not a plain path (no NUL or backslash)"
    if PurePosixPath(value).is_absolute() or value.startswith("~"):
        return f'must be relative to the factory root (disinto:factoryRoot), not "{value}"'
    normal = posixpath.normpath(value)
    if normal == "." or normal == ".." or normal.startswith("../"):
        return f'must name a file inside the factory root, not "{value}" (".." leaves it)'
    return None


def role_candidates(factory_root: Path, role: str) -> tuple[Path, ...]:
    """Where the formula of `role` may be, in the order they are tried."""
    if not isinstance(role, str) or not role or role.startswith(".") or any(c in role for c in "/\\\0"):
        raise ValueError(f"role {role!r} is not a plain name: cannot look up its formula file")
    root = Path(factory_root)
    found = [root / FORMULAS_DIR / f"{role}.toml", root / FORMULAS_DIR / f"run-{role}.toml"]
    if role in ROLE_FORMULAS:
        found.append(root / ROLE_FORMULAS[role])
    return tuple(found)


def _either(paths: tuple[Path, ...]) -> str:
    folders = [p for p in paths if p.is_dir()]
    also = (
        f" as a file ({', '.join(str(p) for p in folders)} {'is a folder' if len(folders) == 1 else 'are folders'})"
        if folders
        else ""
    )
    if len(paths) == 2:
        return f"neither {paths[0]} nor {paths[1]} exists{also}"
    return f"none of {', '.join(str(p) for p in paths[:-1])} or {paths[-1]} exists{also}"


def _inside(path: Path, factory_root: Path) -> Path:
    """`path`, when it is inside the factory root once symlinks are followed; else ValueError.
    The rule the `formula` key's spelling follows (formula_key_problem), held to the file itself:
    a symlink under formulas/ to a file elsewhere names a file of this machine only, and would
    publish it to the agent's .profile repository."""
    real, root = os.path.realpath(path), os.path.realpath(factory_root)
    if os.path.commonpath([real, root]) != root:
        raise ValueError(
            f"formula file {path} leads to {real}, outside the factory root {root} "
            "(a symlink out of it is refused: the formula must be the factory's own)"
        )
    return path


def formula_path(factory_root: Path, role: str, formula: str | None = None) -> Path:
    """The formula file of an agent: `formula` (relative to the factory root) when given, else the
    first of `role_candidates` that is a file. Raises FormulaNotFoundError, or ValueError for a
    role or `formula` that is no plain name/path."""
    if formula is not None:
        problem = formula_key_problem(formula)
        if problem:
            raise ValueError(problem)
        path = Path(factory_root) / formula
        if not path.exists() or path.is_dir():  # a FIFO or a device is read_formula's to refuse
            why = "is a folder, not a file" if path.is_dir() else "does not exist"
            raise FormulaNotFoundError(f"formula file {path} {why} (the path is relative to disinto:factoryRoot)")
        return _inside(path, factory_root)
    tried = role_candidates(factory_root, role)
    for candidate in tried:
        if candidate.exists() and not candidate.is_dir():
            return _inside(candidate, factory_root)
    raise FormulaNotFoundError(
        f"no formula for role {role!r}: {_either(tried)} (check the agent's roles and disinto:factoryRoot)"
    )


def formula_problem(content: object, where: str) -> str | None:
    """Why `content` is no usable formula, or None. `content` is the file's bytes as read, or its
    text as the provider receives it; `where` names the file in the message."""
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            return f"{where} is not UTF-8 text ({exc.reason} at byte {exc.start})"
    if not isinstance(content, str):
        return f"{where}: expected the text of a formula file, got {type(content).__name__}"
    if not content.strip():
        return f"{where} is empty: expected the content of the role's formula file"
    try:
        tomllib.loads(content)
    except tomllib.TOMLDecodeError as exc:
        return f"{where} is not valid TOML: {exc}"
    except RecursionError:
        return f"{where} is not usable TOML: nested too deeply"
    return None


def read_formula(path: Path) -> tuple[str | None, str | None]:
    """(text, None) for a usable formula file, else (None, why not): the file's text judged by
    `formula_problem`, so the offline checks refuse what the provider's `check` would."""
    try:
        content = input_file.read_bytes(path)
    except input_file.InputFileError as exc:
        return None, str(exc)
    problem = formula_problem(content, str(path))
    return (None, problem) if problem else (content.decode("utf-8"), None)
