"""A fake `docker` on PATH for `python -m disinto_infra.migrate` (retire, copy-data) that records its calls.

`FakeDocker(folder)` writes `folder/bin/docker`. It answers `inspect` / `volume inspect` from a
scenario file (`scenario(...)`), and runs `docker run`'s command for real, with each mounted volume
a folder: the probe and copy scripts are the ones migrate.py sends, executed by the local sh. Put
`folder/bin` first on PATH and `FAKE_DOCKER_DIR` to the folder. `COMPOSE` and `OURS` are the labels
of a compose agent's container and of ours.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

FAKE_DOCKER = r"""#!PYTHON
import json, os, subprocess, sys
home = os.environ["FAKE_DOCKER_DIR"]
args = sys.argv[1:]
with open(os.path.join(home, "calls.jsonl"), "a") as log:
    log.write(json.dumps({"argv": args, "DOCKER_HOST": os.environ.get("DOCKER_HOST")}) + "\n")
path = os.path.join(home, "scenario.json")
scenario = json.load(open(path))

def fail(message):
    sys.stderr.write(message + "\n")
    sys.exit(1)

if scenario.get("daemon_down"):
    fail("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?")
if args[0] == "inspect":
    container = scenario["containers"].get(args[-1])
    if container is None:
        fail("Error: No such container: " + args[-1])
    print(json.dumps(container["labels"]))
elif args[0] in ("stop", "rm"):
    if args[-1] not in scenario["containers"]:
        fail("Error response from daemon: No such container: " + args[-1])
    if args[0] == "rm":
        del scenario["containers"][args[-1]]
        json.dump(scenario, open(path, "w"))
    print(args[-1])
elif args[:2] == ["volume", "inspect"]:
    if args[-1] not in scenario["volumes"]:
        fail("Error response from daemon: get " + args[-1] + ": no such volume")
    print(args[-1])
elif args[0] == "run" and scenario.get("run_fails"):
    sys.stderr.write("docker: Error response from daemon: pull access denied\n")
    sys.exit(125)
elif args[0] == "run":
    i, mounts, entrypoint = 1, {}, None
    while args[i].startswith("-"):
        if args[i] == "--rm":
            i += 1
            continue
        flag, value = args[i], args[i + 1]
        i += 2
        if flag == "-v":
            volume, target = value.split(":")[:2]
            mounts[target] = os.path.join(home, "volumes", volume)
            os.makedirs(mounts[target], exist_ok=True)  # docker run creates missing named volumes
        elif flag == "--entrypoint":
            entrypoint = value
    command = [mounts.get(a, a) for a in args[i + 1:]]
    sys.exit(subprocess.call([entrypoint or "false", *command]))
else:
    fail("fake docker: unexpected call " + " ".join(args))
"""


class FakeDocker:
    def __init__(self, home: Path):
        self.home = home
        (home / "bin").mkdir()
        (home / "volumes").mkdir()
        exe = home / "bin" / "docker"
        exe.write_text(FAKE_DOCKER.replace("PYTHON", sys.executable))
        exe.chmod(0o755)
        self.scenario(containers={}, volumes=[])

    def scenario(self, **values):
        (self.home / "scenario.json").write_text(json.dumps(values))

    def state(self) -> dict:
        return json.loads((self.home / "scenario.json").read_text())

    def calls(self) -> list[dict]:
        log = self.home / "calls.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    def verbs(self) -> list[str]:
        return [" ".join(c["argv"][:2]) if c["argv"][0] == "volume" else c["argv"][0] for c in self.calls()]

    def volume(self, name: str) -> Path:
        path = self.home / "volumes" / name
        path.mkdir(exist_ok=True)
        return path


COMPOSE = {"com.docker.compose.project": "disinto", "com.docker.compose.service": "agents-dev-qwen"}
OURS = {"disinto.managed-by": "disinto-infra", "disinto.agent": "dev-qwen"}
