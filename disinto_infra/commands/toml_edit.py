"""`hire` and `rotate` as edits of the project TOML, done so an operator's file stays theirs.

tomlkit keeps comments, order and spacing, and only keys whose value changes are touched, so the
same edit twice leaves the file byte-for-byte the same. A new `[agents.NAME]` section is appended
as text at the end. Before the file is touched the new text is re-read (it must say exactly what
was intended) and checked against the project TOML's rules (config/project_toml.py); the write is
atomic and under a lock on the file. Why: docs/decisions/toml-edits.md.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import stat
import tempfile
import tomllib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import tomlkit
from tomlkit.container import OutOfOrderTableProxy
from tomlkit.items import InlineTable, Item, Table

from disinto_infra import input_file, naming
from disinto_infra.config.project_toml import (
    COUNTER_MAX,
    DEFAULT_MODEL,
    NOT_AGENTS,
    TOO_DEEP,
    AgentSpec,
    ConfigError,
    parse_project_text,
)
from disinto_infra.parsed import JsonObject

logger = logging.getLogger(__name__)

# What the project TOML means when a key is left out (config/project_toml.py), written out by hire.
DEFAULT_API_KEY: str = AgentSpec.model_fields["api_key"].default
DEFAULT_COMPACT_PCT: int = AgentSpec.model_fields["compact_pct"].default
DEFAULT_POLL_INTERVAL: int = AgentSpec.model_fields["poll_interval"].default
# The order the old `hire-an-agent` wrote them in.
NEW_SECTION_ORDER = ("base_url", "model", "api_key", "roles", "forge_user", "compact_pct", "poll_interval")
# Written only when given (the factory's hire has `--formula PATH`; ours keeps it in the TOML).
OPTIONAL_NEW_KEYS = ("formula",)


class EditError(Exception):
    """Why the file was left untouched; one problem per line, each naming file, agent and field."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class HireResult:
    path: Path
    name: str
    created: bool  # a new [agents.NAME] section
    changed: JsonObject = field(default_factory=dict)  # key -> new value

    @property
    def unchanged(self) -> bool:
        return not self.created and not self.changed


@dataclass(frozen=True)
class RotateResult:
    path: Path
    name: str
    changed: dict[str, tuple[int, int]]  # rotate_token / rotate_password -> (old, new)


# ---------------------------------------------------------------- reading and writing


@contextmanager
def _locked(path: Path) -> Iterator[str]:
    """The file's text, read under an exclusive lock held until the block ends.

    The lock is on the file itself; a writer that replaced it meanwhile gave it a new inode, so
    after locking, check that the inode is still the one at `path` and retry if not."""
    while True:
        try:
            # O_NONBLOCK: a FIFO must not block the open (it is refused below).
            handle = open(  # noqa: SIM115 (held open, and locked, until the caller's block ends)
                path,
                "r+",
                encoding="utf-8",
                newline="",
                opener=lambda name, flags: os.open(name, flags | os.O_NONBLOCK),
            )
        except FileNotFoundError:
            raise EditError([f"{path}: no such file"]) from None
        except OSError as exc:
            raise EditError([f"{path}: cannot open: {exc.strerror or exc}"]) from None
        with handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise EditError([f"{path}: not a regular file; --toml names the project TOML file"])
            fcntl.flock(handle, fcntl.LOCK_EX)
            if info.st_ino != os.stat(path).st_ino:
                logger.debug("%s: replaced while we waited for its lock; locking again", path)
                continue
            logger.debug("%s: locked", path)
            try:
                text = handle.read(input_file.TEXT_LIMIT + 1)
            except UnicodeDecodeError as exc:
                raise EditError([f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None
            if len(text) > input_file.TEXT_LIMIT:
                raise EditError([f"{path}: larger than {input_file.TEXT_LIMIT // 1024} KiB: not a project TOML"])
            yield text
            return


def write_atomically(path: Path, text: str) -> None:
    """Replace the file's content all at once, keeping its mode and (if allowed) its owner."""
    real = Path(os.path.realpath(path))  # write through a symlink, do not replace it
    info = real.stat()
    fd, temp = tempfile.mkstemp(dir=real.parent, prefix=f".{real.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(text.encode("utf-8"))
            out.flush()
            os.fchmod(out.fileno(), info.st_mode & 0o7777)
            with contextlib.suppress(PermissionError):  # not root: the file becomes ours, as an editor makes it
                os.fchown(out.fileno(), info.st_uid, info.st_gid)
            os.fsync(out.fileno())
        os.replace(temp, real)
    except BaseException as exc:
        with suppress(FileNotFoundError):
            os.unlink(temp)
        if isinstance(exc, OSError):
            raise EditError([f"{path}: cannot write: {exc.strerror or exc}; the file is unchanged"]) from None
        raise
    dir_fd = os.open(real.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a crash
    finally:
        os.close(dir_fd)
    logger.debug("%s: written (%d bytes, renamed into place)", real, len(text.encode("utf-8")))


# ---------------------------------------------------------------- checks


def _parse(path: Path, text: str, admin_user: str) -> tomlkit.TOMLDocument:
    try:
        return tomlkit.parse(text)
    except RecursionError:
        raise EditError([f"{path}: {TOO_DEEP}"]) from None
    except tomlkit.exceptions.ParseError as exc:
        # The model's message for a syntax error has the house format: `<file>: line N: ...`.
        try:
            parse_project_text(path, text, admin_user)
        except ConfigError as err:
            raise EditError(err.problems) from None
        raise EditError([f"{path}: {exc}"]) from None


def _validate(path: Path, old: str, new: str, admin_user: str) -> None:
    """Refuse, with every problem, a result the program would refuse; mark the problems that
    were in the file before this edit, so the operator knows the edit is not their cause."""
    try:
        parse_project_text(path, new, admin_user)
    except ConfigError as err:
        try:
            parse_project_text(path, old, admin_user)
            before: set[str] = set()
        except ConfigError as old_err:
            before = set(old_err.problems)
        raise EditError(
            [p + (" (already in the file before this edit)" if p in before else "") for p in err.problems]
        ) from None


def _verify(path: Path, old: str, new: str, name: str, expected: JsonObject) -> None:
    """The edit must change `agents.NAME` to `expected` and nothing else."""
    where = f"{path}: agents.{name}"
    try:
        before, after = tomllib.loads(old), tomllib.loads(new)
    except tomllib.TOMLDecodeError as exc:
        raise EditError([f"{where}: cannot be edited safely in this file ({exc}); edit it by hand"]) from None
    got = after.get("agents", {}).pop(name, None)
    before.get("agents", {}).pop(name, None)
    for data in (before, after):
        if data.get("agents") == {}:
            del data["agents"]
    if got != expected or before != after:
        raise EditError(
            [f"{where}: cannot be edited safely in this file (its layout defeats the editor); edit it by hand"]
        )


# ---------------------------------------------------------------- editing


Section = Table | InlineTable | OutOfOrderTableProxy


def _section(doc: tomlkit.TOMLDocument, name: str) -> Section | None:
    """The agent's table however the file writes it: `[agents.NAME]`, an inline table, or dotted keys
    (`[agents]` + `NAME.base_url = …`, which tomlkit gives as a proxy): the same agent each time."""
    agents = doc.get("agents")
    # A table, an inline table, or a proxy when [agents.*] tables are split around others: all mappings.
    section = agents.get(name) if isinstance(agents, Mapping) else None
    return section if isinstance(section, (Table, InlineTable, OutOfOrderTableProxy)) else None


def _add_key(section: Section, key: str, value: object) -> None:
    """Add after the section's last key, with its indentation (see the module docstring)."""
    if isinstance(section, (InlineTable, OutOfOrderTableProxy)):
        section[key] = value  # a proxy writes `NAME.key = …` beside the agent's other dotted keys
        return
    body = section.value
    keys = [k for k, _ in body.body if k is not None]
    item = tomlkit.item(value)
    if keys:
        last = body.item(keys[-1])
        if isinstance(last, Item):  # not a proxy of a split sub-table: it has its own indentation
            item.trivia.indent = last.trivia.indent
        body._insert_after(keys[-1], key, item)  # tomlkit 0.15 has no public insert
    elif body.body:
        body._insert_at(0, key, item)
    else:
        section.append(key, item)


def _apply(section: Section, values: Mapping[str, object]) -> JsonObject:
    """Set only the keys whose value differs; returns those."""
    current = section.unwrap()
    changed: JsonObject = {}
    for key, value in values.items():
        if key in current:
            # Same type too: `60.0` is not `60`, and rewriting it is the fix the operator asked for.
            if type(current[key]) is type(value) and current[key] == value:
                continue
            section[key] = value
        else:
            _add_key(section, key, value)
        changed[key] = value
    return changed


def _new_section_text(text: str, name: str, values: Mapping[str, object]) -> str:
    table = tomlkit.table()
    for key, value in values.items():
        table.add(key, value)
    agents = tomlkit.table(is_super_table=True)
    agents.add(name, table)
    doc = tomlkit.document()
    doc.add("agents", agents)
    newline = "\r\n" if "\r\n" in text else "\n"
    if not text or text.endswith(newline * 2):
        separator = ""  # already a blank line before the new section
    elif text.endswith(newline):
        separator = newline
    else:
        separator = newline * 2
    return text + separator + tomlkit.dumps(doc).replace("\n", newline)


def _check_name(path: Path, name: str) -> None:
    if name in NOT_AGENTS:
        raise EditError([f"{path}: agents.{name}: holds scheduling settings, not an agent; choose another name"])


def _commit(path: Path, old: str, new: str, admin_user: str, write: bool = True) -> None:
    # Validated even when nothing changes: "hired" must not be said of a file `pulumi preview` refuses.
    _validate(path, old, new, admin_user)
    if write and new != old:
        write_atomically(path, new)
    else:
        logger.debug("%s: not written (%s)", path, "unchanged" if new == old else "a dry run")


def hire(
    path: Path | str,
    name: str,
    role: str,
    local_model: str | None = None,
    model: str | None = None,
    poll_interval: int | None = None,
    forge_user: str | None = None,
    admin_user: str = naming.DEFAULT_ADMIN_USER,
    formula: str | None = None,
    write: bool = True,
    under_lock: Callable[[], None] | None = None,
    api_key: str | None = None,
) -> HireResult:
    """Write or update `[agents.NAME]` as the old `disinto hire-an-agent` did; `write=False`
    checks the edit the same way and leaves the file alone (EditError when it would fail).
    `under_lock` runs while the file is locked, before the edit: a check whose answer the write
    relies on (a model server's free slot), so that concurrent hires cannot both rely on it."""
    path = Path(path)
    _check_name(path, name)
    given = {
        "base_url": local_model,
        "model": model,
        "roles": [role],
        "forge_user": forge_user,
        "poll_interval": poll_interval,
        "formula": formula,
        "api_key": api_key,
    }
    given = {k: v for k, v in given.items() if v is not None}
    with _locked(path) as old:
        if under_lock is not None:
            under_lock()
        doc = _parse(path, old, admin_user)
        section = _section(doc, name)
        if section is None:
            if local_model is None:
                raise EditError(
                    [
                        f"{path}: agents.{name}.base_url: a new agent needs --local-model URL "
                        "(the OpenAI-compatible endpoint it runs on)"
                    ]
                )
            defaults = {
                "model": DEFAULT_MODEL,
                "api_key": DEFAULT_API_KEY,
                "forge_user": name,
                "compact_pct": DEFAULT_COMPACT_PCT,
                "poll_interval": DEFAULT_POLL_INTERVAL,
            }
            merged = {**defaults, **given}  # `given` holds only what was passed: 0 and "" stay, and are refused
            values = {k: merged[k] for k in (*NEW_SECTION_ORDER, *OPTIONAL_NEW_KEYS) if k in merged}
            new = _new_section_text(old, name, values)
            result = HireResult(path, name, created=True, changed=values)
        else:
            values = {**section.unwrap(), **given}
            changed = _apply(section, given)
            new = tomlkit.dumps(doc)
            result = HireResult(path, name, created=False, changed=changed)
        _verify(path, old, new, name, values)
        _commit(path, old, new, admin_user, write)
    return result


def rotate(
    path: Path | str,
    name: str,
    token: bool = True,
    password: bool = True,
    admin_user: str = naming.DEFAULT_ADMIN_USER,
) -> RotateResult:
    """Bump `rotate_token` and/or `rotate_password` of `[agents.NAME]` (missing counts as 0)."""
    path = Path(path)
    fields = [f for f, wanted in (("rotate_token", token), ("rotate_password", password)) if wanted]
    if not fields:
        raise EditError([f"{path}: agents.{name}: nothing to rotate (neither token nor password)"])
    with _locked(path) as old:
        doc = _parse(path, old, admin_user)
        section = _section(doc, name)
        if section is None or name in NOT_AGENTS:
            raise EditError([f"{path}: agents.{name}: no such agent in this file"])
        current = section.unwrap()
        bumps = {}
        for f in fields:
            value = current.get(f, 0)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise EditError([f"{path}: agents.{name}.{f}: must be a non-negative integer, not {value!r}"])
            if value >= COUNTER_MAX:
                raise EditError(
                    [
                        f"{path}: agents.{name}.{f}: {value} cannot be counted further (a provider input is "
                        f"exact up to {COUNTER_MAX}); set it to 0 by hand, which also rotates"
                    ]
                )
            bumps[f] = (value, value + 1)
        _apply(section, {f: new for f, (_, new) in bumps.items()})
        new = tomlkit.dumps(doc)
        _verify(path, old, new, name, {**current, **{f: n for f, (_, n) in bumps.items()}})
        _commit(path, old, new, admin_user)
    return RotateResult(path, name, bumps)
