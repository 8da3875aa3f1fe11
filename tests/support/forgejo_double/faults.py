"""Fault injection for the Forgejo double.

A Fault matches requests by HTTP method and a regular expression searched in the request
path (no query string, percent-decoded, including the ``/api/v1`` prefix) and hits the
next ``times`` matching requests (``times=None``: every one), after letting ``skip``
matching requests through untouched.

kinds:
  status         answer ``status`` with a JSON body ``{"message", "url"}`` (or ``body``),
                 without applying the request
  reset          close the connection abruptly (RST, SO_LINGER 0) without answering and
                 without applying; a client sees ConnectionResetError / RemoteDisconnected
  delay          sleep ``seconds`` (default 0.2), then handle the request normally
  drop_response  APPLY the request to the state, then close the connection without
                 sending the response ("apply then lose the response")
  timeout        answer nothing until the client hangs up (its deadline) or ``seconds`` pass
                 (default 300), then
                 close the connection without applying
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

KINDS = ("status", "reset", "delay", "drop_response", "timeout")
_DEFAULT_SECONDS = {"delay": 0.2, "timeout": 300.0}


@dataclass
class Fault:
    method: str | None = None  # None or "*": any method
    path_regex: str = ".*"
    kind: str = "status"
    status: int = 503
    times: int | None = 1  # None: unlimited
    seconds: float | None = None
    message: str = "injected fault"
    body: Any = None  # "status" kind: JSON body instead of the message
    headers: dict | None = None  # "status" kind: extra response headers
    skip: int = 0  # let this many matching requests pass first
    hits: int = field(default=0, init=False)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {KINDS}")
        if self.seconds is None:
            self.seconds = _DEFAULT_SECONDS.get(self.kind, 0.0)
        self._regex = re.compile(self.path_regex)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times

    def matches(self, method: str, path: str) -> bool:
        if self.method not in (None, "*") and self.method.upper() != method.upper():
            return False
        return bool(self._regex.search(path))


class FaultSet:
    """Thread-safe list of faults; ``take`` consumes one hit of the first live match."""

    def __init__(self):
        self._lock = threading.Lock()
        self._faults: list = []

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def all(self) -> list:
        with self._lock:
            return list(self._faults)

    def take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.exhausted or not fault.matches(method, path):
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                fault.hits += 1
                return fault
        return None
