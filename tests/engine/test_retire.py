"""2.5 `migrate retire` gives the compose agent the same grace as our own agents (docker's default is 10 s)."""

from __future__ import annotations

from disinto_infra import naming
from disinto_infra.program.plan import reveal
from tests.support.docker_engine import cli
from tests.support.engine_lab import LABEL, Lab, run_command

GRACE = 12  # above docker's default of 10 s, so the stop can only have waited this long if it was asked to


def test_retire_stops_the_compose_agent_with_the_stacks_grace(lab: Lab):
    name = "retiree"
    container = naming.container_name(name)
    # As compose runs the agents image: PID 1 ignores SIGTERM (a bash job or the factory's entrypoint alike).
    cli(
        "run",
        "-d",
        "--name",
        container,
        "--label",
        "com.docker.compose.project=disinto",
        "--label",
        f"{LABEL}=1",
        "--network",
        lab.network,
        # The image's two VOLUMEs as tmpfs: retire removes the container without -v, as it must for compose's.
        "--tmpfs",
        "/home/agent/data",
        "--tmpfs",
        "/home/agent/repos",
        "--entrypoint",
        "sleep",
        lab.image,
        "infinity",
    )
    try:
        retire = reveal(lab.registered(name, stopGraceSeconds=str(GRACE)).named(f"{name}-retire").inputs)
        done = run_command(retire)
        assert done.returncode == 0, done.output
        assert f"removed container {container}" in done.output
        assert done.seconds >= GRACE, done.seconds
        assert cli("inspect", container, check=False).returncode != 0
    finally:
        cli("rm", "-f", container, check=False)
