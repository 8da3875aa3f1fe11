"""`python -m disinto_infra <command>`: offline commands around the Pulumi program.

Commands register themselves: each command module exposes `register(subparsers)`, which adds its
parser and sets `func` (taking the parsed args, returning an exit code). Built-in commands are
below; later ones (hire, rotate, ...) go in their own modules, listed in COMMAND_MODULES.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from disinto_infra.commands import project_files
from disinto_infra.config.project_toml import ConfigError, Fleet
from disinto_infra.config.stack_settings import StackSettings
from disinto_infra.factory.formulas import Formula, load_fleet_and_formulas
from disinto_infra.fleet_warnings import fleet_warnings
from disinto_infra.program.plan import plan_fleet

logger = logging.getLogger(__name__)

# Modules that add commands, each with `register(subparsers)`.
COMMAND_MODULES: tuple[str, ...] = (
    "disinto_infra.commands.hire",
    "disinto_infra.commands.rotate",
    "disinto_infra.commands.check.command",
)

Registrar = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


@dataclass(frozen=True)
class Context:
    """What every command needs: the stack's settings and its validated fleet."""

    stack: str
    settings: StackSettings
    fleet: Fleet
    formulas: Mapping[str, Formula]


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    project_files.add_arguments(parser, "project TOML file or glob (default: the stack's disinto:projectToml)")


def load_context(args: argparse.Namespace) -> Context:
    """Settings from the stack file (with --toml overriding projectToml), then the validated fleet,
    found by the one rule of commands/project_files.py."""
    folder = project_files.project_folder(args.project_dir)
    settings = project_files.load_settings(args, folder)
    stack_file = project_files.stack_file(args, folder)
    logger.debug("stack file %s%s", stack_file, "" if stack_file.exists() else " (missing: the defaults)")
    with project_files.explained(folder):
        fleet, formulas = load_fleet_and_formulas(settings, str(stack_file) if stack_file.exists() else None)
    return Context(project_files.stack_name(args), settings, fleet, formulas)


def report_problems(error: ConfigError) -> int:
    print(str(error), file=sys.stderr)
    return 1


# ---------------------------------------------------------------- validate


def run_validate(args: argparse.Namespace) -> int:
    try:
        context = load_context(args)
    except ConfigError as error:
        return report_problems(error)
    for warning in fleet_warnings(context.fleet, context.settings, f"Pulumi.{context.stack}.yaml"):
        print(f"warning: {warning}", file=sys.stderr)
    files = len(context.fleet.projects)
    print(f"ok: {len(context.fleet.agents())} agent(s) in {files} file(s)")
    return 0


def register_validate(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("validate", help="check the project TOML files; exit 1 with every problem")
    add_common_arguments(parser)
    parser.set_defaults(func=run_validate)


# ---------------------------------------------------------------- plan


def run_plan(args: argparse.Namespace) -> int:
    try:
        context = load_context(args)
    except ConfigError as error:
        return report_problems(error)
    report = plan_fleet(context.settings, context.fleet, context.stack, context.formulas)
    print(json.dumps(report.to_json(), indent=2) if args.json else report.to_text())
    return 0


def register_plan(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "plan", help="run the program under mocks (no Forgejo, Docker or credentials) and show what would exist"
    )
    add_common_arguments(parser)
    parser.add_argument("--json", action="store_true", help="agents, env and every registered resource as JSON")
    parser.set_defaults(func=run_plan)


# ---------------------------------------------------------------- entry point

BUILTIN_COMMANDS: tuple[Registrar, ...] = (register_validate, register_plan)


def registrars() -> list[Registrar]:
    return [*BUILTIN_COMMANDS, *(importlib.import_module(m).register for m in COMMAND_MODULES)]


MODULE_PROG, SCRIPT_PROG = "python -m disinto_infra", "disinto-infra"


def called_as(argv0: str) -> str:
    """The command as the user typed it, for usage lines: the installed script or the module."""
    return SCRIPT_PROG if Path(argv0).name == SCRIPT_PROG else MODULE_PROG


VERBOSE = ("-v", "--verbose")
VERBOSE_HELP = "log what is read, asked and written (on stderr)"
LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"


def build_parser(prog: str = MODULE_PROG) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description=__doc__.splitlines()[0],
        epilog=project_files.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(*VERBOSE, action="store_true", help=VERBOSE_HELP)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in registrars():
        register(subparsers)
    for command in subparsers.choices.values():
        # Also after the command; SUPPRESS: unset there, it leaves the value parsed before it alone.
        command.add_argument(*VERBOSE, action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP)
    return parser


def configure_logging(verbose: bool) -> None:
    """Warnings on stderr; with --verbose this package's DEBUG lines too. Only this package's: the
    HTTP libraries' DEBUG lines carry each request's URL with its query, where a model server's key
    may be (`?key=…`); ours mask it (url_mask)."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format=LOG_FORMAT)
    if verbose:
        logging.getLogger("disinto_infra").setLevel(logging.DEBUG)


# Exit codes of the shell's conventions: 128 + the signal's number.
INTERRUPTED = 128 + signal.SIGINT
BROKEN_PIPE = 128 + signal.SIGPIPE


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. Ctrl-C, a reader that went away and a full disk each end it with one line and
    the shell's code, never a traceback; files are written whole or not at all (each writer renames a
    finished temporary file into place, and cleans it up as the interrupt unwinds)."""
    args = build_parser(called_as(sys.argv[0])).parse_args(argv)
    if sys.stdout is None:  # started with stdout closed (`>&-`): Python leaves no stream at all
        return _leave(1, "cannot write the output: stdout is closed")
    configure_logging(args.verbose)
    logger.debug("command %s", args.command)
    try:
        code: int = args.func(args)  # every command's func returns its exit code
        sys.stdout.flush()
    except KeyboardInterrupt:
        return _leave(INTERRUPTED, "interrupted")
    except BrokenPipeError:
        return _leave(BROKEN_PIPE, "")  # the reader went away (`| head`): it has what it wanted
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EIO, errno.EPIPE):
            raise
        return _leave(1, f"cannot write the output: {exc.strerror}")
    return code


def _leave(code: int, line: str) -> NoReturn:
    """Say `line` (if any) and end now: worker threads of an interrupted run are not waited for (an
    interrupted `plan` could otherwise hang at exit), and stdout, whose reader is gone or whose disk is
    full, is not flushed again."""
    if line:
        with contextlib.suppress(OSError):
            print(line, file=sys.stderr, flush=True)
    os._exit(code)
