"""What the Nomad, Vault and llama-server doubles share: a threaded HTTP server on 127.0.0.1 that records each
request (method, path, query, headers) and answers through the double's `answer`, or misbehaves:
mode "hang" (accepts, never answers until stopped: a client timeout) or "reset" (drops each
connection). Any method is recorded, so a test can assert that only GETs were made.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str] = field(repr=False)
    body: Any = field(default=None, repr=False)  # a JSON request body, parsed

    @property
    def authorization(self) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == "authorization"), None)


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any = None  # JSON
    text: str | None = None  # a plain-text body instead (Nomad's errors)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _any(self) -> None:
        self.server.double.serve(self)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _any

    def reset(self) -> None:
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    def send(self, answer: Answer) -> None:
        if answer.text is not None:
            data, kind = answer.text.encode(), "text/plain; charset=utf-8"
        else:
            data, kind = json.dumps(answer.body).encode(), "application/json"
        self.send_response(answer.status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class HttpDouble:
    """Subclasses answer `answer(seen) -> Answer`; `configure(**settings)` changes them while running."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None

    def start(self):
        self._server = _Server((self.listen_address(), 0), _Handler)
        self._server.double = self
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def listen_address(self) -> str:
        """The loopback: what check and the providers reach from this machine (the model-server
        double overrides it: agents' containers reach it)."""
        return "127.0.0.1"

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def configure(self, **settings: Any) -> None:
        with self._lock:
            for key, value in settings.items():
                if not hasattr(self, key) or key.startswith("_"):
                    raise AttributeError(key)
                setattr(self, key, value)

    def forget(self) -> None:
        with self._lock:
            self.requests.clear()

    def serve(self, handler: _Handler) -> None:
        parts = urlsplit(handler.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        seen = Seen(handler.command, parts.path, query, dict(handler.headers.items()), json.loads(raw) if raw else None)
        with self._lock:
            self.requests.append(seen)
            mode = self.mode
        if mode == "reset":
            return handler.reset()
        if mode == "hang":
            self._stopping.wait()
            return handler.reset()
        with self._lock:
            answer = self.answer(seen)
        handler.send(answer)
        return None

    def answer(self, seen: Seen) -> Answer:
        raise NotImplementedError
