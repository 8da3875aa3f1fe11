"""Project TOML text for tests: a project's header, an agent's table with valid required keys, and
small whole projects."""

from __future__ import annotations

HEADER = 'name = "disinto"\nrepo = "johba/disinto"\n'


def agent(name: str, /, **fields) -> str:
    """An `[agents.<name>]` table with valid required keys, overridable."""
    values = {"base_url": '"http://10.0.0.1:8081"', "model": '"qwen"', **fields}
    body = "".join(f"{k} = {v}\n" for k, v in values.items() if v is not None)
    return f"[agents.{name}]\n{body}"


# A second agent beside the example's `llama`, on a server of its own.
QWEN2 = agent("dev-qwen2", forge_user='"dev-qwen2"', base_url='"http://10.10.10.1:8082"')
# A valid project of one agent.
GOOD = 'name = "good"\nrepo = "johba/good"\n\n[agents.fine]\nbase_url = "http://10.0.0.1:8081"\nmodel = "qwen"\n'
