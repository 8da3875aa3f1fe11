"""Test helpers live in tests/support or a conftest.py: no module under tests/ (or bench/) imports
from a test module or any other module of tests/ (issue 31 item 9).

A helper one test module takes from another ties the two together: moving or renaming a test
breaks the other, and pytest may collect the imported module's tests twice.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WALKED = ("tests", "bench")


def allowed(module: str) -> bool:
    """A module of tests/ that others may import from: tests/support, or a conftest.py."""
    parts = module.split(".")
    if parts[0] != "tests" or parts == ["tests"]:
        return True
    return parts[:2] == ["tests", "support"] or parts[-1] == "conftest"


def imported(source: str, package: str) -> list[tuple[int, str, str]]:
    """Each (line, module, the statement) a module of `package` imports, relative imports resolved;
    `from tests import x` counts as importing `tests.x`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name, f"import {a.name}") for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names = ", ".join(a.name for a in node.names)
            statement = f"from {'.' * node.level}{node.module or ''} import {names}"
            if module == "tests" or not node.module:
                found += [(node.lineno, f"{module}.{a.name}", statement) for a in node.names]
            else:
                found.append((node.lineno, module, statement))
    return found


def offences(path: Path) -> list[str]:
    relative = path.relative_to(ROOT)
    package = ".".join(relative.parent.parts)
    return [
        f"{relative}:{line}: {statement} ({module} is neither in tests/support nor a conftest.py)"
        for line, module, statement in imported(path.read_text(encoding="utf-8"), package)
        if not allowed(module)
    ]


def test_helpers_come_only_from_tests_support_or_a_conftest():
    files = sorted(p for top in WALKED for p in (ROOT / top).rglob("*.py"))
    assert len(files) > 100  # the walk found the suite
    found = [offence for path in files for offence in offences(path)]
    assert found == [], "move these helpers to tests/support/ or a conftest.py:\n" + "\n".join(found)


# (source, its package, whether the check must refuse it)
CASES = [
    ("from tests.test_model import agent", "tests.program", True),
    ("from tests import test_migrate as fakes", "tests.runtimes", True),
    ("from .test_resources import AGENTS", "tests.runtimes.nomad", True),
    ("from . import test_resources", "tests.runtimes.nomad", True),
    ("import tests.reliability.helpers", "tests.reliability", True),
    ("def f():\n    from tests.forgejo.test_profile_repo import agent", "tests.forgejo", True),
    ("from tests.support.identity import identity", "tests.forgejo", False),
    ("from tests.support import record_plan", "tests.runtimes.nomad", False),
    ("from .http_double import HttpDouble", "tests.support", False),
    ("from tests.forgejo.conftest import ADMIN", "tests.reliability", False),
    ("from disinto_infra.config.project_toml import Fleet", "tests", False),
]


def test_the_check_tells_a_helper_from_a_test_module():
    judged = [(source, any(not allowed(m) for _, m, _ in imported(source, package))) for source, package, _ in CASES]
    assert judged == [(source, bad) for source, _, bad in CASES]
