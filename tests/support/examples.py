"""The files under examples/ that tests read: the factory's project template and the token policies.

`legacy_example_text()` is the project template with its `[agents.llama]` block uncommented;
`nomad_example(namespace, pool)` the Nomad token policy for a stack's namespace and node pool.
"""

from __future__ import annotations

import re
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# The factory's own project template, vendored unchanged (see examples/README.md).
EXAMPLE = EXAMPLES / "disinto.toml.example"
VAULT_EXAMPLE = EXAMPLES / "vault" / "pulumi-token.hcl"
NOMAD_EXAMPLE = EXAMPLES / "nomad" / "pulumi-token.hcl"


def example_text() -> str:
    assert EXAMPLE.exists(), f"the shipped example is expected at {EXAMPLE}"
    return EXAMPLE.read_text()


def legacy_example_text() -> str:
    """The shipped example with its `[agents.llama]` block uncommented, nothing else changed."""

    def uncomment(match: re.Match) -> str:
        return "[agents.llama]\n" + re.sub(r"^#   ", "", match.group(1), flags=re.M)

    text, count = re.subn(r"^# \[agents\.llama\]\n((?:#   .*\n)+)", uncomment, example_text(), flags=re.M)
    assert count == 1
    return text


def nomad_example(namespace: str = "agents", pool: str = "gpu") -> str:
    """examples/nomad/pulumi-token.hcl for this stack's namespace and pool."""
    text = NOMAD_EXAMPLE.read_text()
    return text.replace('namespace "default"', f'namespace "{namespace}"').replace(
        'node_pool "agents"', f'node_pool "{pool}"'
    )
