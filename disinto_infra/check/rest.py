"""One GET against an HTTP API for `check`'s Nomad and Vault areas: no retries, bounded by a timeout.

Every failure is in our own words (a status, a short reason), never the HTTP library's exception,
and a plain-text body keeps only its first line, with each header value (the token) masked: no
credential can leak through an echo.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests

MASK = "***"
TEXT_LIMIT = 120


@dataclass(frozen=True)
class Reply:
    status: int | None  # None: no HTTP answer
    body: Any = None  # the JSON body, when there was one
    text: str = ""  # a short plain-text body (Nomad answers errors in plain text)
    failure: str = ""  # why there was no answer

    def why(self) -> str:
        """What went wrong, for a row or a problem line."""
        if self.status is None:
            return self.failure
        return f"HTTP {self.status}" + (f": {self.text}" if self.text else "")


def _first_line(text: str, secrets: list[str]) -> str:
    line = (text.strip().splitlines() or [""])[0][:TEXT_LIMIT]
    for value in secrets:
        line = line.replace(value, MASK)
    return line


def get(base_url: str, path: str, headers: Mapping[str, str], timeout: float,
        params: Mapping[str, str] | None = None, verify: bool | str = True) -> Reply:
    """GET `base_url + path`; `headers` carry the token (and are masked in any echo); `verify`
    is a CA file, or False to skip TLS verification."""
    try:
        raw = requests.get(base_url.rstrip("/") + path, params=params, timeout=timeout, allow_redirects=False,
                           headers={"Accept": "application/json", **headers}, verify=verify)
    except requests.Timeout:
        return Reply(None, failure=f"no answer within {timeout:g}s")
    except requests.exceptions.SSLError:
        return Reply(None, failure="TLS handshake failed (certificate not trusted?)")
    except requests.ConnectionError:
        return Reply(None, failure="connection refused or reset")
    except requests.RequestException as exc:
        return Reply(None, failure=type(exc).__name__)
    try:
        return Reply(raw.status_code, raw.json() if raw.content else None)
    except ValueError:
        return Reply(raw.status_code, text=_first_line(raw.text, [v for v in headers.values() if v]))
