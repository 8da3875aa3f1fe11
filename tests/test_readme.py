"""The README and its reference pages (docs/*.md) as a user reads them: every `python -m disinto_infra …`
(or `disinto-infra …`, the installed entry point of the same `cli.main`: tests/commands/test_cli.py)
they show runs as written, and the output docs/check.md shows for `check` is what
`python -m tests.support.check_demo` prints.

A concrete command (no `[…]`, no NAME placeholders) runs in a copy of this project folder whose
stack file says what the README's setup steps make it say (projectToml set, a Forgejo and a model
server reachable: the doubles). A synopsis (the command table, the `check` line) is held to the
parser: each option it names exists, and every option of the command is in it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from disinto_infra.commands import cli
from tests.support.factory import give_formulas
from tests.support.forgejo_double import ForgejoDouble
from tests.support.llama_double import LlamaDouble

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
# The reference moved out of the README (docs/commands.md, docs/check.md, …): its commands are held too.
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TEXT = "\n".join(page.read_text(encoding="utf-8") for page in PAGES)
CHECK_PAGE = (ROOT / "docs" / "check.md").read_text(encoding="utf-8")
# The installed command only where a line starts with it (elsewhere `disinto-infra` names a policy).
COMMAND = re.compile(r"python -m disinto_infra [^;&>|`\n#]*|^(?:\$ )?disinto-infra [^;&>|`\n#]*", re.M)
ENTRY_POINT = "disinto-infra "


def readme_commands() -> list[str]:
    """Each command in its `python -m` form (the console script runs the same function)."""
    found = {m.group(0).strip().removeprefix("$ ") for m in COMMAND.finditer(TEXT)}
    return sorted(
        {"python -m disinto_infra " + c.removeprefix(ENTRY_POINT) if c.startswith(ENTRY_POINT) else c for c in found}
    )


def is_synopsis(command: str) -> bool:
    return "[" in command or re.search(r"\b(NAME|ROLE|URL|PATH)\b", command) is not None


CONCRETE = [c for c in readme_commands() if not is_synopsis(c)]
SYNOPSES = [c for c in readme_commands() if is_synopsis(c)]


def test_the_readme_shows_commands_of_both_kinds():
    assert "python -m disinto_infra check --state state.json --timeout 60" in CONCRETE
    assert "python -m disinto_infra plan --toml examples/factory/projects/demo.toml" in CONCRETE
    assert "python -m disinto_infra plan --stack offline-nomad --toml examples/factory/projects/demo.toml" in CONCRETE
    assert {c.split()[3] for c in SYNOPSES} == {"validate", "plan", "hire", "rotate", "check"}


def _options(command: str) -> set[str]:
    return set(re.findall(r"(--[a-z][a-z-]*)", command))


def _parser_options(name: str) -> set[str]:
    parser = cli.build_parser()
    sub = next(a for a in parser._subparsers._group_actions if a.dest == "command").choices[name]
    return {o for action in sub._actions for o in action.option_strings if o.startswith("--") and o != "--help"}


@pytest.mark.parametrize("command", SYNOPSES)
def test_each_synopsis_names_every_option_of_its_command(command):
    name = command.split()[3]
    assert _options(command) == _parser_options(name), command


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """This project folder as a user has it after the README's setup, with the doubles as servers."""
    here = tmp_path_factory.mktemp("readme")
    for part in ("disinto_infra", "examples"):
        shutil.copytree(ROOT / part, here / part, ignore=shutil.ignore_patterns("__pycache__"))
    (here / "projects").mkdir()
    give_formulas(here)
    with ForgejoDouble() as forge, LlamaDouble(slots=4) as llama:
        forge.add_user("disinto-admin", password="admin-pass-123", is_admin=True)
        forge.add_user("johba")
        forge.add_repo("johba", "disinto")
        (here / "projects" / "disinto.toml").write_text(
            f'name = "disinto"\nrepo = "johba/disinto"\n\n[agents.dev-qwen]\nbase_url = "{llama.url}"\n'
            'model = "unsloth/Qwen3.5-35B-A3B"\nforge_user = "dev-qwen"\n'
        )
        # `pulumi config set disinto:projectToml …` and a Forgejo the host reaches.
        (here / "Pulumi.dev.yaml").write_text(
            f"config:\n  disinto:projectToml: {here / 'projects' / 'disinto.toml'}\n  disinto:forgeUrl: {forge.url}\n"
        )
        # The nomad stack of the check demo (docs/check.md): no Nomad or Vault answers here (a closed port).
        (here / "Pulumi.nomad.yaml").write_text(
            f"config:\n  disinto:forgeUrl: {forge.url}\n  disinto:runtime: nomad\n"
            "  nomad:address: http://127.0.0.1:9\n  vault:address: http://127.0.0.1:9\n"
        )
        (here / "state.json").write_text('{"version": 3, "deployment": {"resources": []}}')
        for line in re.findall(r"^printf .*> Pulumi\.[\w-]+\.yaml$", TEXT, flags=re.M):  # the README's own
            subprocess.run(["sh", "-c", line], cwd=here, check=True)
        yield here


@pytest.mark.parametrize("command", CONCRETE)
def test_each_command_runs_as_written(folder, command):
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DISINTO_", "PULUMI_", "NOMAD_", "VAULT_"))}
    environ["DISINTO_ADMIN_PASSWORD"] = "admin-pass-123"
    argv = command.split()[1:]
    done = subprocess.run([sys.executable, *argv], cwd=folder, env=environ, capture_output=True, text=True, timeout=600)
    assert "Traceback" not in done.stderr, done.stderr
    if argv[2] == "check":
        # 0 or 1 (a problem found: the nomad stack has no Nomad here), never "could not run".
        assert done.returncode in (0, 1), done.stderr
        assert done.stdout.startswith("Model servers"), done.stdout
    else:
        assert done.returncode == 0, done.stderr


# ---------------------------------------------------------------- the demo's output


def _normal(text: str) -> str:
    """Ports and times differ per run; so may the widths of the columns that show them."""
    text = re.sub(r"(127\.0\.0\.1|10\.10\.10\.1):\d+", r"\1:PORT", text)
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "TIME", text)
    return "\n".join(re.sub(r" {2,}", "  ", line).rstrip() for line in text.strip().splitlines())


def test_the_check_page_shows_what_the_check_demo_prints():
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.check_demo"], cwd=ROOT, capture_output=True, text=True, timeout=1200
    )
    assert done.returncode == 0, done.stderr
    printed = [_normal(part) for part in re.split(r"^## \w+\n", done.stdout, flags=re.M) if part.strip()]
    shown = [
        _normal(block)
        for block in re.findall(r"```console\n(\$ python -m disinto_infra check.*?)```", CHECK_PAGE, flags=re.S)
    ]
    assert len(printed) == 3
    assert shown == printed
