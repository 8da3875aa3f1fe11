"""Where a provider finds Forgejo and its admin credentials: stack config, at run time.

The provider object is pickled into the state (`__provider`), so it must carry nothing: the host
calls `configure()` with the stack config, and we keep the resulting settings in this module,
behind a lock, for every provider call of that host process. No admin credential is ever an input.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from disinto_infra.forgejo.client import Auth, BasicAuth, ForgejoClient, TokenAuth

NAMESPACE = "disinto"
DEFAULT_URL = "http://localhost:3000"
DEFAULT_ADMIN_USER = "disinto-admin"
DEFAULT_TIMEOUT = 30.0
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
    adopt_existing_users: bool = True
    timeout: float = DEFAULT_TIMEOUT

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


def _get(config: object, key: str) -> str | None:
    value = config.get(f"{NAMESPACE}:{key}")  # type: ignore[attr-defined]
    return None if value in (None, "") else str(value)


def _flag(raw: str | None, key: str, default: bool) -> bool:
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise ConfigurationError(f"stack config {NAMESPACE}:{key}: expected true or false, got {raw!r}")


def from_config(config: object) -> Connection:
    """Read the connection from a `pulumi.dynamic.Config` (or anything with `.get(key)`)."""
    token, password = _get(config, "adminToken"), _get(config, "adminPassword")
    if not token and not password:
        raise ConfigurationError(
            f"stack config: set {NAMESPACE}:adminToken (a token of {NAMESPACE}:adminUser, a site admin, with "
            f"{', '.join(ADMIN_TOKEN_SCOPES)}, or all) "
            f"or {NAMESPACE}:adminUser and {NAMESPACE}:adminPassword, both with --secret"
        )
    timeout = _get(config, "forgeTimeout")
    try:
        seconds = float(timeout) if timeout else DEFAULT_TIMEOUT
    except ValueError:
        raise ConfigurationError(f"stack config {NAMESPACE}:forgeTimeout: expected seconds, got {timeout!r}") from None
    return Connection(
        url=_get(config, "forgeUrl") or DEFAULT_URL,
        admin_user=_get(config, "adminUser") or DEFAULT_ADMIN_USER,
        admin_token=token,
        admin_password=password,
        adopt_existing_users=_flag(_get(config, "adoptExistingUsers"), "adoptExistingUsers", True),
        timeout=seconds,
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
