"""`check` and `hire --local-model` end to end, in subprocesses, as an operator runs them.

The world: the Forgejo double on 127.0.0.1 and fake llama-servers on this machine's own address,
over real HTTP. The project folder holds a copy of this package and its own stack files (the
commands read `Pulumi.<stack>.yaml` in the working folder), and a fake `pulumi` on PATH where a test
needs one.
The world and its helpers are in tests/support/check_world.py, its fixture in conftest.py.
"""

from __future__ import annotations

import json
import textwrap
import tomllib
from datetime import timedelta
from pathlib import Path

from disinto_infra import envfile
from disinto_infra.config.project_toml import LOOPBACK_BASE_URL
from disinto_infra.forgejo import token_age
from tests.support.check_world import (
    ADMIN,
    ADMIN_PASSWORD,
    MODEL,
    SEEDED_KEY,
    agent,
    run,
    write_stack,
    write_toml,
)
from tests.support.llama_double import LlamaDouble


def export_state(path: Path, ages: dict[str, float]) -> Path:
    """A `pulumi stack export` document holding one Token per agent, made `ages[agent]` days ago."""
    resources = [
        {
            "urn": f"urn:pulumi:dev::disinto::disinto:index:Agent$pulumi-python:dynamic/forgejo:Token::{name}-token",
            "type": "pulumi-python:dynamic/forgejo:Token",
            "inputs": {"username": name},
            "outputs": {
                "created_at": token_age.iso(token_age.now() - timedelta(days=days)),
                "token": {
                    "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
                    "ciphertext": "v1:abc",
                },
            },
        }
        for name, days in ages.items()
    ]
    path.write_text(json.dumps({"version": 3, "deployment": {"resources": resources}}))
    return path


# ---------------------------------------------------------------- check


def test_all_well_exits_0_with_a_table_per_area(world):
    toml = write_toml(
        world,
        "well",
        {
            "dev-qwen": agent(world, "four", "dev-qwen", token_max_age_days=30),
            "dev-qwen2": agent(world, "four", "dev-qwen2"),
        },
    )
    env = world.dir / "well.env"
    envfile.set_values(
        str(env),
        {
            "FORGE_TOKEN_DEV_QWEN": world.tokens["dev-qwen"],
            "FORGE_PASS_DEV_QWEN": world.passwords["dev-qwen"],
            "FORGE_TOKEN_DEV_QWEN2": world.tokens["dev-qwen2"],
            "FORGE_PASS_DEV_QWEN2": world.passwords["dev-qwen2"],
        },
    )
    write_stack(world, "well", projectToml=str(toml), envFile="well.env", adminUser=ADMIN, tokenMaxAgeDays="90")
    state = export_state(world.dir / "well-state.json", {"dev-qwen": 12.5})
    done = run(world, "check", "--stack", "well", "--state", str(state), env={"DISINTO_ADMIN_PASSWORD": ADMIN_PASSWORD})
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    row = next(line for line in out.splitlines() if world.url("four") in line).split()
    assert row[1:5] == ["ok", "Qwen3.5-35B-A3B", "4", "2"] and row[5:] == ["dev-qwen,", "dev-qwen2"]
    assert f"Forgejo {world.forge.url}" in out and "yes (Forgejo 11.0.15" in out
    rows = {" ".join(line.split()[:2]): " ".join(line.split()[2:]) for line in out.splitlines()}
    assert rows[f"admin {ADMIN}"] == "site admin (env DISINTO_ADMIN_PASSWORD)"
    assert rows["repo johba/disinto"] == "exists"
    assert [line.split() for line in out.splitlines() if line.startswith("  dev-qwen") and " ok " in line] == [
        ["dev-qwen", "dev-qwen", "ok", "ok"],
        ["dev-qwen2", "dev-qwen2", "ok", "ok"],
    ]
    ages = {line.split()[0]: line.split()[1:] for line in out.split("Token ages")[1].splitlines()[2:4]}
    assert ages["dev-qwen"][1:] == ["12.5d", "30d", "no"]
    assert ages["dev-qwen2"] == ["unknown", "unknown", "90d", "unknown"]
    assert out.rstrip().endswith("0 problem(s)")
    # Each llama request carried the key in the Bearer header only.
    assert {r.authorization for r in world.llama["four"].requests} == {f"Bearer {SEEDED_KEY}"}

    as_json = json.loads(
        run(
            world,
            "check",
            "--stack",
            "well",
            "--state",
            str(state),
            "--json",
            env={"DISINTO_ADMIN_PASSWORD": ADMIN_PASSWORD},
        ).stdout
    )
    assert as_json["all_problems"] == []
    server = as_json["servers"][0]
    assert (server["state"], server["slots"], [a["agent"] for a in server["agents"]]) == (
        "ok",
        4,
        ["dev-qwen", "dev-qwen2"],
    )
    assert as_json["forge"]["admin_status"] == "site admin"
    assert [c["token"] for c in as_json["credentials"]] == ["ok", "ok"]
    assert as_json["token_ages"][0]["max_age_days"] == 30 and as_json["token_ages"][0]["due"] is False
    assert ADMIN_PASSWORD not in json.dumps(as_json) and world.tokens["dev-qwen"] not in json.dumps(as_json)


def test_check_names_each_bind_source_missing_on_this_docker_host(world):
    """Docker would make each one an empty root-owned folder (bind_sources.py)."""
    toml = write_toml(world, "binds", {"dev-qwen": agent(world, "four", "dev-qwen")})
    write_stack(
        world, "binds", projectToml=str(toml), sshDir=str(world.dir / "no-keys"), claudeConfigFile="~/missing.json"
    )
    done = run(world, "check", "--stack", "binds")
    missing = [line.strip() for line in done.stdout.splitlines() if "does not exist; Docker would create" in line]
    assert done.returncode == 1
    assert missing == [
        f"disinto:claudeConfigFile: {world.dir}/home/missing.json does not exist; Docker would create it as an "
        "empty folder owned by root, mounted at /home/agent/.claude.json",
        f"disinto:sshDir: {world.dir}/no-keys does not exist; Docker would create it as an empty folder owned by "
        "root, mounted at /home/agent/.ssh",
    ]
    # Another machine's folders are not this machine's to judge: nothing is claimed about them.
    write_stack(
        world,
        "binds",
        projectToml=str(toml),
        sshDir="/nowhere/keys",
        claudeConfigFile="/nowhere/c.json",
        factoryRoot=str(world.dir),
    )
    (world.dir / "Pulumi.binds.yaml").write_text(
        (world.dir / "Pulumi.binds.yaml").read_text() + "  docker:host: ssh://op@box\n"
    )
    assert "does not exist; Docker would create" not in run(world, "check", "--stack", "binds").stdout


def test_problems_exit_1_each_named(world):
    toml = write_toml(
        world,
        "crowded",
        {
            "dev-qwen": agent(world, "two", "dev-qwen"),
            "dev-qwen2": agent(world, "two", "dev-qwen2"),
            "review": agent(world, "two", "review-bot"),
            "other": agent(world, "other", "other-bot"),
            "slow": agent(world, "loading", "slow-bot"),
        },
        repo="johba/missing",
    )
    env = world.dir / "crowded.env"
    envfile.set_values(
        str(env),
        {
            "FORGE_TOKEN_DEV_QWEN": world.tokens["dev-qwen"],
            "FORGE_PASS_DEV_QWEN": world.passwords["dev-qwen"],
            # The old compose generator's bug: the second agent holds the first one's token.
            "FORGE_TOKEN_DEV_QWEN2": world.tokens["dev-qwen"],
            "FORGE_PASS_DEV_QWEN2": "wrong-password-1",
        },
    )
    write_stack(world, "crowded", projectToml=str(toml), envFile="crowded.env")
    done = run(world, "check", "--stack", "crowded", env={"DISINTO_ADMIN_TOKEN": world.tokens["review-bot"]})
    assert done.returncode == 1, done.stdout + done.stderr
    problems = done.stdout.split("problem(s):\n")[1].splitlines()
    two, other, loading = world.url("two"), world.url("other"), world.url("loading")
    expected = [
        f"{two}: 3 agents (dev-qwen, dev-qwen2, review) for 2 slots",
        f'{toml}: agents.other.model: "{MODEL}", but {other} serves Llama-3.3-70B-Instruct, '
        "/models/Llama-3.3-70B-Instruct-Q4_K_M.gguf",
        f"{loading}: not ready: the model is loading (/health: 503)",
        f"{world.forge.url}: review-bot (env DISINTO_ADMIN_TOKEN) is not a site admin",
        f"{toml}: repo: johba/missing: not found",
        f"{env}: FORGE_TOKEN_DEV_QWEN2 (agents.dev-qwen2) answers as dev-qwen, not dev-qwen2",
        f"{env}: FORGE_PASS_DEV_QWEN2 (agents.dev-qwen2): refused (HTTP 401)",
        f"{env}: FORGE_TOKEN_REVIEW_BOT (agents.review): missing",
    ]
    for line in expected:
        assert f"  {line}" in problems, (line, problems)
    assert world.tokens["review-bot"] not in done.stdout and "wrong-password-1" not in done.stdout


def test_servers_that_hang_reset_or_lack_props(world, tmp_path):
    toml = write_toml(
        world,
        "odd",
        {
            "stuck": agent(world, "hang", "stuck-bot"),
            "dropped": agent(world, "reset", "dropped-bot"),
            "coder": agent(world, "no-props", "coder-bot", model="qwen2.5-coder:32b"),
        },
    )
    write_stack(world, "odd", projectToml=str(toml))
    done = run(world, "check", "--stack", "odd", "--timeout", "0.3")
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert f"  {world.url('hang')}: unreachable: no whole answer within 0.3s (timed out)" in lines
    assert f"  {world.url('reset')}: unreachable: connection refused or reset" in lines
    # A server that answers is judged with a budget no load exhausts (a stack without the silent one).
    coder_toml = write_toml(
        world, "odd-coder", {"coder": agent(world, "no-props", "coder-bot", model="qwen2.5-coder:32b")}
    )
    write_stack(world, "odd-coder", projectToml=str(coder_toml))
    lines = run(world, "check", "--stack", "odd-coder").stdout.splitlines()
    coder = next(line for line in lines if line.startswith(f"  {world.url('no-props')}")).split()
    assert coder[1:5] == ["ok", "qwen2.5-coder:32b", "?", "1"]
    assert "not checked: no admin credential" in done.stdout
    assert "Agent credentials\n  not checked: no disinto:envFile" in done.stdout
    assert "Token ages (from unknown: no Pulumi CLI on PATH" in done.stdout


def test_a_loopback_server_that_answers_is_a_problem_not_ok(world):
    """An operator's llama-server on 127.0.0.1 answers `check`; an agent's container would reach itself."""
    with LlamaDouble(slots=4, loopback=True) as beside:
        toml = write_toml(world, "loop", {"dev-qwen": {**agent(world, "two", "dev-qwen"), "base_url": beside.url}})
        write_stack(world, "loop", projectToml=str(toml))
        done = run(world, "check", "--stack", "loop")
    assert done.returncode == 1
    row = next(line for line in done.stdout.splitlines() if line.startswith(f"  {beside.url} ")).split()
    assert row[1:3] == ["loopback:", "answers"] and "ok" not in row
    assert f"  {toml}: agents.dev-qwen.base_url: {beside.url} {LOOPBACK_BASE_URL}" in done.stdout.splitlines()
    assert len(beside.requests) > 0  # it was asked, and answered


def test_a_wrong_model_on_a_server_whose_props_name_none(world):
    """/props with total_slots but no model name: `check` asks /v1/models and finds the mismatch."""
    toml = write_toml(
        world,
        "unnamed",
        {
            "wrong": agent(world, "slots-only", "wrong-bot"),
            "placeholder": agent(world, "slots-only", "placeholder-bot", model="local-model"),
        },
    )
    write_stack(world, "unnamed", projectToml=str(toml))
    done = run(world, "check", "--stack", "unnamed")
    assert done.returncode == 1
    url = world.url("slots-only")
    row = next(line for line in done.stdout.splitlines() if line.startswith(f"  {url}")).split()
    assert row[1:5] == ["ok", "Llama-3.3-70B-Instruct", "2", "2"]
    assert f'  {toml}: agents.wrong.model: "{MODEL}", but {url} serves Llama-3.3-70B-Instruct' in done.stdout
    assert (
        f'  {toml}: agents.placeholder.model: "local-model", but {url} serves Llama-3.3-70B-Instruct '
        "(the placeholder `hire` writes without --model: set the model)"
    ) in done.stdout


def test_a_pulumi_cli_gives_the_admin_secret_and_the_state(world, tmp_path):
    """Without env credentials, `pulumi config get` decrypts the admin password, and
    `pulumi stack export` gives the token ages; both stay out of the output."""
    toml = write_toml(world, "cli", {"dev-qwen": agent(world, "four", "dev-qwen", token_max_age_days=30)})
    write_stack(world, "cli", projectToml=str(toml))
    state = export_state(tmp_path / "state.json", {"dev-qwen": 45})
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "pulumi").write_text(
        textwrap.dedent(f"""\
        #!/bin/sh
        case "$*" in
          "config get disinto:adminPassword --stack cli") echo '{ADMIN_PASSWORD}' ;;
          "stack export --stack cli") cat '{state}' ;;
          *) echo "unexpected: $*" >&2; exit 1 ;;
        esac
        """)
    )
    (fake / "pulumi").chmod(0o755)
    done = run(world, "check", "--stack", "cli", path_prefix=str(fake))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "site admin (pulumi config get disinto:adminPassword)" in done.stdout
    assert "Token ages (from pulumi stack export)" in done.stdout
    row = next(line for line in done.stdout.split("Token ages")[1].splitlines() if line.startswith("  dev-qwen"))
    assert row.split()[2:] == ["45d", "30d", "yes,", "at", "the", "next", "pulumi", "up"]
    assert ADMIN_PASSWORD not in done.stdout


def test_cannot_run_exits_2(world):
    assert run(world, "check", "--stack", "nowhere").returncode == 2
    assert "must be more than 0" in run(world, "check", "--timeout", "0").stderr
    bad = world.dir / "projects" / "bad.toml"
    bad.write_text('name = "disinto"\nrepo = "johba/disinto"\n[agents.a]\nbase_url = "nope"\nmodel = "m"\n')
    write_stack(world, "bad", projectToml=str(bad))
    done = run(world, "check", "--stack", "bad")
    assert done.returncode == 2
    assert f'{bad}: agents.a.base_url: must be an http(s) URL, not "nope"' in done.stderr


# ---------------------------------------------------------------- hire knows the server


def test_hire_refuses_a_full_server_unless_forced(world):
    toml = write_toml(
        world, "hire", {"dev-qwen": agent(world, "two", "dev-qwen"), "dev-qwen2": agent(world, "two", "dev-qwen2")}
    )
    before = toml.read_bytes()
    args = ("hire", "dev-qwen3", "dev", "--local-model", world.url("two"), "--toml", str(toml))
    refused = run(world, *args)
    assert refused.returncode == 1
    assert (
        f"{toml}: agents.dev-qwen3.base_url: {world.url('two')} would have 3 agents "
        "(dev-qwen, dev-qwen2, dev-qwen3) for 2 slots"
    ) in refused.stderr
    assert "--force" in refused.stderr and "nothing was changed" in refused.stderr
    assert toml.read_bytes() == before

    forced = run(world, *args, "--force")
    assert forced.returncode == 0
    assert (
        f"warning: {world.url('two')} would have 3 agents (dev-qwen, dev-qwen2, dev-qwen3) for 2 slots; "
        "hiring anyway (--force)"
    ) in forced.stdout
    assert tomllib.loads(toml.read_text())["agents"]["dev-qwen3"]["base_url"] == world.url("two")

    # Updating an agent already there does not count it twice.
    again = run(world, "hire", "dev-qwen", "dev", "--local-model", world.url("two"), "--toml", str(toml))
    assert again.returncode == 1 and "would have 3 agents" in again.stderr


def test_hire_with_room_or_an_unreachable_server(world):
    toml = write_toml(world, "room", {"dev-qwen": agent(world, "four", "dev-qwen")})
    done = run(world, "hire", "dev-qwen2", "dev", "--local-model", world.url("four"), "--toml", str(toml))
    assert done.returncode == 0 and f"{world.url('four')}: 2 agents for 4 slots" in done.stdout
    # No --model: the placeholder hire writes is worth its own warning.
    assert (
        f'warning: {toml}: agents.dev-qwen2.model is "local-model", a placeholder: set it to the model '
        f"{world.url('four')} serves"
    ) in done.stdout
    # The existing agent's api key was used for the probe.
    assert world.llama["four"].requests[-1].authorization == f"Bearer {SEEDED_KEY}"
    down = run(world, "hire", "dev-qwen3", "dev", "--local-model", world.url("reset"), "--toml", str(toml))
    assert down.returncode == 0
    assert f"warning: {world.url('reset')} does not answer (connection refused or reset)" in down.stdout
    assert "dev-qwen3" in tomllib.loads(toml.read_text())["agents"]


def test_basic_auth_switched_off_is_a_problem_line(world):
    """Issue 18 item 7, end to end (the probes themselves: tests/commands/check/test_forge.py)."""
    toml = write_toml(world, "nobasic", {"dev-qwen": agent(world, "four", "dev-qwen")})
    write_stack(world, "nobasic", projectToml=str(toml))
    world.forge.state.settings.basic_auth = False
    try:
        done = run(
            world,
            "check",
            "--stack",
            "nobasic",
            "--timeout",
            "2",
            env={"DISINTO_ADMIN_TOKEN": world.tokens["dev-qwen"]},
        )
    finally:
        world.forge.state.settings.basic_auth = True
    assert done.returncode == 1, done.stdout + done.stderr
    problems = done.stdout.split("problem(s):\n")[1].splitlines()
    assert any(line.startswith(f"  {world.forge.url}: basic authentication is switched off") for line in problems)


def test_hire_checks_its_own_arguments_before_it_asks_the_server(world):
    toml = write_toml(world, "own", {"dev-qwen": agent(world, "four", "dev-qwen")})
    before, asked = toml.read_bytes(), len(world.llama["four"].requests)
    cases = {
        ("--local-model", world.url("four") + "0000"): "the port must be from 1 to 65535",
        ("--local-model", world.url("four").replace(".", ". ", 1)): "blank or control character",
        ("--local-model", world.url("four"), "--model", "qwen\nevil = 1"): "one line of text",
        ("--local-model", world.url("four"), "--forge-user", "disinto-admin"): "admin user",
    }
    for extra, fragment in cases.items():
        done = run(world, "hire", "dev-qwen9", "dev", *extra, "--toml", str(toml))
        assert done.returncode == 1 and fragment in done.stderr, (extra, done.stderr)
        assert f"{toml}: agents.dev-qwen9." in done.stderr and "Traceback" not in done.stderr
    assert toml.read_bytes() == before
    assert len(world.llama["four"].requests) == asked  # refused before any probe


def test_credentials_in_any_address_are_masked_in_text_and_json(world):
    """Issue 19: forgeUrl's userinfo and a base_url's query key never reach check's output."""
    keyed = world.url("two") + "/?api_key=sk-query-key-31"
    toml = write_toml(world, "masked", {"dev-qwen": {**agent(world, "two", "dev-qwen"), "base_url": keyed}})
    # A forgeUrl with user info is refused before anything is asked (issue 27), the password masked.
    forge = world.forge.url.replace("http://", "http://disinto-admin:pw-in-url-42@")
    write_stack(world, "userinfo", projectToml=str(toml), forgeUrl=forge)
    refused = run(world, "check", "--stack", "userinfo")
    assert refused.returncode == 2 and "pw-in-url-42" not in refused.stdout + refused.stderr
    assert "disinto:forgeUrl: must not hold a user name or password (http://disinto-admin:***@" in refused.stderr
    write_stack(world, "masked", projectToml=str(toml))
    for extra in ((), ("--json",)):
        done = run(world, "check", "--stack", "masked", *extra)
        out = done.stdout + done.stderr
        assert "sk-query-key-31" not in out, out
        assert "api_key=***" in out
    write_stack(world, "masked-nomad", projectToml=str(toml), runtime="nomad")
    env = {"NOMAD_ADDR": "http://ops:nomad-pw-9@127.0.0.1:9", "VAULT_ADDR": "http://127.0.0.1:9/?token=vault-q-8"}
    for extra in ((), ("--json",)):
        done = run(world, "check", "--stack", "masked-nomad", *extra, env=env)
        out = done.stdout + done.stderr
        assert done.returncode == 1 and "Traceback" not in out
        assert "nomad-pw-9" not in out and "vault-q-8" not in out and "ops:***@" in out, out


def test_a_state_file_that_is_no_stack_export_says_why(world):
    toml = write_toml(world, "state", {"dev-qwen": agent(world, "two", "dev-qwen")})
    write_stack(world, "state", projectToml=str(toml))
    cases = {
        '{"resources": []}': "not a `pulumi stack export` (it has no deployment.resources list)",
        "[1, 2": "not JSON",
        "[" * 100000: "not",
    }
    for text, why in cases.items():
        state = world.dir / "not-an-export.json"
        state.write_text(text)
        done = run(world, "check", "--stack", "state", "--state", str(state))
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        assert f"  {state}: {why}" in done.stdout, done.stdout
