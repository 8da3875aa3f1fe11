"""Bad input in the stack file that only the Docker host would refuse: the container's paths and
seconds and a malformed image digest (issue 16). Each rule fails `python -m disinto_infra validate` and the Pulumi program itself
with a line naming the stack file and the key, and the program registers nothing.

The TOMLs and formulas are fine: the only problem is the stack setting under test.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import pulumi
import pytest

from disinto_infra.commands import cli
from disinto_infra.program.plan import RecordingMocks, run_with_mocks
from tests.support.factory import give_formulas
from tests.support.project_toml import GOOD

pytestmark = pytest.mark.reliability

ROOT = Path(__file__).resolve().parents[2]
REMOTE = {"docker:host": "ssh://op@box"}
# Absolute paths on that other machine, so only the setting under test is wrong.
REMOTE_PATHS = {"disinto:sshDir": "/home/op/.ssh", "disinto:claudeConfigFile": "/home/op/.claude.json"}

# name -> (stack config besides projectToml, key, fragment of the message)
RULES: dict[str, tuple[dict[str, str], str, str]] = {
    "relative_ssh_dir": (
        {"disinto:sshDir": "keys"},
        "sshDir",
        'must be an absolute path: Docker refuses a relative bind path, not "keys"',
    ),
    "relative_claude_config": (
        {"disinto:claudeConfigFile": "claude.json"},
        "claudeConfigFile",
        "must be an absolute path",
    ),
    "relative_claude_shared": (
        {"disinto:claudeSharedDir": "shared"},
        "claudeSharedDir",
        "the path inside the container too",
    ),
    "tilde_on_another_host": (
        {**REMOTE, **REMOTE_PATHS, "disinto:sshDir": "~/.ssh", "disinto:factoryRoot": "/srv/f"},
        "sshDir",
        '"~/.ssh": `~` would be expanded on this machine, but the Docker host is ssh://op@box',
    ),
    "tilde_default_on_another_host": (
        {**REMOTE, "disinto:sshDir": "/home/op/.ssh", "disinto:factoryRoot": "/srv/f"},
        "claudeConfigFile",
        'the default "~/.claude.json": `~` would be expanded',
    ),
    "relative_factory_root_on_another_host": (
        {**REMOTE, **REMOTE_PATHS, "disinto:factoryRoot": "factory"},
        "factoryRoot",
        '"factory" is relative to this project folder',
    ),
    "factory_root_from_this_machine": (
        {**REMOTE, **REMOTE_PATHS, "disinto:projectToml": "../factory/projects/*.toml"},
        "factoryRoot",
        'unset, so it would come from projectToml "../factory/projects/*.toml"',
    ),
    "no_grace": ({"disinto:stopGraceSeconds": "0"}, "stopGraceSeconds", "from 1 to 1140, not 0"),
    "grace_past_the_deadline": ({"disinto:stopGraceSeconds": "1200"}, "stopGraceSeconds", "from 1 to 1140, not 1200"),
    "start_timeout_too_short": (
        {"disinto:startTimeoutSeconds": "20"},
        "startTimeoutSeconds",
        "from 30 to 1140, not 20",
    ),
    "start_timeout_words": ({"disinto:startTimeoutSeconds": "ten minutes"}, "startTimeoutSeconds", 'not "ten minutes"'),
    # The provider pulls a pinned digest as written; a malformed one plans fine and fails at `up`
    # (runtimes/image_pin.py).
    "image_digest_too_short": (
        {"disinto:agentImage": "ghcr.io/disinto/agents@sha256:abc"},
        "agentImage",
        "must end in @sha256: and 64 lowercase hex digits",
    ),
    "image_digest_upper_case": (
        {"disinto:agentImage": "ghcr.io/disinto/agents@sha256:" + "A" * 64},
        "agentImage",
        "must end in @sha256: and 64 lowercase hex digits",
    ),
    # entrypoint.sh exits at once without <factoryRoot>/projects/*.toml (this machine is the Docker host)
    "no_projects_in_the_factory": ({"disinto:factoryRoot": "{empty}"}, "factoryRoot", "/projects holds no *.toml"),
}


@pytest.fixture
def world(tmp_path, monkeypatch):
    """A Pulumi project folder, and a factory elsewhere with one good TOML, formulas and binds."""
    factory, project_dir, home = tmp_path / "factory", tmp_path / "pulumi", tmp_path / "home"
    (factory / "projects").mkdir(parents=True)
    (factory / "projects" / "good.toml").write_text(GOOD)
    give_formulas(factory)
    give_formulas(tmp_path / "empty")  # formulas, but no projects/
    project_dir.mkdir()
    home.mkdir()
    monkeypatch.chdir(project_dir)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    return tmp_path


def config_of(world: Path, name: str) -> dict[str, str]:
    values, _, _ = RULES[name]
    pattern = str(world / "factory" / "projects" / "*.toml")
    values = {k: v.replace("{empty}", str(world / "empty")) for k, v in values.items()}
    # The formulas are read from the factory root: where the rule is not about it, it is the factory.
    return {"disinto:projectToml": pattern, **values}


def write_stack(world: Path, config: dict[str, str]) -> Path:
    path = Path.cwd() / "Pulumi.dev.yaml"  # the project folder: the fixture works there
    path.write_text("config:\n" + "".join(f"  {k}: {v!r}\n" for k, v in config.items()))
    return path


@pytest.mark.parametrize("name", sorted(RULES))
def test_validate_exits_1_naming_the_stack_file_and_key(world, name, capsys):
    stack = write_stack(world, config_of(world, name))
    assert cli.main(["validate", "--stack", "dev"]) == 1
    out = capsys.readouterr()
    _, key, fragment = RULES[name]
    assert out.out == ""
    [line] = out.err.splitlines()
    assert line.startswith(f"{stack}: disinto:{key}: ") and fragment in line, line


@pytest.mark.parametrize("name", sorted(RULES))
def test_program_fails_and_registers_nothing(world, name):
    config = config_of(world, name)
    mocks = RecordingMocks()
    pulumi.runtime.set_all_config(config, [])
    try:
        with pytest.raises(pulumi.RunError) as caught:
            run_with_mocks(lambda: runpy.run_path(str(ROOT / "__main__.py")), mocks=mocks, preview=True)
    finally:
        pulumi.runtime.set_all_config({}, [])
    _, key, fragment = RULES[name]
    [line] = str(caught.value).splitlines()
    assert line.startswith(f"Pulumi.dev.yaml: disinto:{key}: ") and fragment in line, line
    assert mocks.created == []


def test_the_same_factory_validates_with_good_settings(world, capsys):
    """The world is sound: only each rule's setting makes it fail."""
    write_stack(world, {"disinto:projectToml": str(world / "factory" / "projects" / "*.toml")})
    assert cli.main(["validate", "--stack", "dev"]) == 0, capsys.readouterr().err
