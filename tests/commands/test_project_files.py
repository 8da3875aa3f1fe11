"""The one rule for "which TOML, which stack": every command, run the same way, reads the same files."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from disinto_infra.commands import cli, project_files
from tests.support.factory import give_formulas
from tests.support.llama_double import no_model_servers

ROOT = Path(__file__).resolve().parents[2]
PROJECT = 'name = "disinto"\nrepo = "johba/disinto"\n'
HIRE = ("hire", "dev-a", "dev", "--local-model", "http://10.10.10.1:8081")


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    no_model_servers(monkeypatch)


def factory(folder: Path) -> Path:
    """A factory folder as disinto keeps it: projects/NAME.toml and the role formulas."""
    (folder / "projects").mkdir(parents=True)
    give_formulas(folder)
    path = folder / "projects" / "disinto.toml"
    path.write_text(PROJECT)
    return path


def args(**given: object) -> argparse.Namespace:
    return argparse.Namespace(**{"project_dir": None, "stack": None, "toml": None, **given})


def test_the_project_folder_is_the_nearest_disinto_pulumi_yaml_from_here_up(tmp_path):
    project = tmp_path / "infra"
    (project / "sub" / "deeper").mkdir(parents=True)
    (project / "Pulumi.yaml").write_text("name: disinto\nruntime: python\n")
    assert project_files.project_folder(None, project / "sub" / "deeper").path == project
    assert project_files.project_folder(None, tmp_path).path == tmp_path  # none above: the working folder
    assert project_files.project_folder(project / "sub", tmp_path).path == project / "sub"  # --project-dir


def test_another_pulumi_project_is_passed_over(tmp_path):
    """Run inside someone else's Pulumi project, the commands never take its folder for ours."""
    (tmp_path / "Pulumi.yaml").write_text("name: disinto\n")
    other = tmp_path / "website"
    other.mkdir()
    (other / "Pulumi.yaml").write_text("name: website\nruntime: nodejs\n")
    assert project_files.project_folder(None, other).path == tmp_path
    (tmp_path / "Pulumi.yaml").unlink()
    found = project_files.project_folder(None, other)
    assert found.path == other and "no Pulumi.yaml named disinto" in found.why


def test_the_package_location_plays_no_part(tmp_path):
    """This checkout holds disinto's Pulumi.yaml; run from elsewhere, its stack files are not read."""
    assert project_files.is_our_project(ROOT)
    assert project_files.project_folder(None, tmp_path).path == tmp_path
    assert project_files.project_folder(None, ROOT / "docs").path == ROOT


def test_hire_then_validate_from_the_factory_folder_read_the_same_file(tmp_path, monkeypatch, capsys):
    """The first complaint: hire wrote ./projects/*.toml, then validate read the checkout's."""
    toml = factory(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert cli.main([*HIRE]) == 0
    assert "dev-a" in toml.read_text()
    assert cli.main(["validate"]) == 0
    assert "ok: 1 agent(s) in 1 file(s)" in capsys.readouterr().out
    assert cli.main(["rotate", "dev-a"]) == 0
    assert "rotate_token = 1" in toml.read_text()


def test_every_command_follows_the_stack_projecttoml(tmp_path, monkeypatch, capsys):
    """A project folder whose stack names the TOMLs elsewhere: hire, rotate and validate all go there."""
    toml = factory(tmp_path / "factory")
    project = tmp_path / "infra"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: disinto\n")
    (project / "Pulumi.dev.yaml").write_text("config:\n  disinto:projectToml: ../factory/projects/*.toml\n")
    (project / "projects").mkdir()
    (project / "projects" / "decoy.toml").write_text(PROJECT)  # what the old hire default would have edited
    monkeypatch.chdir(project)
    assert cli.main([*HIRE]) == 0
    assert cli.main(["rotate", "dev-a", "--token"]) == 0
    assert cli.main(["validate"]) == 0
    assert "dev-a" in toml.read_text() and "rotate_token = 1" in toml.read_text()
    assert (project / "projects" / "decoy.toml").read_text() == PROJECT
    assert "ok: 1 agent(s)" in capsys.readouterr().out


def test_hire_takes_the_stack_admin_user(tmp_path, monkeypatch, capsys):
    factory(tmp_path)
    (tmp_path / "Pulumi.yaml").write_text("name: disinto\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  disinto:adminUser: boss\n")
    monkeypatch.chdir(tmp_path)
    assert cli.main([*HIRE, "--forge-user", "boss"]) == 1
    assert 'agents.dev-a.forge_user: must not be the admin user "boss"' in capsys.readouterr().err


@pytest.mark.parametrize("command", [("validate",), ("plan",), ("check",), HIRE, ("rotate", "dev-a")])
def test_not_found_names_the_paths_tried_and_what_changes_them(tmp_path, monkeypatch, capsys, command):
    monkeypatch.chdir(tmp_path)
    assert cli.main(list(command)) != 0
    err = capsys.readouterr().err
    assert f"disinto:projectToml: no file matches {tmp_path}/projects/*.toml" in err
    assert f"project folder: {tmp_path} (the working folder: no Pulumi.yaml named disinto in it or above it)" in err
    assert "--project-dir DIR, --stack NAME and --toml PATH" in err


@pytest.mark.parametrize("command", [("validate",), HIRE])
def test_a_named_stack_must_exist_and_the_message_says_where_it_looked(tmp_path, monkeypatch, capsys, command):
    factory(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert cli.main([*command, "--stack", "prod"]) == 1
    err = capsys.readouterr().err
    assert f"{tmp_path}/Pulumi.prod.yaml: no such stack file" in err
    assert f"project folder: {tmp_path} (" in err


def test_project_dir_flag_reads_another_folder(tmp_path, monkeypatch, capsys):
    toml = factory(tmp_path / "factory")
    monkeypatch.chdir(tmp_path)
    assert cli.main([*HIRE, "--project-dir", str(tmp_path / "factory")]) == 0
    assert cli.main(["validate", "--project-dir", str(tmp_path / "factory")]) == 0
    assert "dev-a" in toml.read_text()


def test_editing_commands_want_exactly_one_file(tmp_path, monkeypatch, capsys):
    factory(tmp_path)
    (tmp_path / "projects" / "second.toml").write_text(PROJECT)
    monkeypatch.chdir(tmp_path)
    assert cli.main([*HIRE]) == 1
    err = capsys.readouterr().err
    assert f"{tmp_path}/projects/*.toml matches several files" in err and "choose one with --toml PATH" in err
    assert cli.main([*HIRE, "--toml", "projects/second.toml"]) == 0
    assert "dev-a" in (tmp_path / "projects" / "second.toml").read_text()


def test_help_states_the_rule_on_every_command():
    for command in ("validate", "plan", "check", "hire", "rotate"):
        out = subprocess.run(
            [sys.executable, "-m", "disinto_infra", command, "--help"], capture_output=True, text=True, check=True
        ).stdout
        assert "--project-dir DIR" in out and "--stack NAME" in out and "--toml PATH" in out, command
        assert "whose Pulumi.yaml" in " ".join(out.split()), command
