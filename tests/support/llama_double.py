"""LlamaDouble: a fake llama-server (or another OpenAI-compatible server) over real HTTP on 127.0.0.1.

    with LlamaDouble(slots=4, alias="Qwen3.5-35B-A3B") as llama:
        requests.get(llama.url + "/props")

Shapes follow llama.cpp's `tools/server/README.md`: `/health` answers `{"status": "ok"}`, or 503
with `{"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}` while
loading (and so does every other route then); `/props` gives `total_slots`, `model_alias`,
`model_path`; `/v1/models` lists `{"id": alias}`. With `api_key` set, `/props` wants
`Authorization: Bearer <key>` (llama-server keeps `/health` and `/v1/models` public).

Modes: "ok", "loading", "no-props" (an OpenAI-compatible server without /health and /props),
"hang" (accepts, never answers until stopped: a client timeout), "reset" (drops each connection).
Every request is recorded with its path and Authorization header (`llama.requests`).
"""
from __future__ import annotations

import json
import socket
import struct
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional

LOADING = {"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}
BAD_KEY = {"error": {"code": 401, "message": "Invalid API Key", "type": "authentication_error"}}
NOT_FOUND = {"error": {"code": 404, "message": "File Not Found", "type": "not_found_error"}}


@dataclass(frozen=True)
class Seen:
    path: str
    authorization: Optional[str]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.server.llama.serve(self)

    def reset(self) -> None:
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    def send_json(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class LlamaDouble:
    def __init__(self, *, slots: int = 4, alias: str = "Qwen3.5-35B-A3B",
                 model_path: str = "/models/Qwen3.5-35B-A3B-UD-Q4_K_XL.gguf", mode: str = "ok",
                 api_key: Optional[str] = None):
        self.slots, self.alias, self.model_path, self.mode, self.api_key = slots, alias, model_path, mode, api_key
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: Optional[_Server] = None

    # ------------------------------------------------------------ lifecycle
    def start(self) -> "LlamaDouble":
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.llama = self
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> "LlamaDouble":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def configure(self, **settings: Any) -> None:
        """Change slots, alias, model_path, mode or api_key of the running server."""
        with self._lock:
            for key, value in settings.items():
                if not hasattr(self, key) or key.startswith("_"):
                    raise AttributeError(key)
                setattr(self, key, value)

    # ------------------------------------------------------------ serving
    def serve(self, handler: _Handler) -> None:
        path = handler.path.split("?", 1)[0]
        with self._lock:
            self.requests.append(Seen(path, handler.headers.get("Authorization")))
            mode, slots, alias, model_path, key = self.mode, self.slots, self.alias, self.model_path, self.api_key
        if mode == "reset":
            return handler.reset()
        if mode == "hang":
            self._stopping.wait()
            return handler.reset()
        if mode == "loading":
            return handler.send_json(503, LOADING)
        if path in ("/health", "/v1/health") and mode == "ok":
            return handler.send_json(200, {"status": "ok"})
        if path == "/props" and mode == "ok":
            if key and handler.headers.get("Authorization") != f"Bearer {key}":
                return handler.send_json(401, BAD_KEY)
            return handler.send_json(200, {
                "default_generation_settings": {"n_ctx": 65536}, "total_slots": slots,
                "model_alias": alias, "model_path": model_path, "chat_template": "", "build_info": "b0000-double",
            })
        if path in ("/v1/models", "/models"):
            return handler.send_json(200, {"object": "list", "data": [
                {"id": alias, "object": "model", "created": 0, "owned_by": "llamacpp"},
            ]})
        return handler.send_json(404, NOT_FOUND)


def no_model_servers(monkeypatch) -> None:
    """For tests whose TOMLs name made-up servers (10.10.10.1, http://x:1): no probe leaves the
    machine; every server is unreachable. Tests of the probes use a LlamaDouble instead."""
    from disinto_infra import model_server

    monkeypatch.setattr(model_server, "probe", lambda url, key="", timeout=0: model_server.ServerProbe(
        url, model_server.ServerState.UNREACHABLE, "not probed in this test"))
