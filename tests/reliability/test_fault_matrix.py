"""Fault matrix: every Forgejo write the identity providers make × {503 twice, connection reset,
timeout, lost response} → the next run converges (no orphaned token, no duplicate user, every
agent's token logs in as that agent), and the run after that sends no request.

Already covered in tests/forgejo/test_engine_scenarios.py, and not repeated here:
- `test_faults_on_create_converge`: user POST, token POST, collaborator PUT on a fresh agent;
- `test_faults_on_rotation_converge`: user PATCH (password rotation), token POST and token DELETE
  by id (token rotation).
Added here: user PATCH on adoption, token DELETE by name (the retry after a lost create), token
DELETE by id and collaborator DELETE when an agent is removed, and, for the `.profile` repository,
the timeout kind its own tests leave out.

    write                                   503×2  reset  timeout  lost
    POST   /admin/users                     scen.  scen.  scen.    scen.
    PATCH  /admin/users/{u}  (adoption)     here   here   here     here
    PATCH  /admin/users/{u}  (rotation)     scen.  scen.  scen.    scen.
    POST   /users/{u}/tokens (create)       scen.  scen.  scen.    scen.
    POST   /users/{u}/tokens (rotation)     scen.  scen.  scen.    scen.
    DELETE /users/{u}/tokens/{name} (retry) here   here   here     here
    DELETE /users/{u}/tokens/{id} (rotate)  scen.  scen.  scen.    scen.
    DELETE /users/{u}/tokens/{id} (remove)  here   here   here     here
    PUT    /repos/{o}/{r}/collaborators/{u} scen.  scen.  scen.    scen.
    DELETE /repos/{o}/{r}/collaborators/{u} here   here   here     here
"""

from __future__ import annotations

import pytest

from tests.support.convergence import (
    agent_resources,
    assert_identity_converged,
    assert_no_duplicate_users,
    assert_removed,
    assert_stable,
    profile_resource,
    up_tolerating_failure,
)
from tests.support.forge_login import login
from tests.support.forgejo_double import Fault

pytestmark = pytest.mark.reliability

# `timeout` answers nothing until the host's deadline (disinto:forgeTimeout "3") ends the exchange, then drops.
FAULTS = {
    "503x2": {"kind": "status", "status": 503, "times": 2},
    "reset": {"kind": "reset"},
    "timeout": {"kind": "timeout"},
    "lost": {"kind": "drop_response"},
}
KINDS = list(FAULTS)


def converge(forge, engine, resources):
    """A run that may fail, then the run that must converge (it may not fail)."""
    up_tolerating_failure(engine, resources)
    forge.clear_faults()  # whatever the first run did not consume must not hit the second
    engine.up(resources)


@pytest.mark.parametrize("kind", KINDS)
def test_fault_on_adoption_patch(forge, engine, kind):
    """A user left by the old tooling (must change its password) is adopted through the admin PATCH."""
    forge.add_user("dev-qwen", password="legacy-pass-1", email="dev-qwen@disinto.local", must_change_password=True)
    fault = forge.inject(Fault(method="PATCH", path_regex=r"^/api/v1/admin/users/dev-qwen$", **FAULTS[kind]))
    converge(forge, engine, agent_resources("dev-qwen"))
    assert fault.hits >= 1
    assert_identity_converged(forge, engine, "dev-qwen")
    assert login(forge, auth=("dev-qwen", "legacy-pass-1")) == 401
    assert_stable(forge, engine, agent_resources("dev-qwen"))


@pytest.mark.parametrize("kind", KINDS)
def test_fault_on_token_delete_by_name_after_a_lost_create(forge, engine, kind):
    """The token POST is applied but its answer lost; the retry finds the name taken and deletes that
    token by name (its secret is gone with the answer) — and that DELETE is hit too."""
    forge.inject(Fault(method="POST", path_regex=r"^/api/v1/users/dev-qwen/tokens$", kind="drop_response"))
    by_name = forge.inject(
        Fault(method="DELETE", path_regex=r"^/api/v1/users/dev-qwen/tokens/disinto-infra-r0-", **FAULTS[kind])
    )
    converge(forge, engine, agent_resources("dev-qwen"))
    assert by_name.hits >= 1
    assert_identity_converged(forge, engine, "dev-qwen")
    assert_stable(forge, engine, agent_resources("dev-qwen"))


REMOVAL_WRITES = {
    "token-delete-by-id": ("DELETE", r"^/api/v1/users/dev-a/tokens/\d+$"),
    "collaborator-delete": ("DELETE", r"^/api/v1/repos/johba/disinto/collaborators/dev-a$"),
}


@pytest.mark.parametrize("write", list(REMOVAL_WRITES))
@pytest.mark.parametrize("kind", KINDS)
def test_fault_when_an_agent_is_removed(forge, engine, write, kind):
    """Removing dev-a (dev-b stays): its token and grant go, its user is kept, dev-b is untouched."""
    engine.up(agent_resources("dev-a") + agent_resources("dev-b"))
    before_b = {n: engine.outputs(n) for n in ("dev-b-user", "dev-b-token")}
    method, regex = REMOVAL_WRITES[write]
    fault = forge.inject(Fault(method=method, path_regex=regex, **FAULTS[kind]))
    converge(forge, engine, agent_resources("dev-b"))
    assert fault.hits >= 1
    assert_removed(forge, "dev-a")
    assert not any(name.startswith("dev-a-") for name in engine.state)
    assert_identity_converged(forge, engine, "dev-b")
    assert {n: engine.outputs(n) for n in before_b} == before_b
    assert_no_duplicate_users(forge)
    assert_stable(forge, engine, agent_resources("dev-b"))


PROFILE_POSTS = {
    "repo": r"/admin/users/[^/]+/repos$",
    "formula": r"/\.profile/contents/formula\.toml$",
    "journal-keep": r"/\.profile/contents/journal/\.gitkeep$",
    "knowledge-keep": r"/\.profile/contents/knowledge/\.gitkeep$",
    "readme": r"/\.profile/contents/README\.md$",
    "branch": r"/\.profile/branches$",
    "protection": r"/\.profile/branch_protections$",
}


def test_timeout_on_every_profile_repo_post_converges(forge, engine):
    """tests/forgejo/test_profile_repo.py hits every POST with lost answers, 503s and resets; not timeouts."""
    faults = {
        step: forge.inject(Fault(method="POST", path_regex=regex, **FAULTS["timeout"]))
        for step, regex in PROFILE_POSTS.items()
    }
    resources = [*agent_resources("dev-qwen"), profile_resource("dev-qwen")]
    converge(forge, engine, resources)
    assert {step: f.hits for step, f in faults.items()} == dict.fromkeys(PROFILE_POSTS, 1)
    repo = forge.repo("dev-qwen/.profile")
    assert forge.repos.count("dev-qwen/.profile") == 1
    assert repo["branches"] == ["journal", "main"] and repo["protections"] == ["main"]
    assert_identity_converged(forge, engine, "dev-qwen")
    assert_stable(forge, engine, resources)


@pytest.mark.parametrize("kind", ["503x2", "reset", "timeout"])
def test_fault_on_profile_formula_update_converges(forge, engine, kind):
    """The in-place formula PUT (its lost answer is covered in test_profile_repo.py)."""
    engine.up([*agent_resources("dev-qwen"), profile_resource("dev-qwen")])
    new_formula = 'name = "dev"\ndescription = "second version"\n'
    resources = [*agent_resources("dev-qwen"), profile_resource("dev-qwen", formula=new_formula)]
    fault = forge.inject(Fault(method="PUT", path_regex=r"/\.profile/contents/formula\.toml$", **FAULTS[kind]))
    converge(forge, engine, resources)
    assert fault.hits >= 1
    assert forge.file("dev-qwen/.profile", "formula.toml").decode() == new_formula
    assert_identity_converged(forge, engine, "dev-qwen")
    assert_stable(forge, engine, resources)


def test_adopted_flag_survives_a_lost_adoption_answer(forge, engine):
    forge.add_user("dev-qwen", password="legacy-pass-1", email="dev-qwen@disinto.local", must_change_password=True)
    forge.inject(Fault(method="PATCH", path_regex=r"^/api/v1/admin/users/dev-qwen$", kind="drop_response"))
    engine.up(agent_resources("dev-qwen"))
    assert_identity_converged(forge, engine, "dev-qwen")
    assert engine.outputs("dev-qwen-user")["adopted"] is True
