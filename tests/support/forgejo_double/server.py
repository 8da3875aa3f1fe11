"""ForgejoDouble: a Forgejo 11 test double served over real HTTP on 127.0.0.1.

    with ForgejoDouble(spec_check=True) as forge:
        forge.add_user("disinto-admin", password="admin-pass-123", is_admin=True)
        requests.get(forge.url + "/api/v1/version")

A ThreadingHTTPServer runs in a daemon thread; each connection gets its own thread and
the API logic runs under one lock. Every request is recorded (``forge.requests``), can be
hit by injected faults (``forge.inject(Fault(...))``) and, with ``spec_check=True``, is
checked together with its 2xx response against Forgejo's swagger (``forge.spec_violations``).
"""

from __future__ import annotations

import contextlib
import copy
import json
import select
import socket
import struct
import threading
import traceback
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from .api import Api, Ctx, Response
from .faults import Fault, FaultSet
from .state import State, normalize_scopes, now_iso

API_PREFIX = "/api/v1"


@dataclass
class RequestRecord:
    method: str
    path: str  # percent-decoded, without the query string
    query: dict
    status: int | None  # None when no response was sent (reset / timeout / dropped)
    auth_kind: str  # "token" | "basic" | "none"
    username: str | None  # the authenticated user (after Sudo), else None
    body: Any  # parsed JSON body, or None
    fault: str | None = None  # kind of the fault that hit this request
    headers: dict = field(default_factory=dict)  # request headers, Authorization value redacted


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ForgejoDouble/11.0.15"
    sys_version = ""

    def log_message(self, fmt, *args):  # keep test output quiet
        pass

    def _dispatch(self):
        self.server.forge._serve(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch

    def abort(self):
        """Drop the connection with a RST and without any response."""
        self._aborted = True
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def finish(self):
        if getattr(self, "_aborted", False):
            for f in (self.wfile, self.rfile):
                with contextlib.suppress(OSError):
                    f.close()
            with contextlib.suppress(OSError):
                self.connection.close()
            return
        with contextlib.suppress(OSError):
            super().finish()


class ForgejoDouble:
    """A fake Forgejo 11 server. See the package docstring for the full API."""

    def __init__(self, spec_check: bool = True, spec_path: str | None = None, host: str = "127.0.0.1", port: int = 0):
        self.state = State()
        self.api = Api(self.state, lambda: self.url)
        self.spec_check = spec_check
        self._spec = None
        if spec_check:
            from .spec import SpecChecker

            self._spec = SpecChecker(spec_path)
        self._host, self._port = host, port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._faults = FaultSet()
        self._log_lock = threading.Lock()
        self._requests: list = []
        self._violations: list = []
        self._errors: list = []
        self.latency: float = 0.0

    # ------------------------------------------------------------- lifecycle
    def start(self) -> ForgejoDouble:
        if self._server is None:
            self._stop.clear()
            self._server = _Server((self._host, self._port), _Handler)
            self._server.forge = self
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="forgejo-double", kwargs={"poll_interval": 0.05}, daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    close = stop

    def __enter__(self) -> ForgejoDouble:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """http://127.0.0.1:PORT (no trailing slash, no /api/v1)."""
        if self._server is None:
            raise RuntimeError("ForgejoDouble is not started (use it as a context manager or call start())")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return self.url + API_PREFIX

    # --------------------------------------------------------------- seeding
    def add_user(
        self,
        username: str,
        password: str | None = None,
        is_admin: bool = False,
        email: str | None = None,
        must_change_password: bool = False,
        **fields,
    ) -> dict:
        """Create a user directly (no API rules). Default password: f"{username}-pass-123"."""
        with self.state.lock:
            if self.state.user_by_name(username) is not None:
                raise ValueError(f"user already exists [name: {username}]")
            user = self.state.create_user(
                username,
                password if password is not None else f"{username}-pass-123",
                email or f"{username.lower()}@forgejo-double.test",
                is_admin=is_admin,
                must_change_password=must_change_password,
                **{
                    k: v
                    for k, v in fields.items()
                    if k in ("full_name", "login_name", "source_id", "restricted", "visibility", "active")
                },
            )
            for key in ("prohibit_login", "location", "website", "description", "pronouns", "totp", "webauthn"):
                if key in fields:
                    user[key] = fields[key]
            return copy.deepcopy(user)

    def add_org(self, name: str, email: str = "") -> dict:
        """An organization: a row in the user table (type org), so its name is taken for users too;
        it has no password and signs in nowhere."""
        with self.state.lock:
            if self.state.user_by_name(name) is not None:
                raise ValueError(f"user already exists [name: {name}]")
            org = self.state.create_user(
                name, None, email or f"{name.lower()}@org.forgejo-double.test", must_change_password=False
            )
            org["type"] = "org"
            return copy.deepcopy(org)

    def add_auth_source(self, kind: str) -> int:
        """An authentication source (kind: "ldap", "smtp", "pam", "oauth2"); returns its id, for
        add_user(..., source_id=id, login_name=...)."""
        with self.state.lock:
            sid = self.state.new_id("source")
            self.state.auth_sources[sid] = kind
            return sid

    def add_ssh_key(self, username: str, title: str = "laptop") -> int:
        """An SSH key on the account (as its owner adds one with write:user); returns its id."""
        with self.state.lock:
            user = self._need_user(username)
            kid = self.state.new_id("key")
            self.state.ssh_keys[kid] = {
                "id": kid,
                "uid": user["id"],
                "title": title,
                "key": f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA{kid:020d} {title}",
                "fingerprint": f"SHA256:{kid:043d}",
                "created_at": now_iso(),
            }
            return kid

    def ssh_keys_of(self, username: str) -> list:
        with self.state.lock:
            uid = self._need_user(username)["id"]
            return [copy.deepcopy(k) for k in self.state.ssh_keys.values() if k["uid"] == uid]

    def rename_user(self, old: str, new: str) -> None:
        """An admin renames a user: the old name is kept as a redirect to it
        (services/user/user.go RenameUser → user_model.NewUserRedirect @ v11.0.15)."""
        with self.state.lock:
            user = self._need_user(old)
            if self.state.user_by_name(new) is not None:
                raise ValueError(f"user already exists [name: {new}]")
            self.state.user_redirects.pop(new.lower(), None)
            self.state.user_redirects[user["lower_name"]] = user["id"]
            user["login"], user["lower_name"] = new, new.lower()

    def rename_repo(self, full_name: str, new_name: str) -> None:
        """A repository renamed by its owner: the old path redirects (repo_model.NewRedirect)."""
        with self.state.lock:
            repo = self._need_repo(full_name)
            self.state.repo_redirects[full_name.lower()] = repo["id"]
            repo["name"], repo["lower_name"] = new_name, new_name.lower()

    def add_team_access(self, repo: str, username: str, permission: str) -> None:
        """Access to a repository through a team of its owning organization (not a collaborator)."""
        if permission not in ("read", "write", "admin", "owner"):
            raise ValueError(permission)
        with self.state.lock:
            self._need_repo(repo)["team_access"][self._need_user(username)["id"]] = permission

    def update_user(self, username: str, **fields) -> dict:
        """Change stored user fields (e.g. active=False, must_change_password=True)."""
        with self.state.lock:
            user = self._need_user(username)
            if "password" in fields:
                self.state.set_password(user, fields.pop("password"))
            unknown = set(fields) - set(user)
            if unknown:
                raise KeyError(f"unknown user fields: {sorted(unknown)}")
            user.update(fields)
            return copy.deepcopy(user)

    def add_token(self, username: str, name: str = "token", scopes=("all",)) -> str:
        """Create an access token; returns its 40-hex secret (only a sha256 is stored)."""
        with self.state.lock:
            user = self._need_user(username)
            if any(t["name"] == name for t in self.state.tokens_of(user)):
                raise ValueError("access token name has been used already")
            norm = normalize_scopes(list(scopes))
            if not norm:
                raise ValueError("access token must have a scope")
            _, plain = self.state.create_token(user, name, norm)
            return plain

    def add_repo(
        self,
        owner: str,
        name: str,
        private: bool = False,
        *,
        auto_init: bool = False,
        default_branch: str = "main",
        description: str = "",
    ) -> dict:
        """Create a repository owned by an existing user (empty unless auto_init)."""
        with self.state.lock:
            user = self._need_user(owner)
            if self.state.repo_by_name(user, name) is not None:
                raise ValueError(f"repository already exists [{owner}/{name}]")
            self.state.create_repo(
                user, name, private=private, description=description, default_branch=default_branch, auto_init=auto_init
            )
            return self.repo(f"{user['login']}/{name}")

    def add_collaborator(self, repo: str, username: str, permission: str = "write") -> None:
        if permission not in ("read", "write", "admin"):
            raise ValueError(permission)
        with self.state.lock:
            self._need_repo(repo)["collaborators"][self._need_user(username)["id"]] = permission

    def add_file(
        self,
        repo: str,
        path: str,
        content,
        branch: str | None = None,
        message: str | None = None,
        author: str | None = None,
    ) -> str:
        """Commit a file directly; returns the commit sha. First commit makes the repo non-empty."""
        if isinstance(content, str):
            content = content.encode()
        with self.state.lock:
            rec = self._need_repo(repo)
            who = self._need_user(author) if author else self.state.users[rec["owner_id"]]
            branch = branch or rec["default_branch"]
            base = branch if branch in rec["branches"] else (rec["default_branch"] if not rec["empty"] else None)
            commit = self.state.commit_files(rec, branch, base, {path: content}, message or f"Add {path}", who)
            return commit["sha"]

    # ----------------------------------------------------------- inspection
    @property
    def users(self) -> list:
        with self.state.lock:
            return [copy.deepcopy(u) for u in sorted(self.state.users.values(), key=lambda u: u["id"])]

    def user(self, username: str) -> dict | None:
        with self.state.lock:
            user = self.state.user_by_name(username)
            return copy.deepcopy(user) if user else None

    def check_password(self, username: str, password: str) -> bool:
        with self.state.lock:
            return self.state.check_password(self.state.user_by_name(username), password)

    def tokens_of(self, username: str) -> list:
        """Token records newest first: id, uid, name, scopes, token_hash (sha256 of the
        secret, never the secret), token_last_eight, created."""
        with self.state.lock:
            user = self.state.user_by_name(username)
            return [copy.deepcopy(t) for t in self.state.tokens_of(user)] if user else []

    def token_owner(self, secret: str) -> str | None:
        with self.state.lock:
            tok = self.state.token_by_plain(secret)
            return self.state.users[tok["uid"]]["login"] if tok else None

    @property
    def repos(self) -> list:
        with self.state.lock:
            return [self._full(r) for r in sorted(self.state.repos.values(), key=lambda r: r["id"])]

    def repo(self, full_name: str) -> dict | None:
        """Repository record: id, name, private, empty, default_branch, collaborators
        ({username: permission}), branches ([names]), protections ([rule names])."""
        with self.state.lock:
            rec = self._find_repo(full_name)
            if rec is None:
                return None
            out = {
                k: copy.deepcopy(v)
                for k, v in rec.items()
                if k not in ("commits", "branches", "collaborators", "protections")
            }
            out["full_name"] = self._full(rec)
            out["collaborators"] = self.collaborators_of(full_name)
            out["branches"] = sorted(rec["branches"])
            out["protections"] = [p["rule_name"] for p in rec["protections"]]
            return out

    def collaborators_of(self, full_name: str) -> dict:
        with self.state.lock:
            rec = self._need_repo(full_name)
            return {self.state.users[uid]["login"]: perm for uid, perm in rec["collaborators"].items()}

    def file(self, full_name: str, path: str, ref: str | None = None) -> bytes | None:
        with self.state.lock:
            rec = self._need_repo(full_name)
            files = self.api._snapshot_for(rec, ref or rec["default_branch"]) or {}
            entry = files.get(path)
            return entry["content"] if entry else None

    def branch_protections_of(self, full_name: str) -> list:
        with self.state.lock:
            rec = self._need_repo(full_name)
            return [self.api._protection_json(rec, r) for r in rec["protections"]]

    @property
    def requests(self) -> list:
        with self._log_lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._log_lock:
            self._requests.clear()

    @property
    def spec_violations(self) -> list:
        with self._log_lock:
            return list(self._violations)

    def clear_spec_violations(self) -> None:
        with self._log_lock:
            self._violations.clear()

    @property
    def internal_errors(self) -> list:
        """Tracebacks of exceptions inside the double (answered as 500): double bugs."""
        with self._log_lock:
            return list(self._errors)

    # ----------------------------------------------------------------- faults
    def inject(self, fault: Fault) -> Fault:
        return self._faults.add(fault)

    def clear_faults(self) -> None:
        self._faults.clear()

    @property
    def faults(self) -> list:
        return self._faults.all()

    # ------------------------------------------------------------- internals
    def _find_repo(self, full_name: str):
        owner, _, name = full_name.partition("/")
        user = self.state.user_by_name(owner)
        return self.state.repo_by_name(user, name) if user else None

    def _need_repo(self, full_name: str) -> dict:
        rec = self._find_repo(full_name)
        if rec is None:
            raise KeyError(f"no repository {full_name}")
        return rec

    def _need_user(self, username: str) -> dict:
        user = self.state.user_by_name(username)
        if user is None:
            raise KeyError(f"no user {username}")
        return user

    def _full(self, rec: dict) -> str:
        return f"{self.state.users[rec['owner_id']]['login']}/{rec['name']}"

    def _hold(self, handler, seconds: float) -> None:
        """Answer nothing for up to `seconds`, or until the client hangs up (its deadline ran out)."""
        conn = handler.connection
        waited = 0.0
        while waited < seconds and not self._stop.is_set():
            readable, _, _ = select.select([conn], [], [], 0.05)
            waited += 0.05
            if readable:
                try:
                    if conn.recv(1, socket.MSG_PEEK) == b"":
                        return
                except OSError:
                    return

    def _sleep(self, seconds: float) -> None:
        if seconds and seconds > 0:
            self._stop.wait(seconds)

    @staticmethod
    def _read_body(handler) -> bytes:
        if "chunked" in (handler.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(handler.rfile.read(size))
                handler.rfile.readline()
            return b"".join(chunks)
        length = int(handler.headers.get("Content-Length") or 0)
        return handler.rfile.read(length) if length > 0 else b""

    def _serve(self, handler: _Handler) -> None:
        raw_body = self._read_body(handler)
        split = urlsplit(handler.path)
        raw_path = split.path or "/"
        path = unquote(raw_path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        method = handler.command.upper()
        try:
            body_json = json.loads(raw_body) if raw_body.strip() else None
        except ValueError:
            body_json = None
        headers = {
            k: (v.split(" ", 1)[0] + " <redacted>" if k.lower() == "authorization" else v)
            for k, v in handler.headers.items()
        }
        record = RequestRecord(method, path, query, None, "none", None, body_json, headers=headers)
        with self._log_lock:
            self._requests.append(record)

        op = None
        if self._spec is not None and path.startswith(API_PREFIX + "/"):
            try:
                op, problems = self._spec.check_request(method, path, query, raw_body)
            except Exception as exc:  # never let the checker break a request
                op, problems = None, [f"{method} {path}: spec checker failed: {exc!r}"]
            self._add_violations(problems)

        self._sleep(self.latency)
        fault = self._faults.take(method, path)
        if fault is not None:
            record.fault = fault.kind
            if fault.kind == "reset":
                handler.abort()
                return
            if fault.kind == "timeout":
                self._hold(handler, fault.seconds)
                handler.abort()
                return
            if fault.kind == "delay":
                self._sleep(fault.seconds)
            if fault.kind == "status":
                body = (
                    fault.body
                    if fault.body is not None
                    else {"message": fault.message, "url": self.url + "/api/swagger"}
                )
                record.status = fault.status
                self._write(handler, Response(fault.status, body, dict(fault.headers or {})))
                return

        response = self._respond(method, path, raw_path, query, handler.headers, raw_body, record)
        if op is not None and self._spec is not None:
            try:
                problems = self._spec.check_response(op, method, path, response.status, response.body)
            except Exception as exc:
                problems = [f"{method} {path} -> {response.status}: spec checker failed: {exc!r}"]
            self._add_violations(problems)
        record.status = response.status
        if fault is not None and fault.kind == "drop_response":
            handler.abort()
            return
        self._write(handler, response)

    def _respond(self, method, path, raw_path, query, headers, raw_body, record) -> Response:
        if method == "GET" and path.rstrip("/") == "/api/healthz":
            return Response(200, {"status": "pass", "description": "Forgejo: Beyond coding. We Forge.", "checks": {}})
        if not (path == API_PREFIX or path.startswith(API_PREFIX + "/")):
            return Response(
                404, {"message": "The target couldn't be found.", "url": self.url + "/api/swagger", "errors": None}
            )
        sub = raw_path[len(API_PREFIX) :]
        if len(sub) > 1 and sub.endswith("/"):
            sub = sub[:-1]
        segments = [unquote(s) for s in sub.split("/")[1:]] if sub not in ("", "/") else []
        ctx = Ctx(
            method=method,
            path=path,
            segments=segments,
            query=query,
            headers=headers,
            body_bytes=raw_body,
            raw_path=raw_path,
            raw_query=urlencode(query) if query else "",
        )
        try:
            response = self.api.handle(ctx)
        except Exception:  # a bug in the double: answer 500 and keep the traceback
            tb = traceback.format_exc()
            with self._log_lock:
                self._errors.append(f"{method} {path}\n{tb}")
            response = Response(500, {"message": tb.strip().splitlines()[-1], "url": self.url + "/api/swagger"})
        record.auth_kind = ctx.auth_kind
        record.username = ctx.doer["login"] if ctx.doer else None
        return response

    def _add_violations(self, problems) -> None:
        if problems:
            with self._log_lock:
                self._violations.extend(problems)

    @staticmethod
    def _write(handler: _Handler, response: Response) -> None:
        try:
            handler.send_response(response.status)
            payload = b""
            if response.body is not None and response.status not in (204, 304):
                payload = json.dumps(response.body).encode()
                handler.send_header("Content-Type", "application/json;charset=utf-8")
            for key, value in response.headers.items():
                handler.send_header(key, value)
            if response.status not in (204, 304):
                handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            if payload and handler.command != "HEAD":
                handler.wfile.write(payload)
        except OSError:
            handler.close_connection = True
