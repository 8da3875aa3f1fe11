"""A total time limit on one HTTP exchange, which `requests` lacks.

Its timeouts bound the connect and each socket read: a server that drips a byte every half second
answers every read in time and holds the call for as long as it likes. Here a timer shuts the
sockets of the exchange down when the time is up; the blocked read returns at once, and the caller,
seeing `Deadline.expired`, reports a timeout (docs/decisions/total-deadlines.md).

Use a session from `session()` (its connections report their sockets) and run each exchange
inside `with Deadline(seconds):`.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from contextvars import ContextVar
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

import requests
from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, ProxyManager
from urllib3.connection import HTTPConnection, HTTPSConnection

if TYPE_CHECKING:  # a protocol urllib3 defines for type checkers only
    from urllib3._base_connection import BaseHTTPConnection


class Timer(Protocol):
    def start(self) -> None: ...
    def cancel(self) -> None: ...


def _thread_timer(seconds: float, expire: Callable[[], None]) -> Timer:
    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    return timer


# How a Deadline starts its clock; tests put a timer here that they fire themselves.
START_TIMER: Callable[[float, Callable[[], None]], Timer] = _thread_timer

_current: ContextVar[Deadline | None] = ContextVar("deadline", default=None)


class Deadline:
    """The exchanges run inside it end, at the latest, `seconds` after it is entered."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = START_TIMER(seconds, self.expire)

    def __enter__(self) -> Deadline:
        self._token = _current.set(self)
        self._timer.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._timer.cancel()
        _current.reset(self._token)

    def expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _shut(sock)

    def register(self, sock: socket.socket) -> None:
        with self._lock:
            if not self.expired:
                self._sockets.append(sock)
                return
        _shut(sock)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


def _register(sock: socket.socket | None) -> None:
    current = _current.get()
    if current is not None and sock is not None:
        current.register(sock)


class _Connection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _register(sock)
        return sock


class _TLSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _register(sock)
        return sock


class _Pool(HTTPConnectionPool):
    ConnectionCls = _Connection

    def _get_conn(self, timeout: float | None = None) -> BaseHTTPConnection:
        conn = super()._get_conn(timeout)
        _register(getattr(conn, "sock", None))  # a kept-alive connection joins this exchange's deadline
        return conn


class _TLSPool(HTTPSConnectionPool):
    ConnectionCls = _TLSConnection

    def _get_conn(self, timeout: float | None = None) -> BaseHTTPConnection:
        conn = super()._get_conn(timeout)
        _register(getattr(conn, "sock", None))
        return conn


POOLS = {"http": _Pool, "https": _TLSPool}


class DeadlineAdapter(HTTPAdapter):
    """An adapter whose connections (direct or through a proxy) report their sockets to the Deadline."""

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: object) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: object) -> ProxyManager:
        manager: ProxyManager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = POOLS
        return manager


def session(adapter: HTTPAdapter | None = None) -> requests.Session:
    """A Session whose exchanges a Deadline can end; `adapter` (a DeadlineAdapter) for other settings."""
    made = requests.Session()
    mounted = adapter or DeadlineAdapter()
    made.mount("http://", mounted)
    made.mount("https://", mounted)
    return made
