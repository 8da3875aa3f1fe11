"""Fixtures the check tests share: a world of doubles and a project folder (test_check_cli.py), and a
docker CLI double."""

import os

import pytest

from tests.commands.check.test_check_cli import world  # noqa: F401 (a fixture, for the tests here)
from tests.support import docker_cli_double


@pytest.fixture(autouse=True)
def no_docker_engine(tmp_path_factory, monkeypatch):
    """`check` asks the docker CLI for each agent's container: here a double that knows none, so no
    test depends on this machine's engine (tests/engine/ uses the real one)."""
    bin_dir = docker_cli_double.install(tmp_path_factory.mktemp("docker-cli"), {})
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return bin_dir
