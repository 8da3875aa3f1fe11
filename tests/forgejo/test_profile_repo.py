"""Issue 6: each agent's `<user>/.profile` repository.

Two kinds of tests: the provider's pure logic (check, diff: no request; the formula lookup is in
tests/config/test_formula_file.py), then scenarios through the real provider host, driven like
the engine, against the Forgejo double.
"""

from __future__ import annotations

import base64
import hashlib

import pytest
import requests
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.output import Unknown

from disinto_infra.forgejo import connection
from disinto_infra.forgejo.client import ForgejoError
from disinto_infra.forgejo.profile_repo import (
    JOURNAL_BRANCH,
    KEEP_CONTENT,
    MAIN_BRANCH,
    ForgejoProfileRepo,
    ForgejoProfileRepoProvider,
    ProfileRepoState,
    _ensure_journal_branch,
    default_readme,
)
from disinto_infra.forgejo.profile_rule import WANTED, protection_rule
from tests.forgejo.conftest import ADMIN, ADMIN_PASSWORD
from tests.support.engine import Engine, Host, ProviderError, Secret
from tests.support.forgejo_double import Fault
from tests.support.identity import identity
from tests.support.profile_repo import FORMULA, PROFILE, agent, blob_sha, profile, whitelists

FORMULA_V2 = 'name = "dev"\n[steps]\nfirst = "read the issue twice"\n'
SOURCE = "formulas/dev.toml"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# ------------------------------------------------------------------------------------- pure logic
def outputs(**over):
    state = ProfileRepoState(
        username="dev-qwen",
        repo="dev-qwen/.profile",
        repo_id=7,
        formula_source=SOURCE,
        formula_sha256=sha(FORMULA),
        formula_file_sha="abc",
        readme_sha256=sha(default_readme("dev-qwen")),
        journal_branch=JOURNAL_BRANCH,
        protected_branch=MAIN_BRANCH,
        protection_rule=dict(WANTED),
    )
    return {**state.outputs(), **over}


def inputs(**over):
    return {"username": "dev-qwen", "formula": FORMULA, "formula_source": SOURCE, **over}


def test_diff_without_request(monkeypatch):
    # Any request from diff would need a connection; there is none configured here.
    import requests

    monkeypatch.setattr(requests.Session, "request", lambda *a, **k: pytest.fail("diff sent a request"))
    p = ForgejoProfileRepoProvider()
    assert p.diff("dev-qwen/.profile", outputs(), inputs()).changes is False
    # The source path alone is no change; the content is.
    assert p.diff("x", outputs(), inputs(formula_source="formulas/run-dev.toml")).changes is False
    changed = p.diff("x", outputs(), inputs(formula=FORMULA_V2))
    assert changed.changes is True and changed.replaces == []
    assert p.diff("x", outputs(), inputs(readme="# mine\n")).changes is True
    renamed = p.diff("x", outputs(), inputs(username="dev-other"))
    assert renamed.changes is True and renamed.replaces == ["username"]
    # Preview: unknown values may be changes.
    assert p.diff("x", outputs(), inputs(formula=Unknown())).changes is True
    assert p.diff("x", outputs(), inputs(username=Unknown())).replaces == ["username"]
    # A refresh that found the branch or the rule missing leads to a repairing update.
    assert p.diff("x", outputs(journal_branch=""), inputs()).changes is True
    assert p.diff("x", outputs(protected_branch=""), inputs()).changes is True
    # A rule seen differing, or a state from before the rule's settings were recorded: an update.
    loose = {**WANTED, "unprotected_file_patterns": ""}
    assert p.diff("x", outputs(protection_rule=loose), inputs()).changes is True
    old_state = outputs()
    del old_state["protection_rule"]
    assert p.diff("x", old_state, inputs()).changes is True
    # As the engine hands outputs back: numbers as floats are no change.
    assert p.diff("x", outputs(protection_rule={**WANTED, "required_approvals": 1.0}), inputs()).changes is False


def test_check_refuses_empty_or_broken_formula_naming_its_source():
    p = ForgejoProfileRepoProvider()
    assert p.check({}, inputs()).failures == []
    assert p.check({}, inputs(formula=Unknown(), username=Unknown())).failures == []
    empty = p.check({}, inputs(formula="  \n")).failures
    assert [f.property for f in empty] == ["formula"] and SOURCE in empty[0].reason
    broken = p.check({}, inputs(formula="name = \n")).failures
    assert [f.property for f in broken] == ["formula"] and "TOML" in broken[0].reason and SOURCE in broken[0].reason
    assert [f.property for f in p.check({}, inputs(username="")).failures] == ["username"]


def test_protection_rule_means_one_approval_admin_merge_applies_to_admins():
    rule = protection_rule("disinto-admin")
    assert rule["rule_name"] == "main" and rule["required_approvals"] == 1
    assert rule["enable_merge_whitelist"] and rule["merge_whitelist_usernames"] == ["disinto-admin"]
    assert rule["apply_to_admins"] is True
    assert rule["enable_push_whitelist"] and rule["push_whitelist_usernames"] == ["disinto-admin"]
    # The agent pushes its journal and lessons to main itself (Disinto/disinto 2308c4c, lib/profile.sh).
    assert rule["unprotected_file_patterns"] == "journal/**;knowledge/**"


def test_type_token_options_and_a_provider_that_carries_nothing():
    assert ForgejoProfileRepo._resource_type_name == "dynamic/forgejo:ProfileRepo"
    assert ForgejoProfileRepo.RETAIN_ON_DELETE is True and ForgejoProfileRepo.DELETE_BEFORE_REPLACE is False
    assert vars(ForgejoProfileRepoProvider()) == {}
    assert len(serialize_provider(ForgejoProfileRepoProvider())) < 1024


# -------------------------------------------------------------------- through the engine harness
def contents(forge, path, ref="main"):
    data = forge.file(PROFILE, path, ref)
    return None if data is None else data.decode()


def test_fresh_profile_repo(forge, engine):
    ops = engine.up(agent())
    assert ops["dev-qwen-profile"] == "create"
    repo = forge.repo(PROFILE)
    assert repo["private"] is True and repo["empty"] is False
    assert contents(forge, "formula.toml") == FORMULA
    assert contents(forge, "journal/.gitkeep") == contents(forge, "knowledge/.gitkeep") == KEEP_CONTENT
    assert "journal/" in contents(forge, "README.md") and "formula.toml" in contents(forge, "README.md")
    assert repo["branches"] == ["journal", "main"] and repo["protections"] == ["main"]
    [rule] = forge.branch_protections_of(PROFILE)
    assert rule["required_approvals"] == 1 and rule["apply_to_admins"] is True
    assert rule["unprotected_file_patterns"] == "journal/**;knowledge/**"
    # The admin is on both whitelists, but Forgejo 11 does not list a site admin who is no collaborator.
    assert rule["enable_merge_whitelist"] and rule["merge_whitelist_usernames"] == []
    assert whitelists(forge) == {"push": [ADMIN], "merge": [ADMIN]}
    out = engine.outputs("dev-qwen-profile")
    assert engine.state["dev-qwen-profile"].id == PROFILE
    assert out["repo"] == PROFILE and int(out["repo_id"]) == repo["id"]
    assert out["formula_sha256"] == sha(FORMULA)
    assert out["formula_file_sha"] == hashlib.sha1(b"blob %d\0" % len(FORMULA) + FORMULA.encode()).hexdigest()
    assert (out["journal_branch"], out["protected_branch"]) == ("journal", "main")
    assert out["protection_rule"]["unprotected_file_patterns"] == "journal/**;knowledge/**"
    assert forge.spec_violations == []


def profile_requests(forge):
    return [(r.method, r.path.split("/.profile", 1)[-1], r.status) for r in forge.requests]


def commits_on(forge, full_name):
    with forge.state.lock:
        rec = forge._find_repo(full_name)
        return len(rec["commits"])


def admin(forge, method, api_path, **kw):
    return requests.request(method, f"{forge.url}/api/v1{api_path}", auth=(ADMIN, ADMIN_PASSWORD), timeout=5, **kw)


def test_rerun_changes_nothing_and_sends_no_request(forge, engine):
    engine.up(agent())
    before = engine.outputs("dev-qwen-profile")
    forge.clear_requests()
    assert set(engine.up(agent()).values()) == {"same"}
    assert set(engine.preview(agent()).values()) == {"same"}
    assert forge.requests == []
    assert engine.outputs("dev-qwen-profile") == before


def test_formula_change_updates_formula_in_place_with_current_sha(forge, engine):
    engine.up(agent())
    old = engine.outputs("dev-qwen-profile")
    forge.clear_requests()
    ops = engine.up(agent(formula=FORMULA_V2))
    assert ops == {
        "dev-qwen-user": "same",
        "dev-qwen-token": "same",
        "dev-qwen-collaborator": "same",
        "dev-qwen-profile": "update",
    }
    assert profile_requests(forge) == [("GET", "/contents/formula.toml", 200), ("PUT", "/contents/formula.toml", 200)]
    put = forge.requests[1]
    assert put.body["sha"] == old["formula_file_sha"] == blob_sha(FORMULA)
    assert put.body["branch"] == "main" and SOURCE in put.body["message"]
    assert contents(forge, "formula.toml") == FORMULA_V2
    assert contents(forge, "formula.toml", ref="journal") == FORMULA  # only main is rewritten
    new = engine.outputs("dev-qwen-profile")
    assert new == {**old, "formula_sha256": sha(FORMULA_V2), "formula_file_sha": blob_sha(FORMULA_V2)}
    assert engine.state["dev-qwen-profile"].id == PROFILE
    forge.clear_requests()
    assert set(engine.up(agent(formula=FORMULA_V2)).values()) == {"same"} and forge.requests == []
    assert forge.spec_violations == []


def test_refresh_after_repo_deleted_out_of_band_then_up_recreates(forge, engine):
    engine.up(agent())
    assert admin(forge, "DELETE", "/repos/dev-qwen/.profile").status_code == 204
    ops = engine.refresh()
    assert ops["dev-qwen-profile"] == "delete" and ops["dev-qwen-user"] == "same"
    assert "dev-qwen-profile" not in engine.state
    assert engine.up(agent())["dev-qwen-profile"] == "create"
    assert contents(forge, "formula.toml") == FORMULA
    assert forge.repo(PROFILE)["branches"] == ["journal", "main"] and forge.repo(PROFILE)["protections"] == ["main"]
    assert forge.spec_violations == []


def test_refresh_notices_out_of_band_changes_and_up_repairs_them(forge, engine):
    engine.up(agent())
    same = engine.refresh()
    assert same["dev-qwen-profile"] == "same"
    edited = base64.b64encode(b"name = 'tampered'\n").decode()
    body = {"content": edited, "sha": blob_sha(FORMULA), "branch": "main", "message": "edit"}
    assert admin(forge, "PUT", "/repos/dev-qwen/.profile/contents/formula.toml", json=body).status_code == 200
    assert admin(forge, "DELETE", "/repos/dev-qwen/.profile/branch_protections/main").status_code == 204
    with forge.state.lock:  # the double has no DELETE /branches/{branch}
        del forge._find_repo(PROFILE)["branches"]["journal"]
    assert engine.refresh()["dev-qwen-profile"] == "update"
    out = engine.outputs("dev-qwen-profile")
    assert out["formula_sha256"] == sha("name = 'tampered'\n")
    assert (out["journal_branch"], out["protected_branch"]) == ("", "")
    assert engine.up(agent())["dev-qwen-profile"] == "update"
    assert contents(forge, "formula.toml") == FORMULA
    assert forge.repo(PROFILE)["branches"] == ["journal", "main"] and forge.repo(PROFILE)["protections"] == ["main"]
    forge.clear_requests()
    assert set(engine.up(agent()).values()) == {"same"} and forge.requests == []
    assert forge.spec_violations == []


POSTS = {
    "repo": r"/admin/users/[^/]+/repos$",
    "formula": r"/\.profile/contents/formula\.toml$",
    "journal-keep": r"/\.profile/contents/journal/\.gitkeep$",
    "knowledge-keep": r"/\.profile/contents/knowledge/\.gitkeep$",
    "readme": r"/\.profile/contents/README\.md$",
    "branch": r"/\.profile/branches$",
    "protection": r"/\.profile/branch_protections$",
}


@pytest.mark.parametrize("kind", ["drop_response", "status", "reset"])
def test_lost_answer_or_503_on_each_post_converges(forge, engine, kind):
    """Every POST of the create hit once: applied-then-answer-lost, 503, or connection reset."""
    faults = {
        step: forge.inject(Fault(method="POST", path_regex=regex, kind=kind, status=503))
        for step, regex in POSTS.items()
    }
    assert engine.up(agent())["dev-qwen-profile"] == "create"
    assert {step: f.hits for step, f in faults.items()} == dict.fromkeys(POSTS, 1)
    repo = forge.repo(PROFILE)
    assert forge.repos.count(PROFILE) == 1
    assert repo["branches"] == ["journal", "main"] and repo["protections"] == ["main"]
    assert contents(forge, "formula.toml") == FORMULA and contents(forge, "journal/.gitkeep") == KEEP_CONTENT
    assert commits_on(forge, PROFILE) == 4  # one per file, nothing written twice
    out = engine.outputs("dev-qwen-profile")
    assert out["formula_file_sha"] == blob_sha(FORMULA) and int(out["repo_id"]) == repo["id"]
    forge.clear_requests()
    assert set(engine.up(agent()).values()) == {"same"} and forge.requests == []
    assert forge.spec_violations == []


def test_lost_answer_on_formula_update_converges(forge, engine):
    engine.up(agent())
    forge.inject(Fault(method="PUT", path_regex=r"/contents/formula\.toml$", kind="drop_response"))
    assert engine.up(agent(formula=FORMULA_V2))["dev-qwen-profile"] == "update"
    assert contents(forge, "formula.toml") == FORMULA_V2
    assert engine.outputs("dev-qwen-profile")["formula_file_sha"] == blob_sha(FORMULA_V2)
    assert commits_on(forge, PROFILE) == 5
    assert forge.spec_violations == []


def old_profile_repo(forge, engine, rule):
    """A `.profile` left by the old hire-an-agent, its main protected by `rule`."""
    engine.up(identity("dev-qwen"))
    forge.add_repo("dev-qwen", ".profile", private=True)
    forge.add_file(PROFILE, "formula.toml", "name = 'old'\n", branch="main")
    forge.add_file(PROFILE, "journal/.gitkeep", "", branch="main")
    forge.add_file(PROFILE, "journal/2024-01-01.md", "an entry\n", branch="main")
    branch = {"new_branch_name": "journal"}
    assert admin(forge, "POST", "/repos/dev-qwen/.profile/branches", json=branch).status_code == 201
    assert admin(forge, "POST", "/repos/dev-qwen/.profile/branch_protections", json=rule).status_code == 201
    forge.clear_requests()


def test_existing_profile_repo_whose_rule_shuts_out_the_admin_is_brought_in_line(forge, engine):
    """No site-admin bypass of a protected branch: the refused write PATCHes the rule, then goes through."""
    old_profile_repo(forge, engine, {"rule_name": "main", "required_approvals": 1})
    [before] = forge.branch_protections_of(PROFILE)
    assert engine.up(agent())["dev-qwen-profile"] == "create"
    assert contents(forge, "formula.toml") == FORMULA
    calls = profile_requests(forge)
    refused = calls.index(("POST", "/contents/formula.toml", 403))  # the rule is checked before "exists"
    assert calls[refused + 1 : refused + 3] == [
        ("GET", "/branch_protections/main", 200),
        ("PATCH", "/branch_protections/main", 200),
    ]
    assert ("PUT", "/contents/formula.toml", 200) in calls[refused + 3 :]
    assert ("DELETE", "/branch_protections/main", 204) not in calls
    [after] = forge.branch_protections_of(PROFILE)
    assert after["created_at"] == before["created_at"] and whitelists(forge) == {"push": [ADMIN], "merge": [ADMIN]}
    assert after["enable_push"] and after["unprotected_file_patterns"] == "journal/**;knowledge/**"
    assert engine.outputs("dev-qwen-profile")["protection_rule"] == WANTED
    assert forge.spec_violations == []


def test_a_write_refused_after_the_rule_is_in_line_is_a_clear_error(forge, engine):
    """Still 403 after the PATCH (e.g. disinto:adminUser is not who the admin token belongs to)."""
    old_profile_repo(forge, engine, {"rule_name": "main", "required_approvals": 1})
    refused = forge.inject(
        Fault(
            method="POST",
            path_regex=r"/contents/formula\.toml$",
            status=403,
            times=None,
            message="user cannot commit to repo [user: disinto-admin]",
        )
    )
    with pytest.raises(ProviderError) as caught:
        engine.up(agent())
    details = caught.value.details
    assert "HTTP 403" in details and "dev-qwen/.profile main" in details
    assert "disinto:adminUser" in details and "'disinto-admin'" in details and "push whitelist" in details
    assert refused.hits == 2  # once, then once more after the PATCH
    assert contents(forge, "formula.toml") == "name = 'old'\n"
    assert forge.spec_violations == []


def test_existing_profile_repo_is_adopted(forge, engine):
    """A `.profile` whose old rule whitelists the admin: formula rewritten, the rest kept, protection seen."""
    rule = {
        "rule_name": "main",
        "required_approvals": 1,
        "enable_push": True,
        "enable_push_whitelist": True,
        "push_whitelist_usernames": [ADMIN],
    }
    old_profile_repo(forge, engine, rule)
    assert engine.up(agent())["dev-qwen-profile"] == "create"
    assert contents(forge, "formula.toml") == FORMULA
    assert contents(forge, "journal/.gitkeep") == "" and contents(forge, "journal/2024-01-01.md") == "an entry\n"
    assert contents(forge, "knowledge/.gitkeep") == KEEP_CONTENT and contents(forge, "README.md")
    statuses = [(m, p, s) for m, p, s in profile_requests(forge) if m == "POST"]
    assert ("POST", "/branches", 409) in statuses and ("POST", "/branch_protections", 403) in statuses
    assert ("PATCH", "/branch_protections/main", 200) in profile_requests(forge)  # the old rule, in line
    assert engine.outputs("dev-qwen-profile")["protection_rule"] == WANTED
    assert forge.repos.count(PROFILE) == 1
    assert forge.spec_violations == []


def test_removing_the_resource_keeps_the_repository(forge, engine):
    engine.up(agent())
    forge.clear_requests()
    ops = engine.up(identity("dev-qwen"))
    assert ops == {
        "dev-qwen-user": "same",
        "dev-qwen-token": "same",
        "dev-qwen-collaborator": "same",
        "dev-qwen-profile": "delete",
    }
    assert "dev-qwen-profile" not in engine.state
    assert ("Delete", "dev-qwen-profile") not in engine.last_run_calls()  # retain_on_delete
    assert forge.requests == [] and forge.repo(PROFILE) is not None
    # Even when the engine does call delete (no retain_on_delete), nothing is removed.
    engine.up([*identity("dev-qwen"), *identity("other"), profile("other", retain_on_delete=False)])
    forge.clear_requests()
    engine.up([*identity("dev-qwen"), *identity("other")])
    assert ("Delete", "other-profile") in engine.last_run_calls()
    assert forge.requests == [] and forge.file("other/.profile", "formula.toml") == FORMULA.encode()


def test_missing_user_is_a_clear_error(forge, engine):
    with pytest.raises(ProviderError) as caught:
        engine.up([profile("ghost-agent", username="ghost-agent")])
    assert "'ghost-agent' not found" in caught.value.details
    assert forge.spec_violations == []


def test_admin_token_with_documented_scopes(forge):
    """With disinto:adminToken: write:admin and write:repository are enough."""
    forge.add_user("dev-qwen", password="dev-qwen-pass-1", email="dev-qwen@disinto.local")
    token = forge.add_token(ADMIN, "infra", scopes=("write:admin", "write:repository"))
    config = {"disinto:forgeUrl": forge.url, "disinto:adminToken": Secret(token), "disinto:forgeTimeout": "3"}
    with Host(config) as host:
        engine = Engine(host)
        assert engine.up([profile(username="dev-qwen")])["dev-qwen-profile"] == "create"
        assert engine.refresh()["dev-qwen-profile"] == "same"
        assert engine.up([profile(username="dev-qwen", formula=FORMULA_V2)])["dev-qwen-profile"] == "update"
    assert contents(forge, "formula.toml") == FORMULA_V2
    assert forge.repo(PROFILE)["protections"] == ["main"]
    assert forge.spec_violations == []


# Issue 18 item 8: a `.profile` whose first push went to `master` is named, on each request that meets it.


def _profile_on_master(forge) -> None:
    forge.add_user("dev-qwen", password="dev-qwen-pass-1", email="dev-qwen@disinto.local")
    forge.add_repo("dev-qwen", ".profile", private=True)
    forge.add_file(PROFILE, "formula.toml", "name = 'old'\n", branch="master")
    assert forge.repo(PROFILE)["default_branch"] == "master"


def test_a_profile_whose_first_push_went_to_master_is_named(forge, engine):
    _profile_on_master(forge)
    with pytest.raises(ProviderError) as caught:
        engine.up([profile(username="dev-qwen")])
    details = caught.value.details
    assert "HTTP 404" in details  # file.go:765-766 @ v11.0.15: the contents API on a missing branch
    assert "dev-qwen/.profile has commits but no main branch: its first push went to 'master'" in details
    assert "Rename 'master' to main" in details


def test_a_journal_branch_from_a_missing_main_is_named(forge):
    """branch.go:228-232 @ v11.0.15: an old_ref_name that does not resolve is a 500 (the double plays it)."""
    _profile_on_master(forge)
    conn = connection.Connection(forge.url, ADMIN, admin_password=ADMIN_PASSWORD)
    with conn.client() as client, pytest.raises(ForgejoError) as caught:
        _ensure_journal_branch(client, conn, "dev-qwen")
    assert caught.value.status == 500
    assert "has commits but no main branch: its first push went to 'master'" in str(caught.value)


# Issue 27 item 3: the agent owns its .profile and may rename or archive it; a refresh reports it
# and the next up says what to do, writing nothing.


def test_a_renamed_profile_is_reported_and_nothing_is_written(forge, engine):
    engine.up(agent())
    forge.rename_repo(PROFILE, "old-profile")
    ops = engine.refresh()
    assert ops["dev-qwen-profile"] == "update"  # kept in state, with where it went
    assert engine.outputs("dev-qwen-profile")["moved_to"] == "/api/v1/repos/dev-qwen/old-profile"
    forge.clear_requests()
    with pytest.raises(ProviderError, match=r"dev-qwen/\.profile was renamed or moved .*Rename or move it back"):
        engine.up(agent(formula=FORMULA_V2))
    assert [r for r in forge.requests if r.method != "GET"] == []


def test_an_archived_profile_has_its_own_message(forge, engine):
    engine.up(agent())
    forge.state.repo_by_name(forge.state.user_by_name("dev-qwen"), ".profile")["archived"] = True
    engine.refresh()
    assert engine.outputs("dev-qwen-profile")["archived"] is True
    forge.clear_requests()
    with pytest.raises(ProviderError, match=r"dev-qwen/\.profile is archived: .*Unarchive it"):
        engine.up(agent(formula=FORMULA_V2))
    assert [r for r in forge.requests if r.method != "GET"] == []
    # Unarchived, the next refresh and up go through.
    forge.state.repo_by_name(forge.state.user_by_name("dev-qwen"), ".profile")["archived"] = False
    engine.refresh()
    engine.up(agent(formula=FORMULA_V2))
    assert contents(forge, "formula.toml") == FORMULA_V2


def test_archived_since_the_last_refresh_a_write_names_it(forge, engine):
    engine.up(agent())
    forge.state.repo_by_name(forge.state.user_by_name("dev-qwen"), ".profile")["archived"] = True
    with pytest.raises(ProviderError, match=r"HTTP 423: <Repository \d+:dev-qwen/\.profile> is archived: .*archived"):
        engine.up(agent(formula=FORMULA_V2))
