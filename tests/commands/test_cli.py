"""`python -m disinto_infra validate|plan`: exit codes, problem lines, the plan's text and JSON."""

import json
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

from disinto_infra.commands import cli, project_files
from disinto_infra.program.plan import fake_outputs
from tests.support.examples import EXAMPLE, legacy_example_text
from tests.support.factory import formula, give_formulas
from tests.support.project_toml import HEADER, agent

ROOT = Path(__file__).resolve().parents[2]
WORKING_FOLDER = "the working folder: no Pulumi.yaml named disinto in it or above it"
QWEN2 = agent("dev-qwen2", forge_user='"dev-qwen2"')


@pytest.fixture
def project_dir(tmp_path, monkeypatch):
    """An empty Pulumi project folder, so the repository's own stack files do not leak in.

    It is also the factory root of the TOMLs put in its `projects/`: it gets the role formulas, and
    every folder the container binds exists (this machine is the Docker host: `plan` looks).
    """
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    give_formulas(tmp_path)
    give_bind_sources(tmp_path, monkeypatch)
    return tmp_path


def give_bind_sources(folder: Path, monkeypatch) -> None:
    home = folder / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".claude.json").write_text("{}")
    (folder / "state").mkdir()
    (folder / "claude-shared").mkdir()
    monkeypatch.setenv("HOME", str(home))
    (folder / "Pulumi.dev.yaml").write_text(f"config:\n  disinto:claudeSharedDir: {folder}/claude-shared\n")


def toml(folder: Path, text: str, name: str = "disinto.toml") -> Path:
    path = folder / "projects" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def test_validate_accepts_the_shipped_example(project_dir, capsys):
    assert cli.main(["validate", "--toml", str(EXAMPLE)]) == 0
    assert capsys.readouterr().out == "ok: 0 agent(s) in 1 file(s)\n"


def test_validate_prints_every_problem_and_exits_1(project_dir, capsys):
    path = toml(project_dir, 'name = "d"\n' + agent("a", compact_pct=0))
    assert cli.main(["validate", "--toml", str(path)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{path}: repo: is required",
        f"{path}: agents.a.compact_pct: must be an integer from 1 to 100, not 0",
    ]


def test_validate_defaults_to_the_stack_pattern(project_dir, capsys):
    assert cli.main(["validate"]) == 1
    assert capsys.readouterr().err == (
        f"disinto:projectToml: no file matches {project_dir}/projects/*.toml\n"
        f"project folder: {project_dir} ({WORKING_FOLDER}); {project_files.CHOOSERS}\n"
    )
    toml(project_dir, legacy_example_text())
    assert cli.main(["validate"]) == 0
    assert capsys.readouterr().out == "ok: 1 agent(s) in 1 file(s)\n"


def test_plan_text_reads_at_a_glance(project_dir, capsys):
    path = toml(project_dir, legacy_example_text() + QWEN2)
    assert cli.main(["plan", "--toml", str(path)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "llama: user dev-qwen, token, collaborator on johba/disinto, profile dev-qwen/.profile, "
        "volumes project-repos-llama + agents-llama-data, container disinto-agents-llama",
        "dev-qwen2: user dev-qwen2, token, collaborator on johba/disinto, profile dev-qwen2/.profile, "
        "volumes project-repos-dev-qwen2 + agents-dev-qwen2-data, container disinto-agents-dev-qwen2",
        # the image, and per agent the component and its eleven children
        "stack dev: 2 agents, 25 resources (--json shows every input and option, and the container env)",
        # the factory's compose file, for `disinto up` (tests/factory/test_compose.py)
        f"no readable docker-compose.yml at {project_dir}/docker-compose.yml: no `disinto up` command to show "
        "(set disinto:factoryRoot to the factory checkout)",
        # a tag: offline, no registry tells its digest (image_pin.py)
        "every container runs ghcr.io/disinto/agents:latest (digest resolved from the registry at pulumi preview/up)",
        # which agents a change would drain, and for how long (issue 30)
        "a container that `pulumi up` replaces or removes (the preview shows its <name>-drain replaced or deleted) "
        "first drains its agent: no new session, and up to 7200 s (drainTimeoutSeconds) for those in flight; "
        "then it stops with a grace of 120 s",
    ]


def test_plan_of_the_shipped_example_creates_nothing(project_dir, capsys):
    assert cli.main(["plan", "--toml", str(EXAMPLE)]) == 0
    assert capsys.readouterr().out == "stack dev: no agents, nothing to create\n"


def test_plan_json_shows_agents_env_and_resources_without_secrets(project_dir, capsys):
    path = toml(project_dir, legacy_example_text())
    assert cli.main(["plan", "--toml", str(path), "--json"]) == 0
    out = capsys.readouterr().out
    plan = json.loads(out)
    (llama,) = plan["agents"]
    assert {k: llama[k] for k in ("name", "forge_user", "env_suffix", "container", "volumes")} == {
        "name": "llama",
        "forge_user": "dev-qwen",
        "env_suffix": "DEV_QWEN",
        "container": "disinto-agents-llama",
        "volumes": ["project-repos-llama", "agents-llama-data"],
    }
    assert llama["env"]["FORGE_TOKEN"] == llama["env"]["FORGE_PASS"] == "[secret]"
    assert llama["env"]["FORGE_BOT_USER_DEV_QWEN"] == "dev-qwen"
    assert {r["name"] for r in plan["resources"]} == {
        "agent-image",
        "llama",
        "llama-user",
        "llama-token",
        "llama-collaborator",
        "llama-profile",
        "llama-repos",
        "llama-data",
        "llama-retire",
        "llama-copy-data",
        "llama-container",
        "llama-started",
        "llama-drain",
    }
    assert plan["warnings"] == []
    profile = next(r for r in plan["resources"] if r["name"] == "llama-profile")
    assert (profile["inputs"]["formula"], profile["inputs"]["formula_source"]) == (
        formula().text,
        f"{project_dir}/formulas/dev.toml",
    )
    container = next(r for r in plan["resources"] if r["name"] == "llama-container")
    assert container["urn"].endswith("disinto:index:Agent$docker:index/container:Container::llama-container")
    assert container["inputs"]["envs"] == "[secret]"
    token = fake_outputs("pulumi-python:dynamic/forgejo:Token", "llama-token", {})["token"]
    password = fake_outputs("pulumi-python:dynamic/forgejo:User", "llama-user", {})["password"]
    assert token not in out and password not in out


def test_plan_refuses_bad_toml(project_dir, capsys):
    path = toml(project_dir, HEADER + agent("a", forge_user='"admin"'))
    assert cli.main(["plan", "--toml", str(path), "--json"]) == 1
    captured = capsys.readouterr()
    assert captured.err == f'{path}: agents.a.forge_user: "admin" is reserved by Forgejo 11, 12 and 15\n'
    assert captured.out == ""


def test_plan_uses_the_named_stack_file(project_dir, capsys):
    path = toml(project_dir, legacy_example_text())
    (project_dir / "Pulumi.prod.yaml").write_text(
        "config:\n  disinto:architectInterval: '300'\n  disinto:forgeReviewToken:\n    secure: AAAB\n"
    )
    assert cli.main(["plan", "--toml", str(path), "--json", "--stack", "prod"]) == 0
    plan = json.loads(capsys.readouterr().out)
    env = plan["agents"][0]["env"]
    assert (env["ARCHITECT_INTERVAL"], env["FORGE_REVIEW_TOKEN"]) == ("300", "[secret]")
    assert all(r["urn"].startswith("urn:pulumi:prod::disinto::") for r in plan["resources"])
    labels = next(r for r in plan["resources"] if r["name"] == "llama-container")["inputs"]["labels"]
    assert {"label": "disinto.stack", "value": "prod"} in labels


def test_more_commands_plug_in_through_the_registry(monkeypatch, capsys):
    module = types.ModuleType("fake_hire")

    def register(subparsers):
        parser = subparsers.add_parser("hire")
        parser.add_argument("name")
        parser.set_defaults(func=lambda args: print(f"hired {args.name}") or 3)

    module.register = register
    monkeypatch.setitem(sys.modules, "fake_hire", module)
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("fake_hire",))
    assert cli.main(["hire", "dev-qwen3"]) == 3
    assert capsys.readouterr().out == "hired dev-qwen3\n"


def test_module_entry_point_runs(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "disinto_infra", "validate", "--toml", str(EXAMPLE)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stdout) == (0, "ok: 0 agent(s) in 1 file(s)\n")


# ---------------------------------------------------------------- formulas and compose conflicts


def test_a_missing_formula_fails_validate_and_plan(project_dir, capsys):
    path = toml(project_dir, HEADER + agent("a", roles='["planner", "dev"]') + agent("b"))
    line = (
        f"{path}: agents.a.roles: no formula for role 'planner': neither {project_dir}/formulas/planner.toml "
        f"nor {project_dir}/formulas/run-planner.toml exists (check the agent's roles and disinto:factoryRoot)"
    )
    for argv in (["validate"], ["plan"], ["plan", "--json"]):
        assert cli.main([*argv, "--toml", str(path)]) == 1
        captured = capsys.readouterr()
        assert (captured.err, captured.out) == (line + "\n", "")


COMPOSE = """
services:
  agents-llama:
    image: ghcr.io/disinto/agents:latest
  agents-elsewhere:
    image: ghcr.io/disinto/agents:latest
"""


def test_plan_warns_about_compose_services_for_our_agents(project_dir, capsys):
    path = toml(project_dir, legacy_example_text() + QWEN2)
    (project_dir / "docker-compose.yml").write_text(COMPOSE)
    message = (
        f"docker-compose.yml at {project_dir}/docker-compose.yml still defines a service for agent llama; "
        "start the rest of the factory with the `disinto up SERVICE…` that `python -m disinto_infra plan` prints, "
        "never a bare `disinto up` (see docs/migration.md)"
    )
    assert cli.main(["plan", "--toml", str(path)]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[-1] == f"warning: {message}"
    assert [line for line in lines if line.startswith("warning:")] == [f"warning: {message}"]
    assert lines[2].startswith("stack dev: 2 agents, 25 resources")
    assert captured.err == ""  # said once, not also through the mocked Pulumi log
    assert cli.main(["plan", "--toml", str(path), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["warnings"] == [message]
    assert captured.err == ""


def test_plan_warns_about_a_compose_file_it_cannot_read(project_dir, capsys):
    path = toml(project_dir, legacy_example_text())
    (project_dir / "docker-compose.yml").write_text("services: [unclosed\n")
    assert cli.main(["plan", "--toml", str(path)]) == 0
    (warning,) = [line for line in capsys.readouterr().out.splitlines() if line.startswith("warning:")]
    assert warning.startswith(f"warning: {project_dir}/docker-compose.yml: cannot read it as YAML: ")


def test_a_named_stack_without_its_file_is_an_error(project_dir, capsys):
    path = toml(project_dir, legacy_example_text())
    for argv in (["validate"], ["plan"], ["plan", "--json"]):
        assert cli.main([*argv, "--toml", str(path), "--stack", "prod"]) == 1
        captured = capsys.readouterr()
        assert (captured.out, captured.err) == (
            "",
            (
                f"{project_dir}/Pulumi.prod.yaml: no such stack file; `pulumi stack init prod` makes the stack, "
                "and a copy of Pulumi.dev.yaml its settings\n"
                f"project folder: {project_dir} ({WORKING_FOLDER}); {project_files.CHOOSERS}\n"
            ),
        )
    # Without --stack, the default stack's file may be missing (its defaults are the settings).
    assert cli.main(["validate", "--toml", str(path)]) == 0


def test_validate_and_plan_report_model_and_formula_problems_at_once(project_dir, capsys):
    (project_dir / "formulas" / "blob.toml").write_bytes(b"\x00\x9f\x92\x96")
    path = toml(
        project_dir,
        HEADER
        + agent("a", base_url='"ftp://x"')
        + agent("b", roles='["review"]')
        + agent("c", formula='"formulas/blob.toml"'),
    )
    f = project_dir / "formulas"
    expected = [
        f'{path}: agents.a.base_url: must be an http(s) URL, not "ftp://x"',
        f"{path}: agents.b.roles: no formula for role 'review': none of {f}/review.toml, {f}/run-review.toml or "
        f"{f}/review-pr.toml exists (check the agent's roles and disinto:factoryRoot)",
        f"{path}: agents.c.formula: {f}/blob.toml is not UTF-8 text (invalid start byte at byte 1)",
    ]
    for argv in (["validate"], ["plan"], ["plan", "--json"]):
        assert cli.main([*argv, "--toml", str(path)]) == 1
        captured = capsys.readouterr()
        assert (captured.out, captured.err.splitlines()) == ("", expected)


def test_the_readmes_first_offline_command_plans_the_example_factory():
    """Exactly the first `disinto-infra` command the README shows (Try it offline), run as a user
    would from this folder: `disinto-infra` is `python -m disinto_infra` (test_the_console_script_is_the_cli)."""
    first = re.search(r"^disinto-infra [^\n`|]*", (ROOT / "README.md").read_text(), flags=re.M)
    assert first is not None and first[0].strip() == "disinto-infra plan --toml examples/factory/projects/demo.toml"
    command = "python -m disinto_infra plan --toml examples/factory/projects/demo.toml"
    result = subprocess.run(
        [sys.executable, *command.split()[1:]], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        "dev-qwen: user dev-qwen, token, collaborator on demo-owner/demo, profile dev-qwen/.profile"
    )
    assert lines[1].startswith("review-qwen: user review-qwen, token, collaborator on demo-owner/demo")
    assert lines[2].startswith("stack dev: 2 agents, 25 resources")
    # The example's docker-compose.yml is read: the rest of the factory starts without our agents.
    assert lines[3] == "start the rest of the factory with: disinto up forgejo woodpecker"


def test_plan_names_each_bind_source_missing_on_this_docker_host(project_dir, capsys):
    """This machine is the Docker host: Docker would create each missing one as an empty root-owned folder."""
    path = toml(project_dir, legacy_example_text())
    (project_dir / "home" / ".ssh").rmdir()
    (project_dir / "state").rmdir()
    assert cli.main(["plan", "--toml", str(path)]) == 0
    warnings = [line for line in capsys.readouterr().out.splitlines() if line.startswith("warning:")]
    assert warnings == [
        f"warning: disinto:sshDir: {project_dir}/home/.ssh does not exist; Docker would create it as an empty "
        "folder owned by root, mounted at /home/agent/.ssh",
        f"warning: disinto:factoryRoot: {project_dir}/state does not exist; Docker would create it as an empty "
        "folder owned by root, mounted at /home/agent/disinto/state",
    ]


def test_validate_and_plan_refuse_a_factory_without_project_tomls(project_dir, capsys):
    """entrypoint.sh exits at once when its projects folder (<factoryRoot>/projects) holds no *.toml."""
    path = toml(project_dir, legacy_example_text())
    empty = project_dir / "empty-factory"
    give_formulas(empty)
    (project_dir / "Pulumi.dev.yaml").write_text(
        f"config:\n  disinto:claudeSharedDir: {project_dir}/claude-shared\n  disinto:factoryRoot: {empty}\n"
    )
    for command in ("validate", "plan"):
        assert cli.main([command, "--toml", str(path)]) == 1
        assert capsys.readouterr().err == (
            f"{project_dir}/Pulumi.dev.yaml: disinto:factoryRoot: {empty}/projects holds no *.toml; it is the agents' "
            "projects folder, and their entrypoint.sh exits at once without one (validate_projects_dir, "
            "Disinto/disinto docker/agents/entrypoint.sh)\n"
        )


def test_the_console_script_is_the_cli():
    """pyproject's `disinto-infra` entry point names the function `python -m disinto_infra` runs."""
    import tomllib

    target = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]["disinto-infra"]
    module, _, function = target.partition(":")
    assert (module, function) == (cli.__name__, cli.main.__name__)


def test_the_installed_command_plans_the_example():
    """The README's offline try, through the console script `pip install -e .` made."""
    script = Path(sys.executable).parent / "disinto-infra"
    if not script.exists():
        pytest.skip("the project is not installed in this venv (the README's setup installs it)")
    done = subprocess.run(
        [str(script), "plan", "--toml", "examples/factory/projects/demo.toml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("dev-qwen: user dev-qwen, token, collaborator on demo-owner/demo")


def test_help_names_the_command_as_it_was_called():
    """Issue 28 item 10: the installed script's usage says `disinto-infra`, the module's `python -m`."""
    assert cli.called_as("/srv/infra/.venv/bin/disinto-infra") == "disinto-infra"
    assert cli.called_as("/srv/infra/disinto_infra/__main__.py") == "python -m disinto_infra"
    script = shutil.which("disinto-infra")
    if script is not None:  # installed by the README's setup
        done = subprocess.run([script, "validate", "--help"], capture_output=True, text=True, timeout=120)
        assert done.stdout.startswith("usage: disinto-infra validate")
    done = subprocess.run(
        [sys.executable, "-m", "disinto_infra", "--help"], capture_output=True, text=True, timeout=120
    )
    assert done.stdout.startswith("usage: python -m disinto_infra")


# Issue 27 items 1 and 6: what a TOML asks for that works but reaches too far is named.


def test_validate_and_plan_warn_about_broad_scopes_and_a_factory_bot(project_dir, capsys):
    path = toml(project_dir, HEADER + agent("a", forge_user='"review-bot"', token_scopes='["all"]'))
    assert cli.main(["validate", "--toml", str(path)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f'warning: {path}: agents.a.forge_user: "review-bot" is one of the bots')
    assert "disinto init" in err[0] and "deletes all its tokens" in err[0]
    assert err[1] == (
        f"warning: {path}: agents.a.token_scopes: all: every scope, write:user and write:admin among them. "
        "Its roles need only write:issue, write:repository, read:user: leave token_scopes out for that"
    )
    assert cli.main(["plan", "--toml", str(path)]) == 0
    assert sum("warning: " in line and "agents.a." in line for line in capsys.readouterr().out.splitlines()) == 2


def test_an_agent_defaulting_to_a_factory_bot_is_warned_about(project_dir, capsys):
    path = toml(project_dir, HEADER + agent("dev"))
    assert cli.main(["validate", "--toml", str(path)]) == 0
    said = capsys.readouterr().err
    assert said.startswith(f'warning: {path}: agents.dev.forge_user: "dev-bot" is one of the bots')
    assert "an agent without forge_user is <name>-bot" in said


def test_validate_explains_a_loopback_model_url(project_dir, capsys):
    """Issue 28 item 5: inside the agent's container, localhost is the container itself."""
    path = toml(project_dir, HEADER + agent("a", base_url='"http://localhost:8081"', forge_user='"a-qwen"'))
    assert cli.main(["validate", "--toml", str(path)]) == 0
    err = capsys.readouterr().err
    assert f"warning: {path}: agents.a.base_url: http://localhost:8081 names the loopback" in err
