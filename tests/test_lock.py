"""The locks agree with pyproject.toml and with what the tests run on.

`requirements.txt` (runtime) and `requirements-dev.txt` (runtime, tests, lint, types) are generated from
pyproject.toml by pip-compile with hashes (docs/developing.md). These tests fail when someone edits a
dependency in one place and not the other, or installs something the lock does not hold.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
RUNTIME = [Requirement(r) for r in PROJECT["dependencies"]]
DEV = RUNTIME + [Requirement(r) for r in PROJECT["optional-dependencies"]["dev"]]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+) \\$")


def lock(name: str) -> dict[str, tuple[str, int]]:
    """{package: (version, number of hashes)} of one lock file."""
    pins: dict[str, tuple[str, int]] = {}
    current = None
    for line in (ROOT / name).read_text().splitlines():
        if m := PIN.match(line):
            current = canonicalize_name(m[1])
            pins[current] = (m[2], 0)
        elif line.strip().startswith("--hash=sha256:") and current:
            version, hashes = pins[current]
            pins[current] = (version, hashes + 1)
    return pins


def closure(requirements: list[Requirement]) -> set[str]:
    """Every distribution the requirements pull in, read from the installed packages' metadata."""
    seen: set[str] = set()
    todo = list(requirements)
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if name in seen or (req.marker and not req.marker.evaluate({"extra": ""})):
            continue
        seen.add(name)
        todo.extend(Requirement(r) for r in metadata.requires(req.name) or ())
    return seen


LOCKS = {"requirements.txt": RUNTIME, "requirements-dev.txt": DEV}


@pytest.mark.parametrize("name", sorted(LOCKS))
def test_every_declared_dependency_is_locked_at_a_version_it_allows(name):
    pins = lock(name)
    for req in LOCKS[name]:
        version, _ = pins[canonicalize_name(req.name)]
        assert req.specifier.contains(version), f"{name}: {req.name}=={version} but pyproject.toml says {req}"


@pytest.mark.parametrize("name", sorted(LOCKS))
def test_every_locked_package_is_hashed(name):
    unhashed = [p for p, (_, hashes) in lock(name).items() if hashes == 0]
    assert lock(name) and unhashed == []


@pytest.mark.parametrize("name", sorted(LOCKS))
def test_lock_holds_exactly_what_pyproject_pulls_in(name):
    """A package left over after a dependency was dropped, or one missing after one was added, fails."""
    assert set(lock(name)) == closure(LOCKS[name])


def test_runtime_lock_is_the_dev_lock_without_the_dev_tools():
    dev = lock("requirements-dev.txt")
    assert {p: v for p, (v, _) in lock("requirements.txt").items()} == {p: dev[p][0] for p in lock("requirements.txt")}


def test_the_tests_run_on_what_the_dev_lock_holds():
    installed = {p: metadata.version(p) for p in lock("requirements-dev.txt")}
    assert installed == {p: v for p, (v, _) in lock("requirements-dev.txt").items()}
