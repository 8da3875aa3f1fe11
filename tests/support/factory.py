"""A factory checkout for tests: the role formulas the program reads on the Pulumi host.

`tests/data/factory` holds `formulas/dev.toml`, the formula of the default role. Tests whose
factory root is elsewhere (a tmp_path) copy the formulas there with `give_formulas`; tests that
build an Agent directly pass `formula()`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from disinto_infra.factory.formulas import Formula

FACTORY = Path(__file__).resolve().parents[1] / "data" / "factory"
FORMULAS = FACTORY / "formulas"


def formula(role: str = "dev") -> Formula:
    path = FORMULAS / f"{role}.toml"
    return Formula(path, path.read_text(encoding="utf-8"))


def give_formulas(factory_root: Path) -> Path:
    """Copy the test formulas into `<factory_root>/formulas`; returns that folder."""
    return Path(shutil.copytree(FORMULAS, Path(factory_root) / "formulas", dirs_exist_ok=True))
