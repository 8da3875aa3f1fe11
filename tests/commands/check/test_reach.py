"""check.reach: where Nomad and Vault are, and where their tokens come from."""

from __future__ import annotations

import textwrap

from disinto_infra.commands.check.reach import NOMAD, VAULT, endpoint
from disinto_infra.config.stack_settings import SECRET_PLACEHOLDER


def stack_file(tmp_path, body: str):
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text("config:\n" + textwrap.indent(textwrap.dedent(body), "  "))
    return path


def test_address_from_the_stack_file_then_env_then_the_default(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no pulumi CLI
    written = stack_file(tmp_path, "nomad:address: http://nomad.lan:4646/\n")
    found = endpoint(NOMAD, written, "dev", {"NOMAD_ADDR": "http://other:4646"})
    assert (found.address, found.address_source) == ("http://nomad.lan:4646", "nomad:address in the stack file")
    empty = stack_file(tmp_path, "disinto:runtime: nomad\n")
    assert endpoint(VAULT, empty, "dev", {"VAULT_ADDR": "http://v:8200"}).address_source == "env VAULT_ADDR"
    default = endpoint(VAULT, empty, "dev", {})
    assert (default.address, default.address_source, default.token_source) == ("https://127.0.0.1:8200", "default", "")
    assert default.headers() == {}


def test_token_from_env_then_pulumi(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no pulumi CLI yet
    secure = stack_file(tmp_path, "nomad:secretId:\n  secure: v1:abc\n")
    from_env = endpoint(VAULT, secure, "dev", {"VAULT_TOKEN": "hvs.env-2"})
    assert from_env.token_source == "env VAULT_TOKEN" and from_env.headers() == {"X-Vault-Token": "hvs.env-2"}
    assert "hvs.env-2" not in repr(from_env)
    assert endpoint(NOMAD, secure, "dev", {}).token_source == ""  # encrypted, and no CLI to decrypt it
    fake = tmp_path / "pulumi"
    fake.write_text('#!/bin/sh\n[ "$*" = "config get nomad:secretId --stack dev" ] && echo acl-3 || exit 1\n')
    fake.chmod(0o755)
    found = endpoint(NOMAD, secure, "dev", {})
    assert (found.token_source, found.headers()) == ("pulumi config get nomad:secretId", {"X-Nomad-Token": "acl-3"})
    assert SECRET_PLACEHOLDER not in found.headers().values()


def test_tls_as_the_providers_verify_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    empty = stack_file(tmp_path, "disinto:runtime: nomad\n")
    assert endpoint(VAULT, empty, "dev", {}).verify is True
    assert endpoint(VAULT, empty, "dev", {"VAULT_CACERT": "/etc/vault.d/ca.pem"}).verify == "/etc/vault.d/ca.pem"
    assert endpoint(NOMAD, empty, "dev", {"NOMAD_SKIP_VERIFY": "true"}).verify is False
    written = stack_file(tmp_path, "nomad:caFile: tls/nomad-ca.pem\nvault:skipTlsVerify: true\n")
    ca_file = endpoint(NOMAD, written, "dev", {"NOMAD_CACERT": "/elsewhere.pem"}).verify
    assert ca_file == str(tmp_path / "tls/nomad-ca.pem")
    assert endpoint(VAULT, written, "dev", {"VAULT_CACERT": "/ca.pem"}).verify is False


def test_an_endpoint_that_cannot_be_asked_names_the_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    no_scheme = stack_file(tmp_path, 'nomad:address: "127.0.0.1:4646"\n')
    found = endpoint(NOMAD, no_scheme, "dev", {})
    assert (found.problem, found.unusable) == (
        f'{no_scheme}: nomad:address: "127.0.0.1:4646" must start with http:// or https://',
        "no http:// or https://",
    )
    assert endpoint(VAULT, no_scheme, "dev", {"VAULT_ADDR": "vault:8200"}).problem == (
        'env VAULT_ADDR: "vault:8200" must start with http:// or https://'
    )
    written = stack_file(tmp_path, "nomad:caFile: tls/ca.pem\n")
    assert endpoint(NOMAD, written, "dev", {}).problem == (
        f"{written}: nomad:caFile: no such file {tmp_path / 'tls/ca.pem'}"
    )
    assert endpoint(VAULT, written, "dev", {"VAULT_CACERT": "/x/ca.pem"}).problem == (
        "env VAULT_CACERT: no such file /x/ca.pem"
    )
    (tmp_path / "tls").mkdir()
    (tmp_path / "tls/ca.pem").write_text("")
    assert endpoint(NOMAD, written, "dev", {}).problem == ""
    unsendable = endpoint(VAULT, written, "dev", {"VAULT_TOKEN": "hvs.tök€n"})
    assert unsendable.problem == "env VAULT_TOKEN: the token holds characters an HTTP header cannot carry"
    assert "tök€n" not in unsendable.problem + repr(unsendable)
