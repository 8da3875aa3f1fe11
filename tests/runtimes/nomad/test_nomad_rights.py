"""The rights the stack's Nomad token needs, and the minimal policy under examples/ that grants them."""

import fnmatch
import json

import hcl2

from disinto_infra.commands.check.nomad_token_rights import matching_set, merged_sets
from disinto_infra.runtimes.nomad.nomad_rights import HOST_VOLUME, NAMESPACE, pulumi_rights
from tests.support import record_plan
from tests.support.examples import EXAMPLES
from tests.support.nomad_runs import AGENTS, jobspec, nomad_run

NOMAD_EXAMPLE = EXAMPLES / "nomad" / "pulumi-token.hcl"


def test_the_rights_name_every_host_volume_the_jobs_ask_for():
    """nomad/job_endpoint.go Register (v1.10.0): a mount right per host volume request."""
    rights = pulumi_rights("default", AGENTS)
    named = {r.name: r.any_of for r in rights if r.block == HOST_VOLUME}
    for agent in AGENTS:
        (group,) = jobspec(nomad_run(), agent)["Job"]["TaskGroups"]
        for request in group["Volumes"].values():
            wanted = ("mount-readonly", "mount-readwrite") if request["ReadOnly"] else ("mount-readwrite",)
            assert named[request["Source"]] == wanted, request
    assert [r.any_of for r in rights if r.block == NAMESPACE] == [
        ("submit-job",),
        ("read-job",),
        ("host-volume-create",),
    ]


def test_the_example_grants_each_right_as_nomad_merges_and_matches():
    sets = merged_sets([NOMAD_EXAMPLE.read_text()])
    namespace = record_plan.settings("nomad").nomad_namespace
    for right in pulumi_rights(namespace, (*AGENTS, "a" * 40)):
        have = matching_set(sets[right.block], right.name)
        assert have is not None and "deny" not in have and have & set(right.any_of), right
    # And no delete: the stack keeps its volumes.
    assert "host-volume-delete" not in matching_set(sets[NAMESPACE], namespace)


def nomad_policy() -> dict:
    parsed = hcl2.loads(NOMAD_EXAMPLE.read_text())

    def blocks(kind):
        return {json.loads(k): v for block in parsed.get(kind, []) for k, v in block.items()}

    return {"namespace": blocks("namespace"), "host_volume": blocks("host_volume")}


def test_the_nomad_example_lets_the_jobs_be_registered():
    """nomad/job_endpoint.go Register (v1.10.0): submit-job on the namespace, and per host volume
    the group asks for, mount-readwrite (mount-readonly will do where the request is read-only)."""
    policy = nomad_policy()
    caps = [json.loads(c) for c in policy["namespace"][record_plan.settings("nomad").nomad_namespace]["capabilities"]]
    assert {"submit-job", "read-job", "host-volume-create"} <= set(caps)
    volumes = {name: [json.loads(c) for c in body["capabilities"]] for name, body in policy["host_volume"].items()}
    for agent in AGENTS:
        (group,) = jobspec(nomad_run(), agent)["Job"]["TaskGroups"]
        for request in group["Volumes"].values():
            granted = [caps for glob, caps in volumes.items() if fnmatch.fnmatchcase(request["Source"], glob)]
            assert granted, request["Source"]
            enough = {"mount-readwrite"} | ({"mount-readonly"} if request["ReadOnly"] else set())
            assert enough & set(granted[0]), request
    # The static volumes stay read-only for this token.
    assert volumes["factory-projects"] == volumes["ops-repo"] == ["mount-readonly"]
