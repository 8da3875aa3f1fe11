"""A Forgejo stand-in for the engine tests, run inside a container of the agents image (standard library only).

It serves what the factory's entrypoint needs to reach its loop (docker/agents/entrypoint.sh and
lib/git-creds.sh): `GET /api/v1/user` by token and by basic auth (the token as password, as Forgejo
accepts it), `[]` for every other API GET (no issues, no pulls: the polls find no work), and the bare
repositories under /srv/git over git's dumb HTTP protocol. Accounts come from /srv/accounts.json, a JSON
object of login to token, read at each request.
"""

from __future__ import annotations

import base64
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

GIT_ROOT = Path("/srv/git")
ACCOUNTS_FILE = Path("/srv/accounts.json")


def login_of(header: str) -> str | None:
    """The account an Authorization header proves, or None."""
    accounts: dict[str, str] = json.loads(ACCOUNTS_FILE.read_text()) if ACCOUNTS_FILE.is_file() else {}
    scheme, _, credential = header.partition(" ")
    if scheme.lower() == "token":
        return next((login for login, token in accounts.items() if token == credential.strip()), None)
    if scheme.lower() == "basic":
        login, _, password = base64.b64decode(credential.strip()).decode().partition(":")
        return login if accounts.get(login) == password else None
    return None


class Handler(BaseHTTPRequestHandler):
    def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path.startswith("/api/v1/"):
            self._api(path)
        else:
            self._git(path)

    def _api(self, path: str) -> None:
        login = login_of(self.headers.get("Authorization", ""))
        if login is None:
            self._send(401, b'{"message":"unauthorized"}')
        elif path == "/api/v1/user":
            self._send(200, json.dumps({"login": login, "id": 1}).encode())
        else:
            self._send(200, b"[]")

    def _git(self, path: str) -> None:
        target = (GIT_ROOT / path.lstrip("/")).resolve()
        if GIT_ROOT not in target.parents or not target.is_file():
            self._send(404, b"not found", "text/plain")
            return
        self._send(200, target.read_bytes(), "application/octet-stream")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's signature)
        print(f"forge: {self.command} {self.path} -> {args[1] if len(args) > 1 else ''}", flush=True)


if __name__ == "__main__":
    ThreadingHTTPServer(("0.0.0.0", 3000), Handler).serve_forever()
