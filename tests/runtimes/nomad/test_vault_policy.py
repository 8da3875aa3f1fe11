"""Each agent's Vault policy parses as HCL and grants exactly its own secret: never the factory's
shared forge path, where tools/vault-import.sh (Disinto/disinto 2308c4c) keeps the admin token."""

import pytest

from disinto_infra.runtimes.nomad.vault_policy import PolicyRule, agent_secret, bot_rules, render, review_secret
from tests.support.vault_policies import grants


def test_the_factory_bot_policy_shape_less_the_shared_forge_path():
    # The grants of vault/policies/bot-dev-qwen.hcl (Disinto/disinto 2308c4c), for agent llama,
    # without its `read` on kv/data/disinto/shared/forge (the Forgejo admin token's path).
    text = render(bot_rules(agent_secret("kv", "disinto/bots", "llama")), "bot-llama")
    assert grants(text) == {
        "kv/data/disinto/bots/llama": ["read"],
        "kv/metadata/disinto/bots/llama": ["list", "read"],
    }
    assert "shared" not in text


def test_mount_and_prefix_are_followed():
    text = render(bot_rules(agent_secret("secret", "team/agents", "dev-qwen2")), "bot-dev-qwen2")
    assert set(grants(text)) == {"secret/data/team/agents/dev-qwen2", "secret/metadata/team/agents/dev-qwen2"}


def test_a_review_agent_also_reads_the_review_secret_data_only():
    review = review_secret("kv", "disinto/bots")
    text = render(bot_rules(agent_secret("kv", "disinto/bots", "rev"), [review]), "bot-rev")
    assert grants(text) == {
        "kv/data/disinto/bots/rev": ["read"],
        "kv/metadata/disinto/bots/rev": ["list", "read"],
        "kv/data/disinto/bots/_forge-review": ["read"],
    }


@pytest.mark.parametrize("agent, other", [("dev", "dev-qwen"), ("llama", "llama2")])
def test_no_agent_reads_another(agent, other):
    text = render(bot_rules(agent_secret("kv", "disinto/bots", agent)), f"bot-{agent}")
    paths = set(grants(text))
    assert not any(p.endswith(f"/{other}") for p in paths)
    # Exact paths, no glob that would reach a sibling.
    assert not any("*" in p or "+" in p for p in paths)


def test_quotes_in_a_path_stay_inside_the_string():
    text = PolicyRule('kv/data/a"b', ("read",)).hcl()
    assert grants(text) == {'kv/data/a\\"b': ["read"]}
