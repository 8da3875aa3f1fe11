"""The docker CLI as the host scripts and `check` call it: bounded, with `DOCKER_HOST` where the stack names one.

The host scripts (`started.py`, `drain.py`) run under pulumi-command with the stack's environment;
`check` passes the stack's `docker:host` itself. A missing CLI or a silent daemon becomes an answer
with a reason, never an exception. Standard library only.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
from collections.abc import Mapping, Sequence

logger = logging.getLogger(__name__)

NO_CLI = "the docker CLI is not on PATH of the Pulumi host"


class DockerCli:
    def __init__(self, environment: Mapping[str, str] | None = None, timeout: float = 60) -> None:
        self.environment = None if environment is None else {**os.environ, **environment}
        self.timeout = timeout

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        # The arguments (subcommands, container names), never the environment's values.
        logger.debug("docker %s%s", " ".join(args), " (with an environment of its own)" if self.environment else "")
        try:
            return subprocess.run(
                ["docker", *args], capture_output=True, text=True, timeout=self.timeout, env=self.environment
            )
        except FileNotFoundError:
            return subprocess.CompletedProcess(args, 127, "", NO_CLI)
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(
                args, 124, "", f"docker {args[0]} gave no answer within {self.timeout:g} s"
            )


def container_arguments(
    module: str, doc: str | None, timeout_help: str, argv: Sequence[str] | None
) -> argparse.Namespace:
    """`--container NAME --timeout SECONDS`, what each host script that watches a container takes."""
    parser = argparse.ArgumentParser(prog=f"python3 -m {module}", description=doc)
    parser.add_argument("--container", required=True)
    parser.add_argument("--timeout", type=float, required=True, help=timeout_help)
    return parser.parse_args(argv)
