"""Reading a file we did not write (a project TOML, a formula, a stack file, `--state`, a `.env`):
a regular file only, and only up to a size limit.

A path a user gives may be anything: a symlink to `/dev/zero` would be read until memory runs out,
a FIFO would block the command forever, a folder gives a confusing error. So the file is opened
without blocking (O_NONBLOCK: opening a FIFO returns at once), refused unless it is a regular file,
and read up to `limit` bytes: one byte more is an error naming the file and the limit. Every
failure is an `InputFileError` whose message starts with the path.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

# Far above any real file of its kind, far below what hurts: a project TOML of 1,000 agents is
# about 200 KB, a formula a few KB.
TEXT_LIMIT = 4 * 1024 * 1024
# `pulumi stack export` of a large fleet: about 10 KB per agent.
STATE_LIMIT = 64 * 1024 * 1024
CHUNK = 1024 * 1024

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class InputFileError(OSError):
    """Why a file cannot be read; str() is one line starting with the file's path."""

    def __init__(self, path: str | Path, why: str):
        self.path, self.why = str(path), why
        super().__init__(f"{path}: {why}")

    def __str__(self) -> str:
        return f"{self.path}: {self.why}"


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def read_bytes(path: str | Path, limit: int = TEXT_LIMIT) -> bytes:
    """The content of the regular file at `path` (symlinks followed), at most `limit` bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise InputFileError(path, f"cannot read: {exc.strerror or exc}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise InputFileError(path, f"is {_kind(mode)}, not a regular file")
    with os.fdopen(fd, "rb", buffering=0) as handle:
        chunks, size = [], 0
        try:
            while size <= limit:
                chunk = handle.read(min(CHUNK, limit + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        except OSError as exc:
            raise InputFileError(path, f"cannot read: {exc.strerror or exc}") from None
    if size > limit:
        raise InputFileError(path, f"is larger than {limit // 1024} KiB: not a file of this kind")
    return b"".join(chunks)


BOM = b"\xef\xbb\xbf"


def read_text(path: str | Path, limit: int = TEXT_LIMIT) -> str:
    """`read_bytes` decoded as UTF-8; not UTF-8, a byte-order mark (which TOML and JSON parsers refuse
    with a puzzling "line 1, column 1") or a NUL byte is an InputFileError too, said as such."""
    content = read_bytes(path, limit)
    if content.startswith(BOM):
        raise InputFileError(path, "starts with a byte-order mark (bytes EF BB BF): save it as UTF-8 without one")
    if (nul := content.find(b"\x00")) != -1:
        raise InputFileError(path, f"holds a NUL byte at byte {nul}: not a text file")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputFileError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
