"""Issue 9: the rule on `<user>/.profile` `main` fits the agents (module `profile_rule`).

The agents image commits `journal/*.md`, `journal/archive/…` and `knowledge/lessons-learned.md` and
pushes them to main itself (Disinto/disinto 2308c4c, lib/profile.sh `_profile_commit_and_push`).
Through the engine harness against the Forgejo double: the agent writes those paths with its own
basic auth and nothing else; a rule made the old way (or changed by hand) is reported by refresh
and PATCHed in place by the next update; nothing changed → no request at all.
"""

from __future__ import annotations

import base64

import pytest
import requests

from disinto_infra.forgejo.profile_rule import WANTED, drift, observed, protection_rule
from tests.forgejo.conftest import ADMIN, ADMIN_PASSWORD
from tests.support.forgejo_double import Fault
from tests.support.forgejo_double.state import matches_file_patterns
from tests.support.profile_repo import PROFILE, agent, blob_sha, whitelists

# The body the previous version of this program POSTed (disinto_infra/forgejo/profile_repo.py at aec5d0f).
OLD_RULE = {
    "rule_name": "main",
    "required_approvals": 1,
    "block_on_rejected_reviews": True,
    "dismiss_stale_approvals": True,
    "enable_merge_whitelist": True,
    "merge_whitelist_usernames": [ADMIN],
    "enable_push": True,
    "enable_push_whitelist": True,
    "push_whitelist_usernames": [ADMIN],
    "apply_to_admins": True,
}
AGENT_PATHS = ("journal/2026-11-30.md", "journal/archive/x.md", "knowledge/lessons-learned.md")


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def write_as(forge, auth, file_path: str, text: str, sha: str | None = None) -> requests.Response:
    """A contents-API write on main: POST creates, PUT (with the blob sha) rewrites."""
    body = {"content": b64(text), "branch": "main", "message": f"write {file_path}"}
    if sha:
        body["sha"] = sha
    url = f"{forge.url}/api/v1/repos/{PROFILE}/contents/{file_path}"
    return requests.request("PUT" if sha else "POST", url, auth=auth, json=body, timeout=5)


def agent_auth(engine) -> tuple[str, str]:
    return ("dev-qwen", engine.outputs("dev-qwen-user")["password"])


def admin(forge, method, api_path, **kw):
    return requests.request(method, f"{forge.url}/api/v1{api_path}", auth=(ADMIN, ADMIN_PASSWORD), timeout=5, **kw)


def rule_writes(forge) -> list[tuple[str, str, int]]:
    return [(r.method, r.path, r.status) for r in forge.requests if r.method != "GET"]


# ------------------------------------------------------------------------------------- pure logic
def test_patterns_cover_what_the_agent_writes_and_nothing_else():
    """Forgejo's matching (lower-cased, '.' and '/' as separators): `*` would stop at either."""
    patterns = protection_rule(ADMIN)["unprotected_file_patterns"]
    for path in (*AGENT_PATHS, "journal/issue-12-20261130T1200.md", "Journal/Upper.MD"):
        assert matches_file_patterns(patterns, path), path
    for path in ("formula.toml", "README.md", "journal.md", "knowledge", "journalx/a.md", "docs/journal/x.md"):
        assert not matches_file_patterns(patterns, path), path
    assert not matches_file_patterns("journal/*", "journal/x.md")  # why `**`
    assert not matches_file_patterns("journal/*", "journal/archive/x")


def test_observed_ignores_a_hidden_admin_but_not_other_names():
    answer = {
        **{k: v for k, v in protection_rule(ADMIN).items() if k != "rule_name"},
        "push_whitelist_usernames": [],
        "merge_whitelist_usernames": [],
    }
    assert observed(answer, ADMIN) == WANTED and drift(observed(answer, ADMIN)) == []
    shown = {**answer, "push_whitelist_usernames": ["Disinto-Admin"], "merge_whitelist_usernames": [ADMIN]}
    assert drift(observed(shown, ADMIN)) == []
    agent_on_it = {**answer, "push_whitelist_usernames": [ADMIN, "dev-qwen"]}
    assert drift(observed(agent_on_it, ADMIN)) == ["push_whitelist_others"]
    assert drift({**WANTED, "status_check_contexts": None}) == []  # Go's nil list
    assert drift(None) == drift({}) == sorted(WANTED)


# -------------------------------------------------------------------- through the engine harness
def test_agent_writes_journal_and_knowledge_on_main_but_not_formula_or_readme(forge, engine):
    engine.up(agent())
    auth = agent_auth(engine)
    for file_path in AGENT_PATHS:
        made = write_as(forge, auth, file_path, f"# {file_path}\n")
        assert made.status_code == 201, (file_path, made.text)
        assert forge.file(PROFILE, file_path, "main") == f"# {file_path}\n".encode()
    lessons = AGENT_PATHS[2]
    assert write_as(forge, auth, lessons, "v2\n", blob_sha(f"# {lessons}\n")).status_code == 200  # the digest
    formula = forge.file(PROFILE, "formula.toml").decode()
    readme = forge.file(PROFILE, "README.md").decode()
    for file_path, text in (("formula.toml", formula), ("README.md", readme)):
        refused = write_as(forge, auth, file_path, "mine\n", blob_sha(text))
        assert refused.status_code == 403 and "cannot commit" in refused.json()["message"], file_path
    assert write_as(forge, auth, "notes.md", "x\n").status_code == 403
    assert forge.file(PROFILE, "formula.toml").decode() == formula and forge.file(PROFILE, "notes.md") is None
    assert forge.spec_violations == []


def replace_rule(forge, rule: dict) -> None:
    assert admin(forge, "DELETE", f"/repos/{PROFILE}/branch_protections/main").status_code == 204
    assert admin(forge, "POST", f"/repos/{PROFILE}/branch_protections", json=rule).status_code == 201


def made_the_old_way(forge, engine) -> dict:
    """A stack the previous version brought up: its rule body, and outputs without the rule's settings."""
    engine.up(agent())
    replace_rule(forge, OLD_RULE)
    del engine.state["dev-qwen-profile"].outputs["protection_rule"]
    [rule] = forge.branch_protections_of(PROFILE)
    forge.clear_requests()
    return rule


@pytest.mark.parametrize("refresh_first", [True, False], ids=["refresh-then-up", "up"])
def test_old_rule_is_patched_in_place(forge, engine, refresh_first):
    old = made_the_old_way(forge, engine)
    assert write_as(forge, agent_auth(engine), AGENT_PATHS[0], "x\n").status_code == 403  # the bug
    forge.clear_requests()
    if refresh_first:
        assert engine.refresh()["dev-qwen-profile"] == "update"  # drift reported
        assert drift(engine.outputs("dev-qwen-profile")["protection_rule"]) == ["unprotected_file_patterns"]
        assert rule_writes(forge) == []
        forge.clear_requests()
    assert engine.preview(agent())["dev-qwen-profile"] == "update"
    assert engine.up(agent())["dev-qwen-profile"] == "update"
    assert rule_writes(forge) == [("PATCH", f"/api/v1/repos/{PROFILE}/branch_protections/main", 200)]
    [rule] = forge.branch_protections_of(PROFILE)
    assert rule["created_at"] == old["created_at"] and rule["unprotected_file_patterns"] == "journal/**;knowledge/**"
    assert whitelists(forge) == {"push": [ADMIN], "merge": [ADMIN]}
    assert engine.state["dev-qwen-profile"].id == PROFILE and forge.repos.count(PROFILE) == 1
    assert engine.outputs("dev-qwen-profile")["protection_rule"] == WANTED
    assert write_as(forge, agent_auth(engine), AGENT_PATHS[0], "x\n").status_code == 201
    forge.clear_requests()
    assert set(engine.up(agent()).values()) == {"same"}
    assert engine.refresh()["dev-qwen-profile"] == "same"
    assert rule_writes(forge) == []
    forge.clear_requests()
    assert set(engine.up(agent()).values()) == {"same"} and forge.requests == []
    assert forge.spec_violations == []


def test_rule_changed_by_hand_is_reported_and_put_back(forge, engine):
    """The agent put on the push whitelist, the rule no longer binding admins: refresh sees both."""
    engine.up(agent())
    edit = {"apply_to_admins": False, "push_whitelist_usernames": [ADMIN, "dev-qwen"]}
    assert admin(forge, "PATCH", f"/repos/{PROFILE}/branch_protections/main", json=edit).status_code == 200
    assert whitelists(forge)["push"] == [ADMIN, "dev-qwen"]
    assert engine.refresh()["dev-qwen-profile"] == "update"
    seen = engine.outputs("dev-qwen-profile")["protection_rule"]
    assert drift(seen) == ["apply_to_admins", "push_whitelist_others"] and seen["push_whitelist_others"] == ["dev-qwen"]
    forge.clear_requests()
    assert engine.up(agent())["dev-qwen-profile"] == "update"
    assert [m for m, _, _ in rule_writes(forge)] == ["PATCH"]
    assert whitelists(forge) == {"push": [ADMIN], "merge": [ADMIN]}
    [rule] = forge.branch_protections_of(PROFILE)
    assert rule["apply_to_admins"] is True
    assert engine.refresh()["dev-qwen-profile"] == "same"
    assert forge.spec_violations == []


def test_rule_deleted_by_hand_is_made_again(forge, engine):
    engine.up(agent())
    assert admin(forge, "DELETE", f"/repos/{PROFILE}/branch_protections/main").status_code == 204
    assert engine.refresh()["dev-qwen-profile"] == "update"
    assert engine.outputs("dev-qwen-profile")["protected_branch"] == ""
    forge.clear_requests()
    assert engine.up(agent())["dev-qwen-profile"] == "update"
    assert [m for m, _, _ in rule_writes(forge)] == ["POST"]
    assert engine.outputs("dev-qwen-profile")["protection_rule"] == WANTED
    assert write_as(forge, agent_auth(engine), AGENT_PATHS[2], "lesson\n").status_code == 201
    assert forge.spec_violations == []


@pytest.mark.parametrize("kind", ["drop_response", "status"])
def test_lost_answer_or_503_on_the_patch_converges(forge, engine, kind):
    made_the_old_way(forge, engine)
    fault = forge.inject(Fault(method="PATCH", path_regex=r"/branch_protections/main$", kind=kind, status=503))
    assert engine.up(agent())["dev-qwen-profile"] == "update"
    assert fault.hits == 1
    assert engine.outputs("dev-qwen-profile")["protection_rule"] == WANTED
    assert forge.branch_protections_of(PROFILE)[0]["unprotected_file_patterns"] == "journal/**;knowledge/**"
    forge.clear_requests()
    assert set(engine.up(agent()).values()) == {"same"} and forge.requests == []
    assert forge.spec_violations == []
