"""The rights the stack's Vault token needs, and the minimal policy under examples/ that grants them."""

import pytest

from disinto_infra.commands.check.vault_acl import governing_rule, parse_policy
from disinto_infra.runtimes.nomad.vault_rights import pulumi_rights
from tests.support.examples import VAULT_EXAMPLE
from tests.support.nomad_runs import AGENTS, review_run


def test_a_rotation_needs_update_and_a_removal_delete_on_metadata():
    rights = {r.path: r.capabilities for r in pulumi_rights("kv", "disinto/bots", "jwt-nomad", "llama")}
    assert rights["kv/data/disinto/bots/llama"] == ("create", "update", "read")
    assert rights["kv/metadata/disinto/bots/llama"] == ("read", "delete")
    assert (
        rights["sys/policies/acl/bot-llama"]
        == rights["auth/jwt-nomad/role/bot-llama"]
        == ("create", "update", "read", "delete")
    )


def test_the_rights_name_every_vault_path_the_program_writes():
    """Each registered Vault resource's path is among the rights (a new resource must add its own)."""
    run = review_run()
    written = set()
    for r in run.registrations:
        inputs = {k: v for k, v in r.inputs.items() if isinstance(v, str)}
        if r.type == "vault:kv/secretV2:SecretV2":
            written |= {f"{inputs['mount']}/data/{inputs['name']}", f"{inputs['mount']}/metadata/{inputs['name']}"}
        elif r.type == "vault:index/policy:Policy":
            written.add(f"sys/policies/acl/{inputs['name']}")
        elif r.type == "vault:jwt/authBackendRole:AuthBackendRole":
            written.add(f"auth/{inputs['backend']}/role/{inputs['roleName']}")
        elif r.type.startswith("vault:"):
            pytest.fail(f"a Vault resource without its rights: {r.type}")
    needed = {r.path for agent in AGENTS for r in pulumi_rights("kv", "disinto/bots", "jwt-nomad", agent)}
    assert written <= needed and len(written) == 11 - 1  # all but auth/token/create


@pytest.mark.parametrize("agent", ["llama", "dev-qwen2", "a" * 40])
def test_the_vault_example_grants_each_right_and_no_more_than_the_stack_needs(agent):
    rules = parse_policy(VAULT_EXAMPLE.read_text())
    for right in pulumi_rights("kv", "disinto/bots", "jwt-nomad", agent):
        rule = governing_rule(rules, right.path)
        assert rule is not None and all(rule.grants(c) for c in right.capabilities), right
    # Not the factory's shared paths, not other mounts, no sudo.
    for path in (
        "kv/data/disinto/shared/forge",
        "kv/data/other/x",
        "secret/data/disinto/bots/llama",
        "sys/mounts/kv/tune",
    ):
        rule = governing_rule(rules, path)
        assert rule is None or not rule.grants("update"), path
    assert all("sudo" not in r.capabilities for r in rules)
