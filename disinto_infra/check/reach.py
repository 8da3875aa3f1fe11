"""Where `check` reaches Nomad or Vault: the address and the token, each with where it came from.

As the Pulumi providers find them: the address from `<ns>:address` in the stack file, else the
env variable, else the provider's default; the token from its env variable, a plain value in the
stack file, else `pulumi config get` (sources.secret).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..settings import read_stack_file
from . import sources


@dataclass(frozen=True)
class Endpoint:
    address: str
    address_source: str  # "nomad:address in the stack file", "env NOMAD_ADDR" or "default"
    token_source: str  # "" when no token was found
    token_header: str
    token: str | None = field(default=None, repr=False)

    def headers(self) -> dict[str, str]:
        return {self.token_header: self.token} if self.token else {}


@dataclass(frozen=True)
class Provider:
    """One provider's config names: `nomad` / `vault`."""

    namespace: str
    token_key: str  # under the namespace: secretId / token
    address_env: str
    token_env: str
    default_address: str
    token_header: str


NOMAD = Provider("nomad", "secretId", "NOMAD_ADDR", "NOMAD_TOKEN", "http://127.0.0.1:4646", "X-Nomad-Token")
VAULT = Provider("vault", "token", "VAULT_ADDR", "VAULT_TOKEN", "https://127.0.0.1:8200", "X-Vault-Token")


def _address(provider: Provider, config: Mapping[str, Any], environ: Mapping[str, str]) -> tuple[str, str]:
    written = config.get("address")
    if isinstance(written, str) and written:
        return written, f"{provider.namespace}:address in the stack file"
    if environ.get(provider.address_env):
        return environ[provider.address_env], f"env {provider.address_env}"
    return provider.default_address, "default"


def endpoint(provider: Provider, stack_file: Path, stack: str, environ: Mapping[str, str]) -> Endpoint:
    config = read_stack_file(stack_file, provider.namespace)
    address, address_source = _address(provider, config, environ)
    key = f"{provider.namespace}:{provider.token_key}"
    found = sources.secret(key, provider.token_env, config.get(provider.token_key), stack, stack_file.parent, environ)
    return Endpoint(address.rstrip("/"), address_source, found.source, provider.token_header, found.value)
