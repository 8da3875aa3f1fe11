"""The factory's docker-compose.yml and the `disinto up` that starts the rest of the factory.

The end-to-end tests run the command `plan` prints through a stand-in for `disinto up` and a fake
`docker` on PATH that records its arguments and works out, as compose does, which services a
`docker compose up SERVICE…` starts (the named ones and what they depend on).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from disinto_infra.commands import cli
from disinto_infra.factory import compose as fc
from tests.support.factory import give_formulas
from tests.support.project_toml import agent

# Service names as the factory's generator writes them (lib/generators.sh @ 2308c4c), bodies cut
# down to what matters here; two agents this program runs, one it does not ("other").
COMPOSE = """
services:
  forgejo:
    image: codeberg.org/forgejo/forgejo:11
  woodpecker:
    depends_on: [forgejo]
  woodpecker-agent:
    depends_on: [woodpecker]
  agents:
    container_name: disinto-agents
    depends_on: {forgejo: {condition: service_healthy}}
  runner:
    profiles: ["vault"]
  edge:
    depends_on: [forgejo]
  staging:
    image: caddy
  staging-deploy:
    profiles: ["staging"]
  chat:
    image: chat
  agents-dev-qwen:
    container_name: disinto-agents-dev-qwen
    depends_on: {forgejo: {condition: service_healthy}, woodpecker: {condition: service_started}}
  agents-dev-qwen2:
    container_name: disinto-agents-dev-qwen2
  agents-other:
    container_name: disinto-agents-other
volumes:
  agents-dev-qwen-data: {}
"""
REST = ("forgejo", "woodpecker", "woodpecker-agent", "agents", "edge", "staging", "chat", "agents-other")
OURS = ["dev-qwen", "dev-qwen2"]


def compose_file(folder: Path, text: str = COMPOSE) -> fc.ComposeFile:
    path = folder / fc.COMPOSE_FILE
    path.write_text(text)
    return fc.read_compose_file(path)


# ---------------------------------------------------------------- reading, conflicts


def test_conflicts_are_found_by_service_name_and_by_container_name(tmp_path):
    compose = compose_file(
        tmp_path, "services:\n  agents-dev-qwen: {}\n  legacy:\n    container_name: disinto-agents-llama\n"
    )
    assert fc.compose_conflicts(compose, ["llama", "dev-qwen2", "dev-qwen", "dev-qwen"]) == ["llama", "dev-qwen"]


def test_no_file_and_a_file_without_services(tmp_path):
    assert fc.read_compose_file(tmp_path / fc.COMPOSE_FILE) is None
    assert fc.compose_conflicts(None, ["dev-qwen"]) == []
    assert fc.compose_conflicts(compose_file(tmp_path, ""), ["dev-qwen"]) == []


def test_a_broken_file_is_an_error_naming_it(tmp_path):
    (tmp_path / fc.COMPOSE_FILE).write_text("services: [unclosed\n")
    with pytest.raises(fc.ComposeFileError, match=f"{tmp_path}/docker-compose.yml: cannot read it as YAML"):
        fc.read_compose_file(tmp_path / fc.COMPOSE_FILE)


# ---------------------------------------------------------------- the command


def test_names_every_service_a_plain_up_starts_less_our_agents(tmp_path):
    command = fc.up_command(compose_file(tmp_path), OURS)
    assert command.argv == ("disinto", "up", *REST)
    assert command.left_to_program == ("agents-dev-qwen", "agents-dev-qwen2")
    assert command.left_out_profiled == ("runner", "staging-deploy")
    assert (command.no_regen, command.notes) == (False, ())


def test_no_regen_when_regenerating_would_write_an_agent_service_back(tmp_path):
    edited = COMPOSE.replace("  agents-dev-qwen2:\n    container_name: disinto-agents-dev-qwen2\n", "")
    command = fc.up_command(compose_file(tmp_path, edited), OURS)
    assert command.argv == ("disinto", "up", "--no-regen", *REST)
    assert command.notes == (
        "--no-regen: the file has no agents-dev-qwen2; regenerating it (what `disinto up` "
        "does otherwise) would write them back",
    )


def test_a_thousand_agents_make_no_line_of_kilobytes(tmp_path):
    """Issue 19: the --no-regen note named every missing agent service on one 17 KB line."""
    many = [f"a{i}" for i in range(1000)]
    command = fc.up_command(compose_file(tmp_path, COMPOSE), many)
    assert max(len(line) for line in command.to_text()) < 400
    assert "agents-a0, agents-a1" in command.notes[0] and "and 992 more" in command.notes[0]
    assert fc.listed(["a", "b"]) == "a, b"


def test_a_dependency_on_one_of_our_agents_is_pointed_out(tmp_path):
    command = fc.up_command(
        compose_file(tmp_path, COMPOSE.replace("    image: chat\n", "    depends_on: [agents-dev-qwen]\n")), OURS
    )
    assert "chat" in command.services
    assert command.notes == (
        "the services named depend on agents-dev-qwen: compose would start those too; remove that depends_on",
    )


def test_nothing_to_start_is_no_command_never_a_bare_disinto_up(tmp_path):
    command = fc.up_command(
        compose_file(tmp_path, "services:\n  agents-dev-qwen: {}\n  runner:\n    profiles: [x]\n"), OURS
    )
    assert command.argv is None and command.shell() is None
    assert command.to_text()[0].startswith("nothing else to start: every service of docker-compose.yml at ")


# ---------------------------------------------------------------- end to end: plan, disinto up, docker

# What `disinto up` does with its arguments (Disinto/disinto @ 2308c4c, bin/disinto: the dispatch
# `up) shift; disinto_up "$@"` and `disinto_up`): drop `--no-regen` (else regenerate the file), then
# `docker compose -f "$FACTORY_ROOT/docker-compose.yml" up -d --build` with the rest, as given.
STAND_IN = """#!/usr/bin/env bash
set -eu
[ "$1" = up ] || exit 2
shift
args=()
regen=yes
for arg in "$@"; do
  if [ "$arg" = --no-regen ]; then regen=no; else args+=("$arg"); fi
done
echo "$regen" > "$RECORD.regen"
docker compose -f "$FACTORY_ROOT/docker-compose.yml" up -d --build "${args[@]}"
"""

# Records argv, and which services `compose -f FILE up [flags] SERVICE…` would start.
FAKE_DOCKER = """#!{python}
import json, os, sys
import yaml
args = sys.argv[1:]
assert args[:2] == ["compose", "-f"] and args[3] == "up", args
services = yaml.safe_load(open(args[2]))["services"]
named = [a for a in args[4:] if not a.startswith("-")]
unknown = [n for n in named if n not in services]
if unknown:
    sys.exit("no such service: " + " ".join(unknown))
started, todo = set(), list(named)
while todo:
    name = todo.pop()
    if name not in started:
        started.add(name)
        deps = (services[name] or {{}}).get("depends_on") or []
        todo.extend(deps)
json.dump({{"argv": args, "started": sorted(started)}}, open(os.environ["RECORD"], "w"))
"""


def run_printed(shell: str, factory: Path) -> tuple[dict, str]:
    bin_dir = factory / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, text in (("disinto", STAND_IN), ("docker", FAKE_DOCKER.format(python=sys.executable))):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    record = factory / "docker-calls.json"
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "FACTORY_ROOT": str(factory),
        "RECORD": str(record),
    }
    done = subprocess.run(["sh", "-c", shell], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(record.read_text()), (factory / "docker-calls.json.regen").read_text().strip()


@pytest.fixture
def factory(tmp_path, monkeypatch):
    """A factory checkout that is also the Pulumi project folder (no stack file: defaults)."""
    monkeypatch.chdir(tmp_path)
    give_formulas(tmp_path)
    (tmp_path / "projects").mkdir()
    (tmp_path / "projects" / "disinto.toml").write_text(
        'name = "disinto"\nrepo = "disinto-admin/disinto"\n' + agent("dev-qwen") + agent("dev-qwen2")
    )
    return tmp_path


@pytest.mark.parametrize("drop_agent_service", [False, True])
def test_the_printed_command_starts_exactly_the_rest_of_the_factory(factory, capsys, drop_agent_service):
    text = COMPOSE
    if drop_agent_service:
        text = text.replace("  agents-dev-qwen:\n", "  hand-renamed:\n").replace(
            "container_name: disinto-agents-dev-qwen\n", "image: x\n"
        )
    (factory / fc.COMPOSE_FILE).write_text(text)
    toml = str(factory / "projects" / "disinto.toml")
    assert cli.main(["plan", "--toml", toml, "--json"]) == 0
    up = json.loads(capsys.readouterr().out)["disinto_up"]
    assert cli.main(["plan", "--toml", toml]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert f"start the rest of the factory with: {up['shell']}" in lines

    calls, regen = run_printed(up["shell"], factory)
    rest = (
        [s for s in REST if s != "agents-other"] + (["hand-renamed"] if drop_agent_service else []) + ["agents-other"]
    )
    assert calls["argv"] == ["compose", "-f", str(factory / fc.COMPOSE_FILE), "up", "-d", "--build", *up["services"]]
    assert sorted(up["services"]) == sorted(rest)
    assert calls["started"] == sorted(rest)  # no agent of ours, no profiled service, nothing pulled in
    assert regen == ("no" if drop_agent_service else "yes")
    assert up["no_regen"] is drop_agent_service
    assert up["left_to_program"] == (
        ["agents-dev-qwen2"] if drop_agent_service else ["agents-dev-qwen", "agents-dev-qwen2"]
    )
    assert up["left_out_profiled"] == ["runner", "staging-deploy"]


def test_plan_without_a_compose_file_says_so(factory, capsys):
    toml = str(factory / "projects" / "disinto.toml")
    assert cli.main(["plan", "--toml", toml, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["disinto_up"] is None
    assert cli.main(["plan", "--toml", toml]) == 0
    assert (
        f"no readable docker-compose.yml at {factory}/docker-compose.yml: no `disinto up` command to show "
        "(set disinto:factoryRoot to the factory checkout)"
    ) in capsys.readouterr().out.splitlines()


def test_the_migration_docs_example_is_what_plan_prints(tmp_path):
    text = COMPOSE.split("  agents-dev-qwen2:")[0] + "volumes: {}\n"
    parsed = compose_file(tmp_path, text)
    compose = fc.ComposeFile(Path("/home/op/disinto/docker-compose.yml"), parsed.services)
    doc = (Path(__file__).resolve().parents[2] / "docs" / "migration.md").read_text()
    for line in fc.up_command(compose, ["dev-qwen"]).to_text():
        assert f"\n  {line}\n" in doc, line
