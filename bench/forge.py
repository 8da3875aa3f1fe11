"""Forgejo-side figures, through the engine-side harness (tests/support/engine.py) running the real
provider host (`python -m pulumi.dynamic`) against the Forgejo double (tests/support/forgejo_double):
requests per operation, what the old bash `hire-an-agent` sent for the same jobs, bytes of state per
agent, and the 20-agent convergence under latency.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from tests.support.engine import PROVIDER_KEY, Engine, Host, Res, Secret
from tests.support.forgejo_double import ForgejoDouble
from tests.support.identity import REPO, program

ADMIN, ADMIN_PASSWORD = "disinto-admin", "admin-pass-123"
OWNER = "johba"
FORMULA = 'name = "dev"\ndescription = "bench formula"\n'
# The `.profile` repository's requests, counted apart from the identity's.
PROFILE_PATH = re.compile(r"/\.profile(/|$)|^/api/v1/admin/users/[^/]+/repos$")


def new_forge(**kw: Any) -> ForgejoDouble:
    forge = ForgejoDouble(spec_check=True, **kw).start()
    forge.add_user(ADMIN, password=ADMIN_PASSWORD, is_admin=True, email="admin@disinto.local")
    forge.add_user(OWNER, password="johba-pass-123", email="johba@disinto.local")
    forge.add_repo(OWNER, "disinto")
    return forge


def new_host(forge: ForgejoDouble) -> Host:
    return Host(
        {
            "disinto:forgeUrl": forge.url,
            "disinto:adminUser": ADMIN,
            "disinto:adminPassword": Secret(ADMIN_PASSWORD),
        }
    ).start()


def agent(name: str, *, with_profile: bool = True, **kwargs: Any) -> list[Res]:
    """An agent's Forgejo side as the real program registers it: the user (retired when the agent goes),
    its token and grant, and its `.profile` repository."""
    resources = program(name, formula=FORMULA, **kwargs)
    return [r for r in resources if with_profile or r.name != f"{name}-profile"]


def _split(records) -> tuple[int, int]:
    profile = sum(1 for r in records if PROFILE_PATH.search(r.path))
    return len(records) - profile, profile


def requests_per_operation() -> dict[str, Any]:
    """hire, rerun, rotate_token, rotate_password, refresh, remove: one agent, counted at the double."""
    forge = new_forge()
    host = new_host(forge)
    try:
        engine = Engine(host)
        steps: list[tuple[str, Callable[[], Any]]] = [
            ("hire", lambda: engine.up(agent("dev-qwen"))),
            ("rerun", lambda: engine.up(agent("dev-qwen"))),
            ("rotate_token", lambda: engine.up(agent("dev-qwen", rotation=1))),
            ("rotate_password", lambda: engine.up(agent("dev-qwen", rotation=1, password_rotation=1))),
            ("refresh", engine.refresh),
            ("remove", lambda: engine.up([])),
        ]
        identity_counts, profile_counts, state_bytes = {}, {}, {}
        for op, action in steps:
            forge.clear_requests()
            action()
            identity_counts[op], profile_counts[op] = _split(forge.requests)
            if op == "hire":
                state_bytes = state_bytes_of(engine)
        violations = forge.spec_violations
    finally:
        host.close()
        forge.stop()
    if violations:
        raise RuntimeError(f"requests broke the Forgejo swagger: {violations[:3]}")
    return {
        "requests": identity_counts,
        "requests_profile_repo": profile_counts,
        "state_bytes_per_agent": state_bytes,
    }


def _json_bytes(values: dict) -> int:
    return len(json.dumps(values, sort_keys=True, separators=(",", ":")).encode())


def state_bytes_of(engine: Engine) -> dict[str, Any]:
    """The outputs of one agent's resources as the provider host returned them (JSON, compact).

    The host echoes `__provider` into every resource's outputs, so it is part of what the state
    stores; shown with and without it. Secrets are counted as plain text (the real state would hold
    them encrypted, a little longer)."""
    by_type, without = {}, {}
    for st in engine.state.values():
        short = st.type.rsplit(":", 1)[-1]
        by_type[short] = _json_bytes(st.outputs)
        without[short] = _json_bytes({k: v for k, v in st.outputs.items() if k != PROVIDER_KEY})
    return {"total": sum(by_type.values()), "total_without_provider": sum(without.values()), "by_type": by_type}


# ----------------------------------------------------------------------------------- old bash tool
@dataclass(frozen=True)
class BashStep:
    """One HTTP request of the old bash `hire-an-agent` (issue 5 lists its steps)."""

    what: str
    method: str
    path: str  # {admin}, {user}, {repo} filled in
    auth: str  # "admin-basic" | "admin-token" | "user-basic"
    json: dict | None = None


ADMIN_TOKEN = BashStep(
    "create an admin token", "POST", "/users/{admin}/tokens", "admin-basic", {"name": "{unique}", "scopes": ["all"]}
)
LOOK_UP = BashStep("look the user up", "GET", "/users/{user}", "admin-token")
CREATE_USER = BashStep(
    "create it",
    "POST",
    "/admin/users",
    "admin-token",
    {"username": "{user}", "email": "{user}@disinto.local", "password": "{password}", "must_change_password": False},
)
RESET_PASSWORD = BashStep(
    "reset its password (re-run: the user exists)",
    "PATCH",
    "/admin/users/{user}",
    "admin-token",
    {"password": "{password}", "must_change_password": False},
)
USER_TOKEN = BashStep(
    "create its token", "POST", "/users/{user}/tokens", "user-basic", {"name": "{unique}", "scopes": ["all"]}
)
COLLABORATOR = BashStep(
    "add the collaborator", "PUT", "/repos/{repo}/collaborators/{user}", "admin-token", {"permission": "write"}
)

BASH_FIRST_RUN = (ADMIN_TOKEN, LOOK_UP, CREATE_USER, USER_TOKEN, COLLABORATOR)
# A re-run repeats every step; the user exists, so its password is reset and a new token minted.
BASH_RERUN = (ADMIN_TOKEN, LOOK_UP, RESET_PASSWORD, USER_TOKEN, COLLABORATOR)
# The bash tool had one job: (re-)hire. Rotating anything meant running it again; it had no
# refresh and no removal, so those keys do not apply.
BASH_JOBS = {"hire": BASH_FIRST_RUN, "rerun": BASH_RERUN, "rotate_token": BASH_RERUN, "rotate_password": BASH_RERUN}


def _fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**names, unique=f"bash-{uuid.uuid4().hex[:12]}")
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, names) for v in value]
    return value


def _replay(forge: ForgejoDouble, steps: tuple[BashStep, ...], user: str) -> int:
    """Send the steps to the double as the bash tool did; returns the requests the double saw."""
    names = {"admin": ADMIN, "user": user, "repo": REPO, "password": f"pw-{uuid.uuid4().hex}"}
    admin_token = None
    forge.clear_requests()
    for step in steps:
        headers, auth = {}, None
        if step.auth == "admin-basic":
            auth = (ADMIN, ADMIN_PASSWORD)
        elif step.auth == "admin-token":
            headers["Authorization"] = f"token {admin_token}"
        else:
            auth = (user, names["password"])
        r = requests.request(
            step.method,
            forge.api_url + _fill(step.path, names),
            json=_fill(step.json, names),
            auth=auth,
            headers=headers,
            timeout=10,
        )
        if r.status_code >= 400 and not (step is LOOK_UP and r.status_code == 404):
            raise RuntimeError(f"bash step {step.what!r}: HTTP {r.status_code} {r.text[:200]}")
        if step is ADMIN_TOKEN:
            admin_token = r.json()["sha1"]
    return len(forge.requests)


def bash_requests() -> dict[str, int]:
    """The bash jobs replayed against the double (which checks every request against the swagger)."""
    forge = new_forge()
    try:
        counts = {}
        for job, steps in BASH_JOBS.items():
            counts[job] = _replay(forge, steps, "dev-qwen")
            assert counts[job] == len(steps)
        if forge.spec_violations:
            raise RuntimeError(f"bash replay broke the swagger: {forge.spec_violations[:3]}")
    finally:
        forge.stop()
    return counts


def bash_steps_doc() -> dict[str, list[str]]:
    return {job: [f"{s.method} {s.path} ({s.what})" for s in steps] for job, steps in BASH_JOBS.items()}


# ------------------------------------------------------------------------------- convergence
def converge(agents: int = 20, latency: float = 0.05, workers: int = 8) -> dict[str, Any]:
    """Wall time of one `concurrent_up` of `agents` new identities (user, token, collaborator) through
    the real provider host, every request held `latency` seconds at the double, divided by the
    requests' summed latency. The host is started (and configured) before the clock starts."""
    forge = new_forge()
    host = new_host(forge)
    try:
        engine = Engine(host)
        resources = [r for i in range(agents) for r in agent(f"dev-{i:02d}", with_profile=False)]
        forge.latency = latency
        forge.clear_requests()
        start = time.perf_counter()
        engine.concurrent_up(resources, workers=workers)
        wall = time.perf_counter() - start
        sent = len(forge.requests)
        forge.latency = 0.0
        for i in range(agents):  # converged: one token each, in state
            name = f"dev-{i:02d}"
            assert [t["id"] for t in forge.tokens_of(name)] == [int(engine.outputs(f"{name}-token")["token_id"])]
    finally:
        host.close()
        forge.stop()
    ratio = wall / (sent * latency) if latency else None
    return {"wall_s": wall, "requests": sent, "latency_sum_s": sent * latency, "ratio": ratio}
