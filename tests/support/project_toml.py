"""Project TOML text for tests: a project's header, an agent's table with valid required keys, and
small whole projects."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from disinto_infra import naming
from disinto_infra.config.project_toml import ConfigError, Fleet, read_fleet

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


def load_fleet(paths: Sequence[Path], admin_user: str = naming.DEFAULT_ADMIN_USER) -> Fleet:
    """Read and validate every file, then check agents across files; raises ConfigError (the
    program does the same with the formulas too: factory/formulas.load_fleet_and_formulas)."""
    reading = read_fleet(paths, admin_user)
    if reading.problems:
        raise ConfigError(reading.problems)
    return reading.fleet
