"""The Forgejo area of `check`: does Forgejo answer, is the admin a site admin, do the project
repositories exist, and does each agent's token and password log in as that agent's own user.

Each function is one small probe (one or two GETs), run in parallel by the command, through the
same client as the providers (its errors never carry a credential), without retries: a check
reports, it does not insist.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from disinto_infra.commands.check.facts import CredentialFacts, RepoFacts
from disinto_infra.commands.check.sources import AdminCredential
from disinto_infra.config import token_scopes
from disinto_infra.forgejo import profile_rule
from disinto_infra.forgejo.client import Auth, BasicAuth, ForgejoClient, ForgejoError, TokenAuth, path
from disinto_infra.forgejo.connection import ADMIN_TOKEN_SCOPES
from disinto_infra.forgejo.profile_repo import REPO_NAME
from disinto_infra.forgejo.profile_rule import MAIN_BRANCH
from disinto_infra.forgejo.user import OTP_REFUSAL, SECURITY_KEY_REFUSAL
from disinto_infra.parsed import JsonObject


@dataclass(frozen=True)
class Answer:
    ok: bool
    text: str  # the version, the login, or why not


def _client(url: str, timeout: float) -> ForgejoClient:
    return ForgejoClient(url, timeout=timeout, attempts=0)


def version(url: str, timeout: float) -> Answer:
    with _client(url, timeout) as client:
        try:
            body = client.request("GET", "/version", auth=None).as_object()
        except ForgejoError as exc:
            return Answer(False, str(exc))
    return Answer(True, str(body.get("version", "")))


def _ask_user(url: str, auth: Auth, timeout: float) -> tuple[JsonObject | None, ForgejoError | None]:
    with _client(url, timeout) as client:
        try:
            return client.request("GET", "/user", auth=auth).as_object(), None
        except ForgejoError as exc:
            return None, exc


def _why(exc: ForgejoError) -> str:
    if exc.status in (401, 403):
        return f"refused (HTTP {exc.status})"
    return exc.message if exc.status is None else f"HTTP {exc.status}: {exc.message}"


def whoami(url: str, auth: Auth, timeout: float) -> tuple[JsonObject | None, str]:
    """`GET /user` as `auth`: the user, or None and why not."""
    me, exc = _ask_user(url, auth, timeout)
    return me, _why(exc) if exc else ""


def admin_status(url: str, admin_user: str, credential: AdminCredential, timeout: float) -> tuple[str, list[str]]:
    """("site admin" | ..., problems)."""
    if credential.problem:
        return "not usable: see the problems", [f"{url}: {credential.problem}"]
    if credential.auth is None:
        return "not checked: no admin credential (set DISINTO_ADMIN_TOKEN or DISINTO_ADMIN_PASSWORD)", []
    me, exc = _ask_user(url, credential.auth, timeout)
    if me is None:
        if exc is not None and exc.status == 401 and SECURITY_KEY_REFUSAL in exc.message:
            return "has a security key", [
                f"{url}: the admin password ({credential.source}) is refused: {admin_user} has a security key "
                f"(WebAuthn) enrolled, and Forgejo then takes no password over basic auth at all, one-time code or "
                f"not; give a token of {admin_user} instead (disinto:adminToken or DISINTO_ADMIN_TOKEN, with "
                f"{', '.join(ADMIN_TOKEN_SCOPES)}, or all)"
            ]
        if exc is not None and exc.status == 401 and OTP_REFUSAL in exc.message:
            return "has two-factor authentication", [
                f"{url}: the admin password ({credential.source}) is refused: {admin_user} has two-factor "
                f"authentication and Forgejo takes its password only with a one-time code; give a token of "
                f"{admin_user} instead (disinto:adminToken or DISINTO_ADMIN_TOKEN, with write:admin, read:user, "
                f"read:organization and write:repository, or all)"
            ]
        why = _why(exc) if exc else "no answer"
        return why, [f"{url}: admin credential ({credential.source}): {why}"]
    login = str(me.get("login", ""))
    if not me.get("is_admin"):
        return "not a site admin", [f"{url}: {login} ({credential.source}) is not a site admin"]
    if login.lower() != admin_user.lower():
        if isinstance(credential.auth, BasicAuth):
            return f"logs in as {login}", [f"{url}: the admin password logs in as {login}, not {admin_user}"]
        # The `.profile` rule whitelists disinto:adminUser for the pushes the provider makes with this
        # token: its owner would be refused (profile_rule.edit_body; Forgejo gives admins no bypass).
        return f"token of {login}", [
            f"{url}: the admin token ({credential.source}) belongs to {login}, not disinto:adminUser "
            f"{admin_user}: the .profile rules whitelist {admin_user}, so the provider's own pushes to "
            f".profile would be refused; set disinto:adminUser to {login}, or use a token of {admin_user}"
        ]
    return "site admin", []


def basic_auth_problem(url: str, timeout: float) -> str | None:
    """Is basic authentication with a password switched off? Then no agent token can be made.

    A made-up user and password: with ENABLE_BASIC_AUTHENTICATION on, Forgejo tries to sign them in
    and answers 401 on every endpoint, /version too; switched off, it does not try and /version
    answers as to anyone (200, or 403 under REQUIRE_SIGNIN_VIEW). Why: docs/decisions/check-basic-auth.md.
    """
    probe = BasicAuth(f"disinto-check-{secrets.token_hex(6)}", secrets.token_urlsafe(16))
    with _client(url, timeout) as client:
        try:
            client.request("GET", "/version", auth=probe)
        except ForgejoError as exc:
            if exc.status != 403:  # 401: the password was tried; no answer: nothing to tell
                return None
    return (
        f"{url}: basic authentication is switched off (ENABLE_BASIC_AUTHENTICATION = false): Forgejo 11 makes "
        f"an agent's token only over basic auth with a password and has no admin route for another user's "
        f"tokens, so no agent token can be made. Set [service] ENABLE_BASIC_AUTHENTICATION = true in Forgejo's app.ini"
    )


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


def agent_credentials(
    url: str, agent: str, forge_user: str, env_file: str, env: dict[str, str], suffix: str, timeout: float
) -> CredentialFacts:
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


def _exists(client: ForgejoClient, api_path: str, auth: Auth) -> bool:
    try:
        client.request("GET", api_path, auth=auth)
        return True
    except ForgejoError as exc:
        if exc.status == 404:
            return False
        raise


def profile_rule_problem(
    url: str, agent: str, forge_user: str, admin_user: str, credential: AdminCredential, timeout: float
) -> str | None:
    """The rule on `<forge_user>/.profile` `main` as it stands, against the one the provider keeps.

    The agent owns its `.profile` and may change or remove the rule (docs/profile-repo.md): the next
    `up` restores it, and this says so now. Compared as the provider compares (profile_rule.drift).
    No admin credential, or no `.profile` yet (not made until the first `up`): nothing to report.
    """
    if credential.auth is None:
        return None
    repo = f"{forge_user}/{REPO_NAME}"
    with _client(url, timeout) as client:
        try:
            rule = client.request(
                "GET", path("repos", forge_user, REPO_NAME, "branch_protections", MAIN_BRANCH), auth=credential.auth
            ).as_object()
        except ForgejoError as exc:
            if exc.status != 404:
                return f"{url}: {repo} (agents.{agent}): cannot read the rule on {MAIN_BRANCH}: {_why(exc)}"
            if not _exists(client, path("repos", forge_user, REPO_NAME), credential.auth):
                return None
            return (
                f"{url}: {repo} (agents.{agent}): no branch rule on {MAIN_BRANCH}: the agent can rewrite "
                f"formula.toml; the next `pulumi up` makes the rule again"
            )
    differing = profile_rule.drift(profile_rule.observed(rule, admin_user))
    if not differing:
        return None
    return (
        f"{url}: {repo} (agents.{agent}): the rule on {MAIN_BRANCH} differs from the wanted one in "
        f"{', '.join(differing)}; the next `pulumi up` puts it back"
    )


def admin_token_scopes(url: str, admin_user: str, credential: AdminCredential, timeout: float) -> tuple[str, list[str]]:
    """The admin token's own scopes, from its user's token list, against what the providers ask of it.

    `GET /users/{u}/tokens` takes token auth (only creating and deleting need a password) and lists
    each token's `scopes` and `token_last_eight`: the entry ending like ours is this token. ("", [])
    when the credential is a password. Why: docs/decisions/password-checks.md.
    """
    if not isinstance(credential.auth, TokenAuth):
        return "", []
    mine = credential.auth.token[-8:]
    with _client(url, timeout) as client:
        try:
            listed = list(client.paginate(path("users", admin_user, "tokens"), auth=credential.auth))
        except ForgejoError as exc:
            return f"not checked: {_why(exc)}", []
    entry = next((t for t in listed if isinstance(t, dict) and t.get("token_last_eight") == mine), None)
    if entry is None:
        return f"not checked: no token of {admin_user} ends like this one", []
    held = [str(s) for s in entry.get("scopes") or []]
    missing = token_scopes.missing(held, ADMIN_TOKEN_SCOPES)
    shown = ", ".join(held) or "none"
    if not missing:
        return shown, []
    return f"{shown} (lacks {', '.join(missing)})", [
        f"{url}: the admin token ({credential.source}) lacks {', '.join(missing)}: `pulumi up` would fail with "
        f"HTTP 403 where it needs them. Make a token of {admin_user} with {', '.join(ADMIN_TOKEN_SCOPES)} (or all)"
    ]


# A password in every breach list, long and mixed enough for any PASSWORD_COMPLEXITY at the default
# MIN_PASSWORD_LENGTH (8): Forgejo checks it before the name (docs/decisions/password-checks.md).
BREACHED_PASSWORD = "P@ssw0rd"
PWN_REFUSAL = "PasswordPwned"


def password_pwn_check(url: str, admin_user: str, credential: AdminCredential, timeout: float) -> tuple[str, str]:
    """Whether Forgejo checks new passwords against Have I Been Pwned ([security] PASSWORD_CHECK_PWN).

    No route shows the setting. An admin create of the admin's own (existing) name with a breached
    password answers 400 PasswordPwned when the check is on, 422 "user already exists" when it is off;
    nothing is created either way. (state, warning or "").
    """
    if credential.auth is None:
        return "not checked: no admin credential", ""
    body = {"username": admin_user, "email": f"{admin_user}@check.invalid", "password": BREACHED_PASSWORD}
    with _client(url, timeout) as client:
        try:
            client.request("POST", path("admin", "users"), auth=credential.auth, json=body, ok=(201,))
        except ForgejoError as exc:
            if exc.status == 422:
                return "off", ""
            if exc.status == 400 and PWN_REFUSAL in exc.message:
                return "on", pwn_warning(url)
            return f"not checked: {_why(exc)}", ""
    return "not checked: Forgejo answered 201", ""


def pwn_warning(url: str) -> str:
    return (
        f"{url}: PASSWORD_CHECK_PWN is on: Forgejo asks api.pwnedpasswords.com about every password it sets. "
        f"Where it cannot reach that service, every agent create and password rotation fails with 400 PasswordPwned "
        f"(whatever the password). Let Forgejo reach it, or set [security] PASSWORD_CHECK_PWN = false in app.ini"
    )


@dataclass(frozen=True)
class ServerSettings:
    """What the admin credential shows of how Forgejo is set up: its token's scopes, the breach check."""

    admin_scopes: str
    password_check_pwn: str
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def server_settings(url: str, admin_user: str, credential: AdminCredential, timeout: float) -> ServerSettings:
    scopes_found, problems = admin_token_scopes(url, admin_user, credential, timeout)
    pwn, note = password_pwn_check(url, admin_user, credential, timeout)
    return ServerSettings(scopes_found, pwn, tuple(problems), (note,) if note else ())
