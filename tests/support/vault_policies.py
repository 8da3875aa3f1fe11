"""Vault policies as tests read them: `grants(text)` parses one as Vault does (through a maintained
HCL parser), and `FACTORY_BOT` is the factory's own policy for a bot."""

from __future__ import annotations

import hcl2

# The factory's vault/policies/bot-dev-qwen.hcl (Disinto/disinto 2308c4c), as written there.
FACTORY_BOT = """# vault/policies/bot-dev-qwen.hcl
path "kv/data/disinto/bots/dev-qwen" {
  capabilities = ["read"]
}

path "kv/metadata/disinto/bots/dev-qwen" {
  capabilities = ["list", "read"]
}

path "kv/data/disinto/shared/forge" {
  capabilities = ["read"]
}
"""


def unquote(value: str) -> str:
    # python-hcl2 keeps a string's quotes (and its escapes) in what it returns.
    assert value.startswith('"') and value.endswith('"'), value
    return value[1:-1]


def grants(text: str) -> dict[str, list[str]]:
    """Path -> capabilities, as Vault reads the policy (through a maintained HCL parser)."""
    parsed = hcl2.loads(text)
    assert set(parsed) - {"__comments__"} == {"path"}, "nothing but path blocks"
    out: dict[str, list[str]] = {}
    for block in parsed["path"]:
        for path, body in block.items():
            assert unquote(path) not in out, "one block per path"
            assert set(body) - {"__is_block__"} == {"capabilities"}
            out[unquote(path)] = [unquote(c) for c in body["capabilities"]]
    return out
