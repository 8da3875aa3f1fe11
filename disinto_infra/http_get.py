"""One GET against an HTTP API, no retries, bounded by a timeout: what `check` asks Nomad and Vault,
and what model_server asks a model server (so it sits outside the `check` package).

Every failure is in our own words (a status, a short reason), never the HTTP library's exception:
the call never raises for what the server, the address, the CA file or the token is. A plain-text
body keeps only its first line, with each header value (the token) masked: no credential can leak
through an echo.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import requests

from disinto_infra import deadline, url_mask

logger = logging.getLogger(__name__)

MASK = "***"
TEXT_LIMIT = 120
NO_SCHEME = "the address must start with http:// or https://"
BAD_TOKEN = "the token holds characters an HTTP header cannot carry"
# The most of one reply we read (every HTTP reply: model servers, Nomad, Vault, and Forgejo through
# `read_body`). Far above any answer we ask for (a Forgejo page of 50 items, a Nomad node list),
# far below what hurts: a 200 MB reply read whole took 700 MB in `check` (issue 19).
REPLY_LIMIT = 8 * 1024 * 1024
CHUNK = 64 * 1024
TOO_LARGE = f"the reply is larger than {REPLY_LIMIT // (1024 * 1024)} MiB (not read)"
# Where requests finds a CA bundle when `verify` is True (requests.sessions.merge_environment_settings).
CA_BUNDLE_ENV = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


@dataclass(frozen=True)
class Reply:
    status: int | None  # None: no HTTP answer
    body: object = None  # the JSON body, when there was one (unchecked: readers narrow it, see parsed)
    text: str = ""  # a short plain-text body (Nomad answers errors in plain text)
    failure: str = ""  # why there was no answer

    def why(self) -> str:
        """What went wrong, for a row or a problem line."""
        if self.status is None:
            return self.failure
        return f"HTTP {self.status}" + (f": {self.text}" if self.text else "")


class ReplyTooLarge(Exception):
    """A reply body past the limit; nothing of it is kept."""


def read_body(raw: requests.Response, limit: int = REPLY_LIMIT) -> bytes:
    """The body of a response made with `stream=True`, at most `limit` bytes (ReplyTooLarge past
    it, from its Content-Length or as it streams); the response is closed either way. Errors of
    the connection midway are requests' own exceptions, as from the request itself."""
    try:
        length = raw.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > limit:
            raise ReplyTooLarge(TOO_LARGE)
        chunks, size = [], 0
        for chunk in raw.iter_content(CHUNK):
            size += len(chunk)
            if size > limit:
                raise ReplyTooLarge(TOO_LARGE)
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        raw.close()


def json_body(content: bytes) -> object:
    """The JSON of a body; ValueError when it is none (or nested past the parser's depth)."""
    try:
        return json.loads(content)
    except RecursionError:
        raise ValueError("nested too deeply") from None


class Getter(Protocol):
    """`requests.get` itself or a `requests.Session`'s `get` (to reuse its connections), as `get` calls it."""

    def __call__(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None,
        timeout: float,
        allow_redirects: bool,
        stream: bool,
        headers: Mapping[str, str],
        verify: bool | str,
    ) -> requests.Response: ...


def _first_line(text: str, secrets: list[str]) -> str:
    line = (text.strip().splitlines() or [""])[0][:TEXT_LIMIT]
    for value in secrets:
        line = line.replace(value, MASK)
    return line


def _secrets(headers: Mapping[str, str]) -> list[str]:
    """Header values, and the bare token of `Bearer <token>`, longest first."""
    found = {v for v in headers.values() if v} | {v.split()[-1] for v in headers.values() if v.strip()}
    return sorted(found, key=len, reverse=True)


def _ca_missing(verify: bool | str) -> str:
    """requests raises a plain OSError when the CA bundle it is to load does not exist."""
    named = [(verify, "")] if isinstance(verify, str) else []
    if verify is True:
        named = [(os.environ[name], f" (env {name})") for name in CA_BUNDLE_ENV if os.environ.get(name)][:1]
    for path, where in named:
        if not os.path.exists(path):
            return f"CA file {path}{where} not found"
    return "a TLS file could not be read"


def get(
    url: str,
    headers: Mapping[str, str],
    timeout: float,
    params: Mapping[str, str] | None = None,
    verify: bool | str = True,
    via: Getter | None = None,
) -> Reply:
    """GET `url`, the whole exchange within `timeout` (deadline.py); `headers` carry the token (and
    are masked in any echo); `verify` is a CA file, or False to skip TLS verification; `via` the `get`
    of a `deadline.session()` to reuse its connections."""
    if via is None:
        with deadline.session() as own:
            return get(url, headers, timeout, params, verify, own.get)
    reply = _get(url, headers, timeout, params, verify, via)
    # The URL's credentials masked (a model server's `?key=`); never the headers, the params or a body.
    logger.debug("GET %s: %s", url_mask.mask_credentials(url), reply.status or reply.failure)
    return reply


def _get(
    url: str,
    headers: Mapping[str, str],
    timeout: float,
    params: Mapping[str, str] | None,
    verify: bool | str,
    via: Getter,
) -> Reply:
    limit = deadline.Deadline(timeout)
    try:
        with limit:
            raw = via(
                url,
                params=params,
                timeout=timeout,
                allow_redirects=False,
                stream=True,
                headers={"Accept": "application/json", **headers},
                verify=verify,
            )
            content = read_body(raw)
    except ReplyTooLarge:
        return Reply(None, failure=TOO_LARGE)
    except (requests.RequestException, OSError) as exc:
        return Reply(None, failure=_failure(exc, limit, timeout, verify))
    except UnicodeError:  # http.client encodes header values as Latin-1
        return Reply(None, failure=BAD_TOKEN)
    if limit.expired:  # cut midway, a reply can still parse (headers cut at EOF read as complete)
        return Reply(None, failure=timed_out(timeout))
    try:
        return Reply(raw.status_code, json_body(content) if content else None)
    except ValueError:
        return Reply(raw.status_code, text=_first_line(content.decode("utf-8", "replace"), _secrets(headers)))


def timed_out(timeout: float) -> str:
    return f"no whole answer within {timeout:g}s (timed out)"


def _failure(exc: Exception, limit: deadline.Deadline, timeout: float, verify: bool | str) -> str:
    """Our words for what ended the exchange."""
    if limit.expired or isinstance(exc, requests.Timeout):
        return timed_out(timeout)
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS handshake failed (certificate not trusted?)"
    if isinstance(exc, requests.ConnectionError):
        return "connection refused or reset"
    if isinstance(exc, (requests.exceptions.InvalidSchema, requests.exceptions.MissingSchema)):
        return NO_SCHEME
    if isinstance(exc, requests.RequestException):
        return type(exc).__name__
    return _ca_missing(verify)
