"""The docker runtime's stack-wide lookups: the network and the image's digest, before any agent."""
from __future__ import annotations

import pytest

from disinto_infra.plan import NETWORK_INVOKE, REGISTRY_IMAGE_INVOKE, RecordingMocks, fake_invoke, reveal

from tests.test_model import legacy_example_text
from tests.test_program import QWEN2, SETTINGS, run_fleet

PIN = "sha256:" + "ab" * 32


class Refusing(RecordingMocks):
    """The docker provider's answer to an invoke that fails (its message, as the engine raises it)."""

    def __init__(self, token: str, message: str):
        super().__init__()
        self.token, self.message = token, message

    def call(self, args):
        if args.token == self.token:
            self.invoked.append(args.token)
            raise Exception(self.message)
        return super().call(args)


def run(mocks: RecordingMocks | None = None, **settings):
    return run_fleet(legacy_example_text() + QWEN2, SETTINGS.model_copy(update=settings), mocks=mocks)


def test_a_missing_network_fails_before_anything_is_registered():
    # data_source_docker_network.go @ 5074970 (v4.5.0): NetworkInspect, "Could not find docker network".
    mocks = Refusing(NETWORK_INVOKE, "Could not find docker network: network disinto_disinto-net not found")
    with pytest.raises(Exception, match="Could not find docker network"):
        run(mocks)
    # No user, token, volume, image, retire or container: the compose agents keep running.
    assert mocks.created == [] and mocks.invoked == [NETWORK_INVOKE]


def test_containers_attach_to_the_network_the_lookup_found():
    mocks = RecordingMocks()
    found = run(mocks, network="factory-net")
    network_id = fake_invoke(NETWORK_INVOKE, {"name": "factory-net"})["id"]
    for name in ("llama-container", "dev-qwen2-container"):
        assert reveal(found.named(name).inputs)["networksAdvanced"] == [{"name": network_id}]
    assert mocks.invoked.count(NETWORK_INVOKE) == 1


def test_an_unknown_tag_fails_before_anything_is_registered():
    mocks = Refusing(REGISTRY_IMAGE_INVOKE, "Got error when attempting to fetch image version disinto/agents:nope")
    with pytest.raises(Exception, match="fetch image version"):
        run(mocks, agent_image="ghcr.io/disinto/agents:nope")
    assert mocks.created == []


def test_a_tag_is_pulled_by_the_digest_the_registry_holds_now():
    mocks = RecordingMocks()
    found = run(mocks, agent_image="ghcr.io/disinto/agents:v2")
    digest = fake_invoke(REGISTRY_IMAGE_INVOKE, {"name": "ghcr.io/disinto/agents:v2"})["sha256Digest"]
    assert reveal(found.named("agent-image").inputs)["name"] == f"ghcr.io/disinto/agents@{digest}"
    assert reveal(found.named("agent-image").inputs)["keepLocally"] is True


@pytest.mark.parametrize("pinned", [f"ghcr.io/disinto/agents@{PIN}", f"ghcr.io/disinto/agents:v2@{PIN}"])
def test_a_pinned_digest_asks_no_registry(pinned):
    mocks = RecordingMocks()
    found = run(mocks, agent_image=pinned)
    assert reveal(found.named("agent-image").inputs)["name"] == f"ghcr.io/disinto/agents@{PIN}"
    assert REGISTRY_IMAGE_INVOKE not in mocks.invoked
    # The containers run exactly that digest (the image's repo digest, as the provider reads it).
    assert {reveal(found.named(f"{a}-container").inputs)["image"] for a in ("llama", "dev-qwen2")} == {
        f"ghcr.io/disinto/agents@{PIN}"}
