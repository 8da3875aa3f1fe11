"""A server whose every reply never ends: 200, JSON, chunked (no Content-Length) or with a huge
Content-Length, streaming `[0,0,0,…` until the client hangs up (or 1 GiB, so a broken client
still ends). What a bounded reader must stop reading (issue 19: a 200 MB reply took 700 MB)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PIECE = b"0," * 32768
GIVE_UP = 1 << 30


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _flood(self) -> None:
        chunked = self.server.chunked
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(GIVE_UP))
        self.end_headers()
        sent = 0
        try:
            self.wfile.write(b"1\r\n[\r\n" if chunked else b"[")
            while sent < GIVE_UP:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(PIECE), PIECE) if chunked else PIECE)
                sent += len(PIECE)
        except OSError:
            pass  # the client stopped reading: what it should do
        self.close_connection = True

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _flood


class Flood:
    def __init__(self, chunked: bool = True):
        self.chunked = chunked

    def __enter__(self) -> Flood:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.chunked = self.chunked
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
