"""`python -m disinto_infra hire NAME ROLE ...`: add or update an agent in the project TOML.

The operator's flow from `disinto hire-an-agent`, as a file edit (toml_edit.hire); the fleet
itself changes on the next `pulumi up`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from disinto_infra import input_file, naming
from disinto_infra.commands import project_files
from disinto_infra.commands.toml_edit import (
    DEFAULT_API_KEY,
    DEFAULT_POLL_INTERVAL,
    EditError,
    HireResult,
    hire,
)
from disinto_infra.config.project_toml import DEFAULT_MODEL, LOOPBACK_BASE_URL, ConfigError, is_loopback
from disinto_infra.config.stack_settings import StackSettings
from disinto_infra.factory.formulas import FormulaProblem, formula_for
from disinto_infra.model_servers.capacity import probe_room
from disinto_infra.url_mask import MASK, mask_all


def add_toml_arguments(parser: argparse.ArgumentParser) -> None:
    project_files.add_arguments(
        parser, "the project TOML to edit (default: the stack's disinto:projectToml, which must name one file)"
    )
    parser.add_argument(
        "--admin-user",
        metavar="USER",
        help="the admin user, which no agent may use (default: the stack's disinto:adminUser, "
        f"else {naming.DEFAULT_ADMIN_USER})",
    )


@dataclass(frozen=True)
class Target:
    """The file an edit changes, and the stack settings it is judged by (commands/project_files.py)."""

    toml: Path
    settings: StackSettings

    def admin_user(self, args: argparse.Namespace) -> str:
        return str(args.admin_user or self.settings.admin_user)


def target(args: argparse.Namespace) -> Target:
    """The project TOML to edit, found as every command finds it: it must be an existing file (hire
    edits, it does not create one)."""
    folder = project_files.project_folder(args.project_dir)
    try:
        settings = project_files.load_settings(args, folder)
        path = project_files.one_toml(settings, folder)
    except ConfigError as error:
        raise EditError(error.problems) from None
    if path.is_dir():
        raise EditError(
            [f"{path}: is a folder, not a project TOML file; --toml names the file, e.g. {path / 'NAME.toml'}"]
        )
    if not path.exists():
        raise EditError([f"{path}: no such file; --toml names an existing project TOML (e.g. projects/NAME.toml)"])
    if not path.is_file():
        raise EditError([f"{path}: not a regular file; --toml names the project TOML file"])
    return Target(path, settings)


def factory_root_of(found: Target, factory_root: Path | None) -> Path:
    """--factory-root, else the stack's disinto:factoryRoot (by default the folder above the TOMLs' `projects/`)."""
    return factory_root if factory_root is not None else Path(found.settings.factory_root)


def formula_key(given: str, root: Path) -> str:
    """`--formula PATH` as the TOML keeps it: relative to the factory root. An absolute PATH must
    lie inside that root (it is made relative); a relative one is taken as relative to it."""
    if not os.path.isabs(given):
        return given
    try:
        return Path(os.path.abspath(given)).relative_to(os.path.abspath(root)).as_posix()
    except ValueError:
        raise EditError(
            [f"--formula {given}: not inside the factory root {root}; --factory-root names another factory"]
        ) from None


def existing_formula(toml: Path, name: str) -> str | None:
    """The `formula` key [agents.NAME] already has, if the file reads and has one (else the edit reports it)."""
    try:
        value = tomllib.loads(input_file.read_text(toml)).get("agents", {}).get(name, {}).get("formula")
    except (OSError, tomllib.TOMLDecodeError, AttributeError, RecursionError):
        return None
    return value if isinstance(value, str) else None


def check_formula(toml: Path, name: str, role: str, formula: str | None, root: Path) -> None:
    """Refuse what `validate` would refuse: the formula (`formula`, else the role's) must be a
    usable file under the factory root, judged as validate and the provider judge it."""
    try:
        formula_for(root, role, formula)
    except FormulaProblem as exc:
        field = "formula" if formula is not None else "roles"
        raise EditError([f"{toml}: agents.{name}.{field}: {exc}; --factory-root names another factory"]) from None


def check_server(toml: Path, args: argparse.Namespace) -> None:
    """Probe --local-model: refuse more agents than it has slots (unless --force); an
    unreachable server is only a warning (it may be down for maintenance)."""
    if not args.local_model:
        return
    room = probe_room(toml, args.name, args.local_model, args.force, args.api_key)
    if room.refuse:
        # The URL may carry credentials: never print them.
        raise EditError([f"{toml}: agents.{args.name}.base_url: {mask_all(line)}" for line in room.lines])
    print("\n".join(mask_all(line) for line in room.lines))


def report_error(error: EditError) -> int:
    print("\n".join(error.problems), file=sys.stderr)
    print("nothing was changed", file=sys.stderr)
    return 1


def print_next_steps(why: str) -> None:
    print("next:")
    print(f"  pulumi preview   # {why}")
    print("  pulumi up")


def describe(result: HireResult) -> str:
    where = f"[agents.{result.name}] in {result.path}"
    if result.created:
        return f"hired {result.name}: added {where}"
    if result.unchanged:
        return f"{result.name}: {where} already says so; nothing to change"
    keys = ", ".join(f"{k} = {json.dumps(MASK if k == 'api_key' else mask_all(v))}" for k, v in result.changed.items())
    return f"updated {where}: {keys}"


def run(args: argparse.Namespace) -> int:
    try:
        found = target(args)
        path = found.toml
        root = factory_root_of(found, args.factory_root)
        formula = formula_key(args.formula, root) if args.formula is not None else None
        check_formula(path, args.name, args.role, formula or existing_formula(path, args.name), root)
        edit = {
            "local_model": args.local_model,
            "model": args.model,
            "poll_interval": args.poll_interval,
            "forge_user": args.forge_user,
            "admin_user": found.admin_user(args),
            "formula": formula,
            "api_key": args.api_key,
        }
        # Our own arguments first: a value validate would refuse is refused before any server is asked.
        hire(path, args.name, args.role, **edit, write=False)
        # The slot check and the write under one lock of the TOML: concurrent hires take turns.
        result = hire(path, args.name, args.role, **edit, under_lock=lambda: check_server(path, args))
    except EditError as error:
        return report_error(error)
    print(describe(result))
    if args.local_model and is_loopback(args.local_model):
        print(f"warning: {path}: agents.{args.name}.base_url: {mask_all(args.local_model)} {LOOPBACK_BASE_URL}")
    if result.changed.get("model", args.model) == DEFAULT_MODEL:
        server = mask_all(args.local_model) if args.local_model else "its server"
        print(
            f'warning: {path}: agents.{args.name}.model is "{DEFAULT_MODEL}", a placeholder: set it to the model '
            f"{server} serves (--model M); `check` reports an agent whose model its server does not serve"
        )
    if result.created:
        print_next_steps(
            f"shows {result.name}'s user, token, collaborator, volumes and container (nomad: job) to create"
        )
    else:
        print_next_steps(
            f"shows what changes for {result.name} (a changed setting recreates its container or resubmits its job)"
        )
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("hire", help="add or update an agent ([agents.NAME]) in the project TOML")
    parser.add_argument(
        "name", metavar="NAME", help="the agent's name (container disinto-agents-NAME, or Nomad job disinto-agent-NAME)"
    )
    parser.add_argument("role", metavar="ROLE", help="its role, e.g. dev or review (written as roles = [ROLE])")
    parser.add_argument("--local-model", metavar="URL", help="base_url of its model server (required for a new agent)")
    parser.add_argument(
        "--force", action="store_true", help="hire even when the --local-model server has no free slot for it"
    )
    parser.add_argument("--model", metavar="M", help="model name (new agent default: local-model)")
    parser.add_argument(
        "--api-key",
        metavar="KEY",
        help=f"the model server's API key, written as api_key (new agent default: {DEFAULT_API_KEY}, for a server "
        "without one); never printed",
    )
    parser.add_argument(
        "--poll-interval",
        metavar="N",
        type=int,
        help=f"seconds between polls (new agent default: {DEFAULT_POLL_INTERVAL})",
    )
    parser.add_argument("--forge-user", metavar="U", help="its Forgejo username (new agent default: NAME)")
    parser.add_argument(
        "--formula",
        metavar="PATH",
        help="its formula file, relative to the factory root (or absolute, inside it); "
        "default: looked up by ROLE (formulas/ROLE.toml, formulas/run-ROLE.toml, "
        "formulas/review-pr.toml for review)",
    )
    parser.add_argument(
        "--factory-root",
        metavar="DIR",
        type=Path,
        help="the factory checkout whose formulas/ must hold the role's formula "
        "(default: the stack's disinto:factoryRoot, by default the folder above the TOMLs' projects/ folder)",
    )
    add_toml_arguments(parser)
    parser.set_defaults(func=run)
