"""Keep `KEY=value` lines of a factory `.env` current, in place, with secrets never on argv.

    python -m disinto_infra.envfile set    --file F [--if-absent KEY]... KEY...   # values from the
    python -m disinto_infra.envfile remove --file F KEY...                        # variables named KEY

`set` rewrites each KEY's line in the form `disinto up` checks, quoted so bash and docker compose
read the same bytes; an `--if-absent` KEY is only added, never overwritten; other lines keep their
bytes. In place, under a lock, with a backup; standard library only (runs under any host python3).
Why: docs/decisions/env-file-lines.md, docs/decisions/env-file-quoting.md, docs/decisions/env-file-in-place.md
"""

from __future__ import annotations

import argparse
import fcntl
import os
import re
import stat
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, overload

BACKUP_SUFFIX = ".disinto-bak"
NEW_FILE_MODE = 0o600  # the file holds bot passwords

KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# `KEY=...` or `export KEY=...`, as bash and compose both accept them.
_LINE_RE = re.compile(r"[ \t]*(export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)=")


class EnvFileError(Exception):
    """A problem the operator can fix; the message never contains a value."""


@dataclass(frozen=True)
class EditResult:
    path: str
    changed: bool
    keys: tuple[str, ...]
    notes: tuple[str, ...] = ()  # about lines we leave alone that `disinto up` would not accept


# ---------------------------------------------------------------- quoting


def quote(key: str, value: str) -> str:
    """The right-hand side of `KEY=` that bash and compose both read back as `value`."""
    if any(c in value for c in "\n\r\0"):
        raise EnvFileError(f"{key}: the value contains a line break or NUL; a .env line cannot hold it")
    if "'" not in value and not value.endswith("\\"):
        return f"'{value}'"
    if "`" in value:
        raise EnvFileError(
            f"{key}: the value contains a backtick and a single quote (or a trailing backslash); "
            "no quoting reads back the same in both bash and docker compose"
        )
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return f'"{escaped}"'


def read_values(text: str) -> dict[str, str]:
    """`KEY=value` lines as `quote` writes them (and bash reads them): `'literal'`,
    `"with \\\\ \\" \\$ escapes"`, or bare; `export ` allowed; comments and blanks skipped."""
    values = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or "=" not in stripped:
            continue
        key, raw = stripped.removeprefix("export ").lstrip().split("=", 1)
        values[key.strip()] = _unquote(raw)
    return values


def _unquote(raw: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] == "'":
        return raw[1:-1]
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        out, chars = [], iter(raw[1:-1])
        for c in chars:
            out.append(next(chars, "\\") if c == "\\" else c)
        return "".join(out)
    return raw.split(" #", 1)[0].strip()


def check_key(key: str) -> str:
    if not KEY_RE.match(key):
        raise EnvFileError(f"{key!r} is not a valid variable name (letters, digits, '_'; not starting with a digit)")
    return key


# ---------------------------------------------------------------- line edits (pure)


def _key_of(line: str) -> str | None:
    found = _LINE_RE.match(line)
    return found.group(2) if found else None


def set_lines(text: str, values: dict[str, str], if_absent: dict[str, str] | None = None) -> str:
    """Rewrite each key's first line in place as a plain `KEY=value` (an `export ` prefix or an
    indent would hide it from `disinto up`'s check), drop its later duplicates (they would win
    when sourced), and append keys not present yet; `if_absent` keys only when no line has them."""
    rendered = {k: quote(k, v) for k, v in values.items()}
    out: list[str] = []
    seen = set()
    for line in text.splitlines(keepends=True):
        key = _key_of(line)
        if key not in rendered:
            out.append(line)
            seen.add(key)
            continue
        if key in seen:
            continue
        seen.add(key)
        out.append(f"{key}={rendered[key]}\n")
    if out and not out[-1].endswith("\n"):
        out[-1] += "\n"  # bash's `read` never sees an unterminated last line
    out += [f"{k}={rendered[k]}\n" for k in values if k not in seen]
    out += [f"{k}={quote(k, v)}\n" for k, v in (if_absent or {}).items() if k not in seen and k not in values]
    return "".join(out)


def check_sees(text: str, key: str) -> bool:
    """Whether `disinto up`'s check finds `key` set in this text (docs/decisions/env-file-lines.md)."""
    return any(k == key and v != "" for k, v in map(_as_bash_reads, text.split("\n")[:-1]))


def _as_bash_reads(line: str) -> tuple[str, str]:
    """`IFS='=' read -r key value` of one line: `value` loses one trailing `=` (not two)."""
    key, _, value = line.partition("=")
    if value.endswith("=") and not value.endswith("=="):
        value = value[:-1]
    return key, value


def remove_lines(text: str, keys: Sequence[str]) -> str:
    drop = set(keys)
    return "".join(line for line in text.splitlines(keepends=True) if _key_of(line) not in drop)


# ---------------------------------------------------------------- the file, in place and locked


def _fsync_dir(path: str) -> None:
    fd = os.open(os.path.dirname(os.path.abspath(path)) or ".", os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _open(path: str, create: bool) -> int | None:
    """A read-write descriptor on F; a file we create is 0600 whatever the umask."""
    try:
        return os.open(path, os.O_RDWR | os.O_NONBLOCK)  # a FIFO must not block: _read_all refuses it
    except FileNotFoundError:
        if not create:
            return None
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, NEW_FILE_MODE)
        os.fchmod(fd, NEW_FILE_MODE)
        return fd
    except FileExistsError:  # another writer created it between our two opens
        return os.open(path, os.O_RDWR)


def _rewrite(fd: int, data: bytes) -> None:
    os.lseek(fd, 0, os.SEEK_SET)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.ftruncate(fd, len(data))
    os.fsync(fd)


# A .env is a few KB; a file past this is not one (and a device would never end).
READ_LIMIT = 4 * 1024 * 1024


def _read_all(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks: list[bytes] = []
    size = 0
    while size <= READ_LIMIT:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
    raise EnvFileError(f"larger than {READ_LIMIT // 1024} KiB: not a .env file; left unchanged")


def _save_backup(path: str, data: bytes) -> str:
    backup = path + BACKUP_SUFFIX
    temp = backup + ".tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        _rewrite(fd, data)
    finally:
        os.close(fd)
    os.replace(temp, backup)
    _fsync_dir(path)
    return backup


def _recover(path: str, fd: int) -> None:
    """Undo a write that died midway (docs/decisions/env-file-in-place.md); called under the lock."""
    backup = path + BACKUP_SUFFIX
    if os.path.exists(backup):
        with open(backup, "rb") as saved:
            _rewrite(fd, saved.read())
        os.unlink(backup)
    if os.path.exists(backup + ".tmp"):  # died while saving: F itself was never touched
        os.unlink(backup + ".tmp")
    _fsync_dir(path)


@dataclass(frozen=True)
class _Edited:
    text: str
    changed: bool


@overload
def edit(path: str, change: Callable[[str], str], create: Literal[True]) -> _Edited: ...
@overload
def edit(path: str, change: Callable[[str], str], create: bool) -> _Edited | None: ...
def edit(path: str, change: Callable[[str], str], create: bool) -> _Edited | None:
    """Apply `change` to the file's text under the lock: the text it then holds and whether that
    is a change; None when there is no file (and `create` is false)."""
    fd = _open(path, create)
    if fd is None:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise EnvFileError("not a regular file; left unchanged")
        fcntl.flock(fd, fcntl.LOCK_EX)
        _recover(path, fd)
        old = _read_all(fd)
        new = change(old.decode("utf-8")).encode("utf-8")
        if new != old:
            backup = _save_backup(path, old)
            _rewrite(fd, new)
            os.unlink(backup)
            _fsync_dir(path)
        return _Edited(new.decode("utf-8"), new != old)
    finally:
        os.close(fd)  # releases the lock


def set_values(path: str, values: dict[str, str], if_absent: dict[str, str] | None = None) -> EditResult:
    if_absent = if_absent or {}
    for key in [*values, *if_absent]:
        check_key(key)
    done = edit(path, lambda text: set_lines(text, values, if_absent), create=True)
    notes = tuple(
        f"{key} is in the file in a form `disinto up` does not accept (empty, indented or after "
        "`export `); left as it is"
        for key in if_absent
        if not check_sees(done.text, key)
    )
    return EditResult(path, done.changed, tuple(values), notes)


def remove_keys(path: str, keys: Sequence[str]) -> EditResult:
    for key in keys:
        check_key(key)
    done = edit(path, lambda text: remove_lines(text, keys), create=False)
    return EditResult(path, bool(done and done.changed), tuple(keys))


# ---------------------------------------------------------------- command line


def _values_from_environment(keys: Sequence[str]) -> dict[str, str]:
    missing = [k for k in keys if k not in os.environ]
    if missing:
        raise EnvFileError(f"not set in the environment: {', '.join(missing)} (values are never taken from arguments)")
    return {k: os.environ[k] for k in keys}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m disinto_infra.envfile", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    for action, text in (
        ("set", "set KEYs to the values of the variables of the same name"),
        ("remove", "remove the lines of KEYs"),
    ):
        cmd = sub.add_parser(action, help=text)
        cmd.add_argument("--file", required=True, help="the .env file")
        if action == "set":
            cmd.add_argument(
                "--if-absent",
                action="append",
                default=[],
                metavar="KEY",
                help="add KEY only when no line assigns it (repeatable)",
            )
        cmd.add_argument("keys", nargs="+", metavar="KEY")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if_absent = getattr(args, "if_absent", [])
        for key in [*args.keys, *if_absent]:
            check_key(key)
        if args.action == "set":
            result = set_values(args.file, _values_from_environment(args.keys), _values_from_environment(if_absent))
        else:
            result = remove_keys(args.file, args.keys)
    except EnvFileError as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return 1
    except UnicodeDecodeError:
        print(f"{args.file}: not UTF-8 text; left unchanged", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"{args.file}: cannot update: {exc.strerror or exc}", file=sys.stderr)
        return 1
    verb = {"set": "set", "remove": "removed"}[args.action]
    state = "" if result.changed else " (nothing to change)"
    print(f"{args.file}: {verb} {', '.join(result.keys)}{state}")  # key names only, never values
    for note in result.notes:
        print(f"{args.file}: note: {note}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
