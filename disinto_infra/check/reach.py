"""Where `check` reaches Nomad or Vault: the address and the token, each with where it came from.

As the Pulumi providers find them: the address from `<ns>:address` in the stack file, else the
env variable, else the provider's default; the token from its env variable, else `pulumi config
get` (the settings refuse a plain one in the stack file: settings.PROVIDER_SECRETS); TLS as the
provider verifies it: a CA file (`nomad:caFile` / `vault:caCertFile`, else `NOMAD_CACERT` /
`VAULT_CACERT`), or none at all with `nomad:skipVerify` / `vault:skipTlsVerify` (else
`NOMAD_SKIP_VERIFY` / `VAULT_SKIP_VERIFY`).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..settings import PROVIDER_SECRETS, SECRET_PLACEHOLDER, read_stack_file
from . import sources


@dataclass(frozen=True)
class Endpoint:
    address: str
    address_source: str  # "nomad:address in the stack file", "env NOMAD_ADDR" or "default"
    token_source: str  # "" when no token was found
    token_header: str
    token: str | None = field(default=None, repr=False)
    verify: bool | str = True  # requests' `verify`: a CA file, or False to skip

    def headers(self) -> dict[str, str]:
        return {self.token_header: self.token} if self.token else {}


@dataclass(frozen=True)
class Provider:
    """One provider's config names: `nomad` / `vault`."""

    namespace: str
    token_key: str  # under the namespace: secretId / token
    default_address: str
    token_header: str
    ca_key: str
    skip_key: str

    def env(self, suffix: str) -> str:
        """The provider's env variable: NOMAD_ADDR, VAULT_CACERT, ..."""
        return f"{self.namespace.upper()}_{suffix}"

    @property
    def config_token(self) -> str:
        return f"{self.namespace}:{self.token_key}"

    @property
    def token_env(self) -> str:
        return PROVIDER_SECRETS[self.config_token]


NOMAD = Provider("nomad", "secretId", "http://127.0.0.1:4646", "X-Nomad-Token", "caFile", "skipVerify")
VAULT = Provider("vault", "token", "https://127.0.0.1:8200", "X-Vault-Token", "caCertFile", "skipTlsVerify")
TRUE = ("1", "true", "yes")


def _written(config: Mapping[str, Any], key: str) -> Any:
    value = config.get(key)
    return None if value in (None, "", SECRET_PLACEHOLDER) else value


def _address(provider: Provider, config: Mapping[str, Any], environ: Mapping[str, str]) -> tuple[str, str]:
    written = _written(config, "address")
    if isinstance(written, str):
        return written, f"{provider.namespace}:address in the stack file"
    if environ.get(provider.env("ADDR")):
        return environ[provider.env("ADDR")], f"env {provider.env('ADDR')}"
    return provider.default_address, "default"


def _verify(provider: Provider, config: Mapping[str, Any], environ: Mapping[str, str],
            project_dir: Path) -> bool | str:
    skip = _written(config, provider.skip_key)
    if skip is None:
        skip = environ.get(provider.env("SKIP_VERIFY"), "")
    if str(skip).lower() in TRUE:
        return False
    ca_file = _written(config, provider.ca_key) or environ.get(provider.env("CACERT"))
    # Relative to the project folder, where the providers run.
    return str(project_dir / str(ca_file)) if ca_file else True


def endpoint(provider: Provider, stack_file: Path, stack: str, environ: Mapping[str, str]) -> Endpoint:
    config = read_stack_file(stack_file, provider.namespace)
    address, address_source = _address(provider, config, environ)
    found = (sources.from_env(environ, provider.token_env)
             or sources.from_pulumi(provider.config_token, stack, stack_file.parent) or sources.Secret(""))
    return Endpoint(address.rstrip("/"), address_source, found.source, provider.token_header, found.value,
                    _verify(provider, config, environ, stack_file.parent))
