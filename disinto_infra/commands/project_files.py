"""Which project folder, stack file and project TOMLs a command reads: one rule for every command.

1. The project folder: `--project-dir DIR`; else the nearest folder, from the working folder up,
   whose Pulumi.yaml is this program's (`name: disinto`), as the Pulumi CLI finds its project;
   else the working folder. Where the package is installed plays no part.
2. The stack file: `Pulumi.<--stack NAME>.yaml` there, which must exist; without --stack,
   `Pulumi.dev.yaml`, or the defaults when it is missing.
3. The TOMLs: `--toml PATH` (a file or a glob); else the stack's `disinto:projectToml`
   (default `projects/*.toml`), relative to the project folder. `hire` and `rotate` edit one file:
   the pattern must match exactly one.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from disinto_infra.config.project_toml import NotFound
from disinto_infra.config.stack_settings import NAMESPACE, StackSettings

DEFAULT_STACK = "dev"

# Said under every "not found": the flags and the setting that choose the files.
CHOOSERS = "--project-dir DIR, --stack NAME and --toml PATH (or the stack's disinto:projectToml) choose them"


@dataclass(frozen=True)
class ProjectFolder:
    path: Path
    why: str  # how the rule chose it, for "not found" messages


def add_arguments(parser: argparse.ArgumentParser, toml_help: str) -> None:
    """The three choosers, the same on every command."""
    parser.add_argument(
        "--project-dir",
        metavar="DIR",
        type=Path,
        help="the Pulumi project folder (default: the nearest folder, from here up, whose Pulumi.yaml "
        "is disinto's; else this folder)",
    )
    parser.add_argument(
        "--stack",
        metavar="NAME",
        help="read settings from Pulumi.NAME.yaml in the project folder, which must exist "
        f"(default: {DEFAULT_STACK}, whose file may be missing: then the defaults)",
    )
    parser.add_argument("--toml", metavar="PATH", help=toml_help)


def is_our_project(folder: Path) -> bool:
    """Whether folder/Pulumi.yaml is this program's (another Pulumi project's is passed over)."""
    try:
        project = yaml.safe_load((folder / "Pulumi.yaml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    return isinstance(project, dict) and project.get("name") == NAMESPACE


def project_folder(given: Path | None, cwd: Path | None = None) -> ProjectFolder:
    """Rule 1: --project-dir, else the nearest folder from the working folder up that is ours."""
    if given is not None:
        return ProjectFolder(given.absolute(), "--project-dir")
    here = (cwd or Path.cwd()).absolute()
    for folder in (here, *here.parents):
        if is_our_project(folder):
            return ProjectFolder(folder, f"the nearest folder from {here} up whose Pulumi.yaml is disinto's")
    return ProjectFolder(here, f"the working folder: no Pulumi.yaml named {NAMESPACE} in it or above it")


def stack_name(args: argparse.Namespace) -> str:
    """Rule 2: --stack NAME, else DEFAULT_STACK."""
    return str(args.stack or DEFAULT_STACK)


def stack_file(args: argparse.Namespace, folder: ProjectFolder) -> Path:
    return folder.path / f"Pulumi.{stack_name(args)}.yaml"


def load_settings(args: argparse.Namespace, folder: ProjectFolder) -> StackSettings:
    """The stack's settings, --toml overriding disinto:projectToml (rules 2 and 3)."""
    overrides = {"projectToml": str(Path(args.toml).absolute())} if args.toml else {}
    # A stack named on the command line must exist: a typo must not run with silent defaults.
    with explained(folder):
        return StackSettings.from_stack_file(
            stack_file(args, folder), folder.path, overrides, missing_ok=not args.stack
        )


def one_toml(settings: StackSettings, folder: ProjectFolder) -> Path:
    """Rule 3 for the commands that edit: the one file the pattern names."""
    with explained(folder):
        found = settings.project_files()
        if len(found) > 1:
            names = ", ".join(str(path) for path in found)
            raise NotFound(
                [
                    f"{NAMESPACE}:projectToml: {settings.project_toml} matches several files ({names}); choose one with --toml PATH"
                ]
            )
    return found[0]


@contextmanager
def explained(folder: ProjectFolder) -> Iterator[None]:
    """A NotFound raised inside the block also says which project folder the rule chose, and why."""
    try:
        yield
    except NotFound as error:
        raise NotFound([*error.problems, f"project folder: {folder.path} ({folder.why}); {CHOOSERS}"]) from None
