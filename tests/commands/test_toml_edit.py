"""hire / rotate as TOML edits: the operator's file survives, bad results never reach the disk."""

from __future__ import annotations

import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from disinto_infra.commands import toml_edit
from disinto_infra.commands.toml_edit import EditError, hire, rotate
from disinto_infra.config.project_toml import parse_project_text

ROOT = Path(__file__).resolve().parents[2]
# A real factory's projects/disinto.toml.example, verbatim: its commented-out blocks are the point.
EXAMPLE_TEXT = """\
# projects/disinto.toml.example — Template for disinto self-management
#
# Copy to projects/disinto.toml and fill in box-specific values,
# or run: disinto init johba/disinto

name            = "disinto"
repo            = "johba/disinto"
ops_repo        = "disinto-admin/disinto-ops"
forge_url       = "http://localhost:3000"
repo_root       = "/home/YOU/dark-factory"
ops_repo_root   = "/home/YOU/disinto-ops"
primary_branch  = "main"

[ci]
woodpecker_repo_id = 0
stale_minutes      = 60

[services]
containers = []

[monitoring]
check_prs            = true
check_dev_agent      = true
check_pipeline_stall = false

# Agent scheduling configuration
#
# These values are passed to the agents container as environment variables.
# The default values work well for stable production projects.
# For active development on the disinto factory itself, you may want to
# configure shorter intervals:
#
#   ARCHITECT_INTERVAL=300    # 5 minutes (default: 900 = 15 minutes)
#   PLANNER_INTERVAL=660      # 11 minutes (default: 43200 = 12 hours)
#
# GARDENER_INTERVAL deprecated (#872): gardener now runs per-iteration
# via gardener/gardener-step.sh, paced by POLL_INTERVAL.
#
# These can be set in docker-compose.yml environment section or in a .env file.
#
# [agents.schedule]
#   architect_interval  = 900  # seconds (default: 900 = 15 minutes)
#   planner_interval    = 43200  # seconds (default: 43200 = 12 hours)

# Local-model agents (optional) — configure to use llama-server or similar
# for local LLM inference. Each agent gets its own container with isolated
# credentials and configuration.
#
# When enabled, `disinto init` automatically:
#   1. Creates a Forgejo bot user matching agents.llama.forge_user
#   2. Generates FORGE_TOKEN_<BOT> and FORGE_PASS_<BOT> (stored in .env.enc)
#   3. Adds the bot user as a write collaborator on the project repo
#
# [agents.llama]
#   base_url = "http://10.10.10.1:8081"
#   model = "unsloth/Qwen3.5-35B-A3B"
#   api_key = "sk-no-key-required"
#   roles = ["dev"]
#   forge_user = "dev-qwen"
#   compact_pct = 60
#   poll_interval = 60

# Edge routing mode (default: subpath)
#
# Controls how services are exposed through the edge proxy.
#   subpath   — all services under <project>.disinto.ai/{forge,ci,chat,staging}
#   subdomain — per-service subdomains: forge.<project>, ci.<project>, chat.<project>
#
# Set to "subdomain" if subpath routing causes unfixable issues (redirect loops,
# OAuth callback mismatches, cookie collisions). See docs/edge-routing-fallback.md.
#
# Set in .env (not TOML) since it's consumed by docker-compose and shell scripts:
#   EDGE_ROUTING_MODE=subdomain
#
# In subdomain mode, `disinto edge register` also writes:
#   EDGE_TUNNEL_FQDN_FORGE=forge.<project>.disinto.ai
#   EDGE_TUNNEL_FQDN_CI=ci.<project>.disinto.ai
#   EDGE_TUNNEL_FQDN_CHAT=chat.<project>.disinto.ai

# [mirrors]
# github   = "git@github.com:johba/disinto.git"
# codeberg = "git@codeberg.org:johba/disinto.git"
"""

URL = "http://10.10.10.1:8081"

EXISTING = """\
# my factory
name = "disinto"
repo = "johba/disinto"

[agents.llama]   # the first local agent
  base_url = "http://10.10.10.1:8081"
  model    = "unsloth/Qwen3.5-35B-A3B"   # big one
  roles = ["dev"]
  forge_user = "dev-qwen"
  compact_pct = 80
  token_scopes = ["write:repository", "write:issue", "read:user"]

# [agents.old]
# base_url = "http://gone"

[ci]
woodpecker_repo_id = 4

[agents.schedule]
architect_interval = 300

[agents.second]
base_url = "http://10.10.10.2:8081"
model = "m"
forge_user = "second-bot"
# trailing note of second
"""


def write(tmp_path: Path, text: str, name: str = "disinto.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def agents(path: Path) -> dict:
    return tomllib.loads(path.read_text())["agents"]


def untouched(path: Path, text: str, inode: int) -> bool:
    return path.read_text() == text and path.stat().st_ino == inode and not list(path.parent.glob(".*.tmp"))


# ---------------------------------------------------------------- hire: new sections


def test_new_section_on_the_example_file_appends_and_keeps_every_byte(tmp_path):
    original = EXAMPLE_TEXT
    path = write(tmp_path, original)
    result = hire(path, "dev-qwen2", "dev", local_model=URL, model="unsloth/Qwen3.5-35B-A3B")
    text = path.read_text()
    assert result.created
    assert text.startswith(original) and text.count("[agents.dev-qwen2]") == 1
    assert text[len(original) :] == (
        "\n[agents.dev-qwen2]\n"
        f'base_url = "{URL}"\n'
        'model = "unsloth/Qwen3.5-35B-A3B"\n'
        'api_key = "sk-no-key-required"\n'
        'roles = ["dev"]\n'
        'forge_user = "dev-qwen2"\n'
        "compact_pct = 60\n"
        "poll_interval = 60\n"
    )
    spec = parse_project_text(path, text).agents[0]
    assert (spec.name, spec.forge_user, spec.env_suffix) == ("dev-qwen2", "dev-qwen2", "DEV_QWEN2")


def test_a_commented_out_block_of_the_same_agent_does_not_break_it(tmp_path):
    path = write(tmp_path, EXAMPLE_TEXT)
    hire(path, "llama", "dev", local_model=URL, forge_user="dev-qwen")
    text = path.read_text()
    assert "# [agents.llama]\n#   base_url" in text  # the comment is still a comment
    assert text.count("\n[agents.llama]\n") == 1
    assert agents(path)["llama"]["model"] == "local-model"


def test_hiring_twice_with_the_same_arguments_leaves_the_file_byte_identical(tmp_path):
    path = write(tmp_path, EXAMPLE_TEXT)
    args = {"local_model": URL, "model": "m", "poll_interval": 30, "forge_user": "dev-qwen"}
    hire(path, "llama", "dev", **args)
    first, stat1 = path.read_bytes(), path.stat()
    result = hire(path, "llama", "dev", **args)
    assert result.unchanged
    assert path.read_bytes() == first
    assert (path.stat().st_ino, path.stat().st_mtime_ns) == (stat1.st_ino, stat1.st_mtime_ns)


def test_new_section_without_local_model_is_refused_naming_file_agent_and_field(tmp_path):
    path = write(tmp_path, EXISTING)
    inode = path.stat().st_ino
    with pytest.raises(EditError) as err:
        hire(path, "dev-qwen2", "dev")
    assert err.value.problems[0].startswith(f"{path}: agents.dev-qwen2.base_url: ")
    assert "--local-model" in str(err.value)
    assert untouched(path, EXISTING, inode)


def test_new_section_keeps_crlf_line_ends_and_a_missing_final_newline(tmp_path):
    crlf = 'name = "p"\r\nrepo = "o/p"'
    path = tmp_path / "p.toml"
    path.write_bytes(crlf.encode())
    hire(path, "a", "dev", local_model=URL)
    data = path.read_bytes()
    assert data.startswith(b'name = "p"\r\nrepo = "o/p"\r\n\r\n[agents.a]\r\n')
    assert b"\n" not in data.replace(b"\r\n", b"")


# ---------------------------------------------------------------- hire: updates in place


def test_update_changes_only_the_given_keys_in_place(tmp_path):
    path = write(tmp_path, EXISTING)
    result = hire(path, "llama", "review", model="other", poll_interval=30)
    assert result.changed == {"model": "other", "roles": ["review"], "poll_interval": 30}
    text = path.read_text()
    assert '  model    = "other"   # big one\n' in text
    assert '  roles = ["review"]\n' in text
    assert (
        '  token_scopes = ["write:repository", "write:issue", "read:user"]\n  poll_interval = 30\n\n# [agents.old]'
        in text
    )
    assert text.count("[agents.llama]") == 1
    expected = (
        EXISTING.replace('"unsloth/Qwen3.5-35B-A3B"', '"other"')
        .replace('["dev"]', '["review"]')
        .replace('"read:user"]\n', '"read:user"]\n  poll_interval = 30\n')
    )
    assert text == expected  # nothing else moved: comments, [ci], [agents.schedule], second


def test_formula_is_written_only_when_given_and_keeps_the_rest_in_place(tmp_path):
    path = write(tmp_path, EXISTING)
    result = hire(path, "llama", "review", formula="formulas/review-pr.toml")
    assert result.changed == {"roles": ["review"], "formula": "formulas/review-pr.toml"}
    expected = EXISTING.replace('["dev"]', '["review"]').replace(
        '"read:user"]\n', '"read:user"]\n  formula = "formulas/review-pr.toml"\n'
    )
    assert path.read_text() == expected  # comments and every other table as they were
    hire(path, "fresh", "review", local_model="http://10.0.0.9:1", formula="formulas/review-pr.toml")
    assert path.read_text().endswith('poll_interval = 60\nformula = "formulas/review-pr.toml"\n')
    hire(path, "plain", "dev", local_model="http://10.0.0.9:1")
    assert "formula" not in agents(path)["plain"]


def test_update_of_an_out_of_order_section_adds_keys_before_its_trailing_comments(tmp_path):
    path = write(tmp_path, EXISTING)
    hire(path, "second", "dev", local_model="http://10.0.0.9:1")
    assert path.read_text().endswith(
        '[agents.second]\nbase_url = "http://10.0.0.9:1"\nmodel = "m"\nforge_user = "second-bot"\n'
        'roles = ["dev"]\n# trailing note of second\n'
    )


def test_update_of_an_inline_table_section(tmp_path):
    path = write(tmp_path, 'name = "p"\nrepo = "o/p"\n[agents]\nx = { base_url = "http://a", model = "m" }\n')
    hire(path, "x", "dev", poll_interval=5)
    assert agents(path)["x"] == {"base_url": "http://a", "model": "m", "roles": ["dev"], "poll_interval": 5}


DOTTED = (
    'name = "p"\nrepo = "o/p"\n[agents]\ndev-d.base_url = "http://a"\ndev-d.model = "m"\ndev-d.forge_user = "dev-d"\n'
)


@pytest.mark.parametrize(
    "text", [DOTTED, 'name = "p"\nrepo = "o/p"\nagents.dev-d.base_url = "http://a"\nagents.dev-d.model = "m"\n']
)
def test_an_agent_written_with_dotted_keys_is_the_same_agent(tmp_path, text):
    """Issue 28 item 9: `rotate` finds it, `hire` updates it instead of adding a second one."""
    path = write(tmp_path, text)
    result = rotate(path, "dev-d")
    assert result.changed == {"rotate_token": (0, 1), "rotate_password": (0, 1)}
    hire(path, "dev-d", "dev", poll_interval=5)
    written = path.read_text()
    assert "[agents.dev-d]" not in written and written.count("base_url") == 1
    assert agents(path)["dev-d"]["rotate_token"] == 1 and agents(path)["dev-d"]["poll_interval"] == 5
    assert written.startswith(text.split("dev-d.model")[0])  # what came before is untouched


# ---------------------------------------------------------------- hire: refused before the file is touched


@pytest.mark.parametrize(
    "name, kwargs, fragment",
    [
        ("Dev_Qwen", {"local_model": URL}, ": agents.Dev_Qwen: agent name must be"),
        ("dev-qwen2", {"local_model": "ftp://box"}, ": agents.dev-qwen2.base_url: must be an http(s) URL"),
        ("dev-qwen2", {"local_model": URL, "forge_user": "dev-qwen"}, ": agents.dev-qwen2.forge_user: "),
        ("dev-qwen2", {"local_model": URL, "forge_user": "dev_qwen"}, "env suffix DEV_QWEN"),
        ("dev-qwen2", {"local_model": URL, "forge_user": "disinto-admin"}, "admin user"),
        ("dev-qwen2", {"local_model": URL, "poll_interval": 0}, ": agents.dev-qwen2.poll_interval: "),
        ("llama", {"local_model": "not a url"}, ": agents.llama.base_url: "),
        ("schedule", {"local_model": URL}, ": agents.schedule: holds scheduling settings"),
    ],
)
def test_results_the_validator_refuses_never_reach_the_file(tmp_path, name, kwargs, fragment):
    path = write(tmp_path, EXISTING)
    inode = path.stat().st_ino
    with pytest.raises(EditError) as err:
        hire(path, name, "dev", **kwargs)
    assert fragment in str(err.value) and str(path) in str(err.value)
    assert untouched(path, EXISTING, inode)


def test_a_file_already_invalid_is_refused_with_its_problems_marked(tmp_path):
    broken = EXISTING.replace("compact_pct = 80", "compact_pct = 800")
    path = write(tmp_path, broken)
    inode = path.stat().st_ino
    with pytest.raises(EditError) as err:
        hire(path, "dev-qwen2", "dev", local_model=URL)
    assert err.value.problems == [
        f"{path}: agents.llama.compact_pct: must be an integer from 1 to 100, not 800 (already in the file before this edit)"
    ]
    assert untouched(path, broken, inode)


def test_a_toml_syntax_error_is_reported_with_its_line(tmp_path):
    broken = EXISTING.replace("[ci]", "[ci")
    path = write(tmp_path, broken)
    with pytest.raises(EditError) as err:
        hire(path, "dev-qwen2", "dev", local_model=URL)
    assert err.value.problems[0].startswith(f"{path}: line 16: ")
    assert path.read_text() == broken


def test_a_missing_file_is_an_error(tmp_path):
    with pytest.raises(EditError, match="no such file"):
        hire(tmp_path / "nope.toml", "a", "dev", local_model=URL)


# ---------------------------------------------------------------- the write


def test_write_keeps_mode_and_goes_through_a_symlink(tmp_path):
    real = write(tmp_path, EXISTING, "real.toml")
    real.chmod(0o640)
    link = tmp_path / "link.toml"
    link.symlink_to(real)
    hire(link, "dev-qwen2", "dev", local_model=URL)
    assert link.is_symlink() and "[agents.dev-qwen2]" in real.read_text()
    assert stat.S_IMODE(real.stat().st_mode) == 0o640


@pytest.mark.parametrize("broken", ["replace", "fsync"])
def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch, broken):
    path = write(tmp_path, EXISTING)
    inode = path.stat().st_ino

    def fail(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(toml_edit.os, broken, fail)
    with pytest.raises(EditError) as err:
        hire(path, "dev-qwen2", "dev", local_model=URL)
    assert str(err.value) == f"{path}: cannot write: No space left on device; the file is unchanged"
    assert untouched(path, EXISTING, inode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["disinto.toml"]


@pytest.mark.reliability
def test_concurrent_hires_lose_no_agent(tmp_path):
    path = write(tmp_path, EXISTING)
    code = (
        "import sys; from disinto_infra.commands.toml_edit import hire; "
        "hire(sys.argv[1], sys.argv[2], 'dev', local_model='http://10.0.0.1:1')"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path), f"extra{i}"], cwd=ROOT) for i in range(8)]
    assert all(p.wait(timeout=60) == 0 for p in procs)
    names = set(agents(path))
    assert {f"extra{i}" for i in range(8)} <= names and {"llama", "second"} <= names
    assert path.read_text().startswith(EXISTING)


# ---------------------------------------------------------------- rotate


def test_rotate_bumps_both_by_default_then_one(tmp_path):
    path = write(tmp_path, EXISTING)
    assert rotate(path, "llama").changed == {"rotate_token": (0, 1), "rotate_password": (0, 1)}
    assert rotate(path, "llama", password=False).changed == {"rotate_token": (1, 2)}
    assert rotate(path, "llama", token=False).changed == {"rotate_password": (1, 2)}
    section = agents(path)["llama"]
    assert (section["rotate_token"], section["rotate_password"]) == (2, 2)
    assert path.read_text().count("rotate_token") == 1
    assert agents(path)["second"] == tomllib.loads(EXISTING)["agents"]["second"]


@pytest.mark.parametrize("name", ["nobody", "schedule", "old"])
def test_rotate_of_an_unknown_agent_is_refused(tmp_path, name):
    path = write(tmp_path, EXISTING)
    with pytest.raises(EditError, match=f"{path}: agents.{name}: no such agent"):
        rotate(path, name)
    assert path.read_text() == EXISTING


def test_rotate_refuses_a_counter_that_is_not_a_number(tmp_path):
    text = EXISTING.replace('forge_user = "second-bot"', 'forge_user = "second-bot"\nrotate_token = "yes"')
    path = write(tmp_path, text)
    with pytest.raises(EditError, match=r"agents\.second\.rotate_token: must be a non-negative integer"):
        rotate(path, "second")
    assert path.read_text() == text


# ---------------------------------------------------------------- which file


def test_empty_model_is_refused_not_defaulted(tmp_path):
    path = write(tmp_path, EXISTING)
    with pytest.raises(EditError, match=r"agents\.dev-qwen2\.model: must be a non-empty string"):
        hire(path, "dev-qwen2", "dev", local_model=URL, model="")
    assert path.read_text() == EXISTING
