"""The `.env` writer: quoting both readers agree on, in-place edits, locking, crash recovery."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from disinto_infra import envfile

ROOT = Path(__file__).resolve().parent.parent

TRICKY = [
    "plain",
    "",
    "a=b=c",
    "has # hash",
    "#leading",
    "dollar $HOME ${HOME} $(id) $$",
    'double " quote',
    "single ' quote",
    "both ' and \" quotes",
    "back\\slash \\n \\$ \\\\",
    "ends with backslash\\",
    "ends with two\\\\",
    "'fully quoted'",
    "  spaces around  ",
    "semi; colon & amp | pipe",
    "unicodé ✓",
    "single ' and $dollar and \\ back",
]


def bash_value(path: Path, key: str) -> str:
    """What the factory's scripts see after `set -a; . .env`."""
    done = subprocess.run(
        ["bash", "-c", f'set -a; . "$1"; printf %s "${{{key}}}"', "bash", str(path)],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"]},
        check=True,
    )
    return done.stdout


def compose_value(rhs: str) -> str:
    """compose-go v2 `dotenv/parser.go` for a quoted right-hand side, transcribed: in quotes a
    backslash escapes the quote char (and is dropped), other backslashes stay; double-quoted
    values then get `expandEscapes` (`\\$` -> `$$`) and interpolation (`$$` -> `$`)."""
    quote, chars, escape = rhs[0], [], False
    assert quote in "'\""
    for i in range(1, len(rhs)):
        char = rhs[i]
        if char != quote:
            if not escape and char == "\\":
                escape = True
                continue
            if escape:
                escape = False
                chars.append("\\")
            chars.append(char)
            continue
        if escape:
            escape = False
            chars.append(char)
            continue
        assert rhs[i + 1 :] == "", f"compose would read trailing garbage: {rhs[i + 1 :]!r}"
        value = "".join(chars)
        if quote == '"':
            value = re.sub(
                r'\\([abcfnrtv$"\\])',
                lambda m: "$$" if m[1] == "$" else {"\\": "\\", '"': '"'}.get(m[1], "\0" + m[1]),
                value,
            )
            assert "\0" not in value, "a control escape would change the value"
            assert not re.search(r"\$(?!\$)", value.replace("$$", "")), "compose would interpolate"
            value = value.replace("$$", "$")
        return value
    raise AssertionError(f"unterminated for compose: {rhs!r}")


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "disinto_infra.envfile", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize("value", TRICKY)
def test_tricky_values_read_back_exactly_in_bash_and_compose(tmp_path, value):
    path = tmp_path / ".env"
    envfile.set_values(str(path), {"K": value})
    line = path.read_text()
    assert bash_value(path, "K") == value
    assert compose_value(line.rstrip("\n").split("=", 1)[1]) == value


def test_single_quotes_are_the_default_form(tmp_path):
    path = tmp_path / ".env"
    envfile.set_values(str(path), {"K": "a$b#c"})
    assert path.read_text() == "K='a$b#c'\n"


@pytest.mark.parametrize("value", ["two\nlines", "nul\0", "quote ' and `tick`"])
def test_unrepresentable_values_are_refused_without_showing_them(tmp_path, value):
    path = tmp_path / ".env"
    path.write_text("A='1'\n")
    with pytest.raises(envfile.EnvFileError) as err:
        envfile.set_values(str(path), {"SECRET_KEY": value})
    assert "SECRET_KEY" in str(err.value) and value not in str(err.value)
    assert path.read_text() == "A='1'\n"


def test_updates_in_place_keeping_comments_inode_and_mode(tmp_path):
    path = tmp_path / ".env"
    path.write_text(
        "# factory env\nFORGE_URL=http://x\nexport FORGE_TOKEN_A=old # note\n\nOTHER='keep'\nFORGE_TOKEN_A=dup\n"
    )
    path.chmod(0o640)
    inode = path.stat().st_ino
    result = envfile.set_values(str(path), {"FORGE_TOKEN_A": "new", "FORGE_PASS_A": "p w"})
    assert result.changed
    # Our line loses its `export `: `disinto up`'s check would read the key as "export FORGE_TOKEN_A".
    assert path.read_text() == (
        "# factory env\nFORGE_URL=http://x\nFORGE_TOKEN_A='new'\n\nOTHER='keep'\nFORGE_PASS_A='p w'\n"
    )
    assert path.stat().st_ino == inode
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert bash_value(path, "FORGE_TOKEN_A") == "new"


def test_unchanged_values_do_not_rewrite(tmp_path):
    path = tmp_path / ".env"
    envfile.set_values(str(path), {"A": "1"})
    before = path.stat().st_mtime_ns
    assert envfile.set_values(str(path), {"A": "1"}).changed is False
    assert path.stat().st_mtime_ns == before


def test_new_file_is_0600_even_with_a_lax_umask(tmp_path):
    old = os.umask(0)
    try:
        envfile.set_values(str(tmp_path / ".env"), {"A": "1"})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / ".env").stat().st_mode) == 0o600


def test_remove_drops_every_line_of_the_keys_and_nothing_else(tmp_path):
    path = tmp_path / ".env"
    path.write_text("A=1\nexport B=2\n# B=comment stays\nC=3\nB=4\n")
    inode = path.stat().st_ino
    assert envfile.remove_keys(str(path), ["B", "MISSING"]).changed
    assert path.read_text() == "A=1\n# B=comment stays\nC=3\n"
    assert path.stat().st_ino == inode


def test_remove_on_a_missing_file_creates_nothing(tmp_path):
    assert envfile.remove_keys(str(tmp_path / ".env"), ["A"]).changed is False
    assert not (tmp_path / ".env").exists()


def test_a_write_that_died_midway_is_restored_by_the_next_writer(tmp_path, monkeypatch):
    path = tmp_path / ".env"
    path.write_text("KEEP='yes'\nA='old'\n")
    real_rewrite = envfile._rewrite

    def die_halfway(fd, data):
        if data.startswith(b"KEEP='yes'\nA='new'"):
            real_rewrite(fd, data[:5])  # a torn write: F now holds b"KEEP="
            raise KeyboardInterrupt("power cut")
        real_rewrite(fd, data)

    monkeypatch.setattr(envfile, "_rewrite", die_halfway)
    with pytest.raises(KeyboardInterrupt):
        envfile.set_values(str(path), {"A": "new"})
    assert path.read_text() == "KEEP="
    assert (tmp_path / ".env.disinto-bak").read_text() == "KEEP='yes'\nA='old'\n"
    monkeypatch.setattr(envfile, "_rewrite", real_rewrite)
    envfile.set_values(str(path), {"B": "b"})
    assert path.read_text() == "KEEP='yes'\nA='old'\nB='b'\n"
    assert not (tmp_path / ".env.disinto-bak").exists()


def test_cli_reads_values_from_the_environment_and_never_prints_them(tmp_path):
    path = tmp_path / ".env"
    done = run_cli(
        "set",
        "--file",
        str(path),
        "FORGE_TOKEN_X",
        "FORGE_PASS_X",
        env={"FORGE_TOKEN_X": "tok-s3cret", "FORGE_PASS_X": "pa'ss$"},
    )
    assert done.returncode == 0, done.stderr
    assert "s3cret" not in done.stdout + done.stderr and "FORGE_TOKEN_X" in done.stdout
    assert bash_value(path, "FORGE_PASS_X") == "pa'ss$"
    done = run_cli("remove", "--file", str(path), "FORGE_TOKEN_X")
    assert done.returncode == 0 and "FORGE_TOKEN_X" not in path.read_text()
    assert "FORGE_PASS_X" in path.read_text()


def test_cli_refuses_keys_missing_from_the_environment(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NOT_THERE"}
    done = subprocess.run(
        [sys.executable, "-m", "disinto_infra.envfile", "set", "--file", str(tmp_path / ".env"), "NOT_THERE"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and "NOT_THERE" in done.stderr
    assert not (tmp_path / ".env").exists()


def test_cli_refuses_bad_key_names(tmp_path):
    done = run_cli("set", "--file", str(tmp_path / ".env"), "BAD-KEY", env={"BAD-KEY": "x"})
    assert done.returncode == 1 and "BAD-KEY" in done.stderr


@pytest.mark.reliability
def test_twenty_concurrent_writers_lose_no_line(tmp_path):
    path = tmp_path / ".env"
    path.write_text("# shared factory env\nFORGE_URL=http://forgejo:3000\n")
    path.chmod(0o644)
    inode = path.stat().st_ino
    expected = {}
    procs = []
    for i in range(20):
        token, password = f"tok{i}$=#'\"", f"pw {i} \\ $HOME"
        keys = {f"FORGE_TOKEN_A{i}": token, f"FORGE_PASS_A{i}": password}
        expected.update(keys)
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "disinto_infra.envfile", "set", "--file", str(path), *keys],
                cwd=ROOT,
                env={**os.environ, **keys},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        )
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    lines = path.read_text().splitlines()
    assert lines[:2] == ["# shared factory env", "FORGE_URL=http://forgejo:3000"]
    assert len(lines) == 42
    script = 'set -a; . "$1"; ' + "; ".join(f'printf "%s\\0" "${k}"' for k in expected)
    out = subprocess.run(["bash", "-c", script, "bash", str(path)], capture_output=True, text=True, check=True)
    assert dict(zip(expected, out.stdout.split("\0")[:-1], strict=True)) == expected
    assert path.stat().st_ino == inode and stat.S_IMODE(path.stat().st_mode) == 0o644
    assert not list(tmp_path.glob("*.disinto-bak*"))


# ---------------------------------------------------------------- --if-absent, for `disinto up`

OPERATOR_ENV = (
    b"# Factory secrets, hand-written \xe2\x9c\x93\n"
    b"FORGE_URL=http://forgejo:3000\n"
    b"\n"
    b'export WOODPECKER_SECRET="s3 cr#t"   # inline comment\n'
    b"ANTHROPIC_BASE_URL='http://10.0.0.5:9000'\n"
    b"QUOTED='a \"b\" $c'\n"
    b"FORGE_TOKEN_DEV_QWEN=old-token\n"
    b"\tTABBED = 1\r\n"
    b"LAST=no-newline"
)


def test_if_absent_never_overwrites_and_keeps_every_other_byte(tmp_path):
    path = tmp_path / ".env"
    path.write_bytes(OPERATOR_ENV)
    result = envfile.set_values(
        str(path),
        {"FORGE_TOKEN_DEV_QWEN": "t", "FORGE_PASS_DEV_QWEN": "p"},
        if_absent={"ANTHROPIC_BASE_URL": "http://10.10.10.1:8081"},
    )
    assert result.changed and result.notes == ()
    expected = (
        OPERATOR_ENV.replace(b"FORGE_TOKEN_DEV_QWEN=old-token\n", b"FORGE_TOKEN_DEV_QWEN='t'\n")
        + b"\nFORGE_PASS_DEV_QWEN='p'\n"
    )  # the unterminated last line gets its newline
    assert path.read_bytes() == expected
    assert bash_value(path, "ANTHROPIC_BASE_URL") == "http://10.0.0.5:9000"


def test_if_absent_adds_the_line_once_and_a_second_value_does_not_replace_it(tmp_path):
    path = tmp_path / ".env"
    path.write_text("# mine\nA=1\n")
    envfile.set_values(str(path), {"T": "1"}, if_absent={"ANTHROPIC_BASE_URL": "http://one:8081"})
    envfile.set_values(str(path), {"U": "2"}, if_absent={"ANTHROPIC_BASE_URL": "http://two:8081"})
    assert path.read_text() == "# mine\nA=1\nT='1'\nANTHROPIC_BASE_URL='http://one:8081'\nU='2'\n"


@pytest.mark.parametrize(
    "line",
    [
        "export ANTHROPIC_BASE_URL=http://x:1",
        "  ANTHROPIC_BASE_URL=http://x:1",
        "ANTHROPIC_BASE_URL=",
        "ANTHROPIC_BASE_URL==",
    ],
)
def test_an_operator_line_the_check_cannot_see_is_kept_and_named(tmp_path, line):
    path = tmp_path / ".env"
    path.write_text(f"{line}\n")
    done = run_cli(
        "set",
        "--file",
        str(path),
        "--if-absent",
        "ANTHROPIC_BASE_URL",
        "T",
        env={"T": "1", "ANTHROPIC_BASE_URL": "http://mine:8081"},
    )
    assert done.returncode == 0, done.stderr
    assert path.read_text() == f"{line}\nT='1'\n"
    assert done.stderr == (
        f"{path}: note: ANTHROPIC_BASE_URL is in the file in a form `disinto up` does not "
        "accept (empty, indented or after `export `); left as it is\n"
    )
    assert "mine" not in done.stdout + done.stderr


def test_check_sees_reads_lines_as_bash_read_does(tmp_path):
    from tests.support.factory_env_check import bash_reads

    text = 'A=b=\nB==x\n  C=1\nexport D=2\nE=\nF=""\nG\nK==\nL===\nH=last'
    path = tmp_path / ".env"
    path.write_text(text)
    seen = bash_reads(path)
    for key in "ABCDEFGHKL":
        assert envfile.check_sees(text, key) == bool(seen.get(key)), key
    assert envfile.check_sees(text, "  C") and not envfile.check_sees(text, "H")
