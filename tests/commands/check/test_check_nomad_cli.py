"""`check` end to end on a `runtime: nomad` stack, in a subprocess, as an operator runs it.

The world of tests/support/check_world.py (the Forgejo double, fake llama-servers, a copy of this package)
plus the Nomad and Vault doubles. The ACL and Vault tokens are given through env or the stack
file and must appear nowhere in stdout or stderr, text or --json (lookup-self echoes the Vault
token back as `data.id`).
"""

from __future__ import annotations

import json
import re

import pytest

from tests.support.check_world import ADMIN, ADMIN_PASSWORD, agent, run, write_toml
from tests.support.examples import VAULT_EXAMPLE, nomad_example
from tests.support.nomad_double import NomadDouble, host_volume, node, registration
from tests.support.vault_double import DEFAULT_POLICY, VaultDouble, kv_mount

NOMAD_TOKEN = "nomad-acl-e2e-5a1c9d"
VAULT_TOKEN = "hvs.vault-e2e-77b0e4"


@pytest.fixture(scope="module")
def cluster():
    with NomadDouble(acl_token=NOMAD_TOKEN) as nomad, VaultDouble(token=VAULT_TOKEN) as vault:
        yield nomad, vault


@pytest.fixture
def doubles(cluster):
    nomad, vault = cluster
    nomad.configure(
        mode="ok",
        leader="10.0.0.1:4647",
        namespaces=("default", "agents"),
        forbidden=frozenset(),
        pools={"gpu": [node("box1", "gpu")]},
        volumes=(),
        services={("agents", "forgejo"): [registration("forgejo", "agents", "10.0.0.5", 3000)]},
        # The token's policy is the example docs/nomad.md gives, for namespace agents and pool gpu.
        token_type="client",
        token_policies=("disinto-infra",),
        token_roles=(),
        acl_roles={},
        acl_policies={"disinto-infra": nomad_example()},
    )
    vault.configure(
        mode="ok",
        state="active",
        expired=False,
        policies=("disinto-admin",),
        ttl=0,
        mounts={"kv/": kv_mount("2")},
        forbidden=frozenset(),
        # The token's policy is the example docs/nomad.md gives (examples/vault/pulumi-token.hcl).
        acl={"default": DEFAULT_POLICY, "disinto-admin": VAULT_EXAMPLE.read_text()},
    )
    nomad.forget()
    vault.forget()
    return nomad, vault


def nomad_stack(world, name: str, nomad: NomadDouble, toml, **config: str) -> None:
    values = {
        "disinto:forgeUrl": world.forge.url,
        "disinto:projectToml": str(toml),
        "disinto:runtime": "nomad",
        "disinto:nomadNamespace": "agents",
        "disinto:nomadNodePool": "gpu",
        "disinto:adminUser": ADMIN,
        "nomad:address": nomad.url,
        # what a docker stack binds exists (the world makes it), so check finds nothing missing
        "disinto:claudeSharedDir": str(world.dir / "claude-shared"),
        **config,
    }
    (world.dir / f"Pulumi.{name}.yaml").write_text(
        "config:\n" + "".join(f"  {k}: {json.dumps(v)}\n" for k, v in values.items())
    )


def rows(out: str, area: str) -> dict[str, str]:
    """The `what  found` table of one area of the text output."""
    section = out.split(f"\n{area} ", 1)[1].split("\n\n", 1)[0].splitlines()[2:]
    return dict(re.split(r"\s{2,}", line.strip(), maxsplit=1) for line in section)


def check(world, stack: str, *args: str, env: dict[str, str] | None = None, path_prefix: str = ""):
    done = run(
        world,
        "check",
        "--stack",
        stack,
        *args,
        env={"DISINTO_ADMIN_PASSWORD": ADMIN_PASSWORD, **(env or {})},
        path_prefix=path_prefix,
    )
    for token in (NOMAD_TOKEN, VAULT_TOKEN):
        assert token not in done.stdout + done.stderr
    return done


def test_all_well_on_a_nomad_stack(world, doubles, tmp_path):
    nomad, vault = doubles
    toml = write_toml(world, "nomad-well", {"dev-qwen": agent(world, "four", "dev-qwen")})
    # The ACL token decrypted by the Pulumi CLI (encrypted in the stack file); the Vault one from env.
    nomad_stack(world, "nomad-well", nomad, toml, **{"nomad:secretId": {"secure": "v1:c2VjcmV0"}})
    env = {"VAULT_ADDR": vault.url, "VAULT_TOKEN": VAULT_TOKEN}
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "pulumi").write_text(
        f'#!/bin/sh\n[ "$*" = "config get nomad:secretId --stack nomad-well" ] && echo {NOMAD_TOKEN} || exit 1\n'
    )
    (fake / "pulumi").chmod(0o755)
    done = check(world, "nomad-well", env=env, path_prefix=str(fake))
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert f"Nomad {nomad.url} (nomad:address in the stack file)" in out
    assert rows(out, "Nomad") == {
        "leader": "10.0.0.1:4647",
        "token": "pulumi config get nomad:secretId",
        "namespace agents": "exists",
        "node pool gpu": "1 of 1 node(s) ready and eligible: box1",
        "service forgejo": "registered: 10.0.0.5:3000",
        "host volumes": "0 of this fleet's names, 0 in the way (stack state unknown: only those outside its "
        "namespace or pool are known to be)",
        "token rights": "7 of 7 rights `pulumi up` uses",
        "max_kill_timeout": f"not known here ({nomad.url} is no Nomad client); a client's default is 30s",
    }
    assert f"Vault {vault.url} (env VAULT_ADDR)" in out
    assert rows(out, "Vault") == {
        "state": "active (Vault 1.18.3)",
        "token": "valid (env VAULT_TOKEN): policies disinto-admin, never expires",
        "kv mount kv/": "kv v2",
        "auth mount jwt-nomad/": "jwt",
        "bot policies": "0 bot policies read",
        "token rights": "7 of 7 rights `pulumi up` uses",
    }
    assert out.rstrip().endswith("0 problem(s)")
    assert {r.method for r in nomad.requests + vault.requests} == {"GET"}
    assert {r.headers.get("X-Nomad-Token") for r in nomad.requests if r.path != "/v1/status/leader"} == {NOMAD_TOKEN}
    assert {r.headers.get("X-Vault-Token") for r in vault.requests if r.path != "/v1/sys/health"} == {VAULT_TOKEN}

    as_json = json.loads(check(world, "nomad-well", "--json", env=env, path_prefix=str(fake)).stdout)
    assert as_json["all_problems"] == []
    assert as_json["nomad"]["ready_nodes"] == ["box1"]
    assert as_json["nomad"]["token_source"] == "pulumi config get nomad:secretId"
    assert (as_json["vault"]["kv_found"], as_json["vault"]["token_policies"]) == ("kv v2", ["disinto-admin"])


def test_a_bot_policy_reading_the_admin_token_is_a_warning_not_a_failure(world, doubles):
    """The factory's bot policies grant read on kv/data/disinto/shared/forge, where its
    tools/vault-import.sh keeps FORGE_ADMIN_TOKEN (Disinto/disinto 2308c4c)."""
    nomad, vault = doubles
    vault.configure(
        acl={
            "default": DEFAULT_POLICY,
            "disinto-admin": VAULT_EXAMPLE.read_text(),
            "bot-dev": 'path "kv/data/disinto/shared/forge" {\n  capabilities = ["read"]\n}\n',
        }
    )
    toml = write_toml(world, "nomad-warn", {"dev-qwen": agent(world, "four", "dev-qwen")})
    nomad_stack(world, "nomad-warn", nomad, toml, **{"vault:address": vault.url})
    env = {"VAULT_TOKEN": VAULT_TOKEN, "NOMAD_TOKEN": NOMAD_TOKEN}
    done = check(world, "nomad-warn", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (
        "  warning: Vault policy bot-dev lets every job logged in with it read kv/data/disinto/shared/forge, "
        "where the factory keeps FORGE_ADMIN_TOKEN (tools/vault-import.sh): remove its path "
        '"kv/data/disinto/shared/forge" block'
    ) in done.stdout
    as_json = json.loads(check(world, "nomad-warn", "--json", env=env).stdout)
    assert as_json["all_problems"] == [] and len(as_json["vault"]["warnings"]) == 1
    assert as_json["vault"]["bot_policies_found"] == "1 bot policy read, 1 reading kv/data/disinto/shared/forge"


def test_problems_on_a_nomad_stack_exit_1_each_named(world, doubles):
    nomad, vault = doubles
    nomad.configure(services={}, pools={"gpu": [node("box1", "gpu", status="down")]})
    vault.configure(mounts={"kv/": kv_mount(None)}, forbidden=frozenset({"/v1/sys/auth"}))
    toml = write_toml(world, "nomad-bad", {"dev-qwen": agent(world, "four", "dev-qwen")})
    nomad_stack(world, "nomad-bad", nomad, toml, **{"vault:address": vault.url})
    stack_file = world.dir / "Pulumi.nomad-bad.yaml"
    env = {"NOMAD_TOKEN": NOMAD_TOKEN, "VAULT_TOKEN": VAULT_TOKEN}
    for args in ((), ("--json",)):
        done = check(world, "nomad-bad", *args, env=env)
        assert done.returncode == 1, done.stdout + done.stderr
    problems = json.loads(done.stdout)["all_problems"]  # the --json run
    assert problems == [
        f'{stack_file}: disinto:nomadNodePool: node pool "gpu" has no node that is ready and eligible '
        "(box1 down/eligible): the agents' jobs and volumes cannot be placed",
        f'{nomad.url}: no Nomad service "forgejo" in namespace "agents": the agents\' jobs take FORGE_URL from it '
        "(run the factory's forgejo job there, or set disinto:nomadNamespace to its namespace)",
        f'{stack_file}: disinto:vaultKvMount: "kv/" in Vault at {vault.url} is KV version 1; the program writes '
        "KV v2 (kv/data/...): vault kv enable-versioning kv",
    ]
    text = check(world, "nomad-bad", env=env).stdout
    assert rows(text, "Vault")["auth mount jwt-nomad/"] == "not checked: the token may not read sys/auth"
    assert "3 problem(s):\n" + "".join(f"  {p}\n" for p in problems) in text + "\n"

    vault.configure(state="sealed")
    nomad.configure(leader=None)
    done = check(world, "nomad-bad", env=env)
    assert done.returncode == 1
    assert done.stdout.split("problem(s):\n")[1].splitlines() == [
        f"  {nomad.url}: Nomad has no leader (No cluster leader): it schedules nothing",
        f"  {vault.url}: Vault is sealed: unseal it (vault operator unseal)",
    ]


def test_a_docker_stack_asks_neither_nomad_nor_vault(world, doubles):
    nomad, vault = doubles
    toml = write_toml(world, "docker", {"dev-qwen": agent(world, "four", "dev-qwen")})
    nomad_stack(world, "docker", nomad, toml, **{"disinto:runtime": "docker", "vault:address": vault.url})
    env = {"NOMAD_ADDR": nomad.url, "NOMAD_TOKEN": NOMAD_TOKEN, "VAULT_ADDR": vault.url, "VAULT_TOKEN": VAULT_TOKEN}
    text, as_json = check(world, "docker", env=env), check(world, "docker", "--json", env=env)
    assert text.returncode == 0, text.stdout + text.stderr
    assert "Nomad" not in text.stdout and "Vault" not in text.stdout
    assert "nomad" not in json.loads(as_json.stdout) and "vault" not in json.loads(as_json.stdout)
    assert nomad.requests == [] and vault.requests == []


def test_a_plain_token_in_the_stack_file_is_refused_unshown(world, doubles):
    nomad, vault = doubles
    toml = write_toml(world, "nomad-plain", {"dev-qwen": agent(world, "four", "dev-qwen")})
    nomad_stack(world, "nomad-plain", nomad, toml, **{"vault:token": VAULT_TOKEN})
    done = check(world, "nomad-plain")  # asserts the token is in neither stdout nor stderr
    assert done.returncode == 2 and "vault:token: is plain text" in done.stderr
    assert nomad.requests == [] and vault.requests == []


def test_a_missing_ca_file_and_an_address_without_scheme_are_named_not_a_traceback(world, doubles):
    nomad, vault = doubles
    toml = write_toml(world, "nomad-tls", {"dev-qwen": agent(world, "four", "dev-qwen")})
    nomad_stack(
        world,
        "nomad-tls",
        nomad,
        toml,
        **{"nomad:address": nomad.url.replace("http:", "https:"), "nomad:caFile": "/nowhere/nomad-ca.pem"},
    )
    stack_file = world.dir / "Pulumi.nomad-tls.yaml"
    vault_addr = vault.url.split("//")[1]
    done = check(
        world, "nomad-tls", env={"NOMAD_TOKEN": NOMAD_TOKEN, "VAULT_ADDR": vault_addr, "VAULT_TOKEN": VAULT_TOKEN}
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stdout + done.stderr
    assert done.stdout.split("problem(s):\n")[1].splitlines() == [
        f"  {stack_file}: nomad:caFile: no such file /nowhere/nomad-ca.pem",
        f'  env VAULT_ADDR: "{vault_addr}" must start with http:// or https://',
    ]
    assert rows(done.stdout, "Nomad")["leader"] == "not asked: no CA file"
    assert nomad.requests == [] and vault.requests == []


def test_a_kept_volume_that_blocks_a_hire_is_named_with_the_commands_that_free_it(world, doubles, tmp_path):
    """dev-qwen was removed (its volumes kept) and is hired again: its old data volume is not in
    the stack's state, so `pulumi up` could not make the new one on that node."""
    nomad, vault = doubles
    nomad.configure(
        volumes=(
            host_volume("agents-dev-qwen-data", "agents", pool="gpu", volume_id="d47a"),
            host_volume("project-repos-dev-qwen", "agents", pool="gpu", volume_id="0e90"),
        )
    )
    toml = write_toml(world, "nomad-rehire", {"dev-qwen": agent(world, "four", "dev-qwen")})
    nomad_stack(world, "nomad-rehire", nomad, toml, **{"vault:address": vault.url})
    state = tmp_path / "state.json"
    state.write_text(
        json.dumps(
            {
                "deployment": {
                    "resources": [
                        {
                            "type": "nomad:index/dynamicHostVolume:DynamicHostVolume",
                            "id": "0e90",
                            "outputs": {"id": "0e90"},
                        }
                    ]
                }
            }
        )
    )
    done = check(
        world, "nomad-rehire", "--state", str(state), env={"NOMAD_TOKEN": NOMAD_TOKEN, "VAULT_TOKEN": VAULT_TOKEN}
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert rows(done.stdout, "Nomad")["host volumes"] == "2 of this fleet's names, 1 in the way: agents-dev-qwen-data"
    flags = "-type host -namespace agents d47a"
    assert done.stdout.split("problem(s):\n")[1].splitlines() == [
        f"  {nomad.url}: host volume agents-dev-qwen-data (d47a) on node box1-0000 is not this stack's: it holds the "
        "name on that node, so `pulumi up` cannot make agent dev-qwen's there (on one node it fails; on several the "
        "new volume is empty and elsewhere). Nomad refuses to delete a volume an allocation claims: first stop the "
        "job that may, `nomad job stop -purge -namespace agents disinto-agent-dev-qwen` (an outage: the agent is "
        f"down until `pulumi up` starts it again), copy out what you want (`nomad volume status {flags}` shows its "
        f"host path), then `nomad volume delete {flags}`, then `pulumi up --refresh`"
    ]
