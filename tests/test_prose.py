"""Prose that serves a maintainer (CONTRIBUTING.md): short module docstrings, the evidence in
docs/decisions, and no path of this machine in the code."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_DOCSTRING_LINES = 10


def test_every_module_docstring_is_short():
    long = []
    for path in sorted((ROOT / "disinto_infra").rglob("*.py")):
        doc = ast.get_docstring(ast.parse(path.read_text()), clean=False) or ""
        lines = len(doc.strip("\n").splitlines())
        if lines > MAX_DOCSTRING_LINES:
            long.append(f"{path.relative_to(ROOT)}: {lines} lines; move the evidence to docs/decisions/")
    assert long == []


def test_no_code_names_a_path_of_this_machine():
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("disinto_infra", "tests", "bench")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"/work/|/tmp/shared", line) and path.name != "test_prose.py"
    ]
    assert found == []


def test_every_decision_record_the_code_points_to_exists():
    pointed = {
        (path.relative_to(ROOT), name)
        for path in sorted((ROOT / "disinto_infra").rglob("*.py"))
        for name in re.findall(r"docs/decisions/([\w-]+\.md)", path.read_text())
    }
    missing = [
        f"{where}: docs/decisions/{name}"
        for where, name in pointed
        if not (ROOT / "docs" / "decisions" / name).is_file()
    ]
    assert missing == []
