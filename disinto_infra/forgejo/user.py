"""A Forgejo bot user: `ForgejoUser` and its provider.

The resource owns the user and its password, generated here (never an input) and kept as a secret
output, set so that Forgejo never demands a change. A user that already exists is adopted (new
password) unless it is a site admin, the configured admin, or adoption is off; an organization's
name and an account that could never log in are refused, each with its fix, before any change. An
adoption counts only once the new password logs in. Deleting the resource retires the account
instead of deleting it; hiring it again brings it back, even with adoption off.
Why: docs/decisions/user-adoption.md, docs/decisions/retired-agents.md
"""

from __future__ import annotations

import json
import secrets
import string
from dataclasses import asdict, dataclass

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from disinto_infra import parsed
from disinto_infra.forgejo import connection
from disinto_infra.forgejo.base import ForgejoProvider, Props, args_props, as_int, differs, int_differs
from disinto_infra.forgejo.client import BasicAuth, ForgejoClient, ForgejoError, object_id, path, retry_transient
from disinto_infra.parsed import JsonObject

PASSWORD_BYTES = 32  # token_urlsafe(32): 43 characters, 256 bits
# The character classes a server's PASSWORD_COMPLEXITY can demand, one of each ('-' and '_' count
# as "spec"). Why: docs/decisions/generated-passwords.md
PASSWORD_CLASSES = (string.ascii_lowercase, string.ascii_uppercase, string.digits, "-_")
# What Forgejo answers (403) to a user whose must_change_password is set, on any API call
# (docs/decisions/user-adoption.md).
MUST_CHANGE_MESSAGE = "must change your password"


def new_password() -> str:
    """256 random bits, then one random character of every class, so that any PASSWORD_COMPLEXITY passes.

    A bare token_urlsafe(32) lacks '-' or '_' about one time in four, and Forgejo refuses it on a
    server that demands every class. Why: docs/decisions/generated-passwords.md
    """
    return secrets.token_urlsafe(PASSWORD_BYTES) + "".join(secrets.choice(chars) for chars in PASSWORD_CLASSES)


@dataclass(frozen=True)
class UserState:
    """Everything the user resource stores as outputs (diff/update/read/delete get these back)."""

    username: str
    email: str
    full_name: str
    password_rotation: int
    password: str
    user_id: int
    adopted: bool
    password_ok: bool = True
    # ok (set by this program, or found working by the last refresh), wrong, or "not checked: <why>"
    # (the token is then checked by the token's own refresh); "" in states older than the field.
    password_check: str = "ok"

    @classmethod
    def from_outputs(cls, outs: Props) -> UserState:
        return cls(
            username=outs["username"],
            email=outs.get("email", ""),
            full_name=outs.get("full_name", ""),
            password_rotation=as_int(outs.get("password_rotation")),
            password=outs.get("password", ""),
            user_id=as_int(outs.get("user_id")),
            adopted=bool(outs.get("adopted", False)),
            password_ok=bool(outs.get("password_ok", True)),
            password_check=str(outs.get("password_check", "")),
        )

    def outputs(self) -> Props:
        return asdict(self)


class UserExistsError(Exception):
    pass


class PasswordChangeStuckError(Exception):
    """Forgejo kept must_change_password after the admin PATCH cleared it."""


def clear_flag_command(username: str) -> str:
    """The Forgejo CLI command that clears the flag and keeps the password.

    Some Forgejo 11 releases leave the flag on after the admin edit cleared it.
    Why: docs/decisions/user-adoption.md
    """
    return f"forgejo admin user must-change-password --unset {username}"


def _prove_adopted(client: ForgejoClient, username: str, password: str) -> None:
    """The password just set must work for basic auth; a must-change-password 403 names the fix."""
    try:
        client.request("GET", "/user", auth=BasicAuth(username, password))
    except ForgejoError as exc:
        if exc.status == 403 and MUST_CHANGE_MESSAGE in exc.message.lower():
            raise PasswordChangeStuckError(
                f"Forgejo user {username!r} was adopted (new password set with must_change_password: false), "
                f"but Forgejo still demands a password change, so the agent cannot use the API "
                f"({exc.message}). Clear the flag on the Forgejo host: `{clear_flag_command(username)}` "
                f"(with the factory's compose: `docker compose exec -u git forgejo {clear_flag_command(username)}`), "
                f"then run `pulumi up` again"
            ) from None
        if exc.status in (401, 403):
            why = f"{exc.message}: the password just set for the adopted Forgejo user {username!r} does not work"
            raise ForgejoError(exc.method, exc.path, exc.status, why) from None
        raise


def _refuse_blocked(client: ForgejoClient, conn: connection.Connection, username: str) -> None:
    """Before resetting a password a refresh found broken: a blocked account would refuse the new one
    too, and every `up` would reset it again. Say what blocks it instead."""
    found = _lookup(client, conn, username)
    blocker = account_blocker(conn, {**found, "login": username}) if found else None
    if blocker:
        raise UserExistsError(blocker)


# How Forgejo refuses a basic-auth password, by its message (docs/decisions/password-checks.md): only
# the first two say the password is wrong; the others refuse password logins whatever the password.
WRONG_PASSWORD = ("password is invalid", "password isn't set")
OTP_REFUSAL = "invalid provided OTP"  # TOTP and no one-time code
SECURITY_KEY_REFUSAL = "security keys enrolled"  # a WebAuthn key, TOTP or not
PASSWORD_AUTH_REFUSED = {
    "token is required": "basic authentication with a password is switched off (ENABLE_BASIC_AUTHENTICATION)",
    OTP_REFUSAL: "the account has two-factor authentication (TOTP)",
    SECURITY_KEY_REFUSAL: "the account has a security key (WebAuthn) enrolled",
    "not allowed login": "the account is prohibited from signing in",
    "must change your password": "Forgejo demands a password change",
    "prohibited from signing in": "the account is prohibited from signing in",
    "not activated": "the account is not activated",
}
OK = "ok"
WRONG = "wrong"


def password_verdict(client: ForgejoClient, username: str, password: str) -> str:
    """`ok`, `wrong`, or `not checked: <why>` for a basic-auth login with this password.

    Only an answer that says the password is wrong counts as wrong: a reset on any other refusal would
    change nothing but the password, mail the bot a notice on every `up`, and be refused again.
    """
    try:
        client.request("GET", "/user", auth=BasicAuth(username, password))
        return OK
    except ForgejoError as exc:
        if exc.status not in (401, 403):
            raise
        if exc.status == 401 and any(words in exc.message for words in WRONG_PASSWORD):
            return WRONG
        why = next((text for key, text in PASSWORD_AUTH_REFUSED.items() if key in exc.message), None)
        return f"not checked: {why or f'HTTP {exc.status}: {exc.message}'}"


UNBLOCK, ACTIVATE = '{"prohibit_login": false}', '{"active": true}'


def _admin_patch_command(conn: connection.Connection, username: str, fields: str) -> str:
    """The API call a site admin runs to change what Forgejo's CLI cannot (v11 has no such subcommand)."""
    url = f"{conn.url.rstrip('/')}/api/v1{path('admin', 'users', username)}"
    return (
        # Double quotes: the shell expands $ADMIN_TOKEN there (in single quotes it would send the name).
        f"""curl -X PATCH -H "Authorization: token $ADMIN_TOKEN" -H 'Content-Type: application/json' -d '{fields}' {url}"""
    )


# What a removed agent's account says of itself (its `description`, which a site admin sees and may
# change): prohibited from signing in by this program, not by an admin (docs/decisions/retired-agents.md).
RETIRED_MARK = "Retired by disinto-infra"
RETIRED_DESCRIPTION = f"{RETIRED_MARK}: this agent was removed; hiring it again brings the account back."


def retired_by_us(existing: JsonObject) -> bool:
    """A prohibited account this program retired (removed agent), as opposed to one an admin locked."""
    description = parsed.text_or(existing, "description", "")
    return bool(existing.get("prohibit_login")) and description.startswith(RETIRED_MARK)


def _retire(client: ForgejoClient, conn: connection.Connection, username: str) -> None:
    """A removed agent: its account can no longer sign in and keeps no SSH key, its history stays.

    Re-entrant (run under retry_transient). A user already gone is retired.
    """
    try:
        _edit(client, conn, username, prohibit_login=True, description=RETIRED_DESCRIPTION)
    except ForgejoError as exc:
        if exc.status == 404:
            return
        raise
    keys = list(client.paginate(path("users", username, "keys"), auth=conn.admin_auth))
    for key in keys:
        if isinstance(key, dict):
            target = path("admin", "users", username, "keys", object_id(key))
            client.request("DELETE", target, auth=conn.admin_auth, ok=(204, 404))


def account_blocker(conn: connection.Connection, existing: JsonObject) -> str | None:
    """Why an account's new password could never log the agent in, with the fix; None if it could.

    Read from the admin view of the user (`GET /users/{u}` as a site admin shows these fields):
    - `source_id` ≠ 0: the account signs in through LDAP, SMTP, PAM or OAuth2; Forgejo drops a
      password set on it (unless OAuth2, which the API does not tell from the others).
    - `prohibit_login`, `active: false`: every API call is refused, whatever the credential. A site
      admin blocked or never activated the account: lifting that is their decision, not ours.
    Why: docs/decisions/user-adoption.md
    """
    name = str(existing.get("login") or existing.get("username") or "")
    source = as_int(existing.get("source_id"))
    if source:
        local = json.dumps({"source_id": 0, "login_name": name})
        return (
            f"Forgejo user {name!r} signs in through authentication source {source} (login name "
            f"{existing.get('login_name', '')!r}): Forgejo ignores a password set on such an account, so the agent "
            f"could not log in. Pick another forge_user, or make {name!r} a local account first "
            f"(site administration, user accounts, {name}: authentication source Local; or "
            f"`{_admin_patch_command(conn, name, local)}`), then run `pulumi up` again"
        )
    if existing.get("prohibit_login") and not retired_by_us(existing):
        return (
            f"Forgejo user {name!r} is prohibited from signing in (prohibit_login): Forgejo refuses its password "
            f"and its tokens. If it is meant to be this agent, lift the block (site administration, user "
            f"accounts, {name}: untick 'Disable sign-in'; or "
            f"`{_admin_patch_command(conn, name, UNBLOCK)}`), or pick another "
            f"forge_user; then run `pulumi up` again"
        )
    if existing.get("active") is False:
        return (
            f"Forgejo user {name!r} is not activated (active: false): Forgejo refuses its password and its "
            f"tokens. If it is meant to be this agent, activate it (site administration, user accounts, "
            f"{name}: tick 'Activated'; or `{_admin_patch_command(conn, name, ACTIVATE)}`), or "
            f"pick another forge_user; then run `pulumi up` again"
        )
    return None


def _is_organization(client: ForgejoClient, conn: connection.Connection, name: str) -> bool:
    """Users and organizations share one namespace (a create answers "user already exists" for either)
    and `GET /users/{name}` answers for both; `GET /orgs/{name}` answers 404 for a user.
    Why: docs/decisions/user-adoption.md"""
    try:
        client.request("GET", path("orgs", name), auth=conn.admin_auth)
        return True
    except ForgejoError as exc:
        if exc.status == 404:
            return False
        if exc.status == 403:
            why = (
                f"{exc.message}: the admin token needs read:organization (or all) to tell whether "
                f"{name!r} is a user or an organization before adopting it"
            )
            raise ForgejoError(exc.method, exc.path, exc.status, why) from None
        raise


def _lookup(client: ForgejoClient, conn: connection.Connection, username: str) -> JsonObject | None:
    try:
        # A 200 from GET /users/{username} is a User object; no body reads as none.
        found = parsed.as_object(client.request("GET", path("users", username), auth=conn.admin_auth).body)
    except ForgejoError as exc:
        if exc.status == 404:
            return None
        raise
    if found is not None:
        same_account(found, username, f"GET {path('users', username)}")
    return found


def same_account(found: JsonObject, username: str, what: str) -> None:
    """Refuse an answer about another account than the one asked for (a proxy that rewrote the path,
    a redirect followed elsewhere): names compare case-insensitively, as Forgejo's lower_name does."""
    login = parsed.text_or(found, "login", "")
    if login.lower() != username.lower():
        raise UserExistsError(
            f"Forgejo answered {what} with the account {login!r}, not {username!r}: the user was renamed, or "
            f"something between us and Forgejo rewrites paths. Nothing was changed. Check the account in "
            f"Forgejo's site administration and write its current name as forge_user"
        )


def _edit(client: ForgejoClient, conn: connection.Connection, username: str, **fields: object) -> JsonObject:
    """The admin edit endpoint; a password always goes with `must_change_password: false`."""
    if "password" in fields:
        fields["must_change_password"] = False
    # A 200 from PATCH /admin/users/{username} is a User object.
    return client.request("PATCH", path("admin", "users", username), auth=conn.admin_auth, json=fields).as_object()


def _adopt(
    client: ForgejoClient, conn: connection.Connection, want: UserState, existing: JsonObject, tried: set[str]
) -> UserState:
    """Take over a user that exists already, or refuse with the reason (no change made then)."""
    name = want.username
    if _is_organization(client, conn, name):
        # Adopting would write a password on the organization, then fail with a 500
        # (docs/decisions/user-adoption.md).
        raise UserExistsError(
            f"Forgejo name {name!r} belongs to an organization, not a user: an agent needs a user account "
            f"of its own. Pick another forge_user (the organization is left untouched)"
        )
    if existing.get("is_admin") or conn.is_admin_user(name):
        raise UserExistsError(
            f"Forgejo user {name!r} exists and is a site admin or the configured admin "
            f"(disinto:adminUser); refusing to adopt it as an agent: pick another forge_user"
        )
    returning = retired_by_us(existing)
    if not conn.adopt_existing_users and not returning:
        raise UserExistsError(
            f"Forgejo user {name!r} exists and disinto:adoptExistingUsers is false: delete the user, "
            f"pick another forge_user, or set disinto:adoptExistingUsers true to take it over"
        )
    blocker = account_blocker(conn, {**existing, "login": name})
    if blocker:
        raise UserExistsError(blocker)
    tried.add("adopt")  # remembered across retries: a lost answer here is still an adoption
    back = {"prohibit_login": False, "description": ""} if returning else {}
    body = _edit(
        client,
        conn,
        name,
        password=want.password,
        email=want.email,
        full_name=want.full_name,
        restricted=False,
        **back,
    )
    _prove_adopted(client, name, want.password)
    return UserState(**{**asdict(want), "user_id": object_id(body), "adopted": True})


def _create(client: ForgejoClient, conn: connection.Connection, want: UserState, tried: set[str]) -> UserState:
    """One attempt; safe to repeat after an attempt whose answer was lost (`tried` spans attempts)."""
    body = {
        "username": want.username,
        "email": want.email,
        "full_name": want.full_name,
        "password": want.password,
        "must_change_password": False,
        # No `visibility`: the server's own default is always allowed, another mode may fail the
        # create. `restricted` is sent, so that a server default does not limit the bot to what it
        # is granted explicitly. Why: docs/decisions/user-adoption.md
        "restricted": False,
    }
    try:
        created = client.request("POST", path("admin", "users"), auth=conn.admin_auth, json=body, ok=(201,))
        return UserState(**{**asdict(want), "user_id": object_id(created.as_object())})
    except ForgejoError as exc:
        if exc.status != 422 or "user already exists" not in exc.message:
            raise
    existing = _lookup(client, conn, want.username)
    if existing is None:
        raise ForgejoError(
            "POST", path("admin", "users"), 422, f"user {want.username!r} reported as existing but not found"
        )
    if password_verdict(client, want.username, want.password) == OK:
        # Our own earlier attempt (a create, or an adoption) got through and only its answer was lost.
        return UserState(**{**asdict(want), "user_id": object_id(existing), "adopted": "adopt" in tried})
    return _adopt(client, conn, want, existing, tried)


def _pwn_explained(exc: ForgejoError) -> ForgejoError:
    """A password refused by Forgejo's breach check, named with its setting and fix; other errors as they are.

    A create answers 400 PasswordPwned both for a breached password and for an unreachable HIBP
    service; an edit says which. Why: docs/decisions/password-checks.md
    """
    if exc.status != 400 or "pwned" not in exc.message.lower():
        return exc
    why = (
        f"{exc.message}: Forgejo checks every password it sets against Have I Been Pwned ([security] "
        f"PASSWORD_CHECK_PWN = true) and refuses it when it cannot reach api.pwnedpasswords.com; this program's "
        f"passwords are 256 random bits, never in a breach list. Let Forgejo reach api.pwnedpasswords.com, or set "
        f"PASSWORD_CHECK_PWN = false in Forgejo's app.ini, then run `pulumi up` again (`check` reports the setting)"
    )
    return ForgejoError(exc.method, exc.path, exc.status, why)


class ForgejoUserProvider(ForgejoProvider):
    def create(self, props: Props) -> CreateResult:
        conn = connection.current()
        want = UserState(
            username=props["username"],
            email=props["email"],
            full_name=props.get("full_name", ""),
            password_rotation=as_int(props.get("password_rotation")),
            password=new_password(),
            user_id=0,
            adopted=False,
        )
        with conn.client() as client:
            tried: set[str] = set()
            try:
                state = retry_transient(lambda: _create(client, conn, want, tried))
            except ForgejoError as exc:
                raise _pwn_explained(exc) from None
        return CreateResult(state.username, state.outputs())

    def diff(self, id_: str, olds: Props, news: Props) -> DiffResult:
        # No request here: diff runs on every preview and every up.
        if differs(olds.get("username"), news.get("username")):
            return DiffResult(changes=True, replaces=["username"], delete_before_replace=True)
        changed = [k for k in ("email", "full_name") if differs(olds.get(k), news.get(k, ""))]
        if int_differs(olds.get("password_rotation"), news.get("password_rotation")):
            changed.append("password_rotation")
        reset = olds.get("password_ok") is False  # a refresh found the password broken
        return DiffResult(changes=bool(changed) or reset, replaces=[], delete_before_replace=True)

    def update(self, id_: str, olds: Props, news: Props) -> UpdateResult:
        conn = connection.current()
        old = UserState.from_outputs(olds)
        rotate = as_int(news.get("password_rotation")) != old.password_rotation
        password = new_password() if rotate else old.password
        fields: dict[str, object] = {}
        if news["email"] != old.email:
            fields["email"] = news["email"]
        if news.get("full_name", "") != old.full_name:
            fields["full_name"] = news.get("full_name", "")
        if rotate or not old.password_ok:
            fields["password"] = password
        with conn.client() as client:
            if not old.password_ok:
                _refuse_blocked(client, conn, old.username)
            if fields:
                try:
                    retry_transient(lambda: _edit(client, conn, old.username, **fields))
                except ForgejoError as exc:
                    raise _pwn_explained(exc) from None
        new = UserState(
            username=old.username,
            email=news["email"],
            full_name=news.get("full_name", ""),
            password_rotation=as_int(news.get("password_rotation")),
            password=password,
            user_id=old.user_id,
            adopted=old.adopted,
            password_ok=True,
            password_check=old.password_check if "password" not in fields else OK,
        )
        return UpdateResult(new.outputs())

    def read(self, id_: str, props: Props) -> ReadResult:
        conn = connection.current()
        old = UserState.from_outputs(props)
        with conn.client() as client:
            found = _lookup(client, conn, old.username)
            if found is None:
                return ReadResult(id_="", outs={})
            verdict = password_verdict(client, old.username, old.password) if old.password else WRONG
        now = UserState(
            username=old.username,
            email=parsed.text_or(found, "email", old.email),
            full_name=parsed.text_or(found, "full_name", old.full_name),
            password_rotation=old.password_rotation,
            password=old.password,
            user_id=object_id(found),
            adopted=old.adopted,
            password_ok=verdict != WRONG,
            password_check=verdict,
        )
        return ReadResult(id_=id_, outs=now.outputs())

    def delete(self, id_: str, props: Props) -> None:
        """Removing an agent retires its account: no sign-in, no SSH key; its issues, comments and
        commits keep their author. The account is never deleted (docs/decisions/retired-agents.md)."""
        conn = connection.current()
        username = props.get("username", id_)
        with conn.client() as client:
            retry_transient(lambda: _retire(client, conn, username))


@dataclass
class ForgejoUserArgs:
    username: pulumi.Input[str]
    email: pulumi.Input[str]
    full_name: pulumi.Input[str] = ""
    password_rotation: pulumi.Input[int] = 0


class ForgejoUser(Resource, module="forgejo", name="User"):
    """A Forgejo bot user with a generated password (type `pulumi-python:dynamic/forgejo:User`)."""

    # The options every instance gets, kept here so tests can hold the engine to the same.
    SECRET_OUTPUTS = ("password",)
    # A replacement keeps the same Forgejo name: delete the old user before creating the new.
    DELETE_BEFORE_REPLACE = True

    user_id: pulumi.Output[int]
    username: pulumi.Output[str]
    email: pulumi.Output[str]
    full_name: pulumi.Output[str]
    password_rotation: pulumi.Output[int]
    password: pulumi.Output[str]
    adopted: pulumi.Output[bool]
    password_ok: pulumi.Output[bool]
    password_check: pulumi.Output[str]

    def __init__(self, name: str, args: ForgejoUserArgs, opts: pulumi.ResourceOptions | None = None):
        computed = ("user_id", "password", "adopted", "password_ok", "password_check")
        props = {**args_props(args), **dict.fromkeys(computed)}
        own = pulumi.ResourceOptions(
            additional_secret_outputs=list(self.SECRET_OUTPUTS), delete_before_replace=self.DELETE_BEFORE_REPLACE
        )
        super().__init__(ForgejoUserProvider(), name, props, pulumi.ResourceOptions.merge(own, opts))
