"""The `<name>-env` command under Pulumi mocks: secrets only in `environment`, delete first."""

from __future__ import annotations

import asyncio
import os
import shlex

import pulumi
import pytest

from disinto_infra.factory import env_export

TOKEN, PASSWORD = "tok-0123456789abcdef", "pa$$ word'"
BASE_URL = "http://10.10.10.1:8081"


def build(**overrides):
    args = {
        "name": "dev-qwen",
        "suffix": "DEV_QWEN",
        "token": pulumi.Output.from_input(TOKEN),
        "password": PASSWORD,
        "env_file": "/srv/factory/.env",
        "base_url": BASE_URL,
    }
    args.update(overrides)

    @pulumi.runtime.test
    def program():
        return env_export.export_credentials(**args).urn

    program()


def is_secret(output) -> bool:
    return asyncio.get_event_loop().run_until_complete(output.is_secret())


def test_commands_carry_path_and_key_names_but_no_secret(mocked):
    recorder, _ = mocked
    build()
    inputs = recorder.registered["dev-qwen-env"].inputs
    for field in ("create", "update", "delete"):
        assert TOKEN not in inputs[field] and "word" not in inputs[field]
    assert shlex.split(inputs["create"]) == [
        "python3",
        "-m",
        "disinto_infra.envfile",
        "set",
        "--file",
        "/srv/factory/.env",
        "--if-absent",
        "ANTHROPIC_BASE_URL",
        "FORGE_TOKEN_DEV_QWEN",
        "FORGE_PASS_DEV_QWEN",
    ]
    assert inputs["update"] == inputs["create"]
    assert shlex.split(inputs["delete"]) == [
        "python3",
        "-m",
        "disinto_infra.envfile",
        "remove",
        "--file",
        "/srv/factory/.env",
        "FORGE_TOKEN_DEV_QWEN",
        "FORGE_PASS_DEV_QWEN",
    ]  # the base URL line serves every agent: it stays
    assert inputs["triggers"] == ["/srv/factory/.env", "DEV_QWEN"]


def test_secrets_are_secret_outputs_in_environment(mocked):
    recorder, seen = mocked
    build(token=TOKEN)  # even a plain string is wrapped
    environment = seen["dev-qwen-env"].props["environment"]
    assert is_secret(environment["FORGE_TOKEN_DEV_QWEN"])
    assert is_secret(environment["FORGE_PASS_DEV_QWEN"])
    assert environment["PYTHONPATH"] == env_export.PROJECT_ROOT
    registered = recorder.registered["dev-qwen-env"].inputs["environment"]
    assert pulumi.runtime.rpc._special_secret_sig in registered.values()  # the map went over secret
    assert registered["value"]["FORGE_PASS_DEV_QWEN"] == PASSWORD
    assert environment["ANTHROPIC_BASE_URL"] == BASE_URL  # no credentials in it: plain


def test_a_base_url_with_credentials_is_secret_in_environment(mocked):
    _, seen = mocked
    build(base_url="http://user:pass@10.10.10.1:8081")
    assert is_secret(seen["dev-qwen-env"].props["environment"]["ANTHROPIC_BASE_URL"])


def test_delete_before_replace_is_set_and_callers_options_survive(mocked):
    _, seen = mocked
    parent_opts = pulumi.ResourceOptions(protect=False, ignore_changes=["stdin"])
    build(opts=parent_opts)
    opts = seen["dev-qwen-env"].opts
    assert opts.delete_before_replace is True
    assert opts.ignore_changes == ["stdin"]
    assert seen["dev-qwen-env"].type_ == "command:local:Command"


def test_relative_env_file_is_made_absolute_and_quoted(mocked, monkeypatch, tmp_path):
    recorder, _ = mocked
    monkeypatch.chdir(tmp_path)
    build(env_file="my factory/.env")
    create = recorder.registered["dev-qwen-env"].inputs["create"]
    assert shlex.split(create)[5] == os.path.join(str(tmp_path), "my factory/.env")


def test_bad_suffix_is_refused():
    with pytest.raises(ValueError, match="DEV-QWEN"):
        env_export.credential_keys("DEV-QWEN")


def test_the_registered_commands_work_when_run_as_the_provider_would(mocked, tmp_path):
    """Run create, then delete, through /bin/sh with only the registered environment, from a
    folder that is not the checkout: PYTHONPATH alone must find the module."""
    import subprocess

    recorder, _ = mocked
    env_path = tmp_path / ".env"
    env_path.write_text("# keep me\n")
    build(env_file=str(env_path))
    inputs = recorder.registered["dev-qwen-env"].inputs
    environment = {**inputs["environment"]["value"], "PATH": os.environ["PATH"]}
    for field in ("create", "delete"):
        done = subprocess.run(
            ["/bin/sh", "-c", inputs[field]], cwd=tmp_path, env=environment, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        assert TOKEN not in done.stdout + done.stderr
        if field == "create":
            assert f"FORGE_TOKEN_DEV_QWEN='{TOKEN}'" in env_path.read_text()
            assert f"ANTHROPIC_BASE_URL='{BASE_URL}'" in env_path.read_text()
    assert env_path.read_text() == f"# keep me\nANTHROPIC_BASE_URL='{BASE_URL}'\n"


def test_disinto_ups_env_check_passes_for_every_agent_and_the_operators_lines_stay(mocked, tmp_path):
    """The registered `create` of two agents' `-env`, run as the provider runs it, on a factory
    `.env` with the operator's own lines: afterwards the factory's check (re-stated with its source
    in tests/support/factory_env_check.py) finds nothing missing."""
    import subprocess

    from tests.support.factory_env_check import missing_keys

    recorder, _ = mocked
    (tmp_path / "projects").mkdir()
    (tmp_path / "projects" / "disinto.toml").write_text(
        'name = "disinto"\n[agents.dev-qwen]\nbase_url = "http://10.10.10.1:8081"\nmodel = "m"\n'
        'forge_user = "dev-qwen"\n[agents.dev-qwen2]\nbase_url = "http://u:p@10.10.10.2:8081"\nmodel = "m"\n'
    )
    operator = "# mine\nFORGE_URL=http://forgejo:3000\n\nexport EXTRA='x y'\n"
    env_path = tmp_path / ".env"
    env_path.write_text(operator)
    assert missing_keys(tmp_path) == [
        "FORGE_TOKEN_DEV_QWEN",
        "FORGE_PASS_DEV_QWEN",
        "ANTHROPIC_BASE_URL",
        "FORGE_TOKEN_DEV_QWEN2_BOT",
        "FORGE_PASS_DEV_QWEN2_BOT",
        "ANTHROPIC_BASE_URL",
    ]
    for name, suffix, url in (
        ("dev-qwen", "DEV_QWEN", "http://10.10.10.1:8081"),
        ("dev-qwen2", "DEV_QWEN2_BOT", "http://u:p@10.10.10.2:8081"),
    ):
        build(name=name, suffix=suffix, env_file=str(env_path), base_url=url)
        inputs = recorder.registered[f"{name}-env"].inputs
        environment = {**inputs["environment"]["value"], "PATH": os.environ["PATH"]}
        done = subprocess.run(
            ["/bin/sh", "-c", inputs["create"]], cwd=tmp_path, env=environment, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
    assert missing_keys(tmp_path) == []
    text = env_path.read_text()
    assert text.startswith(operator)
    assert text.count("ANTHROPIC_BASE_URL=") == 1 and "ANTHROPIC_BASE_URL='http://10.10.10.1:8081'\n" in text
