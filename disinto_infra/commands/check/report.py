"""`check`'s text output: a short table per area, then every problem."""

from __future__ import annotations

from collections.abc import Sequence

from disinto_infra.commands.check.facts import CheckReport, ContainerFacts, NomadFacts, ServerFacts, VaultFacts


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    return [
        "  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in (header, *rows)
    ]


def _served(server: ServerFacts) -> str:
    return server.models[0] if server.models else "-"


def _agents(server: ServerFacts) -> str:
    marks = {True: "", False: " (other model)", None: ""}
    return ", ".join(a.agent + marks[a.serves_model] for a in server.agents)


def _state(server: ServerFacts) -> str:
    return server.state if not server.detail or server.state == "ok" else f"{server.state}: {server.detail}"


def servers_section(report: CheckReport) -> list[str]:
    rows = [
        (s.base_url, _state(s), _served(s), "?" if s.slots is None else str(s.slots), str(len(s.agents)), _agents(s))
        for s in report.servers
    ]
    return ["Model servers", *table(("server", "state", "serves", "slots", "agents", "who"), rows)]


def forge_section(report: CheckReport) -> list[str]:
    forge = report.forge
    answers = f"yes (Forgejo {forge.version})" if forge.answers else f"no: {forge.detail}"
    source = f" ({forge.admin_source})" if forge.admin_source else ""
    rows = [("answers", answers), (f"admin {forge.admin_user}", forge.admin_status + source)]
    if forge.admin_scopes:
        rows.append(("admin token scopes", forge.admin_scopes))
    if forge.password_check_pwn:
        rows.append(("PASSWORD_CHECK_PWN", forge.password_check_pwn))
    rows += [(f"repo {r.repo}", {True: "exists", False: r.detail, None: r.detail}[r.exists]) for r in forge.repos]
    return [f"Forgejo {forge.url}", *table(("what", "found"), rows), *(f"note: {n}" for n in forge.notes)]


def _from(source: str) -> str:
    return f" ({source})" if source else ""


def _listed(found: str, items: tuple[str, ...]) -> str:
    return f"{found}: {', '.join(items)}" if items else found


def nomad_section(nomad: NomadFacts) -> list[str]:
    rows = [
        ("leader", nomad.leader or nomad.leader_found),
        ("token", nomad.token_source or "none"),
        (f"namespace {nomad.namespace}", nomad.namespace_found),
    ]
    if nomad.node_pool:
        rows.append((f"node pool {nomad.node_pool}", _listed(nomad.pool_found, nomad.ready_nodes)))
    rows.append((f"service {nomad.forge_service}", _listed(nomad.forge_found, nomad.forge_instances)))
    if nomad.host_volumes_found:
        rows.append(("host volumes", _listed(nomad.host_volumes_found, tuple(k.name for k in nomad.kept_volumes))))
    rows.append(("token rights", nomad.rights_found))
    if nomad.kill_timeout_found:
        rows.append(("max_kill_timeout", nomad.kill_timeout_found))
    return [f"Nomad {nomad.address}{_from(nomad.address_source)}", *table(("what", "found"), rows)]


def _ttl(seconds: int | None) -> str:
    if seconds is None:
        return ""
    if seconds == 0:
        return ", never expires"
    days, rest = divmod(seconds, 86400)
    return f", expires in {days}d {rest // 3600}h" if days else f", expires in {rest // 3600}h {rest % 3600 // 60}m"


def vault_section(vault: VaultFacts) -> list[str]:
    version = f" (Vault {vault.version})" if vault.version else ""
    token = vault.token_found + _from(vault.token_source)
    if vault.token_policies:
        token += f": policies {', '.join(vault.token_policies)}{_ttl(vault.token_ttl)}"
    rows = [
        ("state", vault.state + version),
        ("token", token),
        (f"kv mount {vault.kv_mount}/", vault.kv_found),
        (f"auth mount {vault.auth_mount}/", vault.auth_found),
        ("bot policies", vault.bot_policies_found),
        ("token rights", vault.rights_found),
    ]
    return [
        f"Vault {vault.address}{_from(vault.address_source)}",
        *table(("what", "found"), rows),
        *(f"  warning: {w}" for w in vault.warnings),
    ]


def cluster_sections(report: CheckReport) -> list[str]:
    """Nomad and Vault, on a nomad stack only: a docker stack's output is as before."""
    lines = []
    if report.nomad is not None:
        lines += [*nomad_section(report.nomad), ""]
    if report.vault is not None:
        lines += [*vault_section(report.vault), ""]
    return lines[:-1]


def containers_section(report: CheckReport) -> list[str]:
    """A docker stack's containers; a nomad stack's output has no such section."""
    if report.containers is None:
        return []
    rows = [
        (
            c.agent,
            c.container,
            c.found if c.found != "running" else c.status,
            c.health or "-",
            str(c.restarts),
            _busy(c),
        )
        for c in report.containers
    ]
    lines = ["Agent containers", *table(("agent", "container", "state", "health", "restarts", "busy"), rows)]
    return lines + [f"  {c.agent}: {s}" for c in report.containers for s in c.sessions]


def _busy(facts: ContainerFacts) -> str:
    if facts.status != "running":
        return "-"
    return f"{len(facts.sessions)} process(es)" if facts.sessions else "idle"


def credentials_section(report: CheckReport) -> list[str]:
    if report.env_file is None:
        return ["Agent credentials", "  not checked: no disinto:envFile"]
    rows = [(c.agent, c.forge_user, c.token, c.password) for c in report.credentials]
    return [f"Agent credentials ({report.env_file})", *table(("agent", "user", "token", "password"), rows)]


def _days(value: float | None) -> str:
    return "unknown" if value is None else f"{value:g}d"


def ages_section(report: CheckReport) -> list[str]:
    rows = [
        (
            t.agent,
            t.made_at or "unknown",
            _days(t.age_days),
            "never" if t.max_age_days is None else f"{t.max_age_days}d",
            "unknown" if t.due is None else ("yes, at the next pulumi up" if t.due else "no"),
        )
        for t in report.token_ages
    ]
    return [f"Token ages (from {report.token_age_source})", *table(("agent", "made", "age", "limit", "due"), rows)]


def to_text(report: CheckReport) -> str:
    lines = []
    sections = (servers_section, forge_section, cluster_sections, containers_section, credentials_section, ages_section)
    for section in sections:
        found = section(report)
        lines += [*found, ""] if found else []
    problems = report.all_problems
    lines += [f"{len(problems)} problem(s)" + (":" if problems else ""), *(f"  {p}" for p in problems)]
    return "\n".join(lines)
