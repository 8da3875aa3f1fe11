"""The world `check` and `hire` run in end to end (tests/commands/check): the Forgejo double on
127.0.0.1 and fake llama-servers on this machine's own address (addresses.py), over real HTTP, and a
project folder holding a copy of this package and its own stack files (the commands read
`Pulumi.<stack>.yaml` in the working folder).

The `world` fixture (tests/commands/check/conftest.py) makes one per test module; here are what it
holds and the helpers that write its files and run the CLI in it as an operator does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.support.budgets import ANSWER_BUDGET
from tests.support.forgejo_double import ForgejoDouble
from tests.support.llama_double import LlamaDouble

ROOT = Path(__file__).resolve().parents[2]
ADMIN, ADMIN_PASSWORD = "disinto-admin", "admin-pass-123"
SEEDED_KEY = "sk-seeded-llama-key-5d2e"  # must never appear in any output
MODEL = "unsloth/Qwen3.5-35B-A3B"


@dataclass
class World:
    dir: Path
    forge: ForgejoDouble
    llama: dict[str, LlamaDouble]
    tokens: dict[str, str]
    passwords: dict[str, str]

    def url(self, server: str) -> str:
        return self.llama[server].url


def write_stack(world: World, name: str, **config: str) -> None:
    defaults = {"forgeUrl": world.forge.url, "claudeSharedDir": str(world.dir / "claude-shared")}
    lines = [f"  disinto:{k}: {json.dumps(v)}" for k, v in {**defaults, **config}.items()]
    (world.dir / f"Pulumi.{name}.yaml").write_text("config:\n" + "\n".join(lines) + "\n")


def write_toml(world: World, name: str, agents: dict[str, dict], repo: str = "johba/disinto") -> Path:
    path = world.dir / "projects" / f"{name}.toml"
    tables = "".join(
        f"\n[agents.{agent}]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in fields.items())
        for agent, fields in agents.items()
    )
    path.write_text(f'name = "disinto"\nrepo = "{repo}"\n{tables}')
    return path


def agent(world: World, server: str, user: str, model: str = MODEL, **extra: object) -> dict:
    key = {"api_key": SEEDED_KEY} if server == "four" else {}
    return {"base_url": world.url(server), "model": model, "forge_user": user, **key, **extra}


def run(
    world: World, *args: str, env: dict[str, str] | None = None, path_prefix: str = ""
) -> subprocess.CompletedProcess:
    """The CLI as a process. A `check` without `--timeout` gets ANSWER_BUDGET: servers that answer do
    so within it however loaded the machine; a test of a timeout gives its own, against a server that
    never answers (issue 28 item 1)."""
    if args[:1] == ("check",) and "--timeout" not in args:
        args = (*args, "--timeout", str(ANSWER_BUDGET))
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DISINTO_", "PULUMI_", "DOCKER_"))}
    environ.update({"HOME": str(world.dir / "home"), **(env or {})})
    if path_prefix:
        environ["PATH"] = path_prefix + os.pathsep + environ["PATH"]
    done = subprocess.run(
        [sys.executable, "-m", "disinto_infra", *args],
        cwd=world.dir,
        env=environ,
        capture_output=True,
        text=True,
        timeout=600,  # a hang of ours, not a budget
    )
    assert SEEDED_KEY not in done.stdout + done.stderr
    return done
