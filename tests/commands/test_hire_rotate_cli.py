"""The hire and rotate commands, registered on a parser of our own as cli.py will register them."""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path

import pytest

from disinto_infra.commands import hire, rotate
from tests.support.factory import give_formulas
from tests.support.llama_double import no_model_servers

PROJECT = 'name = "disinto"\nrepo = "johba/disinto"\n'


def main(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    subparsers = parser.add_subparsers(dest="command", required=True)
    hire.register(subparsers)
    rotate.register(subparsers)
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    no_model_servers(monkeypatch)  # hire probes --local-model; test_check_cli probes real ones


@pytest.fixture
def factory(tmp_path, monkeypatch) -> Path:
    (tmp_path / "projects").mkdir()
    path = tmp_path / "projects" / "disinto.toml"
    path.write_text(PROJECT)
    give_formulas(tmp_path)
    monkeypatch.chdir(tmp_path)
    return path


def agent(path: Path, name: str) -> dict:
    return tomllib.loads(path.read_text())["agents"][name]


def test_hire_writes_the_section_and_prints_the_next_steps(factory, capsys):
    code = main(
        "hire",
        "dev-qwen2",
        "dev",
        "--local-model",
        "http://10.10.10.1:8081",
        "--model",
        "unsloth/Qwen3.5-35B-A3B",
        "--poll-interval",
        "30",
    )
    out = capsys.readouterr().out
    assert code == 0
    assert agent(factory, "dev-qwen2") == {
        "base_url": "http://10.10.10.1:8081",
        "model": "unsloth/Qwen3.5-35B-A3B",
        "api_key": "sk-no-key-required",
        "roles": ["dev"],
        "forge_user": "dev-qwen2",
        "compact_pct": 60,
        "poll_interval": 30,
    }
    assert "hired dev-qwen2" in out and "projects/disinto.toml" in out
    assert out.index("pulumi preview") < out.index("pulumi up")


def test_hire_again_says_nothing_changed(factory, capsys):
    main("hire", "a", "dev", "--local-model", "http://x:1")
    before = factory.read_bytes()
    assert main("hire", "a", "dev", "--local-model", "http://x:1") == 0
    assert "nothing to change" in capsys.readouterr().out
    assert factory.read_bytes() == before


def test_hire_errors_go_to_stderr_with_exit_1(factory, capsys):
    assert main("hire", "a", "dev") == 1
    err = capsys.readouterr().err
    assert "projects/disinto.toml: agents.a.base_url: a new agent needs --local-model" in err
    assert factory.read_text() == PROJECT


def test_hire_refuses_a_role_without_formula_and_leaves_the_file_alone(factory, tmp_path, capsys):
    main("hire", "a", "dev", "--local-model", "http://x:1")
    before = factory.read_bytes()
    assert main("hire", "a", "review") == 1
    assert main("hire", "b", "review", "--local-model", "http://x:1") == 1
    err = capsys.readouterr().err
    assert "projects/disinto.toml: agents.a.roles: no formula for role 'review'" in err
    assert "agents.b.roles" in err and "nothing was changed" in err
    assert str(tmp_path / "formulas" / "review.toml") in err and str(tmp_path / "formulas" / "run-review.toml") in err
    assert factory.read_bytes() == before
    (tmp_path / "formulas" / "run-review.toml").write_text('name = "review"\n')
    assert main("hire", "b", "review", "--local-model", "http://x:1") == 0
    assert agent(factory, "b")["roles"] == ["review"]


def test_hire_refuses_the_admin_user_given_on_the_command_line(factory, capsys):
    assert main("hire", "a", "dev", "--local-model", "http://x:1", "--forge-user", "boss", "--admin-user", "boss") == 1
    assert 'agents.a.forge_user: must not be the admin user "boss"' in capsys.readouterr().err


def test_toml_option_and_the_default_needing_exactly_one_file(factory, tmp_path, capsys):
    other = tmp_path / "elsewhere.toml"
    other.write_text(PROJECT)
    assert main("hire", "a", "dev", "--local-model", "http://x:1", "--toml", str(other)) == 1  # no factory above it
    assert "agents.a.roles: no formula" in capsys.readouterr().err
    args = ("--toml", str(other), "--factory-root", str(tmp_path))
    assert main("hire", "a", "dev", "--local-model", "http://x:1", *args) == 0
    assert "a" in tomllib.loads(other.read_text())["agents"]
    (tmp_path / "projects" / "second.toml").write_text(PROJECT)
    assert main("hire", "b", "dev", "--local-model", "http://x:1") == 1
    err = capsys.readouterr().err
    assert f"matches several files ({tmp_path}/projects/disinto.toml, {tmp_path}/projects/second.toml)" in err


def test_no_project_file_at_all(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main("rotate", "a") == 1
    assert f"no file matches {tmp_path}/projects/*.toml" in capsys.readouterr().err


@pytest.mark.parametrize(
    "flags, token, password",
    [((), 1, 1), (("--token",), 1, 0), (("--password",), 0, 1), (("--token", "--password"), 1, 1)],
)
def test_rotate_flags(factory, capsys, flags, token, password):
    main("hire", "a", "dev", "--local-model", "http://x:1")
    assert main("rotate", "a", *flags) == 0
    section = agent(factory, "a")
    assert (section.get("rotate_token", 0), section.get("rotate_password", 0)) == (token, password)
    out = capsys.readouterr().out
    assert "pulumi preview" in out and "pulumi up" in out
    assert ("a new token" in out) == bool(token) and ("a new password" in out) == bool(password)
    # On a nomad stack the task learns the new credentials only when its template next reads them.
    assert "its job disinto-agent-a is registered again and starts with the new secret" in out


def test_rotate_of_an_unknown_agent(factory, capsys):
    assert main("rotate", "ghost") == 1
    assert "projects/disinto.toml: agents.ghost: no such agent" in capsys.readouterr().err


def test_hire_never_prints_the_credentials_of_a_base_url(factory, capsys):
    main("hire", "a", "dev", "--local-model", "http://x:1")
    assert main("hire", "a", "dev", "--local-model", "http://llm:hunter2@x:1") == 0
    out = capsys.readouterr().out
    assert 'base_url = "http://llm:***@x:1"' in out and "hunter2" not in out
    assert agent(factory, "a")["base_url"] == "http://llm:hunter2@x:1"  # the file has the real one


def test_hire_a_review_agent_finds_review_pr_and_formula_sets_the_key(factory, tmp_path, capsys):
    (tmp_path / "formulas" / "review-pr.toml").write_text('name = "review-pr"\n')
    assert main("hire", "rev", "review", "--local-model", "http://x:1") == 0
    assert "formula" not in agent(factory, "rev")  # the role finds it: nothing to write
    (tmp_path / "formulas" / "strict.toml").write_text('name = "strict"\n')
    assert main("hire", "strict", "review", "--local-model", "http://x:1", "--formula", "formulas/strict.toml") == 0
    section = agent(factory, "strict")
    assert (section["roles"], section["formula"]) == (["review"], "formulas/strict.toml")
    assert list(section)[:5] == ["base_url", "model", "api_key", "roles", "forge_user"]
    # An absolute path inside the factory root is kept relative to it, like the TOML key.
    absolute = str(tmp_path / "formulas" / "review-pr.toml")
    assert main("hire", "strict", "review", "--formula", absolute) == 0
    assert agent(factory, "strict")["formula"] == "formulas/review-pr.toml"
    # Re-hiring without --formula checks (and keeps) the agent's own formula, not the role's.
    (tmp_path / "formulas" / "review-pr.toml").unlink()
    assert main("hire", "strict", "review", "--poll-interval", "30") == 1
    err = capsys.readouterr().err
    assert f"agents.strict.formula: formula file {tmp_path}/formulas/review-pr.toml does not exist" in err


def test_hire_formula_must_be_a_usable_file_inside_the_factory(factory, tmp_path, capsys):
    (tmp_path / "formulas" / "empty.toml").write_text("")
    before = factory.read_bytes()
    assert main("hire", "a", "dev", "--local-model", "http://x:1", "--formula", "formulas/empty.toml") == 1
    assert (
        f"projects/disinto.toml: agents.a.formula: {tmp_path}/formulas/empty.toml is empty" in capsys.readouterr().err
    )
    assert main("hire", "a", "dev", "--local-model", "http://x:1", "--formula", "/etc/hostname") == 1
    assert f"--formula /etc/hostname: not inside the factory root {tmp_path}" in capsys.readouterr().err
    assert main("hire", "a", "dev", "--local-model", "http://x:1", "--formula", "../x.toml") == 1
    assert 'agents.a.formula: must name a file inside the factory root, not "../x.toml"' in capsys.readouterr().err
    assert factory.read_bytes() == before


@pytest.mark.parametrize("command", [("hire", "a", "dev", "--local-model", "http://x:1"), ("rotate", "a")])
def test_toml_that_is_missing_or_a_folder_is_said_plainly(factory, tmp_path, capsys, command):
    assert main(*command, "--toml", str(tmp_path / "projects" / "nope.toml")) == 1
    err = capsys.readouterr().err
    assert err.splitlines()[0] == (
        f"{tmp_path}/projects/nope.toml: no such file; --toml names an existing project TOML (e.g. projects/NAME.toml)"
    )
    assert main(*command, "--toml", str(tmp_path / "projects")) == 1
    err = capsys.readouterr().err
    assert err.splitlines()[0].startswith(f"{tmp_path}/projects: is a folder, not a project TOML file")
    assert "Traceback" not in err


def test_hire_takes_an_api_key_writes_it_and_never_prints_it(factory, capsys, monkeypatch):
    """Issue 28 item 10: the model server's key, given on hire, probed with and written, not shown."""
    asked = []
    from disinto_infra.model_servers import probe as model_server

    monkeypatch.setattr(
        model_server,
        "probe",
        lambda url, key="", timeout=0: (
            asked.append(key) or model_server.ServerProbe(url, model_server.ServerState.UNREACHABLE, "not probed")
        ),
    )
    assert main("hire", "a", "dev", "--local-model", "http://x:1", "--api-key", "sk-secret-41") == 0
    out = capsys.readouterr().out
    assert agent(factory, "a")["api_key"] == "sk-secret-41" and "sk-secret-41" not in out
    assert asked == ["sk-secret-41"]
    assert main("hire", "a", "dev", "--api-key", "sk-secret-42") == 0  # an update names the key, masked
    out = capsys.readouterr().out
    assert 'api_key = "***"' in out and "sk-secret-42" not in out and agent(factory, "a")["api_key"] == "sk-secret-42"


def test_hire_warns_of_a_loopback_model_server_as_validate_does(factory, capsys):
    """127.0.0.1 answers here; inside the agent's container it is the container itself."""
    assert main("hire", "a", "dev", "--local-model", "http://127.0.0.1:8081", "--model", "m") == 0
    out = capsys.readouterr().out
    assert f"warning: {factory}: agents.a.base_url: http://127.0.0.1:8081 names the loopback" in out
