"""Drain an agent before its container is stopped: no new session starts, the running ones may finish.

    python3 -m disinto_infra.runtimes.drain --container disinto-agents-dev-qwen --timeout 7200

Run on the Pulumi host by the `delete` of `<name>-drain` (runtimes/docker.py), which the engine runs
before it deletes the container, for a replacement or a removal (docs/decisions/drain-before-stop.md).
It signals the container's wrapper to freeze the loop (runtimes/agent_entrypoint.py), then waits until
no process of the agent user is left, or until `--timeout`; at the bound it names the sessions it
leaves to the stop and ends without error, so the replacement goes ahead. Standard library only.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from disinto_infra.runtimes.agent_entrypoint import AGENT_UID, DRAIN_SIGNAL
from disinto_infra.runtimes.docker_cli import DockerCli, container_arguments

POLL_SECONDS = 2.0


@dataclass(frozen=True)
class Session:
    """One live process of the agent user, as `ps` shows it."""

    pid: int
    seconds: int
    command: str

    def describe(self) -> str:
        return f"pid {self.pid}, running {self.seconds // 60} min {self.seconds % 60} s: {self.command}"


def parse_ps(text: str) -> list[Session]:
    """`ps -o stat=,pid=,etimes=,args=` lines, zombies left out (they hold no work)."""
    found = []
    for line in text.splitlines():
        parts = line.split(None, 3)
        if len(parts) >= 3 and not parts[0].startswith("Z") and parts[1].isdigit() and parts[2].isdigit():
            found.append(Session(int(parts[1]), int(parts[2]), parts[3] if len(parts) == 4 else ""))
    return found


class Container:
    """What a drain does to a container, through the docker CLI."""

    def __init__(self, name: str, cli: DockerCli | None = None) -> None:
        self.name, self.cli = name, cli or DockerCli()

    def signal_drain(self) -> str | None:
        """Ask the wrapper to freeze the loop; why not, when it cannot be asked (no such container, stopped)."""
        done = self.cli.run("kill", "--signal", DRAIN_SIGNAL, self.name)
        return None if done.returncode == 0 else (done.stderr.strip() or f"docker kill exited {done.returncode}")

    def sessions(self) -> list[Session] | None:
        """The agent user's live processes; None when the container cannot be asked any more."""
        done = self.cli.run("exec", self.name, "ps", "-o", "stat=,pid=,etimes=,args=", "-u", str(AGENT_UID))
        # ps exits 1, silently, when it lists nothing; the CLI's own failures say why on stderr.
        if done.returncode != 0 and (done.returncode != 1 or done.stderr.strip()):
            return None
        return parse_ps(done.stdout)


def drain(
    container: Container,
    timeout: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Freeze the loop and wait for the sessions to end, at most `timeout` seconds; what happened."""
    why_not = container.signal_drain()
    if why_not is not None:
        return f"{container.name}: nothing to drain ({why_not})"
    begin = clock()
    while True:
        sessions = container.sessions()
        if sessions is None:
            return f"{container.name}: gone while draining"
        waited = clock() - begin
        if not sessions:
            return f"{container.name}: drained in {waited:.0f} s; no session cut"
        if waited >= timeout:
            cut = "\n".join(f"  {s.describe()}" for s in sessions)
            return f"{container.name}: drain bound of {timeout:.0f} s reached; the stop cuts these sessions:\n{cut}"
        sleep(POLL_SECONDS)


def main(argv: Sequence[str] | None = None) -> int:
    args = container_arguments(
        __spec__.name if __spec__ else __name__, __doc__, "seconds to wait for the sessions in flight", argv
    )
    print(drain(Container(args.container), args.timeout))
    return 0


if __name__ == "__main__":
    sys.exit(main())
