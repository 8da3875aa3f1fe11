"""The one small HTTP client every Forgejo provider goes through.

Every request has timeouts and a total deadline; gateway errors are retried only for methods safe
to repeat (POST and PATCH are left to the providers, `retry_transient`), and a proxy's 429 is waited
out within bounds. Errors name the request and Forgejo's message, never a credential. One Session
per client, one client per provider call. Nothing from the environment decides who we are: no
netrc, only the proxy variables and a CA bundle (`environment_settings`).
Why: docs/decisions/forgejo-http-client.md
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar
from urllib.parse import quote

import requests
from requests.utils import get_environ_proxies
from urllib3 import BaseHTTPResponse
from urllib3.util.retry import Retry

from disinto_infra import deadline, http_get, parsed, url_mask
from disinto_infra.parsed import JsonObject

logger = logging.getLogger(__name__)

API = "/api/v1"
TRANSIENT_STATUSES = (502, 503, 504)
SAFE_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
PAGE_LIMIT = 50  # Forgejo's maximum page size
# A 429 comes from a proxy in front of Forgejo (docs/decisions/forgejo-http-client.md): wait as
# its Retry-After says, this many times at most, each wait at most this long (seconds).
RATE_LIMIT_ATTEMPTS = 3
RATE_LIMIT_WAIT = 30.0


@dataclass(frozen=True)
class BasicAuth:
    username: str
    password: str = field(repr=False)

    def secrets(self) -> tuple[str, ...]:
        return (self.password,)


@dataclass(frozen=True)
class TokenAuth:
    token: str = field(repr=False)

    def secrets(self) -> tuple[str, ...]:
        return (self.token,)


Auth = BasicAuth | TokenAuth


class ForgejoError(Exception):
    """Forgejo answered with a status the caller did not expect, or did not answer at all."""

    def __init__(
        self, method: str, path: str, status: int | None, message: str, headers: Mapping[str, str] | None = None
    ):
        self.method, self.path, self.status, self.message = method, path, status, message
        self.headers = dict(headers or {})
        where = f"Forgejo {method} {API}{path}"
        super().__init__(f"{where}: HTTP {status}: {message}" if status else f"{where}: {message}")

    @property
    def transient(self) -> bool:
        """Worth another attempt: no answer, or a gateway/availability error."""
        return self.status is None or self.status in TRANSIENT_STATUSES


class MovedError(ForgejoError):
    """Forgejo redirected: the user or repository named in the path was renamed or moved.

    Forgejo answers an old name with 307 for every method (docs/decisions/forgejo-redirects.md).
    Following it would write to whatever account now holds the name, so nothing follows it.
    """

    def __init__(self, method: str, path: str, status: int, location: str):
        self.location = url_mask.mask_credentials(location)
        super().__init__(
            method,
            path,
            status,
            f"redirected to {self.location or '(no Location)'}: the user or repository named in {API}{path} "
            "was renamed or moved, and Forgejo keeps the old name as a redirect, which this program never "
            "follows. Nothing was changed. Rename it back in Forgejo, or write the new name where the old one "
            "is set (an agent's forge_user, the project's repo), then run again",
        )


@dataclass(frozen=True)
class Response:
    status: int
    body: object  # the parsed JSON, unchecked: readers narrow it (disinto_infra.parsed)
    headers: dict[str, str]

    def as_object(self) -> JsonObject:
        """The body as the one JSON object the API documents for this answer (a User, an
        AccessToken, …); {} when the server sent something else, so a field read fails as a missing one."""
        return parsed.object_or_empty(self.body)


def object_id(body: Mapping[str, object]) -> int:
    """The `id` of an API object; KeyError when there is none, as a plain index would raise."""
    found = parsed.whole(body, "id")
    if found is None:
        raise KeyError("id")
    return found


def path(*segments: str | int) -> str:
    """An API path from raw segments, each percent-encoded (user names may hold dots)."""
    return "".join("/" + quote(str(s), safe="") for s in segments)


def environment_settings(url: str) -> tuple[dict[str, str], str | bool]:
    """The proxies (honouring NO_PROXY) and the TLS verification we take from the environment for `url`."""
    bundle = next((os.environ[v] for v in http_get.CA_BUNDLE_ENV if os.environ.get(v)), None)
    return get_environ_proxies(url), bundle or True


class _GatewayRetry(Retry):
    """urllib3's retry, on gateway errors only: it would also retry a 429 and a 413 carrying
    Retry-After, sleeping as long as asked; 429 is handled in `ForgejoClient.request`, with a bound."""

    RETRY_AFTER_STATUS_CODES = frozenset(TRANSIENT_STATUSES)

    def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
        asked = super().get_retry_after(response)
        return None if asked is None else min(asked, RATE_LIMIT_WAIT)


def _retry_policy(attempts: int, backoff: float) -> Retry:
    return _GatewayRetry(
        total=attempts,
        connect=attempts,
        read=attempts,
        status=attempts,
        backoff_factor=backoff,
        status_forcelist=TRANSIENT_STATUSES,
        allowed_methods=SAFE_METHODS,
        raise_on_status=False,
        respect_retry_after_header=True,
    )


class ForgejoClient:
    def __init__(self, base_url: str, *, timeout: float = 30.0, attempts: int = 3, backoff: float = 0.2):
        self.base_url = base_url.rstrip("/")
        self.timeout = (min(timeout, 10.0), timeout)  # (connect, read)
        self.attempts = attempts
        self.backoff = backoff
        self.sleep: Callable[[float], None] = time.sleep  # tests put a recording clock here
        self.total = timeout  # one exchange, retries of a gateway error included (deadline.py)
        self._session = deadline.session(deadline.DeadlineAdapter(max_retries=_retry_policy(attempts, backoff)))
        self._session.trust_env = False  # no ~/.netrc; proxies and CA bundle below, on purpose
        self._proxies, self._verify = environment_settings(self.base_url)

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> ForgejoClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        api_path: str,
        *,
        auth: Auth | None,
        json: object = None,
        params: dict[str, str | int] | None = None,
        ok: tuple[int, ...] = (200,),
    ) -> Response:
        """Send one request; any status outside `ok` raises ForgejoError. A 429 (a proxy's rate limit)
        is waited out as its Retry-After says, a few times and never longer than RATE_LIMIT_WAIT: the
        request was turned away before Forgejo saw it, so even a POST is safe to send again."""
        for attempt in range(RATE_LIMIT_ATTEMPTS + 1):
            try:
                return self._request_once(method, api_path, auth, json, params, ok)
            except ForgejoError as exc:
                if exc.status != 429:
                    raise
                wait = retry_after(exc.headers)
                if wait is None or wait > RATE_LIMIT_WAIT or attempt == RATE_LIMIT_ATTEMPTS:
                    raise _rate_limited(exc, attempt, wait) from None
                logger.debug("Forgejo %s %s: HTTP 429, waiting %g s", method, self._shown(api_path, auth), wait)
                self.sleep(wait)
        raise AssertionError("unreachable")

    def _request_once(
        self,
        method: str,
        api_path: str,
        auth: Auth | None,
        json: object,
        params: dict[str, str | int] | None,
        ok: tuple[int, ...],
    ) -> Response:
        """Send one request; any status outside `ok` raises ForgejoError."""
        limit = deadline.Deadline(self.total)
        try:
            with limit:
                raw, body = self._exchange(method, api_path, auth, json, params)
        except requests.RequestException as exc:
            logger.debug("Forgejo %s %s: no answer (%s)", method, self._shown(api_path, auth), _kind(exc))
            if not limit.expired:  # our own words: requests' text can carry the URL with its query string
                raise ForgejoError(method, api_path, None, f"no answer ({_kind(exc)})") from None
        # Past the deadline: cut midway, a reply can still parse (headers cut at EOF read as complete).
        if limit.expired:
            raise ForgejoError(method, api_path, None, f"no answer ({http_get.timed_out(self.total)})")
        logger.debug("Forgejo %s %s: HTTP %d", method, self._shown(api_path, auth), raw.status_code)
        response = Response(raw.status_code, body, dict(raw.headers))
        if 300 <= raw.status_code < 400 and raw.status_code not in ok:
            raise MovedError(method, api_path, raw.status_code, raw.headers.get("Location", ""))
        if raw.status_code not in ok:
            message = _scrub(_message(response), auth)
            raise ForgejoError(method, api_path, raw.status_code, message, response.headers)
        return response

    def _shown(self, api_path: str, auth: Auth | None) -> str:
        """The URL as a log line shows it: userinfo and credential parameters masked, the credentials
        in use scrubbed; never a header, a body or the query this client sends (`params`)."""
        return _scrub(url_mask.mask_credentials(self.base_url + API + api_path), auth)

    def _exchange(
        self, method: str, api_path: str, auth: Auth | None, json: object, params: dict[str, str | int] | None
    ) -> tuple[requests.Response, object]:
        raw = self._session.request(
            method,
            self.base_url + API + api_path,
            json=json,
            params=params,
            headers=_auth_headers(auth),
            auth=(auth.username, auth.password) if isinstance(auth, BasicAuth) else None,
            timeout=self.timeout,
            proxies=self._proxies,
            verify=self._verify,
            stream=True,  # read by `_json`, up to http_get's limit
            allow_redirects=False,  # see MovedError
        )
        try:
            return raw, _json(raw)
        except http_get.ReplyTooLarge as exc:
            raise ForgejoError(method, api_path, raw.status_code, str(exc)) from None

    def paginate(self, api_path: str, *, auth: Auth | None) -> Iterator[object]:
        """Every item of a paginated list, page by page.

        A page shorter than asked is not the end: a server may cap pages lower than we ask
        (docs/decisions/forgejo-http-client.md). The end is an empty page, or as many items as
        `X-Total-Count` says there are.
        """
        page, seen = 1, 0
        while True:
            answer = self.request("GET", api_path, auth=auth, params={"page": page, "limit": PAGE_LIMIT})
            items = answer.body if isinstance(answer.body, list) else []  # a page that is no list ends it
            if not items:
                return
            yield from items
            seen += len(items)
            total = _total_count(answer.headers)
            if total is not None and seen >= total:
                return
            page += 1


T = TypeVar("T")


def retry_transient(attempt: Callable[[], T], *, attempts: int = 4, backoff: float = 0.2) -> T:
    """Run a re-entrant operation again while it fails transiently.

    `attempt` must itself find out what a previous, unanswered try already did (a user that now
    exists, a token name already taken), so that running it twice converges instead of duplicating.
    """
    for n in range(attempts):
        try:
            return attempt()
        except ForgejoError as exc:
            if not exc.transient or n == attempts - 1:
                raise
            time.sleep(backoff * (2**n))
    raise AssertionError("unreachable")


def _auth_headers(auth: Auth | None) -> dict[str, str]:
    headers = {"Accept": "application/json"}
    if isinstance(auth, TokenAuth):
        headers["Authorization"] = f"token {auth.token}"
    return headers


def _rate_limited(exc: ForgejoError, waits: int, wait: float | None) -> ForgejoError:
    asked = "an unreadable Retry-After" if wait is None else f"Retry-After {wait:g} s"
    why = (
        f"rate limited (HTTP 429, {asked}) by something in front of Forgejo, after {waits} wait(s) of at most "
        f"{RATE_LIMIT_WAIT:g} s each: raise that proxy's limit for this client, or run again later"
    )
    return ForgejoError(exc.method, exc.path, exc.status, why, exc.headers)


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP date, RFC 9110 10.2.3);
    1 s when there is none, None when it cannot be read."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return 1.0
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _total_count(headers: dict[str, str]) -> int | None:
    for key, value in headers.items():
        if key.lower() == "x-total-count":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _json(raw: requests.Response) -> object:
    """The reply's JSON, read up to http_get's size limit (ReplyTooLarge past it)."""
    content = http_get.read_body(raw)
    if not content:
        return None
    try:
        return http_get.json_body(content)
    except ValueError:
        return None


def _message(response: Response) -> str:
    body = response.body
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return "(no message)"


def _scrub(text: str, auth: Auth | None) -> str:
    for secret in auth.secrets() if auth else ():
        if secret:
            text = text.replace(secret, "[secret]")
    return text


def _kind(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.ConnectionError):
        return "connection failed or was reset"
    return type(exc).__name__
