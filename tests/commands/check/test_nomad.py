"""check.nomad against the Nomad double: each probe's row and problem, 403s naming a capability, the token's rights."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from disinto_infra.commands.check import nomad
from disinto_infra.commands.check.reach import Endpoint
from tests.support.budgets import ANSWER_BUDGET
from tests.support.examples import nomad_example
from tests.support.nomad_double import NomadDouble, node, registration

TOKEN = "nomad-acl-token-7f3e"  # must never appear in any fact


@pytest.fixture(scope="module")
def cluster():
    with NomadDouble(acl_token=TOKEN) as double:
        yield double


@pytest.fixture
def api(cluster):
    """The double as a fresh cluster: a leader, namespace `agents`, pool `gpu`, forgejo registered."""
    cluster.configure(
        mode="ok",
        leader="10.0.0.1:4647",
        namespaces=("default", "agents"),
        acl_token=TOKEN,
        forbidden=frozenset(),
        namespace_pools={},
        pools={"gpu": [node("box1", "gpu"), node("box2", "gpu", status="down")]},
        services={("agents", "forgejo"): [registration("forgejo", "agents", "10.0.0.5", 3000)]},
        token_type="management",
        token_policies=(),
        token_roles=(),
        acl_roles={},
        acl_policies={},
    )
    cluster.forget()
    return cluster


def probe(api, token=TOKEN, namespace="agents", pool="gpu", timeout=ANSWER_BUDGET, agents=(), grace=120):
    endpoint = Endpoint(api.url, "env NOMAD_ADDR", "env NOMAD_TOKEN" if token else "", "X-Nomad-Token", token)
    target = nomad.NomadTarget(endpoint, "/p/Pulumi.dev.yaml", namespace, pool, agents=agents, stop_grace=grace)
    with ThreadPoolExecutor(8) as pool_:
        facts = nomad.start(pool_, target, timeout)()
    assert TOKEN not in repr(facts)
    return facts


def test_all_well_with_only_gets_and_the_token_header(api):
    facts = probe(api)
    assert (facts.leader, facts.namespace_found, facts.pool_found, facts.ready_nodes) == (
        "10.0.0.1:4647",
        "exists",
        "1 of 2 node(s) ready and eligible",
        ("box1",),
    )
    assert (facts.forge_found, facts.forge_instances, facts.problems) == ("registered", ("10.0.0.5:3000",), ())
    assert {r.method for r in api.requests} == {"GET"}
    assert sorted(r.path for r in api.requests) == [
        "/v1/acl/token/self",
        "/v1/agent/self",
        "/v1/namespace/agents",
        "/v1/node/pool/gpu",
        "/v1/node/pool/gpu/nodes",
        "/v1/service/forgejo",
        "/v1/services",
        "/v1/status/leader",
    ]
    assert facts.rights_found == "not checked: no agents"
    assert {r.headers.get("X-Nomad-Token") for r in api.requests} == {TOKEN}
    assert next(r for r in api.requests if r.path == "/v1/service/forgejo").query == {"namespace": "agents"}


def test_without_a_pool_no_pool_is_asked(api):
    facts = probe(api, pool=None)
    assert facts.node_pool is None and facts.pool_found == "" and facts.problems == ()
    assert not any("/node/" in r.path for r in api.requests)


def test_no_leader_is_one_problem_and_nothing_else_is_judged(api):
    api.configure(leader=None)
    facts = probe(api)
    assert facts.leader_found == "no leader: No cluster leader"
    assert facts.problems == (f"{api.url}: Nomad has no leader (No cluster leader): it schedules nothing",)
    assert facts.namespace_found == facts.pool_found == facts.forge_found == "not checked: no leader"


def test_missing_namespace_names_the_setting(api):
    facts = probe(api, namespace="disinto")
    assert facts.namespace_found == "not found" and facts.forge_found == "not checked: no such namespace"
    assert facts.problems == (
        f'/p/Pulumi.dev.yaml: disinto:nomadNamespace: namespace "disinto" does not exist in Nomad at {api.url}',
    )


def test_pool_missing_or_without_a_ready_node(api):
    assert probe(api, pool="cpu").problems == (
        f'/p/Pulumi.dev.yaml: disinto:nomadNodePool: node pool "cpu" does not exist in Nomad at {api.url}',
    )
    api.configure(pools={"gpu": [node("box1", "gpu", eligibility="ineligible"), node("box2", "gpu", status="down")]})
    facts = probe(api)
    assert facts.pool_found == "0 of 2 node(s) ready and eligible" and facts.ready_nodes == ()
    assert facts.problems == (
        '/p/Pulumi.dev.yaml: disinto:nomadNodePool: node pool "gpu" has no node that is ready and eligible '
        "(box1 ready/ineligible, box2 down/eligible): the agents' jobs and volumes cannot be placed",
    )


def test_a_namespace_with_another_default_pool_needs_nomad_node_pool(api):
    """Nomad Enterprise: the namespace sends jobs to pool "gpu"; a stack without nomadNodePool
    names "default" for its jobs and volumes."""
    api.configure(namespace_pools={"agents": "gpu"})
    facts = probe(api, pool=None)
    assert facts.namespace_found == "exists, default node pool gpu"
    assert facts.problems == (
        '/p/Pulumi.dev.yaml: disinto:nomadNodePool: unset, so the jobs and their volumes go to node pool "default", '
        'but namespace "agents" sends its jobs to "gpu" by default: set disinto:nomadNodePool to gpu (or to the '
        "pool you mean)",
    )
    assert probe(api, pool="gpu").problems == ()
    api.configure(namespace_pools={"agents": "default"})
    assert probe(api, pool=None).problems == ()


def test_no_forgejo_service(api):
    api.configure(services={})
    facts = probe(api)
    assert facts.forge_found == "not registered"
    assert facts.problems == (
        f'{api.url}: no Nomad service "forgejo" in namespace "agents": the agents\' jobs '
        "take FORGE_URL from it (run the factory's forgejo job there, or set "
        "disinto:nomadNamespace to its namespace)",
    )


def test_a_forgejo_service_in_another_namespace_is_named(api):
    """The agents' template asks `nomadService`, which reads only the job's own namespace (issue 29)."""
    api.configure(services={("default", "forgejo"): [registration("forgejo", "default")]})
    facts = probe(api)
    assert facts.forge_found == "not registered (in default)"
    assert facts.problems == (
        f'{api.url}: no Nomad service "forgejo" in namespace "agents"; it is registered in namespace \'default\', '
        "which the agents' nomadService does not see (it reads only the job's own namespace): the agents' jobs "
        "take FORGE_URL from it (run the factory's forgejo job there, or set disinto:nomadNamespace to its namespace)",
    )
    assert next(r for r in api.requests if r.path == "/v1/services").query == {"namespace": "*"}


def test_403_names_the_capability(api):
    api.configure(forbidden=frozenset({"/v1/node/pool/gpu", "/v1/service/forgejo"}))
    facts = probe(api)
    assert facts.pool_found == 'refused: needs read on node pool "gpu"'
    assert facts.problems == (
        f'{api.url}: the Nomad token (env NOMAD_TOKEN) lacks read on node pool "gpu"',
        f'{api.url}: the Nomad token (env NOMAD_TOKEN) lacks read-job on namespace "agents"',
    )


def test_acls_on_and_no_token_is_one_problem(api):
    facts = probe(api, token=None)
    assert len(facts.problems) == 1 and facts.problems[0].startswith(
        f"{api.url}: Nomad's ACLs are on and no token was given (export NOMAD_TOKEN, or pulumi config set --secret "
        "nomad:secretId); it needs "
    )
    assert all("X-Nomad-Token" not in r.headers for r in api.requests)


@pytest.mark.parametrize(
    "mode, why", [("reset", "connection refused or reset"), ("hang", "no whole answer within 0.3s (timed out)")]
)
def test_no_answer(api, mode, why):
    api.configure(mode=mode)
    facts = probe(api, timeout=0.3)
    assert facts.problems == (f"{api.url} (env NOMAD_ADDR): Nomad does not answer: {why}",)
    assert facts.namespace_found == "not checked: no answer"


def test_an_unusable_endpoint_is_not_asked(api):
    problem = '/p/Pulumi.dev.yaml: nomad:address: "127.0.0.1:4646" must start with http:// or https://'
    endpoint = Endpoint(
        "127.0.0.1:4646",
        "nomad:address in the stack file",
        "",
        "X-Nomad-Token",
        None,
        True,
        problem,
        "no http:// or https://",
    )
    with ThreadPoolExecutor(2) as pool:
        facts = nomad.start(pool, nomad.NomadTarget(endpoint, "/p/Pulumi.dev.yaml", "agents", "gpu"), 2.0)()
    assert (facts.leader_found, facts.namespace_found, facts.pool_found, facts.problems) == (
        "not asked: no http:// or https://",
        "not checked: no http:// or https://",
        "not checked: no http:// or https://",
        (problem,),
    )
    assert api.requests == []


# ---------------------------------------------------------------- the token's rights


def client(api, *policies: str, roles: dict[str, list[str]] | None = None, **rules: str) -> None:
    api.configure(
        token_type="client",
        token_policies=policies,
        acl_policies=rules,
        acl_roles=roles or {},
        token_roles=tuple(roles or ()),
    )


def test_a_management_token_or_no_acls_has_every_right(api):
    assert probe(api, agents=("llama",)).rights_found == "a management token: every right"
    api.configure(acl_token=None)
    assert probe(api, token=None, agents=("llama",)).rights_found == "ACLs are off: every right"


def test_the_example_policy_gives_every_right(api):
    client(api, "disinto-infra", **{"disinto-infra": nomad_example()})
    facts = probe(api, agents=("llama", "dev-qwen2"))
    # submit-job, read-job, host-volume-create; four own volumes read-write; two shared read-only.
    assert (facts.rights_found, facts.problems) == ("9 of 9 rights `pulumi up` uses", ())
    assert "/v1/acl/policy/disinto-infra" in {r.path for r in api.requests}


def test_namespace_write_is_not_enough_the_volume_mounts_are_named(api):
    """nomad/job_endpoint.go Register (v1.10.0) checks a mount right per host volume the job asks for."""
    client(api, "ops", ops='namespace "agents" {\n  policy = "write"\n}\n')
    facts = probe(api, agents=("llama",))
    who = f"{api.url}: the Nomad token (env NOMAD_TOKEN)"
    tail = "`pulumi up` would be refused; see examples/nomad/pulumi-token.hcl"
    assert facts.problems == (
        f'{who} lacks mount-readwrite on host volume "project-repos-llama" (agent llama\'s job mounts it read-write): {tail}',
        f'{who} lacks mount-readwrite on host volume "agents-llama-data" (agent llama\'s job mounts it read-write): {tail}',
        f'{who} lacks mount-readonly or mount-readwrite on host volume "factory-projects" (every agent\'s job mounts it read-only): {tail}',
        f'{who} lacks mount-readonly or mount-readwrite on host volume "ops-repo" (every agent\'s job mounts it read-only): {tail}',
    )
    assert facts.rights_found == "3 of 7 rights `pulumi up` uses"


def test_deny_wins_and_the_closest_glob_decides(api):
    """acl/acl.go (v1.10.0): deny takes precedence in a merged set; an exact name, else the glob
    with the smallest character difference."""
    client(
        api,
        "a",
        "b",
        a=nomad_example() + 'host_volume "*" {\n  policy = "deny"\n}\n',
        b='namespace "agents" {\n  capabilities = ["deny"]\n}\n',
    )
    facts = probe(api, agents=("llama",))
    lacking = [p.split(" lacks ", 1)[1].split(" (", 1)[0] for p in facts.problems]
    # The namespace is denied outright; the volumes keep their own, closer globs and names.
    assert lacking == [
        'submit-job on namespace "agents"',
        'read-job on namespace "agents"',
        'host-volume-create on namespace "agents"',
    ]


def test_a_policy_from_a_role_counts_and_a_glob_namespace_matches(api):
    client(api, roles={"r1": ["from-role"]}, **{"from-role": nomad_example(namespace="agen*")})
    facts = probe(api, agents=("llama",))
    assert (facts.rights_found, facts.problems) == ("7 of 7 rights `pulumi up` uses", ())
    assert "/v1/acl/role/r1" in {r.path for r in api.requests}


def test_host_volume_write_implies_create(api):
    client(api, "ops", ops=nomad_example().replace('"host-volume-create"', '"host-volume-write"'))
    assert probe(api, agents=("llama",)).problems == ()


def test_an_unreadable_policy_means_not_checked(api):
    client(api, "ops", "gone", ops='namespace "agents" {\n  policy = "write"\n}\n')
    facts = probe(api, agents=("llama",))
    assert (facts.rights_found, facts.problems) == ("not checked: policy gone not readable", ())


def test_a_client_whose_max_kill_timeout_is_below_the_grace_is_a_problem(api):
    """Nomad caps each task's kill_timeout at the client's max_kill_timeout (issue 29 item 3)."""
    api.configure(agent_client={"Enabled": True, "MaxKillTimeout": "30s"})
    facts = probe(api)
    assert facts.kill_timeout_found == "30s, below the 120 s grace"
    assert facts.problems == (
        f"{api.url}: this Nomad client caps a task's kill_timeout at 30s (client max_kill_timeout), below "
        "/p/Pulumi.dev.yaml: disinto:stopGraceSeconds 120: the agents get 30s to finish their jobs on a stop; "
        'set client { max_kill_timeout = "120s" } on every client that runs agents, or lower the grace',
    )
    api.configure(agent_client={"Enabled": True, "MaxKillTimeout": "2m0s"})
    assert (probe(api).kill_timeout_found, probe(api).problems) == ("2m0s, enough for the 120 s grace", ())
