"""`python -m disinto_infra rotate NAME [--token] [--password]`: ask for new credentials.

Bumps `rotate_token` / `rotate_password` in the project TOML (toml_edit.rotate). On the next
`pulumi up` only that agent's token is replaced (the new one first, then the old one revoked)
and/or its password set, and only its container is recreated, once the agent has drained (on a
nomad stack: its Vault secret and its job, which Nomad then starts again with the new secret).
"""

from __future__ import annotations

import argparse

from disinto_infra import naming
from disinto_infra.commands.hire import add_toml_arguments, print_next_steps, report_error, target
from disinto_infra.commands.toml_edit import EditError, rotate


def run(args: argparse.Namespace) -> int:
    both = not args.token and not args.password  # no flag means both
    try:
        found = target(args)
        result = rotate(
            found.toml,
            args.name,
            token=args.token or both,
            password=args.password or both,
            admin_user=found.admin_user(args),
        )
    except EditError as error:
        return report_error(error)
    bumps = ", ".join(f"{key} {old} -> {new}" for key, (old, new) in result.changed.items())
    print(f"{result.name}: {bumps} in {result.path}")
    what = " and ".join(
        w
        for w, key in (("a new token", "rotate_token"), ("a new password", "rotate_password"))
        if key in result.changed
    )
    print_next_steps(
        f"shows {result.name} getting {what}; its container is recreated once the agent has drained (no new "
        "session; those in flight may finish, up to disinto:drainTimeoutSeconds); on a nomad stack its "
        f"job {naming.nomad_job(result.name)} is registered again and starts with the new secret"
    )
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("rotate", help="give an agent a new token and/or password on the next pulumi up")
    parser.add_argument("name", metavar="NAME", help="the agent ([agents.NAME])")
    parser.add_argument("--token", action="store_true", help="replace its Forgejo token")
    parser.add_argument("--password", action="store_true", help="set a new Forgejo password")
    add_toml_arguments(parser)
    parser.set_defaults(func=run)
