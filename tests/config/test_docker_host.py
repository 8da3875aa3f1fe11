"""Which Docker host the provider talks to, and whether it is this machine."""

from pathlib import Path

import pytest

from disinto_infra.config import docker_host
from disinto_infra.config.project_toml import ConfigError
from disinto_infra.config.stack_settings import StackSettings


@pytest.mark.parametrize(
    "host, local",
    [
        (None, True),
        ("unix:///var/run/docker.sock", True),
        ("tcp://127.0.0.1:2375", True),
        ("ssh://op@localhost", True),
        ("ssh://op@box", False),
        ("tcp://10.0.0.5:2376", False),
    ],
)
def test_which_docker_hosts_are_this_machine(host, local):
    assert docker_host.is_local(host) is local


def test_docker_host_environment_variable_counts_when_docker_host_is_unset(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "ssh://op@box")
    assert docker_host.effective_host(None) == "ssh://op@box"
    assert docker_host.effective_host("unix:///run/docker.sock") == "unix:///run/docker.sock"
    with pytest.raises(ConfigError):  # the defaults' `~` is refused for that host
        StackSettings.from_mapping({}, Path("/srv/infra"), home="/home/op")
