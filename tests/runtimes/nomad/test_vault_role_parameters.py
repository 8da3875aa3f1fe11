"""The example Vault policy lets the Pulumi token write the JWT roles the provider writes, and grant
them bot-* policies only (issue 29 item 6)."""

from __future__ import annotations

from fnmatch import fnmatchcase

import hcl2
import requests

from disinto_infra.program.plan import reveal
from tests.support.examples import VAULT_EXAMPLE
from tests.support.nomad_runs import T, review_run
from tests.support.vault_double import VaultDouble

# What hashicorp/terraform-provider-vault 3144751 can send for vault_jwt_auth_backend_role:
# jwtAuthBackendRoleDataToWrite (vault/resource_jwt_auth_backend_role.go) and updateTokenFields
# (vault/auth_token.go). ALWAYS are written whatever the inputs; the others when set.
ALWAYS = {
    "bound_audiences", "user_claim", "user_claim_json_pointer", "bound_claims",
    "clock_skew_leeway", "expiration_leeway", "not_before_leeway", "verbose_oidc_logging",
}  # fmt: skip
WHEN_SET = {
    "max_age": "maxAge", "allowed_redirect_uris": "allowedRedirectUris", "role_type": "roleType",
    "bound_subject": "boundSubject", "oidc_scopes": "oidcScopes", "bound_claims_type": "boundClaimsType",
    "claim_mappings": "claimMappings", "groups_claim": "groupsClaim",
    "token_bound_cidrs": "tokenBoundCidrs", "token_policies": "tokenPolicies",
    "token_explicit_max_ttl": "tokenExplicitMaxTtl", "token_max_ttl": "tokenMaxTtl",
    "token_no_default_policy": "tokenNoDefaultPolicy", "token_period": "tokenPeriod", "token_type": "tokenType",
    "token_ttl": "tokenTtl", "token_num_uses": "tokenNumUses", "alias_metadata": "aliasMetadata",
}  # fmt: skip


def role_rule() -> dict[str, list[str]]:
    """The example's allowed_parameters on the role path, quotes removed."""
    with open(VAULT_EXAMPLE, encoding="utf-8") as f:
        paths = hcl2.load(f)["path"]
    (rule,) = [body for block in paths for key, body in block.items() if "/role/" in key]
    return {k.strip('"'): [v.strip('"') for v in values] for k, values in rule["allowed_parameters"].items()}


def test_the_example_allows_exactly_what_the_provider_may_write():
    assert set(role_rule()) == ALWAYS | set(WHEN_SET)


def test_a_role_may_grant_bot_policies_only():
    assert role_rule()["token_policies"] == ["bot-*"]
    assert [k for k, values in role_rule().items() if values and k != "token_policies"] == []


def test_every_role_the_program_writes_passes_the_example():
    """Vault refuses a request with a parameter not listed, or a listed one whose value (each element
    of a list) matches none of its globs (vault/acl.go, allowed_parameters)."""
    rule = role_rule()
    roles = [reveal(r.inputs) for r in review_run().registrations if r.type == T["role"]]
    assert roles
    for inputs in roles:
        sent = ALWAYS | {key for key, name in WHEN_SET.items() if inputs.get(name) not in (None, "", [], {})}
        assert sent <= set(rule)
        assert all(any(fnmatchcase(p, g) for g in rule["token_policies"]) for p in inputs["tokenPolicies"])


def provider_write(inputs: dict) -> dict:
    """The body terraform-provider-vault 3144751 writes on create (jwtAuthBackendRoleDataToWrite with
    create=true): the ALWAYS keys, with their zero values when unset, and the WHEN_SET ones set."""
    zero = {
        "bound_audiences": [],
        "user_claim": "",
        "user_claim_json_pointer": False,
        "bound_claims": {},
        "clock_skew_leeway": 0,
        "expiration_leeway": 0,
        "not_before_leeway": 0,
        "verbose_oidc_logging": False,
    }
    names = {**{k: k for k in ALWAYS}, **WHEN_SET}
    camel = {"bound_audiences": "boundAudiences", "user_claim": "userClaim", "bound_claims": "boundClaims"}
    body = {key: inputs.get(camel.get(key, key), zero[key]) for key in ALWAYS}
    body.update(
        {
            key: inputs[name]
            for key, name in names.items()
            if key not in ALWAYS and inputs.get(name) not in (None, "", [], {})
        }
    )
    return body


def test_the_vault_double_takes_the_programs_roles_and_refuses_another_policy():
    example = VAULT_EXAMPLE.read_text(encoding="utf-8")
    (inputs, *_) = [reveal(r.inputs) for r in review_run().registrations if r.type == T["role"]]
    path = f"/v1/auth/{inputs['backend']}/role/{inputs['roleName']}"
    body = provider_write(inputs)
    with VaultDouble(token="hvs.pulumi", policies=("disinto-infra",), acl={"disinto-infra": example}) as vault:
        headers = {"X-Vault-Token": "hvs.pulumi"}
        assert requests.put(f"{vault.url}{path}", json=body, headers=headers, timeout=5).status_code == 204
        again = requests.put(f"{vault.url}{path}", json=body, headers=headers, timeout=5)  # an update
        assert again.status_code == 204
        for bad in (
            {**body, "token_policies": ["admin"]},
            {**body, "token_policies": ["bot-x", "root"]},
            {**body, "bogus": 1},
        ):
            refused = requests.put(f"{vault.url}{path}", json=bad, headers=headers, timeout=5)
            assert (refused.status_code, refused.json()) == (403, {"errors": ["permission denied"]})
