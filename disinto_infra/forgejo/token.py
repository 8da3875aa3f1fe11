"""A Forgejo access token of a bot user: `ForgejoToken` and its provider.

Forgejo shows a token's secret once, at creation, and makes or deletes tokens only with the user's
own password. Each token's name is computed from what replaces it (rotation, scopes, and for tokens
with a maximum age the day made), so a replacement is made before the old token is deleted, and a
create whose answer was lost is found by its name, revoked and made again. The newest password seen
for each user is kept in process memory to revoke an old token after a password rotation.
Why: docs/decisions/token-rotation.md
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import asdict, dataclass

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from disinto_infra import parsed
from disinto_infra.config import token_scopes
from disinto_infra.forgejo import connection, token_age
from disinto_infra.forgejo.base import (
    ForgejoProvider,
    Props,
    args_props,
    as_int,
    differs,
    int_differs,
    is_unknown,
    user_recreated,
)
from disinto_infra.forgejo.client import (
    BasicAuth,
    ForgejoClient,
    ForgejoError,
    TokenAuth,
    object_id,
    path,
    retry_transient,
)
from disinto_infra.parsed import JsonObject

NAME_PREFIX = "disinto-infra"

# The newest password seen for each user in this provider process, by (Forgejo URL, user): the old
# token of a password rotation is deleted with its old outputs, whose password no longer works.
# Process memory only: never pickled, never in state. Why: docs/decisions/token-rotation.md
_passwords: dict[tuple[str, str], str] = {}
_passwords_lock = threading.Lock()


def _remember_password(url: str, username: str, password: str) -> None:
    if password:
        with _passwords_lock:
            _passwords[(url, username.lower())] = password


def _newest_password(url: str, username: str) -> str | None:
    with _passwords_lock:
        return _passwords.get((url, username.lower()))


NAME_TAKEN = "access token name has been used already"


def token_name(rotation: int, normalized_scopes: list[str], day: str = "") -> str:
    """`disinto-infra-r<rotation>-<8 hex of the scopes>[-<day>]`: stable across retries, new on
    rotation; `day` (token_age.day_stamp) only for tokens with a maximum age."""
    digest = hashlib.sha256(",".join(normalized_scopes).encode()).hexdigest()[:8]
    return f"{NAME_PREFIX}-r{rotation}-{digest}" + (f"-{day}" if day else "")


@dataclass(frozen=True)
class TokenState:
    username: str
    password: str
    scopes: list[str]
    rotation: int
    token: str
    token_id: int
    token_name: str
    token_last_eight: str
    user_id: int = 0
    created_at: str = ""  # ISO UTC; "" for tokens made before it was recorded

    @classmethod
    def from_outputs(cls, outs: Props) -> TokenState:
        return cls(
            username=outs["username"],
            password=outs.get("password", ""),
            scopes=list(outs.get("scopes") or []),
            rotation=as_int(outs.get("rotation")),
            token=outs.get("token", ""),
            token_id=as_int(outs.get("token_id")),
            token_name=outs.get("token_name", ""),
            token_last_eight=outs.get("token_last_eight", ""),
            user_id=as_int(outs.get("user_id")),
            created_at=outs.get("created_at") or "",
        )

    def outputs(self) -> Props:
        return asdict(self)


def _user_auth(props: Props) -> BasicAuth:
    return BasicAuth(props["username"], props.get("password", ""))


def _create_once(client: ForgejoClient, username: str, auth: BasicAuth, name: str, wanted: list[str]) -> JsonObject:
    """One attempt; a name already taken is an earlier attempt of ours whose answer was lost."""
    tokens = path("users", username, "tokens")
    body = {"name": name, "scopes": wanted}
    # A 201 from POST /users/{username}/tokens is an AccessToken object.
    try:
        return client.request("POST", tokens, auth=auth, json=body, ok=(201,)).as_object()
    except ForgejoError as exc:
        if exc.status != 400 or NAME_TAKEN not in exc.message:
            raise
    # The secret of that token is lost with the answer: revoke it by name and make a fresh one.
    client.request("DELETE", path("users", username, "tokens", name), auth=auth, ok=(204, 404))
    return client.request("POST", tokens, auth=auth, json=body, ok=(201,)).as_object()


def _authenticates(client: ForgejoClient, state: TokenState) -> bool:
    """Does the token still log in as its user? A 403 (scope, account state) still means it exists."""
    try:
        me = client.request("GET", "/user", auth=TokenAuth(state.token)).as_object()
    except ForgejoError as exc:
        if exc.status == 403:
            return True
        if exc.status == 401:
            return False
        raise
    login = parsed.text_or(me, "login", "")
    if login.lower() != state.username.lower():
        # The token works, for an account now called otherwise: a rename, not a lost token. Making a
        # new one would go to the old name (a redirect) and fail; say what happened instead.
        raise ForgejoError(
            "GET",
            "/user",
            200,
            f"the token of Forgejo user {state.username!r} now logs in as {login!r}: the account was renamed. "
            f"Nothing was changed. Rename it back to {state.username!r} (Forgejo's site administration, user "
            f"accounts), then run again: an agent's account is the one its forge_user names",
        )
    return True


def _scopes_or_none(value: object) -> list[str] | None:
    if is_unknown(value) or not isinstance(value, (list, tuple)) or any(is_unknown(v) for v in value):
        return None
    return token_scopes.normalize(value)


def _sha1(made: JsonObject) -> str:
    """The new token's secret: the AccessToken's `sha1` (KeyError without one, as an index would raise)."""
    found = parsed.text(made, "sha1")
    if found is None:
        raise KeyError("sha1")
    return found


def _max_age(props: Props) -> int:
    return as_int(props.get("max_age_days"))


class ForgejoTokenProvider(ForgejoProvider):
    def check(self, olds: Props, news: Props) -> CheckResult:
        failures = []
        max_age = news.get("max_age_days")
        if (
            max_age is not None
            and not is_unknown(max_age)
            and (
                not isinstance(max_age, (int, float))
                or isinstance(max_age, bool)
                or max_age != int(max_age)
                or max_age < 1
            )
        ):
            failures.append(CheckFailure("max_age_days", "max_age_days must be a positive whole number of days"))
        # Olds are the old *inputs*: carry the first-seen time, or start counting now (a new
        # token, a replacement, or a token made before ages were recorded).
        seen = olds.get("issued_at")
        news = {**news, "issued_at": seen if token_age.parse(seen) else token_age.iso(token_age.now())}
        wanted = news.get("scopes")
        if not is_unknown(wanted):
            if not isinstance(wanted, (list, tuple)) or not all(isinstance(s, str) or is_unknown(s) for s in wanted):
                failures.append(CheckFailure("scopes", "scopes must be a list of strings"))
            else:
                try:
                    _scopes_or_none(wanted)
                except token_scopes.ScopeError as exc:
                    failures.append(CheckFailure("scopes", f"{exc}; valid: {', '.join(sorted(token_scopes.VALID))}"))
        return CheckResult(news, failures)

    def create(self, props: Props) -> CreateResult:
        conn = connection.current()
        username, rotation = props["username"], as_int(props.get("rotation"))
        wanted = token_scopes.normalize(props["scopes"])
        made_now = token_age.now()
        name = token_name(rotation, wanted, token_age.day_stamp(made_now) if _max_age(props) else "")
        _remember_password(conn.url, username, props.get("password", ""))
        with conn.client() as client:
            made = retry_transient(lambda: _create_once(client, username, _user_auth(props), name, wanted))
        sha1 = _sha1(made)
        state = TokenState(
            username=username,
            password=props.get("password", ""),
            scopes=token_scopes.normalize(parsed.strings(made.get("scopes")) or wanted),
            rotation=rotation,
            token=sha1,
            token_id=object_id(made),
            token_name=parsed.text_or(made, "name", name),
            token_last_eight=parsed.text(made, "token_last_eight") or sha1[-8:],
            user_id=as_int(props.get("user_id")),
            created_at=token_age.iso(made_now),
        )
        return CreateResult(str(state.token_id), state.outputs())

    def diff(self, id_: str, olds: Props, news: Props) -> DiffResult:
        # No request: this runs on every preview and up. A new password alone is an in-place update
        # (we keep it to delete the token later); what names the token replaces it.
        replaces = []
        if differs(olds.get("username"), news.get("username")):
            replaces.append("username")
        if int_differs(olds.get("rotation"), news.get("rotation")):
            replaces.append("rotation")
        if user_recreated(olds, news):
            replaces.append("user_id")
        new_scopes = _scopes_or_none(news.get("scopes"))
        if new_scopes is None or token_scopes.normalize(olds.get("scopes") or []) != new_scopes:
            replaces.append("scopes")
        # Scheduled rotation. The clock is read here, in the provider host, on every preview and up.
        if token_age.is_due(token_age.made_at(olds, news), _max_age(news), token_age.now()):
            replaces.append("max_age_days")
        changes = bool(replaces) or differs(olds.get("password"), news.get("password"))
        return DiffResult(changes=changes, replaces=replaces, delete_before_replace=False)

    def update(self, id_: str, olds: Props, news: Props) -> UpdateResult:
        # Only the password can reach here (everything else replaces); the token is untouched.
        # A token made before ages were recorded gets its first-seen time as `created_at` now.
        old = TokenState.from_outputs(olds)
        _remember_password(connection.current().url, old.username, news.get("password", ""))
        created_at = old.created_at or news.get("issued_at") or ""
        return UpdateResult({**old.outputs(), "password": news.get("password", ""), "created_at": created_at})

    def read(self, id_: str, props: Props) -> ReadResult:
        conn = connection.current()
        state = TokenState.from_outputs(props)
        with conn.client() as client:
            if not state.token or not _authenticates(client, state):
                return ReadResult(id_="", outs={})
        return ReadResult(id_=id_, outs=state.outputs())

    def delete(self, id_: str, props: Props) -> None:
        conn = connection.current()
        state = TokenState.from_outputs(props)
        target = path("users", state.username, "tokens", id_)
        with conn.client() as client:
            try:
                client.request("DELETE", target, auth=_user_auth(props), ok=(204, 404))
                return
            except ForgejoError as exc:
                if exc.status not in (401, 403):
                    raise
                own_failure = exc
            # The stored password no longer works: rotated in this run, changed by hand, or gone.
            newest = _newest_password(conn.url, state.username)
            if newest and newest != state.password:
                try:
                    client.request("DELETE", target, auth=BasicAuth(state.username, newest), ok=(204, 404))
                    return
                except ForgejoError as exc:
                    if exc.status not in (401, 403):
                        raise
            if _user_gone(client, conn, state.username):
                return
            if not conn.has_admin_password:
                raise ForgejoError(
                    own_failure.method,
                    own_failure.path,
                    own_failure.status,
                    f"cannot revoke token {state.token_name!r} of {state.username!r}: its password no longer "
                    f"works and Forgejo 11 takes only password auth here. Run `pulumi refresh` and "
                    f"`pulumi up` to reset the password, or set disinto:adminUser/adminPassword.",
                ) from None
            client.request("DELETE", target, auth=conn.admin_basic_auth(), ok=(204, 404))


def _user_gone(client: ForgejoClient, conn: connection.Connection, username: str) -> bool:
    try:
        client.request("GET", path("users", username), auth=conn.admin_auth)
        return False
    except ForgejoError as exc:
        if exc.status == 404:
            return True
        raise


@dataclass
class ForgejoTokenArgs:
    username: pulumi.Input[str]
    password: pulumi.Input[str]
    scopes: pulumi.Input[list[str]]
    rotation: pulumi.Input[int] = 0
    # The user's `user_id`: a user deleted and made again (say by `--replace`) lost its tokens,
    # so a new id replaces the token too.
    user_id: pulumi.Input[int] | None = None
    # Replace the token once it is this many days old (None: never). See token_age.py.
    max_age_days: pulumi.Input[int] | None = None


class ForgejoToken(Resource, module="forgejo", name="Token"):
    """An access token of a Forgejo user (type `pulumi-python:dynamic/forgejo:Token`)."""

    SECRET_OUTPUTS = ("token", "password")
    # Create-before-delete on replacement (the engine's default): the new token has a new name.
    DELETE_BEFORE_REPLACE = False

    token: pulumi.Output[str]
    token_id: pulumi.Output[int]
    token_name: pulumi.Output[str]
    token_last_eight: pulumi.Output[str]
    scopes: pulumi.Output[list[str]]
    username: pulumi.Output[str]
    password: pulumi.Output[str]
    rotation: pulumi.Output[int]
    created_at: pulumi.Output[str]

    def __init__(self, name: str, args: ForgejoTokenArgs, opts: pulumi.ResourceOptions | None = None):
        props = {
            **args_props(args),
            "token": None,
            "token_id": None,
            "token_name": None,
            "token_last_eight": None,
            "created_at": None,
        }
        own = pulumi.ResourceOptions(additional_secret_outputs=list(self.SECRET_OUTPUTS))
        super().__init__(ForgejoTokenProvider(), name, props, pulumi.ResourceOptions.merge(own, opts))
