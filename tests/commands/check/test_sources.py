"""check.sources: where admin credentials and the .env values come from."""

from __future__ import annotations

import pytest

from disinto_infra import envfile
from disinto_infra.commands.check.sources import admin_credential, read_env_file, read_state
from disinto_infra.config.stack_settings import SECRET_PLACEHOLDER, StackSettings
from disinto_infra.forgejo.client import BasicAuth, TokenAuth


@pytest.mark.parametrize("value", ["plain", "it's", 'a$b\\c"d', "ends\\", "#hash = x", ""])
def test_env_values_read_back_what_envfile_wrote(tmp_path, value):
    path = tmp_path / ".env"
    path.write_text("# factory .env\nexport OTHER=1\n")
    envfile.set_values(str(path), {"FORGE_TOKEN_A": value})
    assert read_env_file(path) == {"OTHER": "1", "FORGE_TOKEN_A": value}


def test_admin_credential_order(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no pulumi CLI
    encrypted = StackSettings.from_mapping({"adminPassword": SECRET_PLACEHOLDER}, tmp_path)
    assert admin_credential(encrypted, "dev", {}).source == ""
    env = admin_credential(encrypted, "dev", {"DISINTO_ADMIN_PASSWORD": "pw", "DISINTO_ADMIN_TOKEN": "tok"})
    assert env.source == "env DISINTO_ADMIN_TOKEN" and env.auth == TokenAuth("tok")
    plain = StackSettings.from_mapping({"adminPassword": "pw", "adminUser": "boss"}, tmp_path)
    found = admin_credential(plain, "dev", {})
    assert found.auth == BasicAuth("boss", "pw") and "pw" not in repr(found)


def test_an_admin_token_with_a_newline_is_one_problem_and_never_sent(tmp_path, monkeypatch):
    """Issue 28 item 10: said once, instead of an InvalidHeader on every request made with it."""
    from disinto_infra.commands.check import forge

    monkeypatch.setenv("PATH", str(tmp_path))
    settings = StackSettings.from_mapping({}, tmp_path)
    found = admin_credential(settings, "dev", {"DISINTO_ADMIN_TOKEN": "tok-41\n"})
    assert found.auth is None and "line break" in found.problem and "env DISINTO_ADMIN_TOKEN" in found.problem
    assert "tok-41" not in found.problem
    status, problems = forge.admin_status("http://127.0.0.1:9", "disinto-admin", found, 1)
    assert status.startswith("not usable") and len(problems) == 1 and "line break" in problems[0]


def test_state_file_problems_say_unknown(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert read_state(None, "dev", tmp_path).source.startswith("unknown: no Pulumi CLI on PATH")
    broken = tmp_path / "s.json"
    broken.write_text("{")
    assert read_state(broken, "dev", tmp_path).source.startswith(f"unknown: {broken}: ")
    assert (
        read_state(tmp_path / "gone.json", "dev", tmp_path).source
        == f"unknown: {tmp_path / 'gone.json'}: cannot read: No such file or directory"
    )
