"""Where a provider finds Forgejo and its admin credentials: stack config, at run time.

The provider object is pickled into the state (`__provider`), so it must carry nothing: the host
calls `configure()` with the stack config, and we keep the resulting settings in this module,
behind a lock, for every provider call of that host process. No admin credential is ever an input.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from disinto_infra.config.project_toml import ConfigError
from disinto_infra.config.stack_settings import NAMESPACE, ForgeAccess
from disinto_infra.forgejo.client import Auth, BasicAuth, ForgejoClient, TokenAuth

# What the providers do with the admin token: create, edit and look up users (write:admin, read:user),
# tell a user from an organization before adopting it (read:organization), grant collaborators and
# keep `.profile` (write:repository). The list of the README and docs/settings.md, in one place for the messages.
ADMIN_TOKEN_SCOPES = ("write:admin", "read:user", "read:organization", "write:repository")


class ConfigurationError(Exception):
    """The stack config does not say how to reach Forgejo as an admin."""


@dataclass(frozen=True)
class Connection:
    url: str
    admin_user: str
    admin_token: str | None = field(default=None, repr=False)
    admin_password: str | None = field(default=None, repr=False)
    # The stack settings' defaults, for a Connection made without the stack config (tests, commands).
    adopt_existing_users: bool = ForgeAccess.model_fields["adopt_existing_users"].default
    timeout: float = ForgeAccess.model_fields["forge_timeout"].default

    @property
    def admin_auth(self) -> Auth:
        """The admin's token when there is one (works with 2FA), else its password."""
        if self.admin_token:
            return TokenAuth(self.admin_token)
        return self.admin_basic_auth()

    def admin_basic_auth(self) -> BasicAuth:
        """Password auth for the few endpoints that refuse tokens (Forgejo 11 token endpoints)."""
        if not self.admin_password:
            raise ConfigurationError(
                f"this needs {NAMESPACE}:adminUser and {NAMESPACE}:adminPassword "
                f"(Forgejo refuses token auth here); set them with "
                f"`pulumi config set --secret {NAMESPACE}:adminPassword`"
            )
        return BasicAuth(self.admin_user, self.admin_password)

    @property
    def has_admin_password(self) -> bool:
        return bool(self.admin_password)

    def client(self) -> ForgejoClient:
        return ForgejoClient(self.url, timeout=self.timeout)

    def is_admin_user(self, username: str) -> bool:
        return username.lower() == self.admin_user.lower()


def from_config(config: object) -> Connection:
    """Read the connection from a `pulumi.dynamic.Config` (or anything with `.get(key)`), through
    the same model and defaults as the stack settings (config/stack_settings.py ForgeAccess)."""
    try:
        access = ForgeAccess.from_config(config.get)  # type: ignore[attr-defined]
    except ConfigError as exc:
        raise ConfigurationError("; ".join(exc.problems)) from None
    token, password = access.admin_token, access.admin_password
    if not token and not password:
        raise ConfigurationError(
            f"stack config: set {NAMESPACE}:adminToken (a token of {NAMESPACE}:adminUser, a site admin, with "
            f"{', '.join(ADMIN_TOKEN_SCOPES)}, or all) "
            f"or {NAMESPACE}:adminUser and {NAMESPACE}:adminPassword, both with --secret"
        )
    return Connection(
        url=access.forge_url,
        admin_user=access.admin_user,
        admin_token=str(token) if token else None,
        admin_password=str(password) if password else None,
        adopt_existing_users=access.adopt_existing_users,
        timeout=access.forge_timeout,
    )


_lock = threading.Lock()
_current: Connection | None = None
_problem: str | None = None


def configure(config: object) -> None:
    """Called from every provider's `configure()`; remembers the connection for this process.

    A configuration problem is kept and raised by the first call that needs Forgejo, so that
    a preview of resources that need no request (check, diff) still works without credentials.
    """
    global _current, _problem
    try:
        connection, problem = from_config(config), None
    except ConfigurationError as exc:
        connection, problem = None, str(exc)
    with _lock:
        _current, _problem = connection, problem


def current() -> Connection:
    with _lock:
        connection, problem = _current, _problem
    if connection is None:
        raise ConfigurationError(problem or "the Forgejo provider was not configured (no stack config received)")
    return connection
