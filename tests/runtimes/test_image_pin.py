"""image_pin: what the docker runtime pulls, and how `plan` names it."""

import pytest

from disinto_infra.config.image_name import digest_problem, local_image_id, pinned_digest, repository
from disinto_infra.runtimes.image_pin import ImageChoice, pull_name

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


LOCAL_ID = "sha256:" + "c0" * 32


def test_a_local_image_is_named_by_its_whole_id_and_pulled_from_no_registry():
    assert local_image_id(LOCAL_ID) == LOCAL_ID
    assert pull_name(LOCAL_ID) == LOCAL_ID  # no getRegistryImage invoke: it would raise outside a program
    assert digest_problem(LOCAL_ID) is None
    assert ImageChoice(LOCAL_ID).describe() == (
        f"{LOCAL_ID} (a local image by id: no registry is asked; it must be on the Docker host)"
    )


@pytest.mark.parametrize("name", ["sha256:c0c0", "sha256:" + "C0" * 32, "sha256:" + "c0" * 33])
def test_a_short_or_upper_case_id_is_refused_with_the_command_that_prints_the_whole_one(name):
    problem = digest_problem(name)
    assert problem is not None and "docker image inspect --format '{{.Id}}' IMAGE" in problem
    assert local_image_id(name) is None
