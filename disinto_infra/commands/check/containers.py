"""`check` on a docker stack: is each agent's container running its loop, is it busy, and if it fails, what did it last say.

Read-only, through the docker CLI and `docker:host`, with the reads of `<name>-started` and
`<name>-drain` (runtimes/started.py, drain.py). A container that restarts, exited or is unhealthy is a
problem, shown with its last log lines; one that restarted and is healthy again is reported, not
counted. A busy agent (its sessions in flight) is reported: a replacement now would wait for it.
"""

from __future__ import annotations

from dataclasses import replace

from disinto_infra import naming
from disinto_infra.commands.check.facts import ContainerFacts
from disinto_infra.runtimes import drain
from disinto_infra.runtimes.docker_cli import DockerCli
from disinto_infra.runtimes.migration import docker_cli_environment
from disinto_infra.runtimes.started import Docker, Seen

LAST_LINES_SHOWN = 5


def judge(agent: str, container: str, seen: Seen, logs: str) -> ContainerFacts:
    """The facts, and a problem when the loop does not run now."""
    reason = ""
    if seen.status in ("restarting", "exited", "dead"):
        reason = f"{seen.status} (exit code {seen.exit_code}), restarted {seen.restarts} times"
    elif seen.health == "unhealthy":
        reason = f"unhealthy: {seen.last_probe or 'no probe output'}"
    elif seen.health == "starting" and seen.restarts:
        reason = f"restarting in a loop: restarted {seen.restarts} times, no healthy start since"
    tail = tuple(logs.splitlines()[-LAST_LINES_SHOWN:])
    problems: tuple[str, ...] = ()
    if reason:
        shown = "; ".join(tail) or "(no output)"
        problems = (f"agent {agent}: container {container} {reason}; last log lines: {shown}",)
    return ContainerFacts(
        agent, container, "running", seen.status, seen.health, seen.restarts, last_logs=tail, problems=problems
    )


def container(agent: str, cli: DockerCli) -> ContainerFacts:
    name = naming.container_name(agent)
    docker = Docker(cli)
    seen = docker.inspect(name)
    if isinstance(seen, str):
        if "no such" in seen.lower():
            return ContainerFacts(agent, name, "absent")
        return ContainerFacts(agent, name, seen, problems=(f"agent {agent}: cannot ask the Docker host: {seen}",))
    facts = judge(agent, name, seen, docker.logs(name) if seen.health != "healthy" or seen.restarts else "")
    if seen.status != "running":
        return facts
    sessions = drain.Container(name, cli).sessions() or []
    return replace(facts, sessions=tuple(s.describe() for s in sorted(sessions, key=lambda s: -s.seconds)))


def docker_for(docker_host: str | None, timeout: float) -> DockerCli:
    return DockerCli(docker_cli_environment(docker_host), timeout)
