"""check.vault against the Vault double: state, token, KV v2 mount, JWT auth mount, bot policies."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from disinto_infra.commands.check import vault
from disinto_infra.commands.check.reach import Endpoint
from disinto_infra.runtimes.nomad.vault_policy import agent_secret, bot_rules, render
from tests.support.budgets import ANSWER_BUDGET
from tests.support.examples import VAULT_EXAMPLE
from tests.support.vault_double import DEFAULT_POLICY, VaultDouble, auth_method, kv_mount
from tests.support.vault_policies import FACTORY_BOT

TOKEN = "hvs.vault-token-0c1d"  # lookup-self echoes it as data.id: it must go nowhere


@pytest.fixture(scope="module")
def server():
    with VaultDouble(token=TOKEN) as double:
        yield double


@pytest.fixture
def api(server):
    server.configure(
        mode="ok",
        state="active",
        token=TOKEN,
        expired=False,
        policies=("disinto-admin",),
        ttl=90000,
        forbidden=frozenset(),
        mounts={"kv/": kv_mount("2")},
        auth={"token/": auth_method("token"), "jwt-nomad/": auth_method("jwt")},
        acl={"default": DEFAULT_POLICY},
    )
    server.forget()
    return server


def probe(api, token=TOKEN, timeout=ANSWER_BUDGET, **more):
    endpoint = Endpoint(api.url, "env VAULT_ADDR", "env VAULT_TOKEN" if token else "", "X-Vault-Token", token)
    with ThreadPoolExecutor(8) as pool:
        target = vault.VaultTarget(endpoint, "/p/Pulumi.dev.yaml", "kv", "jwt-nomad", "/opt/factory", **more)
        facts = vault.start(pool, target, timeout)()
    assert TOKEN not in repr(facts)
    return facts


def test_all_well(api):
    facts = probe(api)
    assert (facts.state, facts.version, facts.token_found, facts.token_policies, facts.token_ttl) == (
        "active",
        "1.18.3",
        "valid",
        ("disinto-admin",),
        90000,
    )
    assert (facts.kv_found, facts.auth_found, facts.problems) == ("kv v2", "jwt", ())
    assert {r.method for r in api.requests} == {"GET"}
    health = next(r for r in api.requests if r.path == "/v1/sys/health")
    assert health.query == {"standbyok": "true", "perfstandbyok": "true"} and "X-Vault-Token" not in health.headers
    assert {r.headers["X-Vault-Token"] for r in api.requests if r is not health} == {TOKEN}
    # No bot-* policy: only `default` and `root` are listed, neither is read.
    assert (facts.bot_policies_found, facts.warnings) == ("0 bot policies read", ())
    assert facts.rights_found == "not checked: no agents"
    assert len(api.requests) == 6


@pytest.mark.parametrize("state, found", [("standby", "standby"), ("perfstandby", "performance standby")])
def test_a_standby_is_fine(api, state, found):
    api.configure(state=state)
    facts = probe(api)
    assert facts.state == found and facts.problems == ()


@pytest.mark.parametrize(
    "state, problem",
    [
        ("sealed", "Vault is sealed: unseal it (vault operator unseal)"),
        ("uninitialized", "Vault is not initialised: vault operator init"),
        ("drsecondary", "Vault is DR secondary"),
    ],
)
def test_a_vault_that_serves_nothing_is_one_problem(api, state, problem):
    api.configure(state=state)
    facts = probe(api)
    assert facts.problems == (f"{api.url}: {problem}",)
    assert facts.kv_found == facts.auth_found == facts.token_found == f"not checked: Vault is {facts.state}"


def test_an_expired_token(api):
    api.configure(expired=True)
    facts = probe(api)
    assert facts.token_found == "refused (HTTP 403)" and facts.kv_found == "not checked: the token is refused"
    assert facts.problems == (
        f"{api.url}: the Vault token (env VAULT_TOKEN) is refused: expired, revoked or not a token",
    )


def test_no_token_asks_only_health(api):
    facts = probe(api, token=None)
    assert facts.token_found.startswith("not checked: no token") and facts.problems == ()
    assert [r.path for r in api.requests] == ["/v1/sys/health"]


def test_kv_v1_missing_or_other_type(api):
    api.configure(mounts={"kv/": kv_mount(None)})
    assert probe(api).problems == (
        f'/p/Pulumi.dev.yaml: disinto:vaultKvMount: "kv/" in Vault at {api.url} is KV version 1; '
        "the program writes KV v2 (kv/data/...): vault kv enable-versioning kv",
    )
    api.configure(mounts={})
    assert probe(api).problems == (
        f'/p/Pulumi.dev.yaml: disinto:vaultKvMount: nothing is mounted at "kv/" in Vault at {api.url}: '
        "vault secrets enable -path=kv -version=2 kv",
    )
    api.configure(mounts={"kv/": {"type": "transit"}})
    assert probe(api).kv_found == "transit, not kv"


def test_jwt_mount_missing_or_of_another_type(api):
    api.configure(auth={"token/": auth_method("token")})
    facts = probe(api)
    assert facts.auth_found == "not enabled" and facts.problems == (
        f'/p/Pulumi.dev.yaml: disinto:vaultAuthMount: no auth method at "jwt-nomad/" in Vault at {api.url}: '
        "the agents' jobs log in there with their workload identity",
    )
    api.configure(auth={"jwt-nomad/": auth_method("approle")})
    assert probe(api).auth_found == "approle, not jwt"


def test_paths_the_token_may_not_read_are_not_problems(api):
    api.configure(forbidden=frozenset({"/v1/sys/mounts/kv", "/v1/sys/auth"}))
    facts = probe(api)
    assert (facts.kv_found, facts.auth_found, facts.problems) == (
        "not checked: the token may not read sys/mounts/kv",
        "not checked: the token may not read sys/auth",
        (),
    )


@pytest.mark.parametrize(
    "mode, why", [("reset", "connection refused or reset"), ("hang", "no whole answer within 0.3s (timed out)")]
)
def test_no_answer(api, mode, why):
    api.configure(mode=mode)
    facts = probe(api, timeout=0.3)
    assert facts.problems == (f"{api.url} (env VAULT_ADDR): Vault does not answer: {why}",)
    assert facts.kv_found == "not checked: no answer"


def test_an_unusable_endpoint_is_not_asked(api):
    endpoint = Endpoint(
        api.url,
        "env VAULT_ADDR",
        "env VAULT_TOKEN",
        "X-Vault-Token",
        TOKEN,
        "/x/ca.pem",
        "env VAULT_CACERT: no such file /x/ca.pem",
        "no CA file",
    )
    with ThreadPoolExecutor(2) as pool:
        facts = vault.start(pool, vault.VaultTarget(endpoint, "/p/Pulumi.dev.yaml", "kv", "jwt-nomad"), 2.0)()
    assert (facts.state, facts.kv_found, facts.problems) == (
        "not asked: no CA file",
        "not checked: no CA file",
        ("env VAULT_CACERT: no such file /x/ca.pem",),
    )
    assert api.requests == []


# ---------------------------------------------------------------- bot policies and the admin token

FORGE = "kv/data/disinto/shared/forge"


def test_a_factory_bot_policy_that_reads_the_admin_token_is_a_warning_naming_the_block(api):
    """The factory's vault/policies/bot-dev-qwen.hcl (Disinto/disinto 2308c4c) grants read on the
    path where its tools/vault-import.sh keeps FORGE_ADMIN_TOKEN."""
    ours = render(
        bot_rules(agent_secret("kv", "disinto/bots", "llama")), "bot-llama: agent llama's own secret (disinto-infra)"
    )
    api.configure(
        acl={
            "default": DEFAULT_POLICY,
            "bot-dev-qwen": FACTORY_BOT,
            "bot-llama": ours,
            "bot-wide": 'path "kv/data/disinto/*" { capabilities = ["read", "list"] }\n',
            "service-forgejo": f'path "{FORGE}" {{ capabilities = ["read"] }}\n',
        }
    )
    facts = probe(api)
    assert facts.warnings == (
        f"Vault policy bot-dev-qwen lets every job logged in with it read {FORGE}, where the factory keeps "
        f'FORGE_ADMIN_TOKEN (tools/vault-import.sh): remove its path "{FORGE}" block, in '
        "/opt/factory/vault/policies/bot-dev-qwen.hcl too, or the factory's tools/vault-apply-policies.sh writes "
        "it back (vault policy write bot-dev-qwen <fixed file>)",
        f"Vault policy bot-wide lets every job logged in with it read {FORGE}, where the factory keeps "
        'FORGE_ADMIN_TOKEN (tools/vault-import.sh): narrow its path "kv/data/disinto/*" rule so that it no longer '
        f"covers {FORGE}, in /opt/factory/vault/policies/bot-wide.hcl too, or the factory's "
        "tools/vault-apply-policies.sh writes it back (vault policy write bot-wide <fixed file>)",
    )
    assert facts.bot_policies_found == f"3 bot policies read, 2 reading {FORGE}"
    # Warnings, not problems; only bot-* policies are read (service-forgejo is the factory's Forgejo's own).
    assert facts.problems == ()
    assert {r.path for r in api.requests if r.path.startswith("/v1/sys/policies/acl/")} == {
        "/v1/sys/policies/acl/bot-dev-qwen",
        "/v1/sys/policies/acl/bot-llama",
        "/v1/sys/policies/acl/bot-wide",
    }


def test_an_old_policy_of_this_stack_is_fixed_by_pulumi_up(api):
    old = (
        f'# bot-llama: agent llama\'s own secret (disinto-infra)\n\npath "{FORGE}" {{\n  capabilities = ["read"]\n}}\n'
    )
    api.configure(acl={"bot-llama": old})
    (warning,) = probe(api).warnings
    assert warning.endswith(f'remove its path "{FORGE}" block; `pulumi up` writes this stack\'s bot-llama without it')


def test_a_denied_or_unparseable_policy_is_no_warning(api):
    api.configure(
        acl={
            "bot-a": f'path "kv/*" {{ capabilities = ["read"] }}\npath "{FORGE}" {{ capabilities = ["deny"] }}\n',
            "bot-b": 'path "kv/data/x" { capabilities = ["read"\n',
        }
    )
    facts = probe(api)
    assert (facts.warnings, facts.bot_policies_found) == ((), "1 bot policy read, not bot-b")


def test_a_token_that_may_not_list_policies_is_not_a_problem(api):
    api.configure(acl={"bot-dev-qwen": FACTORY_BOT}, forbidden=frozenset({"/v1/sys/policies/acl"}))
    facts = probe(api)
    assert (facts.bot_policies_found, facts.warnings, facts.problems) == (
        "not checked: the token may not list sys/policies/acl",
        (),
        (),
    )
    api.configure(forbidden=frozenset({"/v1/sys/policies/acl/bot-dev-qwen"}))
    assert probe(api).bot_policies_found == "0 bot policies read, not bot-dev-qwen"


def test_the_mount_setting_is_followed(api):
    api.configure(
        acl={"bot-x": 'path "secret/data/disinto/shared/forge" { capabilities = ["read"] }\n'},
        mounts={"kv/": kv_mount("2")},
    )
    assert probe(api).warnings == ()


# ---------------------------------------------------------------- the token's rights

AGENTS = ("llama", "dev-qwen2")


def test_the_example_policy_gives_every_right(api):
    api.configure(
        policies=("default", "disinto-admin"),
        acl={"default": DEFAULT_POLICY, "disinto-admin": VAULT_EXAMPLE.read_text()},
    )
    facts = probe(api, agents=AGENTS)
    # Per agent its secret's data and metadata, policy and role; the review secret's two; the child token.
    assert (facts.rights_found, facts.problems) == ("11 of 11 rights `pulumi up` uses", ())
    assert any(r.path == "/v1/sys/internal/ui/resultant-acl" for r in api.requests)


def test_a_root_token_has_every_right(api):
    api.configure(policies=("root",))
    assert probe(api, agents=AGENTS).rights_found == "a root token: every right"


def test_each_missing_right_is_one_problem_naming_it(api):
    """KV v2 takes a write to an existing secret as `update` (a rotation): create alone is not enough."""
    narrow = VAULT_EXAMPLE.read_text().replace(
        '"create", "update", "read"]\n}\n\n# Removing', '"create", "read"]\n}\n\n# Removing'
    )
    narrow = narrow.replace('path "auth/token/create"', 'path "auth/token/create-orphan"')
    assert narrow.count("create-orphan") == 1 and '"create", "read"]' in narrow
    api.configure(policies=("ops",), acl={"ops": narrow})
    facts = probe(api, agents=("llama",))
    who = f"{api.url}: the Vault token (env VAULT_TOKEN)"
    tail = "`pulumi up` would be refused; see examples/vault/pulumi-token.hcl (a right granted only through a `+` path does not show here)"
    assert facts.problems == (
        f"{who} lacks update on kv/data/disinto/bots/llama (agent llama's secret): {tail}",
        f"{who} lacks update on kv/data/disinto/bots/_forge-review (the review token's secret): {tail}",
        f"{who} lacks update on auth/token/create (the Vault provider's child token (unless vault:skipChildToken)): {tail}",
    )
    assert facts.rights_found == "4 of 7 rights `pulumi up` uses"
    # Without the provider's child token that right is not needed.
    assert len(probe(api, agents=("llama",), child_token=False).problems) == 2


def test_the_settings_names_are_followed(api):
    text = VAULT_EXAMPLE.read_text()
    api.configure(policies=("ops",), acl={"ops": text})
    facts = probe(api, agents=("llama",), kv_prefix="team/agents")
    assert facts.rights_found == "3 of 7 rights `pulumi up` uses"
    assert {p.split(" lacks ", 1)[1].split(" (")[0] for p in facts.problems} == {
        "create, update, read on kv/data/team/agents/llama",
        "read, delete on kv/metadata/team/agents/llama",
        "create, update, read on kv/data/team/agents/_forge-review",
        "read, delete on kv/metadata/team/agents/_forge-review",
    }


def test_a_token_that_may_not_read_its_own_rights_is_not_a_problem(api):
    api.configure(forbidden=frozenset({"/v1/sys/internal/ui/resultant-acl"}))
    facts = probe(api, agents=AGENTS)
    assert (facts.rights_found, facts.problems) == (
        "not checked: the token may not read sys/internal/ui/resultant-acl",
        (),
    )
