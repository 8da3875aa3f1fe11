"""Where `check` reaches Nomad or Vault: the address and the token, each with where it came from;
and what the two areas share (a `Target` that asks in the pool, a `Judged` row).

Address, token and TLS are found as the Pulumi providers find them: the stack file, else the env
variable, else the provider's default. An address without http:// or https://, a CA file that does
not exist or a token no HTTP header can carry makes the endpoint unusable: it is not asked, and the
problem names the setting it came from. Why: docs/decisions/check-credential-sources.md.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from disinto_infra import http_get
from disinto_infra.commands.check import sources
from disinto_infra.config.stack_settings import NAMESPACE, PROVIDER_SECRETS, SECRET_PLACEHOLDER, read_stack_file
from disinto_infra.http_get import Reply


class Ask(Protocol):
    """Submits one GET of `path` on a target (see `Target.asker`)."""

    def __call__(
        self, path: str, headers: Mapping[str, str], params: Mapping[str, str] | None = None
    ) -> Future[Reply]: ...


@dataclass(frozen=True)
class Endpoint:
    address: str
    address_source: str  # "nomad:address in the stack file", "env NOMAD_ADDR" or "default"
    token_source: str  # "" when no token was found
    token_header: str
    token: str | None = field(default=None, repr=False)
    verify: bool | str = True  # requests' `verify`: a CA file, or False to skip
    problem: str = ""  # why it cannot be asked at all: a problem line naming the setting
    unusable: str = ""  # the same, short, for a row

    def headers(self) -> dict[str, str]:
        return {self.token_header: self.token} if self.token else {}

    def unanswered(self, service: str, reply: Reply) -> Judged:
        """The row and problem of the first GET (leader, health) when there was no answer."""
        if self.problem:
            return Judged(f"not asked: {self.unusable}", self.problem)
        return Judged(
            f"no answer: {reply.failure}",
            f"{self.address} ({self.address_source}): {service} does not answer: {reply.failure}",
        )


@dataclass(frozen=True)
class Judged:
    """One probe's row, and a problem or (Nomad) the capability a 403 said the token lacks."""

    found: str
    problem: str | None = None
    lacks: str | None = None


@dataclass(frozen=True)
class Target:
    """What a Nomad or Vault area asks: where, and the stack file for problem lines naming a setting."""

    endpoint: Endpoint
    stack_file: str

    def setting(self, key: str) -> str:
        return f"{self.stack_file}: {NAMESPACE}:{key}"

    def asker(self, pool: Executor, timeout: float) -> Ask:
        """`ask(path, headers, params)` submits one GET; an unusable endpoint is not asked, its
        replies say why at once."""
        ep = self.endpoint

        def ask(path: str, headers: Mapping[str, str], params: Mapping[str, str] | None = None) -> Future[Reply]:
            if ep.problem:
                unasked: Future[Reply] = Future()
                unasked.set_result(Reply(None, failure=ep.unusable))
                return unasked
            return pool.submit(http_get.get, ep.address + path, headers, timeout, params, ep.verify)

        return ask


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


def _written(config: Mapping[str, object], key: str) -> object:
    value = config.get(key)
    return None if value in (None, "", SECRET_PLACEHOLDER) else value


@dataclass(frozen=True)
class Found:
    """A setting's value and where it came from: `Pulumi.dev.yaml: nomad:caFile`, `env NOMAD_CACERT`."""

    value: object
    origin: str = ""  # empty: the provider's default


def _setting(
    provider: Provider,
    key: str,
    env_suffix: str,
    config: Mapping[str, object],
    environ: Mapping[str, str],
    stack_file: Path,
) -> Found | None:
    """As the providers read a setting: the stack file, else the env variable."""
    written = _written(config, key)
    if written is not None:
        return Found(written, f"{stack_file}: {provider.namespace}:{key}")
    name = provider.env(env_suffix)
    return Found(environ[name], f"env {name}") if environ.get(name) else None


def _address(
    provider: Provider, config: Mapping[str, object], environ: Mapping[str, str], stack_file: Path
) -> tuple[Found, str]:
    """The address, and where it came from in a report's words."""
    found = _setting(provider, "address", "ADDR", config, environ, stack_file)
    if found is None:
        return Found(provider.default_address), "default"
    if found.origin.startswith("env "):
        return found, found.origin
    return found, f"{provider.namespace}:address in the stack file"


def _verify(
    provider: Provider, config: Mapping[str, object], environ: Mapping[str, str], stack_file: Path
) -> tuple[bool | str, str]:
    """requests' `verify`, and the problem of a CA file that does not exist."""
    skip = _written(config, provider.skip_key)
    if skip is None:
        skip = environ.get(provider.env("SKIP_VERIFY"), "")
    if str(skip).lower() in TRUE:
        return False, ""
    ca_file = _setting(provider, provider.ca_key, "CACERT", config, environ, stack_file)
    if ca_file is None:
        return True, ""
    # Relative to the project folder, where the providers run.
    path = str(stack_file.parent / str(ca_file.value))
    return path, "" if os.path.exists(path) else f"{ca_file.origin}: no such file {path}"


def _sendable(token: str | None) -> bool:
    try:
        (token or "").encode("latin-1")  # http.client's encoding of header values
    except UnicodeEncodeError:
        return False
    return True


def _unusable(address: Found, ca_problem: str, token: sources.Secret) -> tuple[str, str]:
    """The first reason the endpoint cannot be asked: a problem line and its short form."""
    if not str(address.value).lower().startswith(("http://", "https://")):
        return f'{address.origin}: "{address.value}" must start with http:// or https://', "no http:// or https://"
    if ca_problem:
        return ca_problem, "no CA file"
    if not _sendable(token.value):
        return f"{token.source}: {http_get.BAD_TOKEN}", "the token cannot be sent"
    return "", ""


def endpoint(provider: Provider, stack_file: Path, stack: str, environ: Mapping[str, str]) -> Endpoint:
    config = read_stack_file(stack_file, provider.namespace)
    address, address_source = _address(provider, config, environ, stack_file)
    found = (
        sources.from_env(environ, provider.token_env)
        or sources.from_pulumi(provider.config_token, stack, stack_file.parent)
        or sources.Secret("")
    )
    verify, ca_problem = _verify(provider, config, environ, stack_file)
    problem, unusable = _unusable(address, ca_problem, found)
    return Endpoint(
        str(address.value).rstrip("/"),
        address_source,
        found.source,
        provider.token_header,
        found.value,
        verify,
        problem,
        unusable,
    )
