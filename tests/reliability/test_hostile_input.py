"""Hostile input (issue 19): files that are no files, files too large, nesting past the parsers,
stack files of the wrong shape, URLs and integers no server can use.

Each case runs the command as a user does (`python -m disinto_infra …` in a project folder of its
own) and must: exit 1; say, on one line, the file (and the key, where there is one) and what is
wrong; print no traceback; change no file; finish within TIME_LIMIT seconds and within MEMORY_LIMIT
bytes of address space (a command that reads `/dev/zero` to the end, or a 64 MiB file whole and
then parses it, would not).
"""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from disinto_infra import input_file
from disinto_infra.config.project_toml import COUNTER_MAX

pytestmark = pytest.mark.reliability

ROOT = Path(__file__).resolve().parents[2]
TIME_LIMIT = 60
MEMORY_LIMIT = 2 * 1024**3
GOOD_AGENT = '[agents.dev]\nbase_url = "http://127.0.0.1:9"\nmodel = "qwen"\n'
HEADER = 'name = "p"\nrepo = "o/p"\n'
DEEP = 100_000  # levels of nesting: far past every recursive parser's limit


@dataclass
class Case:
    """One command on one prepared folder, and the line it must print."""

    args: list[str]
    fragments: list[str]  # all on one line of the output
    prepare: object = None  # callable(folder) -> None: makes the hostile file
    stack: str = ""  # a stack file's text ("" = none)
    toml: str = HEADER + GOOD_AGENT
    env: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("package")
    shutil.copytree(ROOT / "disinto_infra", copy / "disinto_infra", ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _snapshot(folder: Path) -> dict[str, str]:
    """Every regular file's content hash (never reading a FIFO or a device)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.is_file() or "__pycache__" in path.parts:
            continue
        found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def run_case(tmp_path: Path, package: Path, case: Case) -> tuple[str, Path]:
    folder = tmp_path / "project"
    shutil.copytree(package, folder, symlinks=True)
    (folder / "projects").mkdir()
    (folder / "formulas").mkdir()
    (folder / "formulas" / "dev.toml").write_text('name = "dev"\n')
    (folder / "projects" / "p.toml").write_text(case.toml)
    if case.stack:
        (folder / "Pulumi.case.yaml").write_text(case.stack)
    if case.prepare:
        case.prepare(folder)
    before = _snapshot(folder)
    environ = {"PATH": "/usr/bin:/bin", "HOME": str(folder), "PYTHONPATH": str(folder), **case.env}
    args = [a.replace("{dir}", str(folder)) for a in case.args]
    done = subprocess.run(
        [sys.executable, "-m", "disinto_infra", *args],
        cwd=folder,
        env=environ,
        capture_output=True,
        text=True,
        timeout=TIME_LIMIT,
        preexec_fn=_limits,
    )
    out = done.stdout + done.stderr
    assert "Traceback" not in out and "Error:" not in out.split("\n", 1)[0], out
    assert done.returncode == 1, out
    fragments = [f.replace("{dir}", str(folder)) for f in case.fragments]
    assert any(all(f in line for f in fragments) for line in out.splitlines()), (fragments, out)
    assert _snapshot(folder) == before, "a file changed"
    return out, folder


def _fifo(relative: str):
    return lambda folder: (folder / relative).unlink(missing_ok=True) or os.mkfifo(folder / relative)


def _link_to(relative: str, target: str):
    return lambda folder: (folder / relative).unlink(missing_ok=True) or (folder / relative).symlink_to(target)


def _folder(relative: str):
    return lambda folder: (folder / relative).unlink(missing_ok=True) or (folder / relative).mkdir()


def _sized(relative: str, size: int):
    """A file of `size` bytes (sparse: it costs no disk)."""

    def make(folder: Path) -> None:
        with open(folder / relative, "wb") as out:
            out.truncate(size)

    return make


def _text(relative: str, text: str):
    return lambda folder: (folder / relative).write_text(text)


TOML = "{dir}/projects/p.toml"
FORMULA_TOML = HEADER + GOOD_AGENT + 'formula = "formulas/odd.toml"\n'
VALIDATE = ["validate", "--toml", TOML]
VALIDATE_STACK = ["validate", "--stack", "case", "--toml", TOML]
CHECK_STATE = ["check", "--toml", TOML, "--state", "{dir}/state.json", "--timeout", "1"]
CHECK_ENV = ["check", "--stack", "case", "--toml", TOML, "--timeout", "1"]
ENV_STACK = "config:\n  disinto:envFile: .env\n"
HIRE = ["hire", "new", "dev", "--local-model", "http://127.0.0.1:9", "--toml", TOML]
ROTATE = ["rotate", "dev", "--toml", TOML]
TOO_LARGE = f"larger than {input_file.TEXT_LIMIT // 1024} KiB"

NON_REGULAR = {
    "toml-fifo": Case(VALIDATE, [TOML, "FIFO"], _fifo("projects/p.toml")),
    "toml-dev-zero": Case(VALIDATE, [TOML, "character device"], _link_to("projects/p.toml", "/dev/zero")),
    "toml-folder": Case(VALIDATE, [TOML, "folder"], _folder("projects/p.toml")),
    "formula-fifo": Case(
        VALIDATE, [TOML, "agents.dev.formula", "odd.toml", "FIFO"], _fifo("formulas/odd.toml"), toml=FORMULA_TOML
    ),
    "formula-folder": Case(
        VALIDATE,
        [TOML, "agents.dev.formula", "odd.toml", "is a folder"],
        _folder("formulas/odd.toml"),
        toml=FORMULA_TOML,
    ),
    "formula-dev-zero": Case(
        VALIDATE,
        [TOML, "agents.dev.formula", "odd.toml", "outside the factory root"],
        _link_to("formulas/odd.toml", "/dev/zero"),
        toml=FORMULA_TOML,
    ),
    "role-formula-dev-zero": Case(
        VALIDATE, [TOML, "agents.dev.roles", "outside the factory root"], _link_to("formulas/dev.toml", "/dev/zero")
    ),
    "hire-fifo": Case(HIRE, [TOML, "not a regular file"], _fifo("projects/p.toml")),
    "rotate-dev-zero": Case(ROTATE, [TOML, "not a regular file"], _link_to("projects/p.toml", "/dev/zero")),
    "stack-fifo": Case(VALIDATE_STACK, ["Pulumi.case.yaml", "FIFO"], _fifo("Pulumi.case.yaml"), stack="x"),
    "stack-dev-zero": Case(
        VALIDATE_STACK, ["Pulumi.case.yaml", "character device"], _link_to("Pulumi.case.yaml", "/dev/zero"), stack="x"
    ),
    "state-fifo": Case(CHECK_STATE, ["state.json", "FIFO"], _fifo("state.json")),
    "state-dev-zero": Case(CHECK_STATE, ["state.json", "character device"], _link_to("state.json", "/dev/zero")),
    "state-folder": Case(CHECK_STATE, ["state.json", "folder"], _folder("state.json")),
    "env-fifo": Case(CHECK_ENV, [".env", "disinto:envFile", "FIFO"], _fifo(".env"), stack=ENV_STACK),
    "env-dev-zero": Case(
        CHECK_ENV, [".env", "disinto:envFile", "character device"], _link_to(".env", "/dev/zero"), stack=ENV_STACK
    ),
}
OVERSIZED = {
    "toml": Case(VALIDATE, [TOML, TOO_LARGE], _sized("projects/p.toml", input_file.TEXT_LIMIT + 1)),
    "hire": Case(HIRE, [TOML, "larger than"], _sized("projects/p.toml", input_file.TEXT_LIMIT + 1)),
    "formula": Case(
        VALIDATE,
        [TOML, "agents.dev.formula", "odd.toml", TOO_LARGE],
        _sized("formulas/odd.toml", input_file.TEXT_LIMIT + 1),
        toml=FORMULA_TOML,
    ),
    "stack": Case(
        VALIDATE_STACK,
        ["Pulumi.case.yaml", TOO_LARGE],
        _sized("Pulumi.case.yaml", input_file.TEXT_LIMIT + 1),
        stack="x",
    ),
    "state": Case(
        CHECK_STATE,
        ["state.json", f"larger than {input_file.STATE_LIMIT // 1024} KiB"],
        _sized("state.json", input_file.STATE_LIMIT + 1),
    ),
    "env": Case(
        CHECK_ENV, [".env", "disinto:envFile", TOO_LARGE], _sized(".env", input_file.TEXT_LIMIT + 1), stack=ENV_STACK
    ),
}
DEEP_NESTING = {
    "toml-array": Case(VALIDATE, [TOML, "nested too deeply"], toml=HEADER + "x = " + "[" * DEEP + "]" * DEEP + "\n"),
    "toml-inline-table": Case(
        VALIDATE, [TOML, "nested too deeply"], toml=HEADER + "x = " + "{a = " * DEEP + "1" + "}" * DEEP + "\n"
    ),
    "hire": Case(HIRE, [TOML, "nested too deeply"], toml=HEADER + "x = " + "[" * DEEP + "]" * DEEP + "\n"),
    "rotate": Case(
        ROTATE, [TOML, "nested too deeply"], toml=HEADER + "x = " + "{a = " * DEEP + "1" + "}" * DEEP + "\n"
    ),
    "formula": Case(
        VALIDATE,
        [TOML, "agents.dev.formula", "odd.toml", "nested too deeply"],
        _text("formulas/odd.toml", "x = " + "[" * DEEP + "]" * DEEP + "\n"),
        toml=FORMULA_TOML,
    ),
    "stack": Case(
        VALIDATE_STACK,
        ["Pulumi.case.yaml", "nested too deeply"],
        stack="config:\n  disinto:forgeUrl: " + "[" * DEEP + "]" * DEEP + "\n",
    ),
    "state": Case(CHECK_STATE, ["state.json", "nested too deeply"], _text("state.json", "[" * DEEP + "]" * DEEP)),
}
YAML_SHAPES = {
    "empty": Case(VALIDATE_STACK, ["Pulumi.case.yaml", "an empty document"], stack="\n# nothing\n"),
    "list": Case(VALIDATE_STACK, ["Pulumi.case.yaml", "a list"], stack="- disinto:runtime: nomad\n"),
    "scalar": Case(VALIDATE_STACK, ["Pulumi.case.yaml", '"hello"'], stack="hello\n"),
    "config-scalar": Case(VALIDATE_STACK, ["Pulumi.case.yaml", "config:", '"hello"'], stack="config: hello\n"),
    "config-list": Case(VALIDATE_STACK, ["Pulumi.case.yaml", "config:", "a list"], stack="config:\n  - a\n"),
    "not-yaml": Case(VALIDATE_STACK, ["Pulumi.case.yaml", "not valid YAML"], stack="config: [\n"),
}


def _agent(**fields: str) -> str:
    return (
        HEADER
        + "[agents.dev]\n"
        + "".join(f"{k} = {v}\n" for k, v in {"base_url": '"http://127.0.0.1:9"', "model": '"qwen"', **fields}.items())
    )


URL_FORMS = {
    "port-above-65535": Case(
        VALIDATE,
        [TOML, "agents.dev.base_url", "port must be from 1 to 65535"],
        toml=_agent(base_url='"http://10.0.0.1:65536"'),
    ),
    "port-zero": Case(VALIDATE, [TOML, "agents.dev.base_url", "port"], toml=_agent(base_url='"http://10.0.0.1:0"')),
    "port-not-a-number": Case(VALIDATE, [TOML, "agents.dev.base_url", "port"], toml=_agent(base_url='"http://h:80a"')),
    "space-in-host": Case(
        VALIDATE, [TOML, "agents.dev.base_url", "blank"], toml=_agent(base_url='"http://ll ama:8081"')
    ),
    "newline-in-host": Case(
        VALIDATE, [TOML, "agents.dev.base_url", "control"], toml=_agent(base_url='"http://ll\\nama:1"')
    ),
    "tab-in-path": Case(VALIDATE, [TOML, "agents.dev.base_url", "control"], toml=_agent(base_url='"http://h:1/v\\t1"')),
    "bad-ipv6": Case(VALIDATE, [TOML, "agents.dev.base_url", "http(s) URL"], toml=_agent(base_url='"http://[zz]:1"')),
    "odd-host": Case(VALIDATE, [TOML, "agents.dev.base_url", "no server name"], toml=_agent(base_url='"http://h$t:1"')),
    "newline-in-model": Case(VALIDATE, [TOML, "agents.dev.model", "one line"], toml=_agent(model='"qwen\\nx = 1"')),
    "forge-url-port": Case(
        VALIDATE_STACK,
        ["Pulumi.case.yaml", "disinto:forgeUrl", "port"],
        stack="config:\n  disinto:forgeUrl: http://forgejo:99999\n",
    ),
    "hire-port": Case(
        ["hire", "x", "dev", "--local-model", "http://h:70000", "--toml", TOML], [TOML, "agents.x.base_url", "port"]
    ),
    "hire-model-newline": Case(
        ["hire", "x", "dev", "--local-model", "http://h:1", "--model", "a\nb", "--toml", TOML],
        [TOML, "agents.x.model", "one line"],
    ),
}
INTEGER_LIMITS = {
    "rotate-token-past-64-bit": Case(
        VALIDATE, [TOML, "agents.dev.rotate_token", "at most"], toml=_agent(rotate_token=str(2**63))
    ),
    "rotate-token-past-exact-doubles": Case(
        VALIDATE,
        [TOML, "agents.dev.rotate_token", f"at most {COUNTER_MAX}"],
        toml=_agent(rotate_token=str(COUNTER_MAX + 1)),
    ),
    "poll-interval-past-64-bit": Case(
        VALIDATE, [TOML, "agents.dev.poll_interval", "from 1 to 86400"], toml=_agent(poll_interval=str(10**30))
    ),
    "rotate-at-the-limit": Case(
        ["rotate", "dev", "--token", "--toml", TOML],
        [TOML, "agents.dev.rotate_token", "cannot be counted further"],
        toml=_agent(rotate_token=str(COUNTER_MAX)),
    ),
}


@pytest.mark.parametrize("name", sorted(NON_REGULAR))
def test_non_regular_files(tmp_path, package, name):
    run_case(tmp_path, package, NON_REGULAR[name])


@pytest.mark.parametrize("name", sorted(OVERSIZED))
def test_oversized_files(tmp_path, package, name):
    run_case(tmp_path, package, OVERSIZED[name])


@pytest.mark.parametrize("name", sorted(DEEP_NESTING))
def test_deep_nesting(tmp_path, package, name):
    run_case(tmp_path, package, DEEP_NESTING[name])


@pytest.mark.parametrize("name", sorted(YAML_SHAPES))
def test_wrong_yaml_shapes(tmp_path, package, name):
    run_case(tmp_path, package, YAML_SHAPES[name])


@pytest.mark.parametrize("name", sorted(URL_FORMS))
def test_url_forms(tmp_path, package, name):
    run_case(tmp_path, package, URL_FORMS[name])


@pytest.mark.parametrize("name", sorted(INTEGER_LIMITS))
def test_integer_limits(tmp_path, package, name):
    run_case(tmp_path, package, INTEGER_LIMITS[name])
