"""Tests of the Forgejo 11 double, driven over real HTTP with ``requests``.

Most tests use the ``forge`` fixture, whose teardown also asserts that every request and
2xx response matched the v11 swagger spec.
"""

import base64
import threading
import time

import pytest
import requests

from tests.support.forgejo_double import Fault, ForgejoDouble, go_parse_int, normalize_scopes
from tests.support.forgejo_double.fixture import ADMIN_PASSWORD, ADMIN_USER

ADMIN = (ADMIN_USER, ADMIN_PASSWORD)
OWNER = ("johba", "johba-pass-123")
ALL_WRITE = [
    f"write:{c}"
    for c in ("activitypub", "admin", "misc", "notification", "organization", "package", "issue", "repository", "user")
]


def api(forge, path):
    return forge.url + "/api/v1" + path


def create_user(forge, name, password="bot-pass-1234", **extra):
    body = {"username": name, "email": f"{name}@bots.test", "password": password, **extra}
    return requests.post(api(forge, "/admin/users"), auth=ADMIN, json=body, timeout=5)


def create_token(forge, user, password, name="t1", scopes=("write:repository",)):
    return requests.post(
        api(forge, f"/users/{user}/tokens"),
        auth=(user, password),
        json={"name": name, "scopes": list(scopes)},
        timeout=5,
    )


def b64(text):
    return base64.b64encode(text.encode()).decode()


# ------------------------------------------------------------------------ users & auth
def test_created_user_must_change_password_until_admin_clears_it(forge):
    r = create_user(forge, "bot-a")
    assert r.status_code == 201
    assert "must_change_password" not in r.json()
    assert forge.user("bot-a")["must_change_password"] is True

    r = create_token(forge, "bot-a", "bot-pass-1234")
    assert r.status_code == 403
    assert r.json() == {"message": f"You must change your password. Change it at: {forge.url}//user/change_password"}

    # A new password alone does not clear the flag ...
    r = requests.patch(api(forge, "/admin/users/bot-a"), auth=ADMIN, json={"password": "new-pass-5678"})
    assert r.status_code == 200
    assert forge.user("bot-a")["must_change_password"] is True
    assert forge.check_password("bot-a", "new-pass-5678")
    # ... sending false does.
    r = requests.patch(api(forge, "/admin/users/bot-a"), auth=ADMIN, json={"must_change_password": False})
    assert r.status_code == 200
    assert create_token(forge, "bot-a", "new-pass-5678").status_code == 201


def test_create_user_validation_and_conflicts(forge):
    assert create_user(forge, "bot-b", must_change_password=False).status_code == 201
    cases = [
        ({"username": "admin"}, 422, "name is reserved [name: admin]"),
        ({"username": "bot.keys"}, 422, "name pattern is not allowed [pattern: *.keys]"),
        ({"username": "bad--name"}, 422, "[Username]: invalid username"),
        ({"username": "x" * 41}, 422, "[Username]: MaxSize"),
        ({"username": "BOT-B"}, 422, "user already exists [name: BOT-B]"),
        ({"username": "bot-b", "email": "johba@disinto.test"}, 422, "user already exists [name: bot-b]"),
        (
            {"username": "bot-c", "email": "JOHBA@disinto.test"},
            422,
            "e-mail already in use [email: JOHBA@disinto.test]",
        ),
        ({"username": "bot-c", "password": "short"}, 400, "PasswordIsRequired"),
    ]
    for extra, status, message in cases:
        body = {"username": "bot-c", "email": "c@bots.test", "password": "long-enough-1", **extra}
        r = requests.post(api(forge, "/admin/users"), auth=ADMIN, json=body)
        assert (r.status_code, r.json()["message"]) == (status, message), extra
        assert r.json()["url"] == forge.url + "/api/swagger"
    r = requests.patch(api(forge, "/admin/users/bot-b"), auth=ADMIN, json={"login_name": "x"})
    assert r.status_code == 422
    r = requests.patch(api(forge, "/admin/users/bot-b"), auth=ADMIN, json={"password": "short"})
    assert r.status_code == 400


def test_get_user_auth_rules_and_scopes(forge):
    r = requests.get(api(forge, "/users/JOHBA"))
    assert r.status_code == 200 and r.json()["login"] == "johba"
    r = requests.get(api(forge, "/users/nobody"))
    assert r.status_code == 404
    assert r.json()["message"] == "user redirect does not exist [name: nobody]"
    assert requests.get(api(forge, "/version"), auth=("johba", "wrong")).status_code == 401
    assert requests.get(api(forge, "/user")).status_code == 401
    assert requests.get(api(forge, "/user"), headers={"Authorization": "token " + "0" * 40}).status_code == 401

    tok = forge.add_token("johba", "ro", ["read:user"])
    for auth in (
        {"headers": {"Authorization": f"token {tok}"}},
        {"headers": {"Authorization": f"Bearer {tok}"}},
        {"params": {"token": tok}},
        {"auth": ("johba", tok)},
    ):
        r = requests.get(api(forge, "/user"), **auth)
        assert r.status_code == 200 and r.json()["login"] == "johba"
    r = requests.post(
        api(forge, "/admin/users"),
        headers={"Authorization": f"token {tok}"},
        json={"username": "x1", "email": "x1@b.test", "password": "long-enough-1"},
    )
    assert r.status_code == 403
    assert r.json()["message"] == "token does not have at least one of required scope(s): [write:admin]"
    admin_tok = forge.add_token(ADMIN_USER, "adm", ["write:admin"])
    r = requests.post(
        api(forge, "/admin/users"),
        headers={"Authorization": f"token {admin_tok}"},
        json={"username": "x1", "email": "x1@b.test", "password": "long-enough-1"},
    )
    assert r.status_code == 201
    r = requests.get(api(forge, "/user"), auth=OWNER, headers={"Sudo": ADMIN_USER})
    assert r.status_code == 403
    r = requests.get(api(forge, "/user"), auth=ADMIN, headers={"Sudo": "johba"})
    assert r.json()["login"] == "johba"
    kinds = [(rec.auth_kind, rec.username) for rec in forge.requests if rec.path == "/api/v1/user"]
    assert ("token", "johba") in kinds and ("none", None) in kinds


def test_delete_user_refuses_owner_of_repos_unless_purged(forge):
    forge.add_user("bot-d")
    forge.add_repo("bot-d", "own")
    forge.add_collaborator("johba/disinto", "bot-d", "read")
    forge.add_token("bot-d", "t")
    r = requests.delete(api(forge, "/admin/users/bot-d"), auth=ADMIN)
    assert r.status_code == 422
    assert r.json()["message"].startswith("user still has ownership of repositories")
    r = requests.delete(api(forge, "/admin/users/bot-d"), params={"purge": "true"}, auth=ADMIN)
    assert r.status_code == 204
    assert forge.user("bot-d") is None and forge.repo("bot-d/own") is None
    assert forge.collaborators_of("johba/disinto") == {}
    assert requests.delete(api(forge, "/admin/users/bot-d"), auth=ADMIN).status_code == 404
    assert requests.delete(api(forge, f"/admin/users/{ADMIN_USER}"), auth=ADMIN).status_code == 422


# ------------------------------------------------------------------------------ tokens
def test_token_create_needs_password_basic_auth_and_unique_name(forge):
    forge.add_user("bot-e", password="bot-pass-1234")
    assert create_token(forge, "bot-e", "bot-pass-1234").status_code == 201
    tok = forge.add_token("bot-e", "all", ["all"])
    r = requests.post(
        api(forge, "/users/bot-e/tokens"),
        headers={"Authorization": f"token {tok}"},
        json={"name": "t2", "scopes": ["all"]},
    )
    assert (r.status_code, r.json()["message"]) == (401, "auth method not allowed")
    r = requests.post(api(forge, "/users/bot-e/tokens"), auth=("bot-e", tok), json={"name": "t2", "scopes": ["all"]})
    assert r.status_code == 401  # basic auth whose password is a token is token auth
    r = create_token(forge, "bot-e", "bot-pass-1234")
    assert (r.status_code, r.json()["message"]) == (400, "access token name has been used already")
    r = requests.post(api(forge, "/users/bot-e/tokens"), auth=("bot-e", "bot-pass-1234"), json={"scopes": ["all"]})
    assert (r.status_code, r.json()["message"]) == (422, "[Name]: Required")
    assert any("'name' is a required property" in v for v in forge.spec_violations)
    forge.clear_spec_violations()
    # Another user's password may not mint bot-e's tokens; the admin's may.
    assert create_token(forge, "bot-e", *OWNER[1:], name="x").status_code == 401
    r = requests.post(api(forge, "/users/bot-e/tokens"), auth=OWNER, json={"name": "x", "scopes": ["all"]})
    assert r.status_code == 403
    r = requests.post(api(forge, "/users/bot-e/tokens"), auth=ADMIN, json={"name": "x", "scopes": ["all"]})
    assert r.status_code == 201 and forge.token_owner(r.json()["sha1"]) == "bot-e"
    stored = forge.tokens_of("bot-e")[0]
    assert r.json()["sha1"] not in str(stored) and stored["token_last_eight"] == r.json()["sha1"][-8:]


def test_token_scopes_are_normalised(forge):
    forge.add_user("bot-f", password="bot-pass-1234")
    cases = [
        (["write:repository", "read:repository", "read:user"], 201, ["write:repository", "read:user"]),
        (ALL_WRITE, 201, ["all"]),
        (["read:user", "sudo", "", "write:admin"], 201, ["write:admin", "read:user"]),
        (["repo"], 400, "invalid access token scope provided: invalid access token scope: repo"),
        (["sudo"], 400, "access token must have a scope"),
        ([], 400, "access token must have a scope"),
    ]
    for i, (scopes, status, expected) in enumerate(cases):
        r = create_token(forge, "bot-f", "bot-pass-1234", name=f"s{i}", scopes=scopes)
        assert r.status_code == status, scopes
        assert (r.json()["scopes"] if status == 201 else r.json()["message"]) == expected
    assert normalize_scopes(["public-only", *ALL_WRITE]) == ["public-only", "all"]
    assert normalize_scopes(["read:issue,write:issue"]) == ["write:issue"]


def test_token_list_is_paginated_newest_first(forge):
    forge.add_user("bot-g", password="bot-pass-1234")
    for i in range(60):
        forge.add_token("bot-g", f"tok-{i:02d}", ["read:user"])
    tok = forge.add_token("bot-g", "lister", ["read:user"])
    url = api(forge, "/users/bot-g/tokens")
    r = requests.get(url, headers={"Authorization": f"token {tok}"})
    assert r.status_code == 200 and r.headers["X-Total-Count"] == "61"
    assert len(r.json()) == 30 and r.json()[0]["name"] == "lister" and r.json()[0]["sha1"] == ""
    r = requests.get(url, params={"limit": 100, "page": 2}, auth=("bot-g", "bot-pass-1234"))
    assert len(r.json()) == 11 and r.json()[-1]["name"] == "tok-00"
    seen = []
    for page in (1, 2, 3):
        seen += [t["name"] for t in requests.get(url, params={"page": page, "limit": 25}, auth=ADMIN).json()]
    assert len(set(seen)) == 61
    assert requests.get(url, auth=OWNER).status_code == 403


def test_token_delete_by_id_name_and_go_integer_syntax(forge):
    forge.add_user("bot-h", password="bot-pass-1234")
    auth = ("bot-h", "bot-pass-1234")
    ids = {}
    for name in ("one", "two", "three", "0"):
        ids[name] = create_token(forge, "bot-h", auth[1], name=name).json()["id"]
    base = api(forge, "/users/bot-h/tokens/")
    assert requests.delete(base + str(ids["one"]), auth=auth).status_code == 204
    assert requests.delete(base + "two", auth=auth).status_code == 204
    assert requests.delete(base + hex(ids["three"]), auth=auth).status_code == 204
    assert requests.delete(base + "0", auth=auth).status_code == 204  # 0 is not an id: name lookup
    assert forge.tokens_of("bot-h") == []
    assert requests.delete(base + "two", auth=auth).status_code == 404
    tok = forge.add_token("bot-h", "dup")
    forge.state.create_token(forge.state.user_by_name("bot-h"), "dup", ["all"])
    assert requests.delete(base + "dup", headers={"Authorization": f"token {tok}"}).status_code == 401
    r = requests.delete(base + "dup", auth=auth)
    assert (r.status_code, r.json()["message"]) == (422, "multiple matches for token name 'dup'")
    assert [go_parse_int(s) for s in ("12", "0x1f", "017", "0o17", "0b1", "1_0", "x1", "0x")] == [
        12,
        31,
        15,
        15,
        1,
        10,
        0,
        0,
    ]


# ----------------------------------------------------------------------- collaborators
def test_collaborators_put_get_permission_delete(forge):
    forge.add_user("bot-i", password="bot-pass-1234")
    base = api(forge, "/repos/johba/disinto/collaborators/")
    assert requests.get(base + "bot-i", auth=OWNER).status_code == 404
    assert requests.put(base + "bot-i", auth=("bot-i", "bot-pass-1234"), json={}).status_code == 403
    assert requests.put(base + "ghost-user", auth=OWNER, json={"permission": "read"}).status_code == 422
    assert requests.put(base + "bot-i", auth=OWNER).status_code == 422  # no Content-Type: binding fails
    for perm in ("read", "read", "admin"):  # idempotent; re-PUT updates
        assert requests.put(base + "bot-i", auth=OWNER, json={"permission": perm}).status_code == 204
    assert forge.collaborators_of("johba/disinto") == {"bot-i": "admin"}
    assert requests.get(base + "bot-i", auth=OWNER).status_code == 204
    r = requests.get(base + "bot-i/permission", auth=("bot-i", "bot-pass-1234"))
    assert r.status_code == 200
    assert (r.json()["permission"], r.json()["role_name"], r.json()["user"]["login"]) == ("admin", "admin", "bot-i")
    assert requests.get(base + "johba/permission", auth=ADMIN).json()["permission"] == "owner"
    assert requests.get(base + "johba", auth=ADMIN).status_code == 404  # the owner is no collaborator
    assert requests.get(base + "nobody/permission", auth=ADMIN).status_code == 404
    forge.add_user("bot-j", password="bot-pass-1234")
    r = requests.get(base + "bot-i/permission", auth=("bot-j", "bot-pass-1234"))
    assert r.status_code == 403
    assert requests.get(base + "bot-j/permission", auth=("bot-j", "bot-pass-1234")).json()["permission"] == "read"
    assert requests.delete(base + "bot-i", auth=OWNER).status_code == 204
    assert requests.delete(base + "bot-i", auth=OWNER).status_code == 204
    assert forge.collaborators_of("johba/disinto") == {}


def test_unknown_collaborator_permission_is_ignored():
    with ForgejoDouble(spec_check=False) as fd:
        fd.add_user("owner1", password="owner-pass-1")
        fd.add_user("bot-k")
        fd.add_repo("owner1", "r")
        url = fd.url + "/api/v1/repos/owner1/r/collaborators/bot-k"
        assert requests.put(url, auth=("owner1", "owner-pass-1"), json={"permission": "owner"}).status_code == 204
        assert fd.collaborators_of("owner1/r") == {"bot-k": "write"}
        requests.put(url, auth=("owner1", "owner-pass-1"), json={"permission": "read"})
        requests.put(url, auth=("owner1", "owner-pass-1"), json={"permission": "bogus"})
        assert fd.collaborators_of("owner1/r") == {"bot-k": "read"}


# -------------------------------------------------------- contents, branches, protection
def test_contents_branches_and_protection_flow(forge):
    repo = api(forge, "/repos/johba/disinto")
    r = requests.post(repo + "/branches", auth=OWNER, json={"new_branch_name": "dev"})
    assert (r.status_code, r.json()["message"]) == (404, "Git Repository is empty.")
    assert requests.get(repo + "/contents/README.md", auth=OWNER).status_code == 404

    r = requests.post(repo + "/contents/docs/README.md", auth=OWNER, json={"content": b64("hello\n"), "message": "m"})
    assert r.status_code == 201
    sha = r.json()["content"]["sha"]
    assert forge.repo("johba/disinto")["empty"] is False
    assert requests.get(repo, auth=OWNER).json()["default_branch"] == "main"
    r = requests.post(repo + "/contents/docs/README.md", auth=OWNER, json={"content": b64("again")})
    assert r.status_code == 422
    r = requests.get(repo + "/contents/docs/README.md", auth=OWNER)
    assert r.status_code == 200 and r.json()["sha"] == sha
    assert base64.b64decode(r.json()["content"]) == b"hello\n" and r.json()["encoding"] == "base64"
    assert [e["name"] for e in requests.get(repo + "/contents/docs", auth=OWNER).json()] == ["README.md"]

    r = requests.put(repo + "/contents/docs/README.md", auth=OWNER, json={"content": b64("v2"), "sha": "0" * 40})
    assert r.status_code == 422 and r.json()["message"].startswith("sha does not match")
    r = requests.put(repo + "/contents/docs/README.md", auth=OWNER, json={"content": b64("v2"), "sha": sha})
    assert r.status_code == 200 and r.json()["content"]["sha"] != sha
    assert forge.file("johba/disinto", "docs/README.md") == b"v2"

    r = requests.post(repo + "/branches", auth=OWNER, json={"new_branch_name": "dev"})
    assert r.status_code == 201 and r.json()["name"] == "dev"
    assert requests.post(repo + "/branches", auth=OWNER, json={"new_branch_name": "dev"}).status_code == 409
    assert requests.get(repo + "/branches/dev", auth=OWNER).status_code == 200
    assert requests.get(repo + "/branches/nope", auth=OWNER).status_code == 404
    r = requests.get(repo + "/branches", auth=OWNER)
    assert [b["name"] for b in r.json()] == ["dev", "main"] and r.headers["X-Total-Count"] == "2"

    r = requests.post(repo + "/branch_protections", auth=OWNER, json={"rule_name": "main", "enable_push": False})
    assert r.status_code == 201 and r.json()["rule_name"] == "main"
    r = requests.post(repo + "/branch_protections", auth=OWNER, json={"rule_name": "main"})
    assert r.status_code == 403
    forge.add_user("bot-l", password="bot-pass-1234")
    forge.add_collaborator("johba/disinto", "bot-l", "write")
    r = requests.post(repo + "/branch_protections", auth=("bot-l", "bot-pass-1234"), json={"rule_name": "dev"})
    assert r.status_code == 403
    assert requests.get(repo + "/branch_protections/main", auth=OWNER).status_code == 200
    assert requests.get(repo + "/branch_protections/dev", auth=OWNER).status_code == 404
    assert requests.get(repo + "/branches/main", auth=OWNER).json()["protected"] is True
    # enable_push false: collaborators may no longer write main through the API
    r = requests.post(repo + "/contents/x.txt", auth=("bot-l", "bot-pass-1234"), json={"content": b64("x")})
    assert r.status_code == 403
    r = requests.post(
        repo + "/contents/x.txt", auth=("bot-l", "bot-pass-1234"), json={"content": b64("x"), "branch": "dev"}
    )
    assert r.status_code == 201


def test_protected_branch_has_no_site_admin_bypass_for_contents_writes(forge):
    """VerifyBranchProtection -> CanUserPush: a site admin writes main only as the rule allows anyone."""
    repo = api(forge, "/repos/johba/disinto")
    assert requests.post(repo + "/contents/a.txt", auth=OWNER, json={"content": b64("a")}).status_code == 201
    rule = {
        "rule_name": "main",
        "enable_push": True,
        "enable_push_whitelist": True,
        "push_whitelist_usernames": ["johba"],
        "apply_to_admins": False,
    }
    assert requests.post(repo + "/branch_protections", auth=OWNER, json=rule).status_code == 201
    r = requests.post(repo + "/contents/b.txt", auth=ADMIN, json={"content": b64("b")})
    assert r.status_code == 403 and "cannot commit" in r.json()["message"]
    r = requests.post(repo + "/contents/b.txt", auth=ADMIN, json={"content": b64("b"), "new_branch": "side"})
    assert r.status_code == 201  # a new branch is not checked against main's rule
    assert requests.post(repo + "/contents/b.txt", auth=OWNER, json={"content": b64("b")}).status_code == 201
    assert requests.delete(repo + "/branch_protections/main", auth=OWNER).status_code == 204
    rule = {"rule_name": "main", "enable_push": True}  # no whitelist: anyone with write
    assert requests.post(repo + "/branch_protections", auth=OWNER, json=rule).status_code == 201
    assert requests.post(repo + "/contents/c.txt", auth=ADMIN, json={"content": b64("c")}).status_code == 201
    assert requests.delete(repo + "/branch_protections/main", auth=OWNER).status_code == 204
    assert requests.post(repo + "/branch_protections", auth=OWNER, json={"rule_name": "main"}).status_code == 201
    assert requests.post(repo + "/contents/d.txt", auth=ADMIN, json={"content": b64("d")}).status_code == 403
    assert forge.spec_violations == []


def test_repo_create_get_delete(forge):
    r = requests.post(api(forge, "/admin/users/johba/repos"), auth=ADMIN, json={"name": "second", "private": True})
    assert r.status_code == 201 and r.json()["full_name"] == "johba/second" and r.json()["empty"] is True
    r = requests.post(api(forge, "/admin/users/johba/repos"), auth=ADMIN, json={"name": "SECOND"})
    assert r.status_code == 409
    assert requests.get(api(forge, "/repos/johba/second")).status_code == 404  # private
    assert requests.get(api(forge, "/repos/johba/second"), auth=OWNER).status_code == 200
    r = requests.post(api(forge, "/user/repos"), auth=OWNER, json={"name": "mine", "auto_init": True})
    assert r.status_code == 201 and r.json()["empty"] is False
    assert requests.delete(api(forge, "/repos/johba/second"), auth=OWNER).status_code == 204
    assert requests.get(api(forge, "/repos/johba/second"), auth=OWNER).status_code == 404
    r = requests.get(api(forge, "/no/such/route"))
    assert r.status_code == 404 and "message" in r.json()
    forge.clear_spec_violations()  # the unknown route is (rightly) not in the spec


# ------------------------------------------------------------------------------ faults
def test_fault_status_then_normal(forge):
    forge.inject(Fault(method="POST", path_regex=r"^/api/v1/admin/users$", kind="status", status=503, times=2))
    assert create_user(forge, "bot-m").status_code == 503
    assert create_user(forge, "bot-m").status_code == 503
    assert forge.user("bot-m") is None  # not applied
    assert create_user(forge, "bot-m").status_code == 201
    assert [r.status for r in forge.requests if r.path == "/api/v1/admin/users"] == [503, 503, 201]


def test_fault_reset_is_not_applied(forge):
    forge.inject(Fault(method="POST", path_regex=r"/admin/users$", kind="reset"))
    with pytest.raises(requests.ConnectionError):
        create_user(forge, "bot-n")
    assert forge.user("bot-n") is None
    assert create_user(forge, "bot-n").status_code == 201


def test_fault_drop_response_applies_but_loses_answer(forge):
    forge.inject(Fault(method="POST", path_regex=r"/admin/users$", kind="drop_response"))
    with pytest.raises(requests.ConnectionError):
        create_user(forge, "bot-o")
    assert forge.user("bot-o") is not None
    assert create_user(forge, "bot-o").status_code == 422  # a retry now finds it exists
    rec = next(r for r in forge.requests if r.path == "/api/v1/admin/users")
    assert (rec.fault, rec.status) == ("drop_response", 201)


def test_fault_timeout_and_delay(forge):
    forge.inject(Fault(method="GET", path_regex=r"/version$", kind="timeout", seconds=1.5))
    with pytest.raises(requests.Timeout):
        requests.get(api(forge, "/version"), timeout=0.5)
    forge.inject(Fault(path_regex=r"/version$", kind="delay", seconds=0.3))
    start = time.monotonic()
    assert requests.get(api(forge, "/version"), timeout=5).status_code == 200
    assert time.monotonic() - start >= 0.3
    forge.latency = 0.05
    start = time.monotonic()
    requests.get(api(forge, "/version"), timeout=5)
    assert time.monotonic() - start >= 0.05


# ------------------------------------------------------------------------ spec checking
def test_spec_violation_is_recorded():
    with ForgejoDouble(spec_check=True) as fd:
        fd.add_user("root1", password="root-pass-1", is_admin=True)
        r = requests.post(
            fd.url + "/api/v1/admin/users", auth=("root1", "root-pass-1"), json={"username": 5, "email": "a@b.test"}
        )
        assert r.status_code == 422 and "cannot unmarshal number" in r.json()["message"]
        assert any(
            "adminCreateUser" in v and "username" in v and "is not of type 'string'" in v for v in fd.spec_violations
        )
        fd.clear_spec_violations()
        requests.get(fd.url + "/api/v1/admin/users/root1/tokens", auth=("root1", "root-pass-1"))
        assert any("no operation in the spec" in v for v in fd.spec_violations)


# -------------------------------------------------------------------------- concurrency
def test_concurrent_user_creation(forge):
    results = [None] * 20

    def worker(i):
        results[i] = create_user(forge, f"par-{i}", must_change_password=False)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert all(r is not None and r.status_code == 201 for r in results)
    ids = [r.json()["id"] for r in results]
    assert len(set(ids)) == 20
    assert {f"par-{i}" for i in range(20)} <= {u["login"] for u in forge.users}


def test_undeclared_request_key_is_a_violation():
    """Forgejo drops unknown keys silently; the double flags them, nested ones too."""
    with ForgejoDouble(spec_check=True) as fd:
        fd.add_user("root1", password="root-pass-1", is_admin=True, email="root1@b.test")
        fd.add_user("bot", password="bot-pass-1234", email="bot@b.test")
        r = requests.patch(
            fd.url + "/api/v1/admin/users/bot",
            auth=("root1", "root-pass-1"),
            json={"password": "new-pass-12345", "must_change_pasword": False},
        )
        assert r.status_code == 200
        assert [v for v in fd.spec_violations if "must_change_pasword" in v and "not in the spec" in v]
        fd.clear_spec_violations()
        fd.add_repo("root1", "r")
        body = {"content": b64("x"), "message": "m", "author": {"name": "a", "emial": "a@b.test"}}
        requests.post(fd.url + "/api/v1/repos/root1/r/contents/f.txt", auth=("root1", "root-pass-1"), json=body)
        assert [v for v in fd.spec_violations if "'author.emial'" in v]


def test_response_without_a_field_the_providers_read_is_a_violation():
    from tests.support.forgejo_double.spec import READ_FIELDS, SpecChecker

    checker = SpecChecker()
    op = checker.find("POST", "/api/v1/users/bot/tokens")
    full = {"id": 3, "name": "t", "sha1": "a" * 40, "token_last_eight": "aaaaaaaa", "scopes": ["all"]}
    assert checker.check_response(op, "POST", "/api/v1/users/bot/tokens", 201, full) == []
    partial = {k: v for k, v in full.items() if k != "token_last_eight"}
    [problem] = checker.check_response(op, "POST", "/api/v1/users/bot/tokens", 201, partial)
    assert "lacks 'token_last_eight'" in problem
    put = checker.find("PUT", "/api/v1/repos/o/r/contents/f")
    assert (
        "lacks 'content.sha'"
        in checker.check_response(put, "PUT", "/api/v1/repos/o/r/contents/f", 200, {"content": {"name": "f"}})[0]
    )
    known = {op.op_id for ops in checker.operations.values() for op in ops}
    assert set(READ_FIELDS) <= known  # no misspelt operationId
