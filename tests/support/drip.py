"""A server that answers one byte at a time, each only when the test lets it (`give(n)`), or every
`interval` seconds on its own: what a per-read timeout never ends (issue 28 item 2). `sent` counts
the bytes that went out, and `wait_sent(n)` waits for that event."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPLY = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n" + b" " * 1000000


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def _drip(self) -> None:
        server: Drip = self.server.drip
        try:
            for byte in REPLY:
                if not server.allowance.acquire(timeout=server.interval) and server.interval is None:
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                with server.cond:
                    server.sent += 1
                    server.cond.notify_all()
        except OSError:
            pass  # the client hung up: what it should do

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _drip


class Drip:
    def __init__(self, interval: float | None = None):
        """interval None: a byte only when the test gives one; else one every `interval` s as well."""
        self.interval = interval
        self.allowance = threading.Semaphore(0)
        self.cond = threading.Condition()
        self.sent = 0

    def give(self, n: int) -> None:
        for _ in range(n):
            self.allowance.release()

    def wait_sent(self, n: int, timeout: float = 300) -> None:
        with self.cond:
            assert self.cond.wait_for(lambda: self.sent >= n, timeout), f"only {self.sent} of {n} bytes went out"

    def __enter__(self) -> Drip:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.drip = self
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self

    def __exit__(self, *exc: object) -> None:
        self.give(len(REPLY))
        self._server.shutdown()
        self._server.server_close()
