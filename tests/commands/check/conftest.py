"""Fixtures the check tests share: a world of doubles and a project folder (tests/support/check_world.py),
and a docker CLI double."""

import os
import shutil
from contextlib import ExitStack

import pytest

from tests.support import docker_cli_double
from tests.support.check_world import ADMIN, ADMIN_PASSWORD, ROOT, SEEDED_KEY, World
from tests.support.factory import give_formulas
from tests.support.forgejo_double import ForgejoDouble
from tests.support.llama_double import LlamaDouble


@pytest.fixture(autouse=True)
def no_docker_engine(tmp_path_factory, monkeypatch):
    """`check` asks the docker CLI for each agent's container: here a double that knows none, so no
    test depends on this machine's engine (tests/engine/ uses the real one)."""
    bin_dir = docker_cli_double.install(tmp_path_factory.mktemp("docker-cli"), {})
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return bin_dir


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    folder = tmp_path_factory.mktemp("project")
    shutil.copytree(ROOT / "disinto_infra", folder / "disinto_infra", ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "projects").mkdir()
    give_formulas(folder)
    # Every folder the container binds (this machine is the Docker host: check looks at them).
    for inside in ("home/.ssh", "state", "claude-shared"):
        (folder / inside).mkdir(parents=True)
    (folder / "home" / ".claude.json").write_text("{}")
    with ExitStack() as stack:
        forge = stack.enter_context(ForgejoDouble(spec_check=True))
        llama = {
            "four": LlamaDouble(slots=4, api_key=SEEDED_KEY),
            "two": LlamaDouble(slots=2),
            "other": LlamaDouble(
                slots=4, alias="Llama-3.3-70B-Instruct", model_path="/models/Llama-3.3-70B-Instruct-Q4_K_M.gguf"
            ),
            "loading": LlamaDouble(mode="loading"),
            "no-props": LlamaDouble(mode="no-props", alias="qwen2.5-coder:32b"),
            "slots-only": LlamaDouble(mode="slots-only", slots=2, alias="Llama-3.3-70B-Instruct"),
            "hang": LlamaDouble(mode="hang"),
            "reset": LlamaDouble(mode="reset"),
        }
        for double in llama.values():
            stack.enter_context(double)
        forge.add_user(ADMIN, password=ADMIN_PASSWORD, is_admin=True)
        forge.add_user("johba")
        forge.add_repo("johba", "disinto")
        users = ("dev-qwen", "dev-qwen2", "review-bot")
        passwords = {u: f"{u}-pass-123" for u in users}
        for user in users:
            forge.add_user(user, password=passwords[user])
        tokens = {u: forge.add_token(u, name="disinto-infra-r0-00000000") for u in users}
        yield World(folder, forge, llama, tokens, passwords)
        assert forge.spec_violations == []
