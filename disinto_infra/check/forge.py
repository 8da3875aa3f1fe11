"""The Forgejo area of `check`: does Forgejo answer, is the admin a site admin, do the project
repositories exist, and does each agent's token and password log in as that agent's own user.

Each function is one small probe (one or two GETs), run in parallel by the command, through the
same client as the providers (its errors never carry a credential), without retries: a check
reports, it does not insist.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..forgejo.client import Auth, BasicAuth, ForgejoClient, ForgejoError, TokenAuth, path
from .facts import CredentialFacts, RepoFacts
from .sources import AdminCredential


@dataclass(frozen=True)
class Answer:
    ok: bool
    text: str  # the version, the login, or why not


def _client(url: str, timeout: float) -> ForgejoClient:
    return ForgejoClient(url, timeout=timeout, attempts=0)


def version(url: str, timeout: float) -> Answer:
    with _client(url, timeout) as client:
        try:
            body = client.request("GET", "/version", auth=None).body
        except ForgejoError as exc:
            return Answer(False, str(exc))
    return Answer(True, str((body or {}).get("version", "")))


def whoami(url: str, auth: Auth, timeout: float) -> tuple[dict | None, str]:
    """`GET /user` as `auth`: the user, or None and why not."""
    with _client(url, timeout) as client:
        try:
            return client.request("GET", "/user", auth=auth).body or {}, ""
        except ForgejoError as exc:
            if exc.status in (401, 403):
                return None, f"refused (HTTP {exc.status})"
            return None, exc.message if exc.status is None else f"HTTP {exc.status}: {exc.message}"


def admin_status(url: str, admin_user: str, credential: AdminCredential, timeout: float) -> tuple[str, list[str]]:
    """("site admin" | ..., problems)."""
    if credential.auth is None:
        return "not checked: no admin credential (set DISINTO_ADMIN_TOKEN or DISINTO_ADMIN_PASSWORD)", []
    me, why = whoami(url, credential.auth, timeout)
    if me is None:
        return why, [f"{url}: admin credential ({credential.source}): {why}"]
    login = str(me.get("login", ""))
    if not me.get("is_admin"):
        return "not a site admin", [f"{url}: {login} ({credential.source}) is not a site admin"]
    if isinstance(credential.auth, BasicAuth) and login.lower() != admin_user.lower():
        return f"logs in as {login}", [f"{url}: the admin password logs in as {login}, not {admin_user}"]
    return "site admin", []


def repo(url: str, full_name: str, file: str, credential: AdminCredential, timeout: float) -> RepoFacts:
    owner, name = full_name.split("/", 1)
    with _client(url, timeout) as client:
        try:
            client.request("GET", path("repos", owner, name), auth=credential.auth)
        except ForgejoError as exc:
            if exc.status == 404:
                return RepoFacts(full_name, file, False, "not found" + ("" if credential.auth else " (or private)"))
            return RepoFacts(full_name, file, None, str(exc))
    return RepoFacts(full_name, file, True)


def _logs_in_as(url: str, auth: Auth | None, forge_user: str, timeout: float) -> str:
    if auth is None:
        return "missing"
    me, why = whoami(url, auth, timeout)
    if me is None:
        return why
    login = str(me.get("login", ""))
    return "ok" if login.lower() == forge_user.lower() else f"answers as {login}"


def agent_credentials(url: str, agent: str, forge_user: str, env_file: str, env: dict[str, str], suffix: str,
                      timeout: float) -> CredentialFacts:
    token_key, pass_key = f"FORGE_TOKEN_{suffix}", f"FORGE_PASS_{suffix}"
    token, password = env.get(token_key), env.get(pass_key)
    token_state = _logs_in_as(url, TokenAuth(token) if token else None, forge_user, timeout)
    pass_state = _logs_in_as(url, BasicAuth(forge_user, password) if password else None, forge_user, timeout)
    problems = []
    for key, state in ((token_key, token_state), (pass_key, pass_state)):
        if state == "ok":
            continue
        if state.startswith("answers as"):
            # The collision this program exists to end: one agent holding another's identity.
            problems.append(f"{env_file}: {key} (agents.{agent}) {state}, not {forge_user}")
        else:
            problems.append(f"{env_file}: {key} (agents.{agent}): {state}")
    return CredentialFacts(agent, forge_user, token_state, pass_state, tuple(problems))
