"""vault_acl: a policy's rules parsed, and the one Vault applies to a path (vault/acl.go order)."""

import pytest

from disinto_infra.commands.check.vault_acl import PolicyParseError, governing_rule, parse_policy
from tests.support.vault_policies import FACTORY_BOT

FORGE = "kv/data/disinto/shared/forge"


def rule_for(text: str, path: str = FORGE):
    return governing_rule(parse_policy(text), path)


def test_the_factory_bot_policy_reads_the_shared_forge_path():
    rule = rule_for(FACTORY_BOT)
    assert rule.written == FORGE and rule.grants("read")
    assert rule_for(FACTORY_BOT, "kv/data/disinto/shared/forgejo") is None


@pytest.mark.parametrize(
    "written",
    [
        "kv/data/disinto/*",
        "kv/data/disinto/shared/fo*",
        "kv/*",
        "kv/data/+/shared/forge",
        "kv/+/disinto/shared/*",
        "/kv/data/disinto/shared/forge",
    ],
)
def test_globs_wildcards_and_a_leading_slash_reach_it(written):
    rule = rule_for(f'path "{written}" {{ capabilities = ["read", "list"] }}\n')
    assert rule.written == written and rule.grants("read")


@pytest.mark.parametrize(
    "written",
    [
        "kv/data/disinto/shared",
        "kv/data/+/forge",
        "kv/data/disinto/shared/forge/x",
        "kv/metadata/*",
        "kv/data/disinto/shared/+/*",
    ],
)
def test_near_misses_do_not(written):
    assert rule_for(f'path "{written}" {{ capabilities = ["read"] }}\n') is None


def test_an_exact_deny_beats_a_glob_and_a_longer_prefix_beats_a_shorter():
    text = 'path "kv/*" { capabilities = ["read"] }\npath "kv/data/disinto/shared/forge" { capabilities = ["deny"] }\n'
    assert not rule_for(text).grants("read")
    text = 'path "kv/*" { capabilities = ["read"] }\npath "kv/data/disinto/*" { capabilities = ["list"] }\n'
    assert rule_for(text).written == "kv/data/disinto/*" and not rule_for(text).grants("read")


def test_a_later_wildcard_beats_an_earlier_one_and_a_non_prefix_beats_a_prefix():
    # vault/acl.go CheckAllowedFromNonExactPaths: first + or * later wins; then not-a-prefix wins.
    text = 'path "kv/+/disinto/shared/forge" { capabilities = ["read"] }\npath "kv/data/+/shared/forge" { capabilities = ["deny"] }\n'
    assert rule_for(text).written == "kv/data/+/shared/forge"
    text = 'path "kv/data/+/shared/*" { capabilities = ["deny"] }\npath "kv/data/+/shared/forge" { capabilities = ["read"] }\n'
    assert rule_for(text).grants("read")


def test_old_style_policy_words_and_json_policies():
    assert rule_for(f'path "{FORGE}" {{ policy = "read" }}\n').capabilities == ("read", "list")
    assert rule_for(f'path "{FORGE}" {{ policy = "write" }}\n').grants("read")
    assert not rule_for(f'path "{FORGE}" {{ policy = "deny" }}\n').grants("read")
    assert rule_for('{"path": {"kv/data/disinto/*": {"capabilities": ["read"]}}}').written == "kv/data/disinto/*"


def test_deny_in_a_list_overrides_the_rest():
    assert rule_for(f'path "{FORGE}" {{ capabilities = ["read", "deny"] }}\n').capabilities == ("deny",)


def test_a_broken_policy_says_so():
    with pytest.raises(PolicyParseError):
        parse_policy('path "x" { capabilities = ["read"\n')
