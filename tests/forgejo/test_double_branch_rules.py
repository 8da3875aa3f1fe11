"""The Forgejo double's branch rules as the `.profile` provider meets them (Forgejo v11.0.15 source):

* `PATCH …/branch_protections/{name}` (routers/api/v1/repo/branch.go EditBranchProtection): only the
  fields given change; `enable_push: false` also clears the push whitelist flag; an unknown user is a
  422 and nothing is saved; a whitelist that changed keeps only users with write access;
* `unprotected_file_patterns` / `protected_file_patterns` in contents writes
  (services/repository/files/update.go VerifyBranchProtection);
* the rule's JSON lists a whitelisted user only when it is the owner or a collaborator
  (services/convert/convert.go ToBranchProtection).
"""

from __future__ import annotations

import base64

import requests

from tests.forgejo.conftest import ADMIN, ADMIN_PASSWORD

OWNER = ("johba", "johba-pass-123")
AS_ADMIN = (ADMIN, ADMIN_PASSWORD)


def repo_api(forge, rest: str = "") -> str:
    return f"{forge.url}/api/v1/repos/johba/disinto{rest}"


def write(forge, auth, file_path: str) -> int:
    body = {"content": base64.b64encode(b"x\n").decode(), "branch": "main"}
    return requests.post(repo_api(forge, f"/contents/{file_path}"), auth=auth, json=body, timeout=5).status_code


def rule_record(forge) -> dict:
    with forge.state.lock:
        [rule] = forge._find_repo("johba/disinto")["protections"]
        return dict(rule)


def test_patch_changes_only_the_given_fields(forge):
    forge.add_file("johba/disinto", "README.md", "hi\n")
    rule = {
        "rule_name": "main",
        "enable_push": True,
        "enable_push_whitelist": True,
        "push_whitelist_usernames": ["johba", ADMIN],
        "required_approvals": 2,
        "apply_to_admins": True,
    }
    assert requests.post(repo_api(forge, "/branch_protections"), auth=OWNER, json=rule, timeout=5).status_code == 201
    patch = repo_api(forge, "/branch_protections/main")
    answer = requests.patch(patch, auth=OWNER, json={"unprotected_file_patterns": "docs/**"}, timeout=5)
    assert answer.status_code == 200
    body = answer.json()
    assert body["unprotected_file_patterns"] == "docs/**" and body["required_approvals"] == 2
    assert body["enable_push_whitelist"] is True and body["apply_to_admins"] is True
    # The site admin stays on the whitelist, but the JSON lists only the owner and collaborators.
    assert body["push_whitelist_usernames"] == ["johba"]
    assert rule_record(forge)["push_whitelist_ids"] == [forge.user("johba")["id"], forge.user(ADMIN)["id"]]
    forge.add_collaborator("johba/disinto", ADMIN, "admin")
    assert requests.get(patch, auth=OWNER, timeout=5).json()["push_whitelist_usernames"] == ["johba", ADMIN]
    # enable_push false: no pushes, no push whitelist (EditBranchProtection).
    shut = {"enable_push": False, "enable_push_whitelist": True}
    body = requests.patch(patch, auth=OWNER, json=shut, timeout=5).json()
    assert body["enable_push"] is False and body["enable_push_whitelist"] is False
    # An unknown user: 422 and nothing saved.
    before = rule_record(forge)
    bad = {"apply_to_admins": False, "merge_whitelist_usernames": ["nobody"]}
    assert requests.patch(patch, auth=OWNER, json=bad, timeout=5).status_code == 422
    assert rule_record(forge) == before
    assert requests.patch(repo_api(forge, "/branch_protections/dev"), auth=OWNER, json={}, timeout=5).status_code == 404
    forge.add_user("reader", password="reader-pass-1")
    forge.add_collaborator("johba/disinto", "reader", "read")
    body = requests.patch(patch, auth=OWNER, json={"push_whitelist_usernames": ["reader", "johba"]}, timeout=5).json()
    assert body["push_whitelist_usernames"] == ["johba"]  # a reader cannot push: dropped silently
    assert requests.patch(patch, auth=("reader", "reader-pass-1"), json={}, timeout=5).status_code == 403
    assert forge.spec_violations == []


def test_contents_writes_honour_the_file_patterns(forge):
    forge.add_file("johba/disinto", "README.md", "hi\n")
    forge.add_user("bot", password="bot-pass-1234")
    forge.add_collaborator("johba/disinto", "bot", "write")
    bot = ("bot", "bot-pass-1234")
    rule = {
        "rule_name": "main",
        "enable_push": True,
        "enable_push_whitelist": True,
        "push_whitelist_usernames": ["johba"],
        "unprotected_file_patterns": " Notes/** ; *.LOG ",
        "protected_file_patterns": "notes/secret/**",
    }
    assert requests.post(repo_api(forge, "/branch_protections"), auth=OWNER, json=rule, timeout=5).status_code == 201
    assert write(forge, bot, "notes/a/b.md") == 201  # lower-cased, trimmed, `**` crosses '/' and '.'
    assert write(forge, bot, "run.log") == 201
    assert write(forge, bot, "logs/run.log") == 403  # `*` stops at '/'
    assert write(forge, bot, "app.py") == 403
    # A protected path stays shut even where the unprotected patterns let the path through.
    r = requests.post(
        repo_api(forge, "/contents/notes/secret/k.md"),
        auth=bot,
        json={"content": base64.b64encode(b"k").decode()},
        timeout=5,
    )
    assert r.status_code == 403 and "path is protected" in r.json()["message"]
    assert write(forge, OWNER, "app.py") == 201
    assert forge.spec_violations == []
