"""The layers hold in the imports: the leaf (config/) loads no Pulumi, no provider and no runtime,
and no module imports from a layer above its own."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "disinto_infra"

# Lowest first: a module may import its own layer and the ones before it, never one after.
LAYERS = (
    ("utilities", ("naming", "parsed", "url_mask", "input_file", "envfile", "deadline", "http_get", "workers")),
    ("config", ("config",)),
    ("servers", ("forgejo", "runtimes", "factory", "model_servers", "fleet_warnings", "migrate")),
    ("program", ("program",)),
    ("commands", ("commands", "__main__")),
)


def layer_of(module: str) -> int:
    top = module.split(".")[1] if module.startswith("disinto_infra.") else module
    return next(i for i, (_, tops) in enumerate(LAYERS) if top in tops)


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("disinto_infra"):
            found |= (
                {node.module} if node.module != "disinto_infra" else {f"disinto_infra.{a.name}" for a in node.names}
            )
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("disinto_infra.")}
    return found


def test_the_leaf_loads_no_pulumi_provider_or_runtime():
    """In a fresh interpreter, as `validate` starts: only config/ and the utilities below it load."""
    script = (
        "import json, sys\n"
        "import disinto_infra.config.project_toml, disinto_infra.config.stack_settings\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    loaded = json.loads(
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    )
    assert not [
        m
        for m in loaded
        if m.split(".")[0] in ("pulumi", "pulumi_docker", "pulumi_nomad", "pulumi_vault", "grpc", "dill")
    ]
    ours = [m for m in loaded if m.startswith("disinto_infra.")]
    assert ours and all(layer_of(m) <= layer_of("disinto_infra.config") for m in ours), ours


def test_no_module_imports_a_layer_above_its_own():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = "disinto_infra." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        if module.endswith(".__init__"):
            module = module.removesuffix(".__init__")
        if module == "disinto_infra" or module == "disinto_infra.__main__":
            continue
        for imported in imports_of(path):
            if layer_of(imported) > layer_of(module):
                wrong.append(f"{path.relative_to(PACKAGE.parent)}: {module} imports {imported}")
    assert wrong == []
