"""The grammar of `disinto:agentImage`: a tag, a pin (`repo@sha256:…`) or a local image id
(`sha256:…`). How the docker runtime pulls each is runtimes/image_pin.py's."""

from __future__ import annotations

import re

DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
ID_PREFIX = "sha256:"


def local_image_id(name: str) -> str | None:
    """The image id a name is (`sha256:<64 hex>`: a local image, no registry), else None."""
    return name if DIGEST.fullmatch(name) else None


def repository(name: str) -> str:
    """The name without tag or digest (`host:5000/org/img:tag` -> `host:5000/org/img`)."""
    base = name.split("@", 1)[0]
    head, _, last = base.rpartition("/")
    last = last.split(":", 1)[0]
    return f"{head}/{last}" if head else last


def pinned_digest(name: str) -> str | None:
    """The digest a name pins (`…@sha256:<64 hex>`), else None."""
    _, at, digest = name.partition("@")
    return digest if at and DIGEST.fullmatch(digest) else None


def digest_problem(name: str) -> str | None:
    """Why a name's digest or image id cannot be used (None: neither, or a good one)."""
    if "@" in name and pinned_digest(name) is None:
        return "must end in @sha256: and 64 lowercase hex digits when it names a digest"
    if name.startswith(ID_PREFIX) and local_image_id(name) is None:
        return (
            "must be the whole image id, sha256: and 64 lowercase hex digits, when it names a local image "
            "(docker image inspect --format '{{.Id}}' IMAGE)"
        )
    return None
