"""One-time steps that take an agent over from the factory's old docker-compose deployment.

    python -m disinto_infra.migrate retire --container disinto-agents-dev-qwen
    python -m disinto_infra.migrate copy-data --from disinto_agents-dev-qwen-data \
        --to agents-dev-qwen-data --image ghcr.io/disinto/agents@sha256:...

Run on the Pulumi host by `command.local.Command`s (runtimes/migration.py), through the `docker`
CLI, which talks to `DOCKER_HOST` from the environment: the same host as the Docker provider's
`docker:host`. Standard library only, so any python3 runs it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from typing import cast

COMPOSE_LABEL = "com.docker.compose.project"
OURS_LABEL, OURS_VALUE = "disinto.managed-by", "disinto-infra"
MARKER = ".disinto-migrated"

PARTIAL = ".disinto-migrating"

# Both scripts take their folders as $1/$2 rather than hard-coding /from and /to, so the tests
# run the very same text against temporary folders.
# `ls -A` lists nothing in a fresh volume; anything else (without our markers) is the new
# agent's own data, which a copy must never overwrite.
PROBE_SCRIPT = (
    f'if [ -e "$1/{MARKER}" ]; then echo migrated; '
    f'elif [ -e "$1/{PARTIAL}" ]; then echo partial; '
    'elif [ -n "$(ls -A "$1")" ]; then echo used; else echo empty; fi'
)
# `cp -a src/. dst/` copies the content *and* the top folder's owner and mode, so the agent user
# owns its data folder as it did under compose. PARTIAL marks a copy in progress: one that died
# midway is redone by the next run (the failed create is retried by the next `pulumi up`).
COPY_SCRIPT = f'touch "$2/{PARTIAL}" && cp -a "$1/." "$2/" && touch "$2/{MARKER}" && rm -f "$2/{PARTIAL}"'


class DockerError(Exception):
    pass


def docker(*args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["docker", *args], capture_output=True, text=True)
    except FileNotFoundError:
        raise DockerError("the docker CLI is not on PATH of the Pulumi host") from None


def _absent(done: subprocess.CompletedProcess[str]) -> bool:
    return done.returncode != 0 and "no such" in done.stderr.lower()


def _fail(what: str, done: subprocess.CompletedProcess[str]) -> DockerError:
    return DockerError(f"{what}: docker exited {done.returncode}: {done.stderr.strip()}")


# ---------------------------------------------------------------- retire


def container_labels(name: str) -> dict[str, str] | None:
    """The container's labels, or None when there is no such container."""
    done = docker("inspect", "--type", "container", "--format", "{{json .Config.Labels}}", name)
    if _absent(done):
        return None
    if done.returncode != 0:
        raise _fail(f"inspecting container {name}", done)
    # cast at the JSON boundary: docker prints .Config.Labels as a string map or null. Quoted: any python3.
    return cast("dict[str, str]", json.loads(done.stdout.strip() or "null") or {})


def retire(name: str, grace: int = 10) -> str:
    """Remove the compose-made container `name`, and nothing else; returns what happened.

    `grace`: the seconds its stop waits before Docker kills it, the same as our own agents get
    (docker's own default is 10).
    """
    labels = container_labels(name)
    if labels is None:
        return f"no container {name}: nothing to retire"
    if labels.get(OURS_LABEL) == OURS_VALUE:
        return f"container {name} is managed by disinto-infra: left alone"
    if COMPOSE_LABEL not in labels:
        raise DockerError(
            f"container {name} exists but was not made by docker compose (no {COMPOSE_LABEL} label): "
            "not removing it; rename or remove it yourself, then run `pulumi up` again"
        )
    for step in (("stop", "-t", str(grace), name), ("rm", name)):  # stop first: a graceful end for a running job
        done = docker(*step)
        if done.returncode != 0 and not _absent(done):
            raise _fail(f"{step[0]} {name}", done)
    return f"removed container {name} of compose project {labels[COMPOSE_LABEL]!r}"


# ---------------------------------------------------------------- copy-data


def _run_script(image: str, mounts: list[str], script: str, *args: str) -> subprocess.CompletedProcess[str]:
    # --entrypoint: the agents image's own entrypoint would start an agent. --user 0: the volumes'
    # files belong to the agent user; root reads them all and `cp -a` keeps their owners.
    volumes = [flag for mount in mounts for flag in ("-v", mount)]
    return docker("run", "--rm", "--user", "0:0", "--entrypoint", "sh", *volumes, image, "-c", script, "sh", *args)


def volume_exists(name: str) -> bool:
    done = docker("volume", "inspect", "--format", "{{.Name}}", name)
    if _absent(done):
        return False
    if done.returncode != 0:
        raise _fail(f"inspecting volume {name}", done)
    return True


def copy_data(source: str, target: str, image: str) -> str:
    """Copy the old compose data volume into ours, once, and only into a fresh one."""
    if source == target:
        raise DockerError(f"--from and --to are the same volume {source}")
    if not volume_exists(source):
        return f"no volume {source}: nothing to copy"
    probe = _run_script(image, [f"{target}:/to:ro"], PROBE_SCRIPT, "/to")
    if probe.returncode != 0:
        raise _fail(f"looking into volume {target}", probe)
    state = probe.stdout.strip().splitlines()[-1:] or [""]
    if state[0] == "migrated":
        return f"volume {target} already holds the copy of {source}"
    if state[0] == "used":
        return f"volume {target} already has data of its own: not copying {source} over it"
    if state[0] not in ("empty", "partial"):
        raise DockerError(f"unexpected answer looking into volume {target}: {probe.stdout.strip()!r}")
    done = _run_script(image, [f"{source}:/from:ro", f"{target}:/to"], COPY_SCRIPT, "/from", "/to")
    if done.returncode != 0:
        raise _fail(f"copying {source} into {target}", done)
    return f"copied volume {source} into {target}"


# ---------------------------------------------------------------- command line


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m disinto_infra.migrate", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    retire_cmd = sub.add_parser("retire", help="remove a compose-made container of that name")
    retire_cmd.add_argument("--container", required=True)
    retire_cmd.add_argument(
        "--grace", type=int, default=10, help="seconds the stop waits before a kill (docker's default: 10)"
    )
    copy_cmd = sub.add_parser("copy-data", help="copy an old data volume into a fresh one, once")
    copy_cmd.add_argument("--from", dest="source", required=True, metavar="VOLUME")
    copy_cmd.add_argument("--to", dest="target", required=True, metavar="VOLUME")
    copy_cmd.add_argument("--image", required=True, help="any image with sh and cp (the agents image)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.action == "retire":
            print(retire(args.container, args.grace))
        else:
            print(copy_data(args.source, args.target, args.image))
    except DockerError as exc:
        print(f"disinto_infra.migrate {args.action}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
