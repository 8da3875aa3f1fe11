"""Keep an agent's `FORGE_TOKEN_<SUFFIX>` / `FORGE_PASS_<SUFFIX>` current in the factory `.env`.

One `command.local.Command` per agent runs `disinto_infra.envfile` on the Pulumi host. The secrets
travel only in the command's `environment` (stored encrypted in state); its command strings, and so
its arguments, stdout and the preview diff, only ever hold the file path and the key names. The same
command adds the agent's `ANTHROPIC_BASE_URL` line when the file has none, so that `disinto up`
accepts every agent managed here; that line is never overwritten nor removed with the agent.
Why: docs/decisions/env-file-lines.md
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pulumi
import pulumi_command as command

from disinto_infra import naming
from disinto_infra.runtimes.env import BASE_URL_VAR
from disinto_infra.url_mask import has_credentials

# The checkout holding `disinto_infra/`: the host-side modules are run from it.
PROJECT_ROOT = str(Path(__file__).resolve().parents[2])

# Not `sys.executable`: the command string is stored in state, and must not name one machine's venv.
# Why: docs/decisions/host-python-command.md
PYTHON = "python3"

_SUFFIX_RE = re.compile(r"[A-Za-z0-9_]+\Z")


def python_module_command(module: str, *args: str) -> str:
    """A shell command line running one of our host modules; every argument is quoted."""
    return " ".join([PYTHON, "-m", module, *(shlex.quote(a) for a in args)])


def host_environment() -> dict[str, str]:
    return {"PYTHONPATH": PROJECT_ROOT}


def credential_keys(suffix: str) -> tuple[str, str]:
    """The names the factory's bash scripts read (suffix: forge_user with tr 'a-z-' 'A-Z_')."""
    if not _SUFFIX_RE.match(suffix):
        raise ValueError(f"env suffix {suffix!r} cannot be part of a variable name")
    return f"FORGE_TOKEN_{suffix}", f"FORGE_PASS_{suffix}"


def export_credentials(
    name: str,
    suffix: str,
    token: pulumi.Input[str],
    password: pulumi.Input[str],
    env_file: str,
    base_url: str,
    opts: pulumi.ResourceOptions | None = None,
) -> command.local.Command:
    """`<name>-env`: writes the two lines (and a missing base URL line) on create/update, removes
    the two on delete."""
    token_key, pass_key = credential_keys(suffix)
    # Relative paths mean the Pulumi project folder, as they do for the program itself.
    path = os.path.abspath(os.path.expanduser(env_file))
    write = python_module_command(
        "disinto_infra.envfile", "set", "--file", path, "--if-absent", BASE_URL_VAR, token_key, pass_key
    )
    erase = python_module_command("disinto_infra.envfile", "remove", "--file", path, token_key, pass_key)
    return command.local.Command(
        naming.child_names(name).env,
        create=write,
        update=write,
        delete=erase,
        environment={
            **host_environment(),
            token_key: pulumi.Output.secret(token),
            pass_key: pulumi.Output.secret(password),
            BASE_URL_VAR: pulumi.Output.secret(base_url) if has_credentials(base_url) else base_url,
        },
        # Another file or another suffix is another pair of lines: replace, so `delete` (run with
        # the old inputs) removes the old lines.
        triggers=[path, suffix],
        # Create-before-delete would write the lines and then run the old resource's delete, which
        # removes the same lines again whenever file and keys stay (`pulumi up --replace <urn>`).
        # Delete first, then write.
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(delete_before_replace=True)),
    )
