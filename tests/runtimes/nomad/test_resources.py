"""The nomad runtime under mocks: per agent its own job, Vault policy, JWT role, KV secret, volumes."""

import json
import re
from functools import cache
from pathlib import Path

import jsonschema
import pytest
import requests

from disinto_infra.config.project_toml import Fleet, parse_project_text
from disinto_infra.config.stack_settings import NomadConstraint
from disinto_infra.program.build import build_fleet
from disinto_infra.program.plan import RecordingMocks, is_secret, plan_fleet, reveal, run_with_mocks
from disinto_infra.runtimes import agent_entrypoint
from tests.support import record_plan
from tests.support.nomad_double import NomadDouble, host_volume
from tests.support.nomad_runs import AGENTS, T, jobspec, nomad_run, review_run, run_fleet
from tests.support.nomad_schema import SCHEMA
from tests.support.vault_policies import grants


@cache
def docker_run():
    return run_fleet("docker")


def of_type(run, kind: str):
    return [r for r in run.registrations if r.type == T[kind]]


def task(run, agent: str) -> dict:
    (group,) = jobspec(run, agent)["Job"]["TaskGroups"]
    (only,) = group["Tasks"]
    return only


@cache
def validator():
    return jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))


# ---------------------------------------------------------------- isolation


def test_two_agents_give_their_own_of_everything():
    run = nomad_run()
    counts = {kind: len(of_type(run, kind)) for kind in T}
    assert counts == {"kv": 2, "policy": 2, "role": 2, "volume": 4, "job": 2}
    # Nothing of the docker runtime is registered.
    assert not [
        r for r in run.registrations if r.type.startswith("docker:") or r.name.endswith(("-retire", "-copy-data"))
    ]
    names = {
        "kv": [reveal(r.inputs)["name"] for r in of_type(run, "kv")],
        "policy": [reveal(r.inputs)["name"] for r in of_type(run, "policy")],
        "role": [reveal(r.inputs)["roleName"] for r in of_type(run, "role")],
        "volume": [reveal(r.inputs)["name"] for r in of_type(run, "volume")],
        "job": [jobspec(run, a)["Job"]["ID"] for a in AGENTS],
    }
    for kind, values in names.items():
        assert len(set(values)) == len(values), f"{kind} shared: {values}"
    assert sorted(names["volume"]) == sorted(
        ["project-repos-llama", "agents-llama-data", "project-repos-dev-qwen2", "agents-dev-qwen2-data"]
    )
    assert sorted(names["kv"]) == ["disinto/bots/dev-qwen2", "disinto/bots/llama"]
    assert sorted(names["job"]) == ["disinto-agent-dev-qwen2", "disinto-agent-llama"]


@pytest.mark.parametrize("agent, other", [AGENTS, tuple(reversed(AGENTS))])
def test_each_policy_names_only_its_own_path(agent, other):
    policy = reveal(nomad_run().named(f"{agent}-policy").inputs)
    assert policy["name"] == f"bot-{agent}"
    # Exactly its own two paths: not the factory's kv/data/disinto/shared/forge, where its
    # tools/vault-import.sh (Disinto/disinto 2308c4c) keeps the Forgejo admin token.
    assert grants(policy["policy"]) == {
        f"kv/data/disinto/bots/{agent}": ["read"],
        f"kv/metadata/disinto/bots/{agent}": ["list", "read"],
    }
    assert other not in policy["policy"] and "shared/forge" not in policy["policy"]


@pytest.mark.parametrize("agent", AGENTS)
def test_each_role_is_bound_only_to_its_own_job(agent):
    role = reveal(nomad_run().named(f"{agent}-role").inputs)
    # The factory's constants (vault/roles.yaml, tools/vault-apply-roles.sh; Disinto/disinto 2308c4c),
    # but a periodic token with no ttl or max TTL, as Nomad's command/asset/vault-wi-default-role.json
    # (v1.10.0): a max TTL ends renewal, and Nomad then restarts the task with a new token.
    assert role == {
        "backend": "jwt-nomad",
        "roleName": f"bot-{agent}",
        "roleType": "jwt",
        "boundAudiences": ["vault.io"],
        "userClaim": "nomad_job_id",
        "boundClaims": {"nomad_namespace": "default", "nomad_job_id": f"disinto-agent-{agent}"},
        "tokenType": "service",
        "tokenPolicies": [f"bot-{agent}"],
        "tokenPeriod": 1800,
    }
    assert "tokenMaxTtl" not in role and "tokenTtl" not in role
    # The job asks for exactly that role; a new token restarts nothing (vault_hook.go, v1.10.0).
    assert task(nomad_run(), agent)["Vault"] == {
        "Role": f"bot-{agent}",
        "Env": False,
        "DisableFile": True,
        "ChangeMode": "noop",
    }


@pytest.mark.parametrize("agent", AGENTS)
def test_the_jobs_vault_identity_is_what_the_role_accepts(agent):
    """The identity Nomad uses for the task's Vault block is "vault_" + its cluster
    (structs.Vault.IdentityName, v1.10.0); declared in the job, a cluster without
    `vault.default_identity` still gets a JWT whose audience the role is bound to."""
    run = nomad_run()
    role = reveal(run.named(f"{agent}-role").inputs)
    identities = task(run, agent)["Identities"]
    assert [i["Name"] for i in identities] == ["vault_default"]
    (identity,) = identities
    assert identity["Audience"] == role["boundAudiences"]
    # A TTL (ns): the JWT expires and Nomad renews it; only a non-default identity may have one.
    assert identity["TTL"] == 3600 * 10**9
    # Go field names of api/tasks.go WorkloadIdentity, not the jobspec's `aud` / `ttl`.
    assert set(identity) == {"Name", "Audience", "TTL"}


@pytest.mark.parametrize("agent, other", [AGENTS, tuple(reversed(AGENTS))])
def test_each_job_reads_only_its_own_secret_and_mounts_only_its_own_volumes(agent, other):
    run = nomad_run()
    t = task(run, agent)
    secret_reads = [tpl["EmbeddedTmpl"] for tpl in t["Templates"] if "secret" in tpl["EmbeddedTmpl"]]
    assert len(secret_reads) == 1 and f'with secret "kv/data/disinto/bots/{agent}"' in secret_reads[0]
    assert secret_reads[0].count("with secret") == 1
    assert other not in run.named(f"{agent}-job").inputs["jobspec"]
    (group,) = jobspec(run, agent)["Job"]["TaskGroups"]
    writable = {v["Source"] for v in group["Volumes"].values() if not v["ReadOnly"]}
    assert writable == {f"project-repos-{agent}", f"agents-{agent}-data"}
    mounts = {m["Destination"]: (group["Volumes"][m["Volume"]]["Source"], m["ReadOnly"]) for m in t["VolumeMounts"]}
    assert mounts == {
        "/home/agent/repos": (f"project-repos-{agent}", False),
        "/home/agent/data": (f"agents-{agent}-data", False),
        # Only the factory's static host volumes are shared, read-only (nomad/jobs/agents.hcl, 2308c4c).
        "/srv/disinto/project-repos/_factory/projects": ("factory-projects", True),
        "/home/agent/repos/_factory/disinto-ops": ("ops-repo", True),
    }


def test_the_job_gets_the_project_tomls_the_entrypoint_needs():
    """The image holds no project TOML (the factory's .dockerignore drops projects/*.toml), and
    docker/agents/entrypoint.sh exits "No real .toml files found" unless
    seed_projects_from_host_volume finds them at this path (Disinto/disinto 2308c4c)."""
    (group,) = jobspec(nomad_run(), "llama")["Job"]["TaskGroups"]
    assert group["Volumes"]["factory-projects"] == {
        "Name": "factory-projects",
        "Type": "host",
        "Source": "factory-projects",
        "ReadOnly": True,
    }
    (t,) = group["Tasks"]
    assert {
        "Volume": "factory-projects",
        "Destination": "/srv/disinto/project-repos/_factory/projects",
        "ReadOnly": True,
    } in t["VolumeMounts"]


# ---------------------------------------------------------------- the job

# What the job's env differs in from the docker container's, on purpose (docs/nomad.md, The env on Nomad).
NOMAD_ONLY = {
    # the factory's Nomad job's local-model settings (nomad/jobs/agents.hcl, Disinto/disinto 2308c4c)
    "CLAUDE_MAX_TURNS": "60",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "CLAUDE_CODE_DISABLE_EXPERIMENTAL_BETAS": "1",
    # Claude's folder on the agent's data volume: the job binds no shared host folder
    "CLAUDE_CONFIG_DIR": "/home/agent/data/.claude",
    "CLAUDE_CREDENTIALS_DIR": "/home/agent/data/.claude/credentials",
}
# The non-secret env of the factory's own Nomad agents task (nomad/jobs/agents.hcl `env`, 2308c4c)
# and, rendered by its templates, FORGE_URL and its bots' tokens.
FACTORY_JOB_ENV = {
    "FORGE_REPO",
    "FACTORY_REPO",
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_API_KEY",
    "CLAUDE_MODEL",
    "AGENT_ROLES",
    "POLL_INTERVAL",
    "DISINTO_CONTAINER",
    "PROJECT_NAME",
    "PROJECT_REPO_ROOT",
    "CLAUDE_TIMEOUT",
    "CLAUDE_MAX_TURNS",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC",
    "CLAUDE_CODE_DISABLE_EXPERIMENTAL_BETAS",
    "CLAUDE_AUTOCOMPACT_PCT_OVERRIDE",
}
FACTORY_JOB_SECRETS = {
    "FORGE_URL",
    "FORGE_TOKEN",
    "FORGE_PASS",
    "FORGE_REVIEW_TOKEN",
    "FORGE_GARDENER_TOKEN",
    "FORGE_ARCHITECT_TOKEN",
    "FORGE_PLANNER_TOKEN",
    "FORGE_PREDICTOR_TOKEN",
    "FORGE_SUPERVISOR_TOKEN",
    "FORGE_VAULT_TOKEN",
    "FORGE_FILER_TOKEN",
}


def rendered_names(t: dict) -> set[str]:
    return {
        name
        for tpl in t["Templates"]
        for name in re.findall(r"(?:^|\}\})([A-Z][A-Z0-9_]*)=", tpl["EmbeddedTmpl"], flags=re.M)
    }


@pytest.mark.parametrize("agent", AGENTS)
def test_job_env_is_the_docker_containers_minus_secrets_and_forge_url(agent):
    docker_env = dict(e.split("=", 1) for e in reveal(docker_run().named(f"{agent}-container").inputs["envs"]))
    secret_names = {"FORGE_TOKEN", "FORGE_PASS", "ANTHROPIC_API_KEY"}
    assert task(nomad_run(), agent)["Env"] == {
        **{k: v for k, v in docker_env.items() if k not in secret_names | {"FORGE_URL"}},
        **NOMAD_ONLY,
    }
    # The secret ones come from the template, FORGE_URL from service discovery: nothing is lost.
    rendered = rendered_names(task(nomad_run(), agent))
    assert rendered == secret_names | {"FORGE_URL"}
    assert set(task(nomad_run(), agent)["Env"]) | rendered == set(docker_env) | set(NOMAD_ONLY)


def test_the_local_model_settings_go_only_to_agents_on_a_local_model():
    """Issue 29 item 7: CLAUDE_MAX_TURNS and the two switches are the factory job's llama tuning."""
    text = record_plan.PROJECT.read_text(encoding="utf-8").replace(
        'base_url = "http://10.10.10.1:8082"', 'base_url = "https://api.anthropic.com"'
    )
    run = run_with_project(text)
    local, remote = task(run, "llama")["Env"], task(run, "dev-qwen2")["Env"]
    llama_tuning = {
        "CLAUDE_MAX_TURNS",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC",
        "CLAUDE_CODE_DISABLE_EXPERIMENTAL_BETAS",
    }
    assert llama_tuning <= set(local)
    assert not llama_tuning & set(remote)
    assert remote["CLAUDE_CONFIG_DIR"] == "/home/agent/data/.claude"  # the rest of the job env stays


def test_job_env_holds_all_the_factory_jobs_env_but_other_bots_tokens():
    t = task(nomad_run(), "llama")
    ours = set(t["Env"]) | rendered_names(t)
    assert ours >= FACTORY_JOB_ENV
    # Each agent reads its own token only (its own Vault policy); the others stay the factory job's.
    assert (FACTORY_JOB_ENV | FACTORY_JOB_SECRETS) - ours == FACTORY_JOB_SECRETS - {
        "FORGE_URL",
        "FORGE_TOKEN",
        "FORGE_PASS",
    }
    # What ours has in addition is the docker runtime's env, named in docs/nomad.md.
    assert ours - FACTORY_JOB_ENV - FACTORY_JOB_SECRETS == {
        "FORGE_BOT_USER_DEV_QWEN",
        "CLAUDE_CONFIG_DIR",
        "CLAUDE_CREDENTIALS_DIR",
        "CLAUDE_CODE_ATTRIBUTION_HEADER",
        "CLAUDE_CODE_ENABLE_TELEMETRY",
        "WOODPECKER_DATA_DIR",
        "WOODPECKER_REPO_ID",
        "FORGE_BOT_USERNAMES",
        "ARCHITECT_INTERVAL",
        "PLANNER_INTERVAL",
        "SUPERVISOR_INTERVAL",
    }


def test_claudes_folder_is_on_the_agents_own_data_volume():
    t = task(nomad_run(), "llama")
    (group,) = jobspec(nomad_run(), "llama")["Job"]["TaskGroups"]
    data = next(m for m in t["VolumeMounts"] if group["Volumes"][m["Volume"]]["Source"] == "agents-llama-data")
    assert t["Env"]["CLAUDE_CONFIG_DIR"].startswith(data["Destination"] + "/") and not data["ReadOnly"]
    assert t["Env"]["CLAUDE_CREDENTIALS_DIR"] == t["Env"]["CLAUDE_CONFIG_DIR"] + "/credentials"


def test_templates_render_env_and_restart_on_change():
    t = task(nomad_run(), "llama")
    assert [(x["DestPath"], x["Envvars"], x["ChangeMode"]) for x in t["Templates"]] == [
        ("local/forge-url.env", True, "restart"),
        ("secrets/forge.env", True, "restart"),
    ]
    forge_url, secrets = (x["EmbeddedTmpl"] for x in t["Templates"])
    assert 'nomadService "forgejo"' in forge_url and "FORGE_URL=http://{{ .Address }}:{{ .Port }}" in forge_url
    # The factory's key names (nomad/jobs/agents.hcl, 2308c4c), each value a JSON string so that
    # go-envparse, which reads the env file, unquotes it whole.
    assert secrets.splitlines()[1:-1] == [
        "FORGE_TOKEN={{ .Data.data.token | toJSON }}",
        "FORGE_PASS={{ .Data.data.pass | toJSON }}",
        "ANTHROPIC_API_KEY={{ .Data.data.anthropic_api_key | toJSON }}",
    ]


def test_a_forgejo_redeploy_renders_forge_url_once_its_service_is_quiet():
    """Issue 29 item 7: without a wait, a redeploy (service gone, then back) restarts every agent
    twice, once with no FORGE_URL; the wait renders once the registrations are quiet (Template.Wait,
    api/tasks.go; consul-template's quiescence timer)."""
    forge_url, secrets = task(nomad_run(), "llama")["Templates"]
    assert forge_url["Wait"] == {"Min": 15 * 10**9, "Max": 60 * 10**9}
    assert "Wait" not in secrets  # a rotated secret must reach the agent at once


def test_job_is_the_factorys_agent_task_shape():
    job = jobspec(nomad_run(), "llama")["Job"]
    assert (job["Type"], job["Namespace"], job["Datacenters"], job["NodePool"]) == (
        "service",
        "default",
        ["dc1"],
        "agents",
    )
    (group,) = job["TaskGroups"]
    assert group["RestartPolicy"] == {"Attempts": 3, "Interval": 300 * 10**9, "Delay": 15 * 10**9, "Mode": "delay"}
    t = group["Tasks"][0]
    assert t["Driver"] == "docker"
    assert t["Config"] == {
        "image": "ghcr.io/disinto/agents:latest",
        "security_opt": ["apparmor=unconfined"],
        # The same wrapper as on docker: the loop stops polling on the kill signal, jobs may finish.
        "entrypoint": agent_entrypoint.ENTRYPOINT,
    }
    assert t["KillTimeout"] == 120 * 10**9  # stopGraceSeconds, in nanoseconds (the client caps it)


@pytest.mark.parametrize("agent", AGENTS)
def test_jobspec_holds_no_secret_and_is_not_secret(agent):
    run = nomad_run()
    job = run.named(f"{agent}-job")
    assert not is_secret(job.inputs["jobspec"]) and job.inputs["json"] is True
    kv = json.loads(reveal(run.named(f"{agent}-kv").inputs["dataJson"]))
    for value in kv.values():
        assert value not in job.inputs["jobspec"]
    assert set(kv) == {"token", "pass", "anthropic_api_key"}
    assert kv["token"] == run.exports["agentTokens"].value[agent]
    # The Vault secret's `pass` is the token too (issue 18 item 6): no password in Vault.
    assert kv["pass"] == run.exports["agentTokens"].value[agent] != run.exports["agentPasswords"].value[agent]


def test_the_review_token_has_its_own_secret():
    run = review_run()
    (shared,) = [r for r in of_type(run, "kv") if r.name == "forge-review-token"]
    inputs = reveal(shared.inputs)
    assert (inputs["mount"], inputs["name"]) == ("kv", "disinto/bots/_forge-review")
    assert json.loads(inputs["dataJson"]) == {"forge_review_token": "review-secret-123"}
    # At the stack's top, not under one agent: removing any agent keeps it.
    assert is_secret(shared.inputs["dataJson"]) and "Agent" not in shared.urn
    # No agent's own secret holds it.
    for agent in AGENTS:
        assert "forge_review_token" not in json.loads(reveal(run.named(f"{agent}-kv").inputs["dataJson"]))


def test_a_dev_agent_neither_reads_nor_gets_the_review_token():
    """llama has roles ["dev"]: its policy names only its own paths, its secret and job no review token."""
    run = review_run()
    assert set(grants(reveal(run.named("llama-policy").inputs)["policy"])) == {
        "kv/data/disinto/bots/llama",
        "kv/metadata/disinto/bots/llama",
    }
    assert "forge_review_token" not in json.loads(reveal(run.named("llama-kv").inputs["dataJson"]))
    spec = run.named("llama-job").inputs["jobspec"]
    assert "FORGE_REVIEW_TOKEN" not in spec and "_forge-review" not in spec
    # What the plan shows as the agent's env, too.
    assert "FORGE_REVIEW_TOKEN" not in {var.name for var in run.result["llama"].env}
    assert "FORGE_REVIEW_TOKEN" in {var.name for var in run.result["dev-qwen2"].env}
    assert run.named("forge-review-token").urn not in run.named("llama-job").options.dependencies


def test_a_review_agent_reads_the_review_token_from_its_own_secret():
    """dev-qwen2 has roles ["dev", "review"]."""
    run = review_run()
    assert grants(reveal(run.named("dev-qwen2-policy").inputs)["policy"]) == {
        "kv/data/disinto/bots/dev-qwen2": ["read"],
        "kv/metadata/disinto/bots/dev-qwen2": ["list", "read"],
        "kv/data/disinto/bots/_forge-review": ["read"],
    }
    spec = run.named("dev-qwen2-job").inputs["jobspec"]
    assert "review-secret-123" not in spec
    secrets = [
        tpl["EmbeddedTmpl"] for tpl in task(run, "dev-qwen2")["Templates"] if "with secret" in tpl["EmbeddedTmpl"]
    ]
    assert secrets == [
        '{{ with secret "kv/data/disinto/bots/dev-qwen2" }}\n'
        "FORGE_TOKEN={{ .Data.data.token | toJSON }}\nFORGE_PASS={{ .Data.data.pass | toJSON }}\n"
        "ANTHROPIC_API_KEY={{ .Data.data.anthropic_api_key | toJSON }}\n{{ end }}\n"
        '{{ with secret "kv/data/disinto/bots/_forge-review" }}\n'
        "FORGE_REVIEW_TOKEN={{ .Data.data.forge_review_token | toJSON }}\n{{ end }}\n"
    ]
    assert run.named("forge-review-token").urn in run.named("dev-qwen2-job").options.dependencies
    validator().validate(jobspec(run, "dev-qwen2"))


def test_docker_keeps_the_review_token_in_every_container():
    run = run_fleet("docker", forge_review_token="review-secret-123")
    for agent in AGENTS:
        envs = dict(e.split("=", 1) for e in reveal(run.named(f"{agent}-container").inputs["envs"]))
        assert envs["FORGE_REVIEW_TOKEN"] == "review-secret-123"
    assert not of_type(run, "kv")


def test_kv_secret_is_secret_even_without_engine_help():
    run = run_fleet(mocks=None)
    for agent in AGENTS:
        kv = run.named(f"{agent}-kv")
        assert is_secret(kv.inputs["dataJson"])
        assert (kv.inputs["mount"], kv.inputs["deleteAllVersions"]) == ("kv", True)


class Rotated(RecordingMocks):
    """A rotated token (`rotate --token`) or password (`rotate --password`): new outputs of that
    Forgejo resource, everything else as before."""

    def __init__(self, what: str):
        super().__init__()
        self.what = what  # "token" or "password"

    def outputs(self, typ, name, inputs):
        outs = super().outputs(typ, name, inputs)
        kind = {"token": "forgejo:Token", "password": "forgejo:User"}[self.what]
        return {**outs, self.what: "rotated-" + outs[self.what]} if typ.endswith(kind) else outs


# FORGE_PASS carries the token (issue 18 item 6): a token rotation changes both keys, a password
# rotation neither (the password stays in the Pulumi state).
@pytest.mark.parametrize("what, changed", [("token", ("token", "pass")), ("password", ())])
def test_rotation_updates_the_kv_secret_and_not_the_job(what, changed):
    before, after = nomad_run(), run_fleet(mocks=Rotated(what))
    for agent in AGENTS:
        assert after.named(f"{agent}-job").inputs == before.named(f"{agent}-job").inputs
        old, new = (json.loads(reveal(r.named(f"{agent}-kv").inputs["dataJson"])) for r in (before, after))
        for key in ("token", "pass"):
            assert new[key] == ("rotated-" + old[key] if key in changed else old[key])


def test_removal_purges_the_job_and_keeps_the_volumes():
    run = nomad_run()
    for agent in AGENTS:
        assert run.named(f"{agent}-job").inputs["purgeOnDestroy"] is True
        for kind in ("job", "kv", "policy", "role"):
            assert not run.named(f"{agent}-{kind}").options.retain_on_delete
        for kind in ("repos", "data"):
            volume = run.named(f"{agent}-{kind}")
            assert volume.options.retain_on_delete
            assert reveal(volume.inputs)["pluginId"] == "mkdir"
            assert reveal(volume.inputs)["nodePool"] == "agents"


@pytest.mark.parametrize("agent", AGENTS)
def test_both_volumes_of_an_agent_are_on_one_node(agent):
    """Nomad picks a node per volume; the job needs both on its node, so the data volume goes
    where the repos volume went (its node id output)."""
    run = nomad_run()
    repos, data = run.named(f"{agent}-repos"), run.named(f"{agent}-data")
    assert "nodeId" not in reveal(repos.inputs)
    assert reveal(data.inputs)["nodeId"] == run.outputs[repos.urn]["nodeId"]
    assert repos.urn in data.options.dependencies


def test_job_waits_for_its_secret_role_and_volumes():
    run = nomad_run()
    deps = set(run.named("llama-job").options.dependencies)
    assert {run.named(n).urn for n in ("llama-kv", "llama-role", "llama-repos", "llama-data")} <= deps
    assert not any("dev-qwen2" in d for d in deps)


# What the job implies of a node, carried by its volumes (nomad_job.py names the Nomad source).
IMPLIED = [
    {"attribute": "${attr.driver.docker}", "operator": "=", "value": "1"},
    {"attribute": "${attr.vault.version}", "operator": "semver", "value": ">= 0.6.1"},
]


def test_a_constraint_places_volumes_and_job_together():
    from disinto_infra.config.stack_settings import NomadConstraint

    run = run_fleet(
        nomad_node_pool=None, nomad_constraint=NomadConstraint(attribute="${node.unique.name}", value="box1")
    )
    job = jobspec(run, "llama")["Job"]
    # Without a pool: the pool a job gets on Nomad CE, said for the job and its volumes alike.
    assert job["NodePool"] == "default"
    assert job["Constraints"] == [{"LTarget": "${node.unique.name}", "RTarget": "box1", "Operand": "="}]
    for kind in ("repos", "data"):
        volume = reveal(run.named(f"llama-{kind}").inputs)
        assert volume["nodePool"] == "default"
        assert volume["constraints"] == [
            {"attribute": "${node.unique.name}", "operator": "=", "value": "box1"},
            {"attribute": "${node.datacenter}", "operator": "regexp", "value": "^(dc1)$"},
            *IMPLIED,
        ]
    validator().validate(jobspec(run, "llama"))


def test_volumes_go_only_where_the_job_can_run():
    """Nomad places a volume without knowing the job (placeHostVolume): each volume names the
    job's pool, datacenters (Nomad's `*` glob kept) and what the job asks of a node."""
    run = run_fleet(nomad_datacenters=("dc1", "edge-*"))
    job = jobspec(run, "llama")["Job"]
    for kind in ("repos", "data"):
        volume = reveal(run.named(f"llama-{kind}").inputs)
        assert volume["nodePool"] == job["NodePool"] == "agents"
        assert volume["constraints"] == [
            {"attribute": "${node.datacenter}", "operator": "regexp", "value": "^(dc1|edge\\-.*)$"},
            *IMPLIED,
        ]
    pattern = re.compile(reveal(run.named("llama-repos").inputs)["constraints"][0]["value"])
    assert [dc for dc in ("dc1", "edge-2", "dc10", "xedge-1") if pattern.fullmatch(dc)] == ["dc1", "edge-2"]


def test_every_volume_constraint_is_one_nomad_takes():
    from disinto_infra.config.nomad_constraints import attribute_problem, value_problem

    run = run_fleet(nomad_datacenters=("dc1", "edge-*"))
    for agent in AGENTS:
        for c in reveal(run.named(f"{agent}-data").inputs)["constraints"]:
            assert attribute_problem(c["attribute"]) is None and value_problem(c["operator"], c["value"]) is None


def test_a_new_pool_or_namespace_replaces_the_volumes_as_the_preview_shows():
    """Nomad refuses to move a volume to another pool or namespace and the provider would send an
    update: the volumes say they are replaced instead (mocks ignore the option; it is recorded)."""
    for agent in AGENTS:
        for kind in ("repos", "data"):
            assert nomad_run().named(f"{agent}-{kind}").options.replace_on_changes == ("namespace", "nodePool")


def test_plan_shows_the_nomad_resources():
    report = plan_fleet(
        record_plan.settings("nomad"), record_plan.fleet(), "dev", record_plan.formulas(record_plan.fleet())
    )
    text = report.to_text()
    assert "nomad job disinto-agent-llama" in text and "container disinto" not in text
    types = {r["type"] for r in report.resources}
    assert set(T.values()) <= types
    assert report.agents[0].env["FORGE_TOKEN"] == "[secret]"
    # --json names the workload as the `agents` stack output does: a job, not a container.
    shown = {a["name"]: a for a in report.to_json()["agents"]}
    assert shown["llama"]["job"] == "disinto-agent-llama" and "container" not in shown["llama"]


# ---------------------------------------------------------------- held to Nomad's API types


@pytest.mark.parametrize("agent", AGENTS)
def test_jobspec_matches_the_nomad_api_types(agent):
    validator().validate(jobspec(nomad_run(), agent))


def _mutated(path, value=None, rename=None):
    spec = jobspec(nomad_run(), "llama")
    node = spec
    for key in path[:-1]:
        node = node[key]
    if rename:
        node[rename] = node.pop(path[-1])
    else:
        node[path[-1]] = value
    return spec


TASK = ["Job", "TaskGroups", 0, "Tasks", 0]


@pytest.mark.parametrize(
    "spec",
    [
        _mutated(["Job", "Datacenters"], rename="DataCenters"),  # misspelt: Go would drop it silently
        _mutated([*TASK, "Vault", "Role"], rename="role"),
        _mutated([*TASK, "Templates", 0, "Envvars"], rename="Env"),
        _mutated(["Job", "TaskGroups", 0, "Count"], "1"),  # wrongly typed
        _mutated(["Job", "TaskGroups", 0, "RestartPolicy", "Interval"], "5m"),
        _mutated([*TASK, "Env", "POLL_INTERVAL"], 60),
        _mutated([*TASK, "Config", "security_opts"], ["apparmor=unconfined"]),
        _mutated(["Job", "NodePool"], ["agents"]),
    ],
    ids=[
        "DataCenters",
        "role",
        "Env-for-Envvars",
        "Count-str",
        "Interval-str",
        "env-int",
        "security_opts",
        "NodePool-list",
    ],
)
def test_a_misspelt_or_mistyped_field_fails(spec):
    with pytest.raises(jsonschema.ValidationError):
        validator().validate(spec)


def test_schema_knows_the_newer_go_fields():
    # Not in the 2023 spec; from api/tasks.go / api/jobs.go.
    defs = json.loads(SCHEMA.read_text())["$defs"]
    assert defs["Vault"]["properties"]["Role"] == {"type": "string"}
    assert defs["Job"]["properties"]["NodePool"] == {"type": "string"}


def test_the_forgejo_identity_is_the_same_on_both_runtimes():
    def identity(run):
        return {
            r.urn: (r.inputs, r.options)
            for r in run.registrations
            if r.type.startswith("pulumi-python:dynamic/forgejo:") or r.name.endswith("-env")
        }

    docker, nomad = identity(docker_run()), identity(nomad_run())
    assert len(docker) == 10 and docker.keys() == nomad.keys()
    for urn in docker:
        assert docker[urn][0] == nomad[urn][0], urn


# ---------------------------------------------------------------- names the factory manages by hand


def test_an_agent_named_like_a_factory_bot_is_warned_about(tmp_path):
    """The factory writes bot-<name> policies by hand (vault/policies/bot-dev-qwen.hcl, Disinto/disinto
    2308c4c): an agent of that name takes them over, which a migration wants and an accident does not."""
    (tmp_path / "vault" / "policies").mkdir(parents=True)
    (tmp_path / "vault" / "policies" / "bot-llama.hcl").write_text('path "kv/data/disinto/bots/llama" {}\n')
    fleet = record_plan.fleet()
    warnings: list[str] = []
    for runtime in ("nomad", "docker"):
        settings = record_plan.settings(runtime).model_copy(update={"factory_root": str(tmp_path)})
        run_with_mocks(
            lambda settings=settings: build_fleet(
                settings, fleet, "dev", record_plan.formulas(fleet), warn=warnings.append
            )
        )
    policy = tmp_path / "vault" / "policies" / "bot-llama.hcl"
    # Once, for the nomad stack and the one agent; a docker stack has no Vault names to take.
    assert warnings == [
        f"agent llama: {policy} is the factory's own policy for that bot: this stack takes over the policy and "
        "role bot-llama and the secret kv/disinto/bots/llama (removing the agent deletes that secret with every "
        "version), and the factory's tools/vault-apply-policies.sh and vault-apply-roles.sh would put theirs back "
        "(see docs/nomad.md)"
    ]


# ---------------------------------------------------------------- removing and hiring again


def test_a_rehired_agent_asks_nomad_for_new_volumes_of_the_kept_names():
    """Removing dev-qwen2 keeps its volumes in Nomad (retain_on_delete) and drops them from the
    stack; hiring it again registers volumes of the same names and URNs with no node: Nomad must
    place them anew, and refuses the node that holds the kept ones (placeHostVolume), so `check`
    names those (tests/commands/check/test_host_volumes.py) with the commands that free them."""
    from disinto_infra.config.project_toml import Fleet

    (project,) = record_plan.fleet().projects
    kept = tuple(a for a in project.agents if a.name != "dev-qwen2")
    without = Fleet(projects=(project.model_copy(update={"agents": kept}),))
    settings = record_plan.settings("nomad")
    removed = run_with_mocks(
        lambda: build_fleet(settings, without, "dev", record_plan.formulas(without), warn=lambda _: None)
    )
    assert not [r for r in removed.registrations if r.name.startswith("dev-qwen2")]
    before, again = nomad_run(), run_fleet()
    for kind in ("repos", "data"):
        old, new = before.named(f"dev-qwen2-{kind}"), again.named(f"dev-qwen2-{kind}")
        assert old.options.retain_on_delete and (old.urn, old.inputs) == (new.urn, new.inputs)
    assert "nodeId" not in reveal(again.named("dev-qwen2-repos").inputs)


def provider_update(inputs: dict, volume_id: str) -> dict:
    """The request terraform-provider-nomad v2.6.1 sends to create *or update* a dynamic host volume
    (resourceDynamicHostVolumeWrite, nomad/resource_dynamic_host_volume.go: Create and Update alike
    call HostVolumes().Create with the volume's ID), from the inputs the program registered."""
    return {
        "Volume": {
            "ID": volume_id,
            "Name": inputs["name"],
            "Namespace": inputs["namespace"],
            "NodePool": inputs.get("nodePool", ""),
            "PluginID": inputs["pluginId"],
            "Constraints": [
                {"LTarget": c["attribute"], "RTarget": c.get("value", ""), "Operand": c.get("operator", "=")}
                for c in inputs.get("constraints", [])
            ],
        }
    }


def test_a_new_constraint_never_updates_a_volume_in_use():
    """Nomad refuses any update of a volume an allocation claims: the volumes ignore constraint changes,
    so the engine keeps the old constraints as inputs (ignore_changes) and the provider sends nothing."""
    before = run_fleet()
    after = run_fleet(
        nomad_node_pool=None, nomad_constraint=NomadConstraint(attribute="${node.unique.name}", value="box2")
    )
    for agent in ("llama", "dev-qwen2"):
        for child in ("repos", "data"):
            assert "constraints" in after.named(f"{agent}-{child}").options.ignore_changes
    old, new = (reveal(r.named("llama-data").inputs) for r in (before, after))
    assert old["constraints"] != new["constraints"]  # without ignore_changes the provider would update
    claimed = {**host_volume("agents-llama-data"), "Allocations": [{"ID": "6bd66bfa"}]}
    with NomadDouble(volumes=(claimed,)) as nomad:
        refused = requests.put(
            f"{nomad.url}/v1/volume/host/create", json=provider_update(new, claimed["ID"]), timeout=5
        )
        assert refused.status_code == 400
        assert "cannot update a volume in use: claimed by allocs (6bd66bfa)" in refused.text


def run_with_project(text: str):
    """The recorded plans' fleet from another project text (same settings and formulas)."""
    project = parse_project_text(Path(f"{record_plan.FACTORY_ROOT}/projects/disinto.toml"), text)
    fleet = Fleet(projects=(project,))
    settings = record_plan.settings("nomad")
    return run_with_mocks(lambda: build_fleet(settings, fleet, "dev", record_plan.formulas(fleet), warn=lambda _: None))


def test_a_rotation_registers_exactly_that_agents_job_again():
    """The token's name (new on each rotation) is in the job's Meta: only that job changes, so only
    its allocation is replaced and renders the new secret at once (issue 29 item 4)."""
    text = record_plan.PROJECT.read_text(encoding="utf-8")
    same, again = run_with_project(text), run_with_project(text)
    rotated = run_with_project(text.replace("rotate_token = 2", "rotate_token = 3"))
    assert [jobspec(same, a) for a in ("llama", "dev-qwen2")] == [jobspec(again, a) for a in ("llama", "dev-qwen2")]
    assert jobspec(rotated, "llama") == jobspec(same, "llama")
    changed = jobspec(rotated, "dev-qwen2")
    assert changed != jobspec(same, "dev-qwen2")
    before, after = (j["Job"]["Meta"]["disinto.token"] for j in (jobspec(same, "dev-qwen2"), changed))
    assert (before.split("-")[:3], after.split("-")[:3]) == (["disinto", "infra", "r2"], ["disinto", "infra", "r3"])
    # Nothing else of the job moved: the marker is the whole difference.
    assert {**changed["Job"], "Meta": None} == {**jobspec(same, "dev-qwen2")["Job"], "Meta": None}
