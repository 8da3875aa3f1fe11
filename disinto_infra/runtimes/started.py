"""Wait for an agent container to become healthy, and fail fast, with its logs, when it cannot.

    python3 -m disinto_infra.runtimes.started --container disinto-agents-dev-qwen --timeout 600

Run on the Pulumi host by the `<name>-started` command (runtimes/docker.py) right after the container
starts, through the `docker` CLI and `DOCKER_HOST`, as the migration commands are. The provider's own
`wait` only ends at "healthy" or its timeout and fails with a fixed sentence; a crashing entrypoint
restarts (resetting the health to "starting") until then. Here an exit or a restart fails at once,
and every failure prints the state, the restart count, the last probe and the last log lines, which
pulumi-command puts into the error of `up`. Standard library only (and `parsed`): any python3 runs it.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from disinto_infra.parsed import object_or_empty, objects, text_or, whole
from disinto_infra.runtimes.docker_cli import DockerCli, container_arguments

LOG_LINES = 20
POLL_SECONDS = 1.0


@dataclass(frozen=True)
class Seen:
    """What one `docker inspect` tells of the container's start."""

    status: str  # created, running, restarting, exited, dead, …
    health: str  # starting, healthy, unhealthy; "" without a healthcheck
    restarts: int
    exit_code: int
    last_probe: str

    @classmethod
    def from_inspect(cls, document: object) -> Seen:
        found = objects(document)  # `docker inspect` prints a list of one
        top = found[0] if found else {}
        state = object_or_empty(top.get("State"))
        health = object_or_empty(state.get("Health"))
        probes = objects(health.get("Log"))
        return cls(
            status=text_or(state, "Status", ""),
            health=text_or(health, "Status", ""),
            restarts=whole(top, "RestartCount") or 0,
            exit_code=whole(state, "ExitCode") or 0,
            last_probe=text_or(probes[-1], "Output", "").strip() if probes else "",
        )


class Docker:
    """The two reads this needs, through the docker CLI."""

    def __init__(self, cli: DockerCli | None = None) -> None:
        self.cli = cli or DockerCli()

    def inspect(self, container: str) -> Seen | str:
        done = self.cli.run("inspect", "--type", "container", container)
        if done.returncode != 0:
            return done.stderr.strip() or f"docker inspect exited {done.returncode}"
        return Seen.from_inspect(json.loads(done.stdout or "null"))

    def logs(self, container: str) -> str:
        done = self.cli.run("logs", "--tail", str(LOG_LINES), container)
        return (done.stdout + done.stderr).rstrip()


def verdict(first: Seen, now: Seen, waited: float, timeout: float) -> str | None:
    """Why the start failed, "" once healthy, None while it may still succeed."""
    if now.health == "healthy" and now.status == "running":
        return ""
    # "restarting" alone is not counted: on a second look (the next `up`) the container may be between
    # two starts of a crash loop that began before; its next start raises the count.
    if now.restarts > first.restarts or now.status in ("exited", "dead"):
        return f"the agent exited before its loop ran (exit code {now.exit_code})"
    if now.health == "":
        return "the container has no healthcheck, so its loop cannot be seen"
    if waited >= timeout:
        return f"no healthy agent loop after {timeout:.0f} s (health {now.health})"
    return None


def report(container: str, reason: str, seen: Seen, logs: str) -> str:
    lines = [
        f"{container}: {reason}.",
        f"state {seen.status}, health {seen.health or 'none'}, restarted {seen.restarts} times",
        f"last health probe: {seen.last_probe or '(none yet)'}",
        f"last {LOG_LINES} log lines (docker logs --tail {LOG_LINES} {container}):",
        *(f"  {line}" for line in (logs.splitlines() or ["(no output)"])),
        "The container is left in place, restarting by its policy; the next `pulumi up` checks it again.",
    ]
    return "\n".join(lines)


def wait_started(
    container: str,
    timeout: float,
    docker: Docker,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[bool, str]:
    """Watch the container until its loop runs (True) or its start has failed (False), with what to print."""
    begin = clock()
    first: Seen | None = None
    while True:
        seen = docker.inspect(container)
        if isinstance(seen, str):
            return False, f"{container}: cannot be inspected: {seen}"
        first = first or seen
        reason = verdict(first, seen, clock() - begin, timeout)
        if reason == "":
            return True, f"{container}: agent loop running after {clock() - begin:.0f} s"
        if reason is not None:
            return False, report(container, reason, seen, docker.logs(container))
        sleep(POLL_SECONDS)


def main(argv: Sequence[str] | None = None) -> int:
    args = container_arguments(
        __spec__.name if __spec__ else __name__, __doc__, "seconds to wait for the agent loop", argv
    )
    ok, text = wait_started(args.container, args.timeout, Docker())
    print(text, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
