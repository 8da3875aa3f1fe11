"""`python -m disinto_infra check`: is the fleet's world as the TOML says, before and after `pulumi up`.

Read-only: GETs only, each bounded by --timeout, all of one run at once in threads. Exit 0 when
all is well, 1 when a problem was found, 2 when it could not run (bad TOML, no stack file).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from disinto_infra import input_file
from disinto_infra.commands import cli
from disinto_infra.commands.check import containers, forge, host_volumes, nomad, sources, vault
from disinto_infra.commands.check.ages import token_ages
from disinto_infra.commands.check.facts import (
    CheckReport,
    ContainerFacts,
    CredentialFacts,
    ForgeFacts,
    NomadFacts,
    RepoFacts,
    VaultFacts,
)
from disinto_infra.commands.check.report import to_text
from disinto_infra.commands.check.servers import judge
from disinto_infra.config.project_toml import ConfigError
from disinto_infra.config.stack_settings import StackSettings
from disinto_infra.forgejo import token_age
from disinto_infra.model_servers import probe as model_server
from disinto_infra.model_servers.capacity import Placed, assignments
from disinto_infra.runtimes.bind_sources import missing_sources
from disinto_infra.url_mask import mask_all, mask_credentials
from disinto_infra.workers import workers

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 3.0
WORKERS = 16


def _env_values(path: str | None) -> tuple[dict[str, str], list[str]]:
    if path is None:
        return {}, []
    try:
        return sources.read_env_file(Path(path)), []
    except input_file.InputFileError as exc:
        return {}, [f"{path}: disinto:envFile: {exc.why}"]


def _forge_facts(
    url: str,
    settings: StackSettings,
    credential: sources.AdminCredential,
    answered: Future[forge.Answer],
    admin: Future[tuple[str, list[str]]],
    repos: list[Future[RepoFacts]],
    basic_auth: Future[str | None],
    profiles: list[Future[str | None]],
    server: Future[forge.ServerSettings],
) -> ForgeFacts:
    version = answered.result()
    admin_status, problems = admin.result()
    found = server.result()
    if not version.ok:
        problems = [f"{url}: Forgejo does not answer: {version.text}", *problems]
    elif auth_off := basic_auth.result():
        problems = [auth_off, *problems]
    repo_results = tuple(f.result() for f in repos)
    problems += [f"{r.file}: repo: {r.repo}: {r.detail}" for r in repo_results if r.exists is not True]
    if version.ok:
        problems += [p for p in (f.result() for f in profiles) if p]
        problems += found.problems
    return ForgeFacts(
        url,
        version.ok,
        version.text if version.ok else "",
        "" if version.ok else version.text,
        settings.admin_user,
        credential.source,
        admin_status,
        repo_results,
        tuple(problems),
        found.admin_scopes,
        found.password_check_pwn,
        found.notes if version.ok else (),
    )


def run_checks(context: cli.Context, timeout: float, state_file: Path | None) -> CheckReport:
    """Every probe submitted at once; the report assembled from their answers."""
    settings, url = context.settings, context.settings.forge_url
    placed = [Placed(str(p.path), a) for p, a in context.fleet.agents()]
    credential = sources.admin_credential(settings, context.stack, os.environ)
    env, env_problems = _env_values(settings.env_file)
    repos = {p.repo: str(p.path) for p in context.fleet.projects}
    logger.debug(
        "checks: %d model server(s), Forgejo %s (admin %s, %d repo(s), %d agent(s)%s), %s runtime, timeout %g s",
        len(assignments(placed)),
        mask_credentials(url),
        credential.source or "no credential",
        len(repos),
        len(placed),
        ", their credentials in the env file" if settings.env_file and not env_problems else "",
        settings.runtime,
        timeout,
    )
    with workers(WORKERS) as pool:
        servers = [(a, pool.submit(model_server.probe, a.base_url, a.api_key, timeout)) for a in assignments(placed)]
        answered = pool.submit(forge.version, url, timeout)
        admin = pool.submit(forge.admin_status, url, settings.admin_user, credential, timeout)
        basic_auth = pool.submit(forge.basic_auth_problem, url, timeout)
        server = pool.submit(forge.server_settings, url, settings.admin_user, credential, timeout)
        profiles = [
            pool.submit(
                forge.profile_rule_problem,
                url,
                p.spec.name,
                p.spec.forge_user,
                settings.admin_user,
                credential,
                timeout,
            )
            for p in placed
        ]
        repo_facts = [pool.submit(forge.repo, url, r, f, credential, timeout) for r, f in repos.items()]
        creds: list[Future[CredentialFacts]] = []
        if settings.env_file and not env_problems:
            creds = [
                pool.submit(
                    forge.agent_credentials,
                    url,
                    p.spec.name,
                    p.spec.forge_user,
                    settings.env_file,
                    env,
                    p.spec.env_suffix,
                    timeout,
                )
                for p in placed
            ]
        boxes = _start_containers(pool, context, timeout)
        state = pool.submit(sources.read_state, state_file, context.stack, settings.project_dir)
        cluster = _start_cluster(pool, context, timeout, state)
        document = state.result()
        nomad_facts, vault_facts = (cluster[0].result()(), cluster[1].result()()) if cluster else (None, None)
        return CheckReport(
            stack=context.stack,
            servers=tuple(judge(a, f.result()) for a, f in servers),
            forge=_forge_facts(url, settings, credential, answered, admin, repo_facts, basic_auth, profiles, server),
            env_file=settings.env_file,
            credentials=tuple(f.result() for f in creds),
            token_age_source=document.source,
            token_ages=token_ages(document.resources, placed, settings, token_age.now()),
            problems=(*env_problems, *missing_sources(settings), *_state_problems(state_file, document)),
            nomad=nomad_facts,
            vault=vault_facts,
            containers=None if boxes is None else tuple(f.result() for f in boxes),
        )


def _state_problems(state_file: Path | None, document: sources.StateDocument) -> list[str]:
    """A --state FILE the user named and we cannot use is their mistake to hear of (without one,
    the ages are only "unknown": the Pulumi CLI may simply be missing)."""
    unknown = document.source.startswith("unknown: ")
    return [document.source.removeprefix("unknown: ")] if state_file is not None and unknown else []


def _start_containers(
    pool: ThreadPoolExecutor, context: cli.Context, timeout: float
) -> list[Future[ContainerFacts]] | None:
    """A docker stack's agent containers, each asked at once; none on a nomad stack."""
    if context.settings.runtime != "docker":
        return None
    docker = containers.docker_for(context.settings.docker_host, timeout)
    return [pool.submit(containers.container, agent.name, docker) for _, agent in context.fleet.agents()]


def _start_cluster(
    pool: ThreadPoolExecutor, context: cli.Context, timeout: float, state: Future[sources.StateDocument] | None = None
) -> tuple[Future[Callable[[], NomadFacts]], Future[Callable[[], VaultFacts]]] | None:
    """A `runtime: nomad` stack's Nomad and Vault probes, started; none on a docker stack. Finding
    a token may ask the Pulumi CLI (slow), so that too runs in the pool; each future gives the
    call that waits for the area's answers and judges them. `state`: the stack's exported state,
    which tells its own host volumes from kept ones."""
    settings = context.settings
    if settings.runtime != "nomad":
        return None
    stack_file = settings.project_dir / f"Pulumi.{context.stack}.yaml"
    environ, stack = dict(os.environ), context.stack
    agents = tuple(a.name for _, a in context.fleet.agents())

    def own_volumes() -> frozenset[str] | None:
        document = state.result() if state is not None else None
        if document is None or document.source.startswith("unknown"):
            return None
        return host_volumes.own_volume_ids(document.resources)

    return (
        pool.submit(
            lambda: nomad.start(pool, nomad.target(settings, stack, stack_file, environ, agents), timeout, own_volumes)
        ),
        pool.submit(lambda: vault.start(pool, vault.target(settings, stack, stack_file, environ, agents), timeout)),
    )


def run(args: argparse.Namespace) -> int:
    # The stack rule of every command (cli.load_context): a --stack NAME whose file is missing is
    # an error there, no --stack means Pulumi.dev.yaml, or the defaults when it is not there.
    try:
        context = cli.load_context(args)
    except ConfigError as error:
        print(str(error), file=sys.stderr)
        return 2
    report = run_checks(context, args.timeout, args.state)
    # One place for every address shown (forgeUrl, base_url, nomad:address, NOMAD_ADDR, …): a
    # URL's credentials, userinfo or query parameter, never reach the output.
    print(json.dumps(mask_all(report.to_json()), indent=2) if args.json else mask_credentials(to_text(report)))
    return 1 if report.all_problems else 0


def timeout_seconds(text: str) -> float:
    value = float(text)
    if not 0 < value <= 60:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most 60 seconds, not {text}")
    return value


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "check",
        help="probe model servers, Forgejo, agent credentials, and Nomad and Vault on a nomad stack "
        "(read-only); exit 1 on a problem",
    )
    cli.add_common_arguments(parser)
    parser.add_argument("--json", action="store_true", help="the same facts as JSON")
    parser.add_argument(
        "--timeout",
        type=timeout_seconds,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"bound of each probe (default: {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--state",
        type=Path,
        metavar="FILE",
        help="a `pulumi stack export` file for token ages (default: run `pulumi stack export` "
        "when the Pulumi CLI is on PATH)",
    )
    parser.set_defaults(func=run)
