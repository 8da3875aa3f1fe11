"""check.report: the Vault token's time left, and no Nomad or Vault section without their facts."""

from __future__ import annotations

from disinto_infra.commands.check.facts import CheckReport, ForgeFacts, VaultFacts
from disinto_infra.commands.check.report import to_text, vault_section


def vault(ttl: int | None) -> VaultFacts:
    return VaultFacts(
        "http://v:8200",
        "default",
        "env VAULT_TOKEN",
        "standby",
        "",
        "valid",
        ("a", "b"),
        ttl,
        "kv",
        "kv v2",
        "jwt-nomad",
        "jwt",
    )


def test_token_time_left():
    rows = {ttl: vault_section(vault(ttl))[3].split(None, 1)[1] for ttl in (0, 5400, 2764800, None)}
    assert rows == {
        0: "valid (env VAULT_TOKEN): policies a, b, never expires",
        5400: "valid (env VAULT_TOKEN): policies a, b, expires in 1h 30m",
        2764800: "valid (env VAULT_TOKEN): policies a, b, expires in 32d 0h",
        None: "valid (env VAULT_TOKEN): policies a, b",
    }
    assert vault_section(vault(0))[0] == "Vault http://v:8200 (default)"


def test_a_docker_report_has_no_cluster_section_nor_key():
    forge = ForgeFacts("http://f:3000", True, "11", "", "admin", "", "not checked: x", ())
    report = CheckReport("dev", (), forge, None, (), "unknown: x", ())
    assert "Nomad" not in to_text(report) and "Vault" not in to_text(report)
    assert "\n\n\n" not in to_text(report)
    assert not {"nomad", "vault"} & set(report.to_json())
    with_vault = CheckReport("dev", (), forge, None, (), "unknown: x", (), vault=vault(0))
    assert with_vault.to_json()["vault"]["token_policies"] == ["a", "b"] and "nomad" not in with_vault.to_json()
