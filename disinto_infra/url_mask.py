"""URLs with credentials in them (`http://user:pass@host:8081`), as we show them: masked.

A `base_url` may carry a user and password for the model server. The real value still reaches
the container and the `.env`; what `plan`, `hire` and validation errors print never holds it.
The password becomes `***` (`http://user:***@host:8081`); a user part without a password is
masked whole (`http://***@host`), since a lone user part is often a token. A key carried as a
query parameter (`?token=…`, `?api_key=…`, `?key=…`, `&access_token=…`, `?client_secret=…`) is a
credential too: its value becomes `***` (`http://host/v1?key=***`), and `has_credentials` says
so, which keeps such a `base_url` secret (the container env, the nomad job's Vault template).
"""

from __future__ import annotations

import re
from typing import TypeVar, cast

T = TypeVar("T")

MASK = "***"

# scheme://authority: the authority ends at '/', '?', '#' or a blank; its userinfo is everything
# before its last '@' (as urllib.parse.urlsplit reads it), so a raw '@' in a password is masked too.
_AUTHORITY_RE = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#\s]*)@")


# A query parameter named like a credential: the word alone, or after a prefix ending in '_' or '-'
# (`access_token`, `x-api-key`, `private_token`), case ignored; `monkey` or `keyword` are not.
_CREDENTIAL_WORDS = r"(?:token|key|apikey|api_key|api-key|secret|password|passwd|pass|auth|sig|signature|credentials?)"
_QUERY_RE = re.compile(
    rf"(?P<lead>[?&;](?:[A-Za-z0-9]+[_-])*{_CREDENTIAL_WORDS}=)(?P<value>[^&#;\s\"'<>]+)", re.IGNORECASE
)


def _masked(found: re.Match[str]) -> str:
    user, colon, _password = found.group("userinfo").partition(":")
    shown = f"{user}:{MASK}" if colon else MASK
    return f"{found.group('scheme')}{shown}@"


def has_credentials(text: str) -> bool:
    return bool(_AUTHORITY_RE.search(text) or _QUERY_RE.search(text))


def mask_credentials(text: str) -> str:
    """`text` with the credentials of every URL in it masked: userinfo and credential parameters."""
    return _QUERY_RE.sub(lambda found: f"{found.group('lead')}{MASK}", _AUTHORITY_RE.sub(_masked, text))


def mask_all(value: T) -> T:
    """`mask_credentials` on every string of a JSON-like value; the shape (and so the type) is kept.

    The casts hold because each branch rebuilds what it was given: a str, a dict or a list of the
    same keys and length (JSON-like data has no subclasses of them).
    """
    if isinstance(value, str):
        return cast(T, mask_credentials(value))
    if isinstance(value, dict):
        return cast(T, {k: mask_all(v) for k, v in value.items()})
    if isinstance(value, list):
        return cast(T, [mask_all(v) for v in value])
    return value
