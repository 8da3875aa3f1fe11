"""A `docker` CLI double for `check` runs without an engine: `inspect` and `logs` from a JSON file.

`install(folder, containers)` writes `folder/bin/docker`, a Python script, and `containers` to
`folder/bin/docker-state.json`: per container name, the `docker inspect` document (absent: "No such
object", as the real CLI says), its log lines, and what `ps` prints inside it (`docker exec NAME ps …`).
Put `folder/bin` first on PATH.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

SCRIPT = f"""#!{sys.executable}
import json, sys
from pathlib import Path
state = json.loads((Path(__file__).parent / "docker-state.json").read_text())
args = sys.argv[1:]
name = args[1] if args[0] == "exec" else args[-1]
found = state.get(name)
if found is None:
    print(f"Error: No such object: {{name}}", file=sys.stderr)
    sys.exit(1)
if args[0] == "inspect":
    print(json.dumps([found["inspect"]]))
elif args[0] == "logs":
    print("\\n".join(found.get("logs", [])))
elif args[0] == "exec":
    print(found.get("ps", ""), end="")
    sys.exit(0 if found.get("ps") else 1)
"""


def running(healthy: bool = True, restarts: int = 0) -> dict[str, object]:
    """An inspect document of a running container (health and restart count as given)."""
    health = "healthy" if healthy else "starting"
    return {
        "RestartCount": restarts,
        "State": {"Status": "running", "ExitCode": 0, "Health": {"Status": health, "Log": []}},
    }


def install(folder: Path, containers: dict[str, dict[str, object]]) -> Path:
    bin_dir = folder / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "docker-state.json").write_text(json.dumps(containers))
    docker = bin_dir / "docker"
    docker.write_text(SCRIPT)
    docker.chmod(0o755)
    return bin_dir
