"""check.host_volumes against the Nomad double: a kept volume of a removed agent blocks its hire
again, a moved stack's old volumes block their replacements; each named with the commands that
free it. Nomad's rule (placeHostVolume: one volume of a name per node, any namespace) is in the
module's docstring."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from disinto_infra.commands.check import host_volumes, nomad
from disinto_infra.commands.check.reach import Endpoint
from tests.support.nomad_double import NomadDouble, host_volume, registration

STATE = "nomad:index/dynamicHostVolume:DynamicHostVolume"


@pytest.fixture(scope="module")
def cluster():
    with NomadDouble() as double:
        yield double


@pytest.fixture
def api(cluster):
    cluster.configure(
        mode="ok",
        leader="10.0.0.1:4647",
        namespaces=("default", "agents"),
        forbidden=frozenset(),
        services={("agents", "forgejo"): [registration("forgejo", "agents")]},
        volumes=(),
    )
    cluster.forget()
    return cluster


def probe(api, own: frozenset[str] | None, agents=("llama",), namespace="agents", pool=None):
    endpoint = Endpoint(api.url, "env NOMAD_ADDR", "", "X-Nomad-Token", None)
    target = nomad.NomadTarget(
        endpoint, "/p/Pulumi.dev.yaml", namespace, pool, tuple(host_volumes.fleet_volumes(agents).items())
    )
    with ThreadPoolExecutor(8) as pool_:
        return nomad.start(pool_, target, 2.0, lambda: own)()


def blocking_line(api, name: str, volume_id: str, namespace: str, why: str, agent: str = "llama") -> str:
    flags = f"-type host -namespace {namespace} {volume_id}"
    return (
        f"{api.url}: host volume {name} ({volume_id}) on node box1-0000 is {why}: it holds the name on that "
        f"node, so `pulumi up` cannot make agent {agent}'s there (on one node it fails; on several the new "
        f"volume is empty and elsewhere). Nomad refuses to delete a volume an allocation claims: first stop the "
        f"job that may, `nomad job stop -purge -namespace {namespace} disinto-agent-{agent}` (an outage: the agent "
        f"is down until `pulumi up` starts it again), copy out what you want (`nomad volume status {flags}` shows "
        f"its host path), then `nomad volume delete {flags}`, then `pulumi up --refresh`"
    )


def test_a_removed_agents_kept_volumes_block_its_hire_and_are_named(api):
    kept = [
        host_volume("project-repos-llama", "agents", volume_id="aaaa"),
        host_volume("agents-llama-data", "agents", volume_id="bbbb"),
        host_volume("agents-other-data", "agents", volume_id="cccc"),
    ]  # not a name of this fleet
    api.configure(volumes=tuple(kept))
    facts = probe(api, own=frozenset())
    assert facts.host_volumes_found == "2 of this fleet's names, 2 in the way"
    assert [(k.name, k.agent, k.id) for k in facts.kept_volumes] == [
        ("project-repos-llama", "llama", "aaaa"),
        ("agents-llama-data", "llama", "bbbb"),
    ]
    assert facts.problems == (
        blocking_line(api, "project-repos-llama", "aaaa", "agents", "not this stack's"),
        blocking_line(api, "agents-llama-data", "bbbb", "agents", "not this stack's"),
    )
    request = next(r for r in api.requests if r.path == "/v1/volumes")
    assert request.query == {"type": "host", "namespace": "*"}


def test_the_stacks_own_volumes_are_no_problem(api):
    api.configure(
        volumes=(
            host_volume("project-repos-llama", "agents", volume_id="aaaa"),
            host_volume("agents-llama-data", "agents", volume_id="bbbb"),
        )
    )
    facts = probe(api, own=frozenset({"aaaa", "bbbb"}))
    assert (facts.host_volumes_found, facts.kept_volumes, facts.problems) == (
        "2 of this fleet's names, 0 in the way",
        (),
        (),
    )


def test_a_moved_stacks_old_volume_blocks_its_replacement(api):
    """nomadNamespace changed from default to agents: pulumi up replaces the volume (the preview
    shows it), the old one, kept, holds the name on its node."""
    api.configure(volumes=(host_volume("agents-llama-data", "default", volume_id="bbbb"),))
    facts = probe(api, own=frozenset({"bbbb"}))
    assert facts.problems == (
        blocking_line(
            api,
            "agents-llama-data",
            "bbbb",
            "default",
            "this stack's, in namespace default / pool default where the stack now says agents / default",
        ),
    )
    # The pool too: "default" is the pool of a stack without nomadNodePool.
    api.configure(volumes=(host_volume("agents-llama-data", "agents", pool="gpu", volume_id="bbbb"),))
    assert (
        "in namespace agents / pool gpu where the stack now says agents / default"
        in probe(api, own=frozenset({"bbbb"})).problems[0]
    )


def test_without_the_state_only_a_volume_elsewhere_is_known_to_block(api):
    api.configure(
        volumes=(
            host_volume("project-repos-llama", "agents", volume_id="aaaa"),
            host_volume("agents-llama-data", "default", volume_id="bbbb"),
        )
    )
    facts = probe(api, own=None)
    assert facts.host_volumes_found == (
        "2 of this fleet's names, 1 in the way (stack state unknown: only those "
        "outside its namespace or pool are known to be)"
    )
    assert facts.problems == (
        blocking_line(
            api,
            "agents-llama-data",
            "bbbb",
            "default",
            "perhaps this stack's, in namespace default / pool default where the stack now says agents / default",
        ),
    )


def test_a_refusal_names_the_capability(api):
    api.configure(forbidden=frozenset({"/v1/volumes"}))
    facts = probe(api, own=frozenset())
    assert facts.host_volumes_found == 'refused: needs host-volume-read (on every namespace: namespace "*")'
    assert facts.problems == (
        f"{api.url}: Nomad's ACLs are on and no token was given (export NOMAD_TOKEN, or "
        "pulumi config set --secret nomad:secretId); it needs host-volume-read (on every "
        'namespace: namespace "*")',
    )


def test_no_agents_no_volumes_asked(api):
    facts = probe(api, own=frozenset(), agents=())
    assert facts.host_volumes_found == "" and not any(r.path == "/v1/volumes" for r in api.requests)


def test_own_volume_ids_from_an_exported_state():
    resources = [
        {"type": STATE, "id": "aaaa", "outputs": {"id": "aaaa"}},
        {"type": STATE, "outputs": {"id": "bbbb"}},
        {"type": "nomad:index/job:Job", "id": "disinto-agent-llama"},
        {"type": STATE},
    ]
    assert host_volumes.own_volume_ids(resources) == frozenset({"aaaa", "bbbb"})
