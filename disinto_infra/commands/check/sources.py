"""Where `check` gets what the stack file cannot give it offline: admin credentials, the .env's
agent credentials, and the state (token ages).

Admin credentials, first found wins: env `DISINTO_ADMIN_TOKEN` / `DISINTO_ADMIN_PASSWORD`, then a
plain `disinto:adminToken` / `adminPassword` in the stack file, then `pulumi config get` when the
Pulumi CLI is on PATH; none found, the admin checks are skipped and say so. Nomad and Vault tokens:
env, then `pulumi config get`. The state: `--state FILE`, else `pulumi stack export`.
Why this order and these places: docs/decisions/check-credential-sources.md.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from disinto_infra import envfile, input_file
from disinto_infra.config.stack_settings import NAMESPACE, SECRET_PLACEHOLDER, StackSettings
from disinto_infra.forgejo.client import Auth, BasicAuth, TokenAuth
from disinto_infra.parsed import JsonObject

TOKEN_ENV = "DISINTO_ADMIN_TOKEN"
PASSWORD_ENV = "DISINTO_ADMIN_PASSWORD"
PULUMI_TIMEOUT = 20.0


@dataclass(frozen=True)
class AdminCredential:
    source: str  # e.g. "env DISINTO_ADMIN_TOKEN"; "" when none
    auth: Auth | None = field(default=None, repr=False)
    problem: str = ""  # why the credential found cannot be sent (then `auth` is None)


@dataclass(frozen=True)
class Secret:
    """A credential and where it came from; never shown, only its source."""

    source: str  # e.g. "env NOMAD_TOKEN"; "" when none was found
    value: str | None = field(default=None, repr=False)


def _plain(value: object) -> str | None:
    return value if isinstance(value, str) and value and value != SECRET_PLACEHOLDER else None


def _pulumi(args: list[str], project_dir: Path) -> str | None:
    """stdout of one Pulumi CLI call, or None (no CLI, an error, too slow). Never logged."""
    exe = shutil.which("pulumi")
    if exe is None:
        return None
    try:
        done = subprocess.run(
            [exe, *args], cwd=project_dir, capture_output=True, text=True, timeout=PULUMI_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


# The three places a secret may be, each a lookup that finds it or not (None).


def from_env(environ: Mapping[str, str], name: str) -> Secret | None:
    return Secret(f"env {name}", environ[name]) if environ.get(name) else None


def in_stack_file(key: str, value: object) -> Secret | None:
    """A value written in plain text in the stack file (an encrypted one is only a placeholder)."""
    plain = _plain(value)
    return Secret(f"{key} in the stack file", plain) if plain else None


def from_pulumi(key: str, stack: str, project_dir: Path) -> Secret | None:
    """`pulumi config get KEY --stack NAME`: decrypts with the stack's secrets provider."""
    value = (_pulumi(["config", "get", key, "--stack", stack], project_dir) or "").strip()
    return Secret(f"pulumi config get {key}", value) if value else None


def admin_credential(settings: StackSettings, stack: str, environ: Mapping[str, str]) -> AdminCredential:
    user = settings.admin_user
    token_key, password_key = f"{NAMESPACE}:adminToken", f"{NAMESPACE}:adminPassword"

    def password(value: str) -> Auth:
        return BasicAuth(user, value)

    # A token before a password at each place; the Pulumi CLI (slow) only when nothing else has one.
    lookups: tuple[tuple[Callable[[str], Auth], Callable[[], Secret | None]], ...] = (
        (TokenAuth, lambda: from_env(environ, TOKEN_ENV)),
        (password, lambda: from_env(environ, PASSWORD_ENV)),
        (TokenAuth, lambda: in_stack_file(token_key, settings.admin_token)),
        (password, lambda: in_stack_file(password_key, settings.admin_password)),
        (TokenAuth, lambda: from_pulumi(token_key, stack, settings.project_dir)),
        (password, lambda: from_pulumi(password_key, stack, settings.project_dir)),
    )
    for make, look in lookups:
        found = look()
        if found is not None:
            value = found.value or ""
            if make is TokenAuth and any(c.isspace() or ord(c) < 32 for c in value):
                # Said once here: sent as it is, every request would fail on its own (InvalidHeader).
                why = (
                    f"the admin token ({found.source}) holds a line break or blank, often the newline a file or "
                    f"`echo` leaves: give it without (`tr -d '\\n'`); nothing was asked with it"
                )
                return AdminCredential(found.source, None, why)
            return AdminCredential(found.source, make(value))
    return AdminCredential("")


def read_env_file(path: Path) -> dict[str, str]:
    """A `.env`'s values as bash reads them (the grammar is envfile.py's, beside the quoting it writes)."""
    return envfile.read_values(input_file.read_text(path))


@dataclass(frozen=True)
class StateDocument:
    source: str  # where it came from, or "unknown: <why>"
    resources: tuple[JsonObject, ...] = ()


NOT_AN_EXPORT = "not a `pulumi stack export` (it has no deployment.resources list)"


def read_state(state_file: Path | None, stack: str, project_dir: Path) -> StateDocument:
    if state_file is not None:
        try:
            text = input_file.read_text(state_file, input_file.STATE_LIMIT)
        except input_file.InputFileError as exc:
            return StateDocument(f"unknown: {exc}")
        return _document(str(state_file), text, f"{state_file}: ")
    exported = _pulumi(["stack", "export", "--stack", stack], project_dir)
    if exported is None:
        why = "no Pulumi CLI on PATH" if shutil.which("pulumi") is None else "`pulumi stack export` failed"
        return StateDocument(f"unknown: {why} (or give --state FILE from `pulumi stack export`)")
    return _document("pulumi stack export", exported, "`pulumi stack export`: ")


def _document(source: str, text: str, where: str) -> StateDocument:
    """The export's resources, or "unknown" saying why there are none to read."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        return StateDocument(f"unknown: {where}not JSON ({exc})")
    except RecursionError:
        return StateDocument(f"unknown: {where}not a usable export: nested too deeply")
    deployment = document.get("deployment") if isinstance(document, dict) else None
    resources = deployment.get("resources", ()) if isinstance(deployment, dict) else None
    if not isinstance(resources, (list, tuple)):
        return StateDocument(f"unknown: {where}{NOT_AN_EXPORT}")
    return StateDocument(source, tuple(r for r in resources if isinstance(r, dict)))
