"""`-v/--verbose`: before or after the command, this package's DEBUG lines on stderr; without it none."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from disinto_infra.commands import cli, toml_edit
from tests.support.examples import EXAMPLE

ROOT = Path(__file__).resolve().parents[2]


def validate(tmp_path: Path, *flags: str, before: bool = False) -> subprocess.CompletedProcess[str]:
    toml = tmp_path / "demo.toml"
    toml.write_text(EXAMPLE.read_text())
    args = [*flags, "validate", "--toml", str(toml)] if before else ["validate", "--toml", str(toml), *flags]
    return subprocess.run(
        [sys.executable, "-m", "disinto_infra", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


@pytest.mark.parametrize(("flag", "before"), [("--verbose", False), ("-v", False), ("--verbose", True), ("-v", True)])
def test_verbose_puts_debug_lines_on_stderr(tmp_path, flag, before):
    done = validate(tmp_path, flag, before=before)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ok: 0 agent(s) in 1 file(s)\n"  # stdout is the command's own, as without it
    lines = done.stderr.splitlines()
    assert "DEBUG disinto_infra.commands.cli: command validate" in lines
    assert any(line.startswith("DEBUG disinto_infra.commands.cli: stack file ") for line in lines)
    assert all(line.startswith("DEBUG disinto_infra.") for line in lines), lines  # no library's lines


def test_without_verbose_no_debug_lines(tmp_path):
    done = validate(tmp_path)
    assert (done.returncode, done.stderr) == (0, "")


def test_verbose_before_or_after_the_command_and_in_its_help(capsys):
    parser = cli.build_parser()
    with pytest.raises(SystemExit) as stop:
        parser.parse_args(["validate", "--verbose", "--bogus"])
    assert stop.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].endswith("error: unrecognized arguments: --bogus")
    assert parser.parse_args(["validate"]).verbose is False
    assert parser.parse_args(["-v", "validate"]).verbose is True
    assert parser.parse_args(["check", "-v", "--timeout", "5"]).verbose is True
    for command in ("validate", "plan", "check", "hire", "rotate"):
        with pytest.raises(SystemExit):
            parser.parse_args([command, "--help"])
        assert "-v, --verbose" in capsys.readouterr().out, command


def test_an_edit_logs_the_lock_and_the_write(tmp_path, caplog):
    toml = tmp_path / "demo.toml"
    toml.write_text(EXAMPLE.read_text())
    caplog.set_level(logging.DEBUG, logger="disinto_infra")
    toml_edit.hire(toml, "dev-x", "dev", "http://10.0.0.9:8081")
    assert [r.getMessage() for r in caplog.records if r.name == toml_edit.__name__] == [
        f"{toml}: locked",
        f"{toml}: written ({len(toml.read_bytes())} bytes, renamed into place)",
    ]
