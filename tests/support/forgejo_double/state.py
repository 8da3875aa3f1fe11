"""In-memory state of the Forgejo double, plus the pure rules Forgejo 11 applies.

Everything here is plain Python with no HTTP: users, access tokens (stored hashed),
repositories with their branches/files/commits, collaborators and branch protections.
All mutation happens under ``State.lock`` (one re-entrant lock for the whole store).
"""

from __future__ import annotations

import copy
import hashlib
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

# --------------------------------------------------------------------------- scopes
# Category order is Forgejo's (models/auth/access_token_scope.go): it fixes the order
# of a normalised scope list.
SCOPE_CATEGORIES = (
    "activitypub",
    "admin",
    "misc",
    "notification",
    "organization",
    "package",
    "issue",
    "repository",
    "user",
)
# Parent scopes precede child scopes; this is the order normalisation emits.
_SCOPE_ORDER = ("public-only", *tuple(s for c in SCOPE_CATEGORIES for s in (f"write:{c}", f"read:{c}")))
_ALL_WRITE = ",".join(f"write:{c}" for c in SCOPE_CATEGORIES)


class ScopeError(ValueError):
    """An access-token scope string Forgejo does not know."""


def _scope_bits(scope: str) -> frozenset:
    """The atomic permissions one known scope stands for (write implies read)."""
    if scope == "all":
        return frozenset(f"{lvl}:{c}" for c in SCOPE_CATEGORIES for lvl in ("read", "write"))
    if scope == "public-only":
        return frozenset({"public-only"})
    level, _, cat = scope.partition(":")
    if cat not in SCOPE_CATEGORIES or level not in ("read", "write"):
        raise ScopeError(f"invalid access token scope: {scope}")
    if level == "write":
        return frozenset({f"write:{cat}", f"read:{cat}"})
    return frozenset({f"read:{cat}"})


def parse_scopes(scopes) -> frozenset:
    """Scopes -> set of atomic bits, the way Forgejo parses the comma-joined list.

    ``sudo`` and empty entries are dropped silently; anything unknown raises ScopeError.
    """
    if isinstance(scopes, str):
        scopes = [scopes]
    joined = ",".join(scopes or [])
    bits: set = set()
    for item in joined.split(","):
        if item in ("", "sudo"):
            continue
        bits |= _scope_bits(item)
    return frozenset(bits)


def _bits_to_list(bits: frozenset) -> list:
    out: list = []
    rebuilt: set = set()
    for scope in _SCOPE_ORDER:
        need = _scope_bits(scope)
        if need <= bits:
            if need <= rebuilt:
                continue
            rebuilt |= need
            out.append(scope)
    joined = ",".join(out).replace(_ALL_WRITE, "all")
    return joined.split(",") if joined else []


def normalize_scopes(scopes) -> list:
    """Forgejo's scope normalisation: read:X dropped under write:X, fixed order, all nine
    write:* collapse to "all", "sudo"/"" dropped. Raises ScopeError on an unknown scope.
    Returns [] when nothing is left (Forgejo then answers 400 "access token must have a scope").
    """
    return _bits_to_list(parse_scopes(scopes))


def scope_allows(token_scopes, required: str) -> bool:
    """True if a token's (normalised) scopes include ``required`` (e.g. "write:admin")."""
    try:
        have = parse_scopes(token_scopes)
        return _scope_bits(required) <= have
    except ScopeError:
        return False


# ------------------------------------------------------------------ Go integer parsing
_INT64_MAX = (1 << 63) - 1


def _underscore_ok(s: str) -> bool:
    saw = "^"
    i = 0
    if s[:1] in ("+", "-"):
        s = s[1:]
    hexa = False
    if len(s) >= 2 and s[0] == "0" and s[1].lower() in "box":
        i, saw, hexa = 2, "0", s[1].lower() == "x"
    while i < len(s):
        ch = s[i]
        i += 1
        if ch.isdigit() or (hexa and ch.lower() in "abcdef"):
            saw = "0"
            continue
        if ch == "_":
            if saw != "0":
                return False
            saw = "_"
            continue
        if saw == "_":
            return False
        saw = "!"
    return saw != "_"


def go_parse_int(s: str) -> int:
    """What ``v, _ := strconv.ParseInt(s, 0, 64)`` leaves in ``v``: 0 on a syntax error,
    the int64 limit on overflow. Accepts 12, 0x1f, 017, 0o17, 0b1, 1_000, signs."""
    if not s:
        return 0
    neg = False
    body = s
    if body[0] in "+-":
        neg = body[0] == "-"
        body = body[1:]
    if not body:
        return 0
    base = 10
    digits = body
    if body[0] == "0":
        if len(body) >= 3 and body[1].lower() == "b":
            base, digits = 2, body[2:]
        elif len(body) >= 3 and body[1].lower() == "o":
            base, digits = 8, body[2:]
        elif len(body) >= 3 and body[1].lower() == "x":
            base, digits = 16, body[2:]
        else:
            base, digits = 8, body[1:]
    value = 0
    underscores = False
    overflow = False
    for ch in digits:
        if ch == "_":
            underscores = True
            continue
        if ch.isdigit() and ch.isascii():
            d = ord(ch) - 48
        elif "a" <= ch.lower() <= "z":
            d = ord(ch.lower()) - 87
        else:
            return 0
        if d >= base:
            return 0
        value = value * base + d
        if value > (1 << 64) - 1:
            overflow = True
    if underscores and not _underscore_ok(body):
        return 0
    if overflow:
        return -(1 << 63) if neg else _INT64_MAX
    if neg:
        return -(1 << 63) if value > (1 << 63) else -value
    return _INT64_MAX if value > _INT64_MAX else value


def go_parse_bool(s) -> bool:
    return s in ("1", "t", "T", "TRUE", "true", "True")


# -------------------------------------------------------------------------- names
# models/user/user.go @ v11.0.15, lines 597-642: Forgejo 11 reserves "devtest" (later releases
# dropped it and reserve "report_abuse").
RESERVED_USERNAMES = frozenset(
    {
        ".",
        "..",
        "-",
        ".well-known",
        "api",
        "metrics",
        "v2",
        "assets",
        "attachments",
        "avatar",
        "avatars",
        "repo-avatars",
        "captcha",
        "login",
        "org",
        "repo",
        "user",
        "admin",
        "devtest",
        "explore",
        "issues",
        "pulls",
        "milestones",
        "notifications",
        "favicon.ico",
        "manifest.json",
        "robots.txt",
        "sitemap.xml",
        "ssh_info",
        "swagger.v1.json",
        "ghost",
        "gitea-actions",
        "forgejo-actions",
    }
)
RESERVED_USER_PATTERNS = ("*.keys", "*.gpg", "*.rss", "*.atom", "*.png")
RESERVED_REPO_NAMES = frozenset({".", "..", "-"})
RESERVED_REPO_PATTERNS = ("*.wiki", "*.git", "*.rss", "*.atom")

_USERNAME_RE = re.compile(r"^[0-9A-Za-z][-._0-9A-Za-z]*$")
_USERNAME_BAD_RE = re.compile(r"[-._]{2,}|[-._]$")
# go-chi binding's Email rule is an unanchored match.
_BINDING_EMAIL_RE = re.compile(
    r"[\w!#$%&'*+/=?^_`{|}~-]+(?:\.[\w!#$%&'*+/=?^_`{|}~-]+)*@(?:\w(?:[\w-]*\w)?\.)+"
    r"[a-zA-Z0-9](?:[\w-]*\w)?",
    re.ASCII,
)
_MODEL_EMAIL_RE = re.compile(r"^[\w.!#$%&'*+/=?^`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$", re.ASCII)
_ALPHA_DASH_DOT_BAD = re.compile(r"[^0-9A-Za-z_.\-]")


def valid_username_syntax(name: str) -> bool:
    return bool(_USERNAME_RE.match(name)) and not _USERNAME_BAD_RE.search(name)


def binding_email_ok(email: str) -> bool:
    return bool(_BINDING_EMAIL_RE.search(email))


def model_email_ok(email: str) -> bool:
    return bool(_MODEL_EMAIL_RE.match(email))


def alpha_dash_dot_ok(value: str) -> bool:
    return not _ALPHA_DASH_DOT_BAD.search(value)


def reserved_name_error(name: str, names, patterns):
    """Forgejo's IsUsableName: message for a reserved name/pattern, or None."""
    lower = name.lower()
    if lower in names:
        return f"name is reserved [name: {name}]"
    for pat in patterns:
        if lower.endswith(pat[1:]):
            return f"name pattern is not allowed [pattern: {pat}]"
    return None


def git_ref_name_ok(name: str) -> bool:
    """A rough `git check-ref-format` plus Forgejo's no-leading-dash rule."""
    if not name or name.startswith(("-", "/")) or name.endswith("/"):
        return False
    if name == "@" or ".." in name or "//" in name or "@{" in name:
        return False
    if name.endswith((".", ".lock")):
        return False
    if any(ord(c) < 0x20 or c == "\x7f" or c in " ~^:?*[\\" for c in name):
        return False
    return not any(part.startswith(".") or part.endswith(".lock") for part in name.split("/"))


# ------------------------------------------------------------ protected-file globs
# Forgejo compiles a rule's (un)protected file patterns with gobwas/glob and the separators
# '.' and '/' (models/git/protected_branch.go getFilePatterns): `*` and `?` never cross a dot or
# a slash, `**` crosses anything; `[...]` / `[!...]` classes, `{a,b}` alternatives, backslash escapes.
# The pattern list is split on ';', lower-cased and trimmed; paths are lower-cased and trimmed
# before matching (IsUnprotectedFile / IsProtectedFile). An invalid pattern is skipped.
_GLOB_SEPARATORS = "./"


class _GlobError(ValueError):
    pass


def _glob_regex(pattern: str, i: int = 0, in_alt: bool = False):
    """(regex, next index) of a gobwas pattern from ``i``; inside ``{...}`` stops at ',' or '}'."""
    not_sep = f"[^{re.escape(_GLOB_SEPARATORS)}]"
    out = ""
    while i < len(pattern):
        ch = pattern[i]
        if in_alt and ch in ",}":
            return out, i
        if ch == "\\":
            if i + 1 >= len(pattern):
                raise _GlobError("unexpected end after escape")
            out += re.escape(pattern[i + 1])
            i += 2
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif ch == "*":
            out += not_sep + "*"
            i += 1
        elif ch == "?":
            out += not_sep
            i += 1
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                raise _GlobError("unclosed character class")
            body = pattern[i + 1 : end]
            negate = body.startswith("!")
            body = body[1:] if negate else body
            if not body:
                raise _GlobError("empty character class")
            out += "[" + ("^" if negate else "") + body.replace("\\", "\\\\") + "]"
            i = end + 1
        elif ch == "{":
            options = []
            i += 1
            while True:
                option, i = _glob_regex(pattern, i, in_alt=True)
                options.append(option)
                if i >= len(pattern):
                    raise _GlobError("unclosed alternatives")
                i += 1
                if pattern[i - 1] == "}":
                    break
            out += "(?:" + "|".join(options) + ")"
        else:
            out += re.escape(ch)
            i += 1
    if in_alt:
        raise _GlobError("unclosed alternatives")
    return out, i


def file_patterns(patterns: str) -> list:
    """Compiled patterns of a rule's ``protected_file_patterns`` / ``unprotected_file_patterns``."""
    compiled = []
    for expr in (patterns or "").lower().split(";"):
        expr = expr.strip()
        if not expr:
            continue
        try:
            compiled.append(re.compile(_glob_regex(expr)[0], re.DOTALL))
        except (_GlobError, re.error):
            continue  # Forgejo logs "Invalid glob expression" and skips it
    return compiled


def matches_file_patterns(patterns: str, path: str) -> bool:
    lowered = path.strip().lower()
    return any(p.fullmatch(lowered) for p in file_patterns(patterns))


# ------------------------------------------------------------------------ quirks
@dataclass
class Quirks:
    """Behaviour of particular Forgejo builds, off by default; ``hits`` counts each time one acted.

    ``patch_keeps_must_change_password``: `PATCH /admin/users/{u}` leaves `must_change_password`
    set even when the body says false. The factory met this on some 11.x and moved to the CLI
    (Disinto/disinto 2308c4c, lib/hire-agent.sh: `forgejo admin user change-password …
    --must-change-password=false`, its issue #206).
    """

    patch_keeps_must_change_password: bool = False
    hits: dict = field(default_factory=dict)

    def hit(self, name: str) -> None:
        self.hits[name] = self.hits.get(name, 0) + 1


# ------------------------------------------------------------------- server settings
# modules/auth/password/password.go @ v11.0.15, lines 36-53: the classes PASSWORD_COMPLEXITY names.
PASSWORD_CLASSES = {
    "lower": "abcdefghijklmnopqrstuvwxyz",
    "upper": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "digit": "0123456789",
    "spec": " !\"#$%&'()*+,-./:;<=>?@[\\]^_{|}~`",
}


@dataclass
class Settings:
    """app.ini settings of the server the double plays; each default is Forgejo 11's.

    ``password_complexity``: [security] PASSWORD_COMPLEXITY (modules/setting/security.go:152-161,
    default "off"), checked as password.go:63-96 does: unknown names are skipped, a list with none
    known demands every class. ``basic_auth``: [service] ENABLE_BASIC_AUTHENTICATION
    (modules/setting/service.go:213). ``allowed_user_visibility``: [service]
    ALLOWED_USER_VISIBILITY_MODES (service.go:250-275; the first allowed one is the default).
    ``default_user_restricted``: [service] DEFAULT_USER_IS_RESTRICTED (service.go:236).
    ``max_response_items``: [api] MAX_RESPONSE_ITEMS (modules/setting/api.go:24, 50).
    """

    password_complexity: tuple = ("off",)
    basic_auth: bool = True
    allowed_user_visibility: tuple = ("public", "limited", "private")
    default_user_restricted: bool = False
    max_response_items: int = 50
    # [security] PASSWORD_CHECK_PWN (modules/setting/security.go:142, default off); with it, IsPwned
    # asks HIBP (modules/auth/password/pwn.go:36-50): `hibp_reachable` False plays a server that
    # cannot reach it, `pwned` the passwords HIBP knows.
    password_check_pwn: bool = False
    hibp_reachable: bool = True
    pwned: tuple = ("P@ssw0rd", "Password123!")

    def pwn_error(self, password: str) -> str | None:
        """IsPwned's error text, or None (pwn.go:15, 26-27)."""
        if not self.password_check_pwn:
            return None
        if not self.hibp_reachable:
            return "using Have-I-Been-Pwned service failed: dial tcp: lookup api.pwnedpasswords.com: no such host"
        return "password has been pwned" if password in self.pwned else None

    def password_complex_enough(self, password: str) -> bool:
        if list(self.password_complexity) == ["off"]:
            return True
        required = [PASSWORD_CLASSES[c] for c in self.password_complexity if c in PASSWORD_CLASSES]
        required = required or list(PASSWORD_CLASSES.values())
        return all(any(ch in chars for ch in password) for chars in required)


# ------------------------------------------------------------------------- helpers
def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sha256_hex(data) -> str:
    if isinstance(data, str):
        data = data.encode()
    return hashlib.sha256(data).hexdigest()


def git_blob_sha(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


ACCESS_MODES = {"none": 0, "read": 1, "write": 2, "admin": 3, "owner": 4}
MODE_NAMES = {v: k for k, v in ACCESS_MODES.items()}


class State:
    """The double's database. Hold ``lock`` while reading or changing anything."""

    def __init__(self):
        self.lock = threading.RLock()
        self.users: dict = {}  # id -> user record
        self.tokens: dict = {}  # id -> token record
        self.repos: dict = {}  # id -> repo record
        self.quirks = Quirks()
        self.settings = Settings()
        self.auth_sources: dict = {}  # id -> login type ("ldap", "smtp", "pam", "oauth2", ...)
        # Old names kept after a rename or transfer: lower old user name -> user id
        # (models/user/redirect.go), lower "owner/repo" -> repo id (models/repo/redirect.go).
        self.user_redirects: dict = {}
        self.repo_redirects: dict = {}
        self.ssh_keys: dict = {}  # id -> {"id", "uid", "title", "key", "fingerprint", "created_at"}
        self.blocks: set = set()  # (blocker uid, blocked uid)
        self._ids: dict = {}

    # ids --------------------------------------------------------------------
    def new_id(self, kind: str) -> int:
        with self.lock:
            self._ids[kind] = self._ids.get(kind, 0) + 1
            return self._ids[kind]

    # users ------------------------------------------------------------------
    def user_by_name(self, name: str):
        lower = (name or "").lower()
        for u in self.users.values():
            if u["lower_name"] == lower:
                return u
        return None

    def user_by_email(self, email: str):
        lower = (email or "").lower()
        for u in self.users.values():
            if u["email"].lower() == lower:
                return u
        return None

    def create_user(
        self,
        username,
        password,
        email,
        *,
        is_admin=False,
        must_change_password=True,
        full_name="",
        login_name="",
        source_id=0,
        restricted=False,
        visibility="public",
        active=True,
        created=None,
    ) -> dict:
        with self.lock:
            uid = self.new_id("user")
            salt = secrets.token_hex(8)
            created = created or now_iso()
            user = {
                "id": uid,
                "login": username,
                "lower_name": username.lower(),
                "email": email,
                "full_name": full_name or "",
                "login_name": login_name or "",
                "source_id": source_id or 0,
                "is_admin": bool(is_admin),
                "active": bool(active),
                "prohibit_login": False,
                "must_change_password": bool(must_change_password),
                "restricted": bool(restricted),
                "visibility": visibility or "public",
                "type": "user",
                "totp": None,
                "webauthn": False,  # a security key enrolled
                "keep_email_private": False,
                "location": "",
                "website": "",
                "description": "",
                "pronouns": "",
                "language": "",
                "created": created,
                "last_login": "1970-01-01T00:00:00Z",
                "salt": salt,
                "password_hash": sha256_hex(salt + password) if password is not None else "",
            }
            self.users[uid] = user
            return user

    def password_is_local(self, user: dict) -> bool:
        """User.IsLocal() or IsOAuth2() (models/user/user.go:237-244 @ v11.0.15): a password applies."""
        return not user["source_id"] or self.auth_sources.get(user["source_id"]) == "oauth2"

    def set_password(self, user: dict, password: str) -> None:
        user["salt"] = secrets.token_hex(8)
        user["password_hash"] = sha256_hex(user["salt"] + password)

    def check_password(self, user: dict, password) -> bool:
        if not user or not user.get("password_hash") or password is None:
            return False
        return secrets.compare_digest(user["password_hash"], sha256_hex(user["salt"] + password))

    def delete_user(self, user: dict, purge: bool) -> None:
        with self.lock:
            uid = user["id"]
            if purge:
                for rid in [r["id"] for r in self.repos.values() if r["owner_id"] == uid]:
                    del self.repos[rid]
            for tid in [t["id"] for t in self.tokens.values() if t["uid"] == uid]:
                del self.tokens[tid]
            for kid in [k["id"] for k in self.ssh_keys.values() if k["uid"] == uid]:
                del self.ssh_keys[kid]
            for repo in self.repos.values():
                repo["collaborators"].pop(uid, None)
            del self.users[uid]

    # tokens -----------------------------------------------------------------
    def create_token(self, user: dict, name: str, scopes: list) -> tuple:
        with self.lock:
            plain = secrets.token_hex(20)
            tid = self.new_id("token")
            rec = {
                "id": tid,
                "uid": user["id"],
                "name": name,
                "scopes": list(scopes),
                "token_hash": sha256_hex(plain),
                "token_last_eight": plain[-8:],
                "created": now_iso(),
            }
            self.tokens[tid] = rec
            return rec, plain

    def token_by_plain(self, plain: str):
        if not plain:
            return None
        digest = sha256_hex(plain)
        for t in self.tokens.values():
            if secrets.compare_digest(t["token_hash"], digest):
                return t
        return None

    def tokens_of(self, user: dict) -> list:
        return sorted((t for t in self.tokens.values() if t["uid"] == user["id"]), key=lambda t: t["id"], reverse=True)

    # repos ------------------------------------------------------------------
    def repo_by_name(self, owner: dict, name: str):
        lower = (name or "").lower()
        for r in self.repos.values():
            if r["owner_id"] == owner["id"] and r["lower_name"] == lower:
                return r
        return None

    def create_repo(
        self,
        owner: dict,
        name: str,
        *,
        private=False,
        description="",
        default_branch="main",
        auto_init=False,
        template=False,
        author=None,
    ) -> dict:
        with self.lock:
            rid = self.new_id("repo")
            ts = now_iso()
            repo = {
                "id": rid,
                "owner_id": owner["id"],
                "name": name,
                "lower_name": name.lower(),
                "description": description or "",
                "private": bool(private),
                "template": bool(template),
                "default_branch": default_branch or "main",
                "empty": True,
                "archived": False,
                "website": "",
                "created": ts,
                "updated": ts,
                "collaborators": {},  # user id -> "read" | "write" | "admin"
                "team_access": {},  # user id -> mode through the owning organization's teams
                "branches": {},  # name -> {"commit": sha, "files": {path: file}}
                "commits": {},  # sha -> commit
                "protections": [],  # ordered list of rules
            }
            self.repos[rid] = repo
            if auto_init:
                readme = f"# {name}\n\n{description or ''}".rstrip() + "\n"
                self.commit_files(
                    repo,
                    repo["default_branch"],
                    None,
                    {"README.md": readme.encode()},
                    "Initial commit",
                    author or owner,
                )
            return repo

    def commit_files(
        self, repo: dict, branch: str, base_branch, changes: dict, message: str, author: dict, removals=()
    ) -> dict:
        """Commit ``changes`` ({path: bytes}) and ``removals`` on ``branch`` (created from
        ``base_branch`` if it does not exist yet). Returns the commit (with a ``files``
        snapshot, so a commit sha works as a ref). Caller checks the rules."""
        with self.lock:
            base = repo["branches"].get(base_branch or branch)
            files = dict(base["files"]) if base else {}
            parents = [base["commit"]] if base else []
            ts = now_iso()
            name = author.get("full_name") or author["login"]
            seed = f"{repo['id']}:{branch}:{message}:{ts}:{secrets.token_hex(8)}"
            sha = hashlib.sha1(seed.encode()).hexdigest()
            for path in removals:
                files.pop(path, None)
            for path, content in changes.items():
                files[path] = {"content": content, "sha": git_blob_sha(content), "last_commit": sha}
            tree = hashlib.sha1(repr(sorted((p, f["sha"]) for p, f in files.items())).encode()).hexdigest()
            commit = {
                "sha": sha,
                "message": message,
                "parents": parents,
                "tree": tree,
                "created": ts,
                "author": {"name": name, "email": author["email"], "username": author["login"]},
                "files": files,
            }
            repo["commits"][sha] = commit
            repo["branches"][branch] = {"commit": sha, "files": files}
            if repo["empty"]:
                repo["empty"] = False
                repo["default_branch"] = branch
            repo["updated"] = ts
            return commit

    def snapshot(self, obj):
        with self.lock:
            return copy.deepcopy(obj)
