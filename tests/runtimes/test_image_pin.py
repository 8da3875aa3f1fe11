"""image_pin: what the docker runtime pulls, and how `plan` names it."""

import pytest

from disinto_infra.runtimes.image_pin import ImageChoice, digest_problem, pinned_digest, repository

PIN = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    "name, repo",
    [
        ("ghcr.io/disinto/agents:latest", "ghcr.io/disinto/agents"),
        ("ghcr.io/disinto/agents", "ghcr.io/disinto/agents"),
        ("registry:5000/org/agents:v2", "registry:5000/org/agents"),
        ("registry:5000/org/agents", "registry:5000/org/agents"),
        (f"ghcr.io/disinto/agents:v2@{PIN}", "ghcr.io/disinto/agents"),
        (f"agents@{PIN}", "agents"),
    ],
)
def test_repository_drops_tag_and_digest_but_keeps_a_registry_port(name, repo):
    assert repository(name) == repo


def test_only_a_full_sha256_digest_pins():
    assert pinned_digest(f"ghcr.io/disinto/agents@{PIN}") == PIN
    assert pinned_digest("ghcr.io/disinto/agents:latest") is None
    assert digest_problem("ghcr.io/disinto/agents:latest") is None
    for bad in ("a@sha256:abc", f"a@{PIN.upper()}", "a@md5:" + "0" * 32, f"a@{PIN}x"):
        assert pinned_digest(bad) is None and digest_problem(bad)


def test_plan_names_the_pinned_digest_or_says_when_it_is_resolved():
    assert ImageChoice(f"ghcr.io/disinto/agents:v2@{PIN}").describe() == f"ghcr.io/disinto/agents@{PIN} (pinned)"
    assert ImageChoice("ghcr.io/disinto/agents:latest").describe() == (
        "ghcr.io/disinto/agents:latest (digest resolved from the registry at pulumi preview/up)"
    )
