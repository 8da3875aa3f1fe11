"""fleet_warnings: what works but deserves a second look, each naming the file and field."""

from __future__ import annotations

from pathlib import Path

from disinto_infra.config.project_toml import Fleet, parse_project_text
from disinto_infra.fleet_warnings import fleet_warnings
from tests.support.mocked_program import settings
from tests.support.project_toml import HEADER, agent

STACK = "Pulumi.dev.yaml"


def fleet(text: str) -> Fleet:
    return Fleet(projects=(parse_project_text(Path("p.toml"), text),))


def test_a_loopback_forge_internal_url_is_named_on_a_docker_stack_only():
    """The containers reach Forgejo at forgeInternalUrl; 127.0.0.1 there is each container itself."""
    agents = fleet(HEADER + agent("a", forge_user='"a-qwen"'))
    loopback = settings(forgeInternalUrl="http://127.0.0.1:3000")
    [warning] = fleet_warnings(agents, loopback, STACK)
    assert warning.startswith(f"{STACK}: disinto:forgeInternalUrl: http://127.0.0.1:3000 names the loopback")
    assert warning.endswith("(the factory's compose service: http://forgejo:3000)")
    assert fleet_warnings(agents, settings(), STACK) == []
    assert fleet_warnings(agents, settings(forgeInternalUrl="http://localhost:3000", runtime="nomad"), STACK) == []


def test_a_loopback_base_url_is_named_with_its_agent():
    agents = fleet(HEADER + agent("a", base_url='"http://127.0.0.1:8081"', forge_user='"a-qwen"'))
    [warning] = fleet_warnings(agents, settings(), STACK)
    assert warning.startswith("p.toml: agents.a.base_url: http://127.0.0.1:8081 names the loopback")
