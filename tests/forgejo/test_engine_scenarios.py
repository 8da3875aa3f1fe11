"""Issue 2's scenarios: the Forgejo providers run by the real provider host, driven like the engine,
against the Forgejo double. Each `engine.up` is one `pulumi up`."""

from __future__ import annotations

import contextlib
import subprocess
import sys

import pytest
import requests

from tests.forgejo.conftest import ADMIN, ADMIN_PASSWORD, change_password_by_hand, host_config
from tests.support.engine import CheckFailedError, Engine, Host, ProviderError, Secret
from tests.support.forge_login import assert_identity_works, login
from tests.support.forgejo_double import Fault
from tests.support.identity import identity, program


def test_fresh_agent(forge, engine):
    ops = engine.up(identity("dev-qwen"))
    assert ops == {"dev-qwen-user": "create", "dev-qwen-token": "create", "dev-qwen-collaborator": "create"}
    assert_identity_works(forge, engine, "dev-qwen")
    user, token = engine.outputs("dev-qwen-user"), engine.outputs("dev-qwen-token")
    assert user["adopted"] is False and user["password_ok"] is True
    assert token["token_name"].startswith("disinto-infra-r0-")
    assert token["token_last_eight"] == token["token"][-8:]
    assert token["scopes"] == ["write:issue", "write:repository", "read:user"]  # its role's least
    # Computed secrets are secret in the state, as the engine records them.
    assert "password" in engine.state["dev-qwen-user"].secret_outputs
    assert {"token", "password"} <= engine.state["dev-qwen-token"].secret_outputs


def test_happy_path_takes_three_requests(forge, engine):
    forge.clear_requests()
    engine.up(identity("dev-qwen"))
    assert [(r.method, r.status) for r in forge.requests] == [("POST", 201), ("POST", 201), ("PUT", 204)]


def test_rerun_changes_nothing_and_sends_no_request(forge, engine):
    engine.up(identity("dev-qwen"))
    before = {n: engine.outputs(n) for n in engine.state}
    forge.clear_requests()
    assert set(engine.up(identity("dev-qwen")).values()) == {"same"}
    assert set(engine.preview(identity("dev-qwen")).values()) == {"same"}
    assert forge.requests == []
    assert {n: engine.outputs(n) for n in engine.state} == before


def test_token_rotation(forge, engine):
    engine.up(identity("dev-qwen"))
    old_user, old_token = engine.outputs("dev-qwen-user"), engine.outputs("dev-qwen-token")
    forge.clear_requests()
    ops = engine.up(identity("dev-qwen", rotation=1))
    sent = [(r.method, r.path.split("/")[-1]) for r in forge.requests]
    assert ops["dev-qwen-token"] == "replace" and ops["dev-qwen-user"] == "same"
    new_token = engine.outputs("dev-qwen-token")
    assert new_token["token"] != old_token["token"] and new_token["token_name"] != old_token["token_name"]
    assert login(forge, token=new_token["token"]) == "dev-qwen"
    assert login(forge, token=old_token["token"]) == 401
    # New first, then the old one revoked; the user untouched.
    assert sent == [
        ("POST", "tokens"),
        ("DELETE", str(int(old_token["token_id"]))),
    ]
    assert engine.outputs("dev-qwen-user") == old_user
    assert_identity_works(forge, engine, "dev-qwen")


def test_scope_change_replaces_but_equivalent_scopes_do_not(forge, engine):
    engine.up(identity("dev-qwen", scopes=["write:repository", "read:user"]))
    forge.clear_requests()
    same = engine.up(identity("dev-qwen", scopes=["read:user", "read:repository", "write:repository", "sudo"]))
    assert same["dev-qwen-token"] == "same" and forge.requests == []
    assert engine.up(identity("dev-qwen", scopes=["all"]))["dev-qwen-token"] == "replace"
    assert_identity_works(forge, engine, "dev-qwen")


def test_bad_scope_fails_in_check_without_a_request(forge, engine):
    forge.clear_requests()
    with pytest.raises(ProviderError, match="repo"):
        engine.up(identity("dev-qwen", scopes=["repo"]))
    assert [r.path for r in forge.requests if "tokens" in r.path] == []


def test_password_rotation_keeps_the_token(forge, engine):
    engine.up(identity("dev-qwen"))
    old_user, old_token = engine.outputs("dev-qwen-user"), engine.outputs("dev-qwen-token")
    ops = engine.up(identity("dev-qwen", password_rotation=1))
    assert ops["dev-qwen-user"] == "update" and ops["dev-qwen-token"] == "update"
    new_user, new_token = engine.outputs("dev-qwen-user"), engine.outputs("dev-qwen-token")
    assert new_user["password"] != old_user["password"]
    assert login(forge, auth=("dev-qwen", new_user["password"])) == "dev-qwen"
    assert login(forge, auth=("dev-qwen", old_user["password"])) == 401
    assert new_token["token"] == old_token["token"] and new_token["token_id"] == old_token["token_id"]
    assert new_token["password"] == new_user["password"]
    assert_identity_works(forge, engine, "dev-qwen")
    # The token can still be revoked with the new password.
    engine.up([r for r in identity("dev-qwen") if r.name == "dev-qwen-user"])
    assert forge.tokens_of("dev-qwen") == []


def test_preview_of_a_password_rotation_matches_the_up(forge, engine):
    engine.up(identity("dev-qwen"))
    forge.clear_requests()
    planned = engine.preview(identity("dev-qwen", password_rotation=1))
    assert forge.requests == []
    assert planned == {"dev-qwen-user": "update", "dev-qwen-token": "update", "dev-qwen-collaborator": "same"}
    assert engine.up(identity("dev-qwen", password_rotation=1)) == planned


def test_preview_of_a_token_rotation_matches_the_up(forge, engine):
    engine.up(identity("dev-qwen"))
    planned = engine.preview(identity("dev-qwen", rotation=1))
    assert planned == {"dev-qwen-user": "same", "dev-qwen-token": "replace", "dev-qwen-collaborator": "same"}
    assert engine.up(identity("dev-qwen", rotation=1)) == planned


def test_adopts_existing_user_that_must_change_its_password(forge, engine):
    forge.add_user("dev-qwen", password="legacy-pass-1", email="dev-qwen@disinto.local", must_change_password=True)
    engine.up(identity("dev-qwen"))
    assert engine.outputs("dev-qwen-user")["adopted"] is True
    assert login(forge, auth=("dev-qwen", "legacy-pass-1")) == 401
    assert_identity_works(forge, engine, "dev-qwen")


def test_refuses_to_adopt_a_site_admin(forge, engine):
    forge.add_user("boss", password="boss-pass-123", is_admin=True, email="boss@disinto.local")
    with pytest.raises(ProviderError, match="site admin"):
        engine.up(identity("boss"))
    assert forge.check_password("boss", "boss-pass-123")
    with pytest.raises(ProviderError, match="site admin"):
        engine.up(identity("admin-agent", username=ADMIN))
    assert forge.check_password(ADMIN, ADMIN_PASSWORD)


def test_adoption_can_be_turned_off(forge):
    forge.add_user("dev-qwen", password="legacy-pass-1", email="dev-qwen@disinto.local")
    with (
        Host(host_config(forge, adoptExistingUsers="false")) as host,
        pytest.raises(ProviderError, match="adoptExistingUsers is false"),
    ):
        Engine(host).up(identity("dev-qwen"))
    assert forge.check_password("dev-qwen", "legacy-pass-1")


def test_other_422_is_an_error_not_an_adoption(forge, engine):
    # Another user already has the address the program gives dev-qwen (naming.bot_email).
    forge.add_user("someone", password="someone-pass-1", email="dev-qwen@disinto.local")
    with pytest.raises(ProviderError, match="e-mail already in use"):
        engine.up(identity("dev-qwen"))
    assert forge.user("dev-qwen") is None


def test_legacy_token_name_does_not_collide(forge, engine):
    forge.add_user("dev-qwen", password="legacy-pass-1", email="dev-qwen@disinto.local")
    forge.add_token("dev-qwen", name="disinto-dev-qwen-token", scopes=["all"])
    engine.up(identity("dev-qwen"))
    names = sorted(t["name"] for t in forge.tokens_of("dev-qwen"))
    assert names[0] == "disinto-dev-qwen-token" and names[1].startswith("disinto-infra-r0-")
    assert login(forge, token=engine.outputs("dev-qwen-token")["token"]) == "dev-qwen"


def test_refresh_after_token_then_user_deleted_out_of_band(forge, engine):
    engine.up(identity("dev-qwen"))
    token = engine.outputs("dev-qwen-token")
    admin = (ADMIN, ADMIN_PASSWORD)
    requests.delete(f"{forge.url}/api/v1/users/dev-qwen/tokens/{int(token['token_id'])}", auth=admin, timeout=5)
    assert engine.refresh() == {"dev-qwen-user": "same", "dev-qwen-token": "delete", "dev-qwen-collaborator": "same"}
    assert engine.up(identity("dev-qwen"))["dev-qwen-token"] == "create"
    assert_identity_works(forge, engine, "dev-qwen")

    requests.delete(f"{forge.url}/api/v1/admin/users/dev-qwen", auth=admin, timeout=5)
    assert set(engine.refresh().values()) == {"delete"}
    assert set(engine.up(identity("dev-qwen")).values()) == {"create"}
    assert_identity_works(forge, engine, "dev-qwen")


def test_refresh_notices_a_broken_password_and_up_resets_it(forge, engine):
    engine.up(identity("dev-qwen"))
    password = engine.outputs("dev-qwen-user")["password"]
    change_password_by_hand(forge, "dev-qwen")
    engine.refresh()
    assert engine.outputs("dev-qwen-user")["password_ok"] is False
    ops = engine.up(identity("dev-qwen"))
    assert ops["dev-qwen-user"] == "update" and ops["dev-qwen-token"] == "same"
    assert engine.outputs("dev-qwen-user")["password"] == password  # reset to the stored one
    assert_identity_works(forge, engine, "dev-qwen")


def test_delete_of_already_deleted_objects(forge, engine):
    engine.up(identity("dev-qwen"))
    requests.delete(f"{forge.url}/api/v1/admin/users/dev-qwen", auth=(ADMIN, ADMIN_PASSWORD), timeout=5)
    ops = engine.destroy()
    assert set(ops.values()) == {"delete"} and engine.state == {}


def test_destroy_retires_the_user_and_revokes_token_and_grant(forge, engine):
    engine.up(identity("dev-qwen"))
    user_id = forge.user("dev-qwen")["id"]
    assert set(engine.destroy().values()) == {"delete"}
    assert forge.user("dev-qwen")["id"] == user_id  # kept: its history keeps its author
    assert forge.user("dev-qwen")["prohibit_login"] is True
    assert forge.tokens_of("dev-qwen") == [] and "dev-qwen" not in forge.collaborators_of("johba/disinto")


def test_a_user_owning_repositories_is_retired_all_the_same(forge, engine):
    engine.up(identity("dev-qwen"))
    forge.add_repo("dev-qwen", "notes")
    engine.destroy()
    assert forge.user("dev-qwen")["prohibit_login"] is True and forge.repo("dev-qwen/notes") is not None


def test_password_broken_token_revoked_with_admin_password(forge, engine):
    engine.up(identity("dev-qwen"))
    change_password_by_hand(forge, "dev-qwen", must_change_password=False)
    engine.up([r for r in identity("dev-qwen") if r.name == "dev-qwen-user"])
    assert forge.tokens_of("dev-qwen") == []


def test_username_change_replaces_user_token_and_collaborator(forge, engine):
    engine.up(identity("dev-qwen"))
    ops = engine.up(identity("dev-qwen", username="dev-qwen-b"))
    assert set(ops.values()) == {"replace"}
    assert_identity_works(forge, engine, "dev-qwen", username="dev-qwen-b")
    assert "dev-qwen" not in forge.collaborators_of("johba/disinto")


def test_replace_flag_on_the_token_converges(forge, engine):
    engine.up(identity("dev-qwen"))
    old = engine.outputs("dev-qwen-token")
    engine.up(identity("dev-qwen", replace=["token"]))
    assert engine.outputs("dev-qwen-token")["token"] != old["token"]
    assert_identity_works(forge, engine, "dev-qwen")


def test_replace_flag_on_the_user_keeps_the_user_and_renews_its_credentials(forge, engine):
    """`pulumi up --replace <user urn>` with the Agent's real options (docs/forgejo-resources.md).

    The user is delete-before-replace, so the engine first deletes the dependents that must be replaced
    with it (token and grant: their username would be unknown); the user's "delete" retires the
    account and the "create" takes the same Forgejo user back with a new password. Then a new token
    and the grant again. History (the user id) is kept; the old token and password die."""
    engine.up(identity("dev-qwen"))
    old_user, old_token = engine.outputs("dev-qwen-user"), engine.outputs("dev-qwen-token")
    forge.clear_requests()
    planned = engine.preview(identity("dev-qwen", replace=["user"]))
    assert forge.requests == []
    ops = engine.up(identity("dev-qwen", replace=["user"]))
    assert (
        ops == planned == {"dev-qwen-user": "replace", "dev-qwen-token": "replace", "dev-qwen-collaborator": "replace"}
    )
    writes = [c for c in engine.last_run_calls() if c[0] in ("Delete", "Create")]
    assert writes == [
        ("Delete", "dev-qwen-collaborator"),
        ("Delete", "dev-qwen-token"),
        ("Delete", "dev-qwen-user"),
        ("Create", "dev-qwen-user"),
        ("Create", "dev-qwen-token"),
        ("Create", "dev-qwen-collaborator"),
    ]
    user = engine.outputs("dev-qwen-user")
    assert user["user_id"] == old_user["user_id"] and user["adopted"] is True
    assert user["password"] != old_user["password"]
    assert login(forge, auth=("dev-qwen", old_user["password"])) == 401
    assert login(forge, token=old_token["token"]) == 401
    assert_identity_works(forge, engine, "dev-qwen")
    assert set(engine.up(identity("dev-qwen")).values()) == {"same"}


def test_replace_flag_on_the_user_keeps_the_profile_repository(forge, engine):
    """The `.profile` takes the user's name: replaced with the user, kept (retain_on_delete), taken over."""
    engine.up(program("dev-qwen"))
    forge.add_file("dev-qwen/.profile", "journal/2026-01-01.md", "an entry\n", branch="main")
    repo_id = forge.repo("dev-qwen/.profile")["id"]
    ops = engine.up(program("dev-qwen", replace=["user"]))
    assert set(ops.values()) == {"replace"}
    assert ("Delete", "dev-qwen-profile") not in engine.last_run_calls()
    assert forge.repo("dev-qwen/.profile")["id"] == repo_id
    assert forge.file("dev-qwen/.profile", "journal/2026-01-01.md") == b"an entry\n"
    assert_identity_works(forge, engine, "dev-qwen")
    assert set(engine.up(program("dev-qwen")).values()) == {"same"}


def test_replace_flag_on_the_user_with_adoption_off_brings_the_same_account_back(forge):
    """Adoption off refuses accounts this program did not make; the user's own replacement retires it
    (delete) and takes it back (create), which adoption off does not stop."""
    with Host(host_config(forge, adoptExistingUsers="false")) as host:
        engine = Engine(host)
        engine.up(identity("dev-qwen"))
        user_id = forge.user("dev-qwen")["id"]
        assert engine.up(identity("dev-qwen", replace=["user"]))["dev-qwen-user"] == "replace"
        assert forge.user("dev-qwen")["id"] == user_id
        assert_identity_works(forge, engine, "dev-qwen")


def test_email_and_full_name_changes_patch_the_user_in_place(forge, engine):
    engine.up(identity("dev-qwen"))
    user_id = forge.user("dev-qwen")["id"]
    forge.clear_requests()
    # The bot's address follows the project name (naming.bot_email).
    ops = engine.up(identity("dev-qwen", project="factory"))
    assert ops == {"dev-qwen-user": "update", "dev-qwen-token": "same", "dev-qwen-collaborator": "same"}
    assert [(r.method, r.path, r.body) for r in forge.requests] == [
        ("PATCH", "/api/v1/admin/users/dev-qwen", {"email": "dev-qwen@factory.local"})
    ]
    assert forge.user("dev-qwen")["email"] == "dev-qwen@factory.local"
    # The program names the bot after the agent; the provider patches a new full name alone.
    renamed = identity("dev-qwen", project="factory")
    renamed[0].inputs["full_name"] = "disinto agent dev-qwen (qwen3)"
    forge.clear_requests()
    assert engine.up(renamed)["dev-qwen-user"] == "update"
    assert [(r.method, r.body) for r in forge.requests] == [("PATCH", {"full_name": "disinto agent dev-qwen (qwen3)"})]
    assert forge.user("dev-qwen")["full_name"] == "disinto agent dev-qwen (qwen3)"
    assert forge.user("dev-qwen")["id"] == user_id
    assert_identity_works(forge, engine, "dev-qwen")
    assert engine.outputs("dev-qwen-user")["email"] == "dev-qwen@factory.local"


@pytest.mark.parametrize(
    "key, value, reason",
    [
        ("permission", "maintain", "expected one of read, write, admin, got 'maintain'"),
        ("permission", "Write", "expected one of read, write, admin, got 'Write'"),
        ("repo", "disinto", "expected 'owner/name', got 'disinto'"),
        ("repo", "johba/", "expected 'owner/name', got 'johba/'"),
        ("repo", "johba/disinto/x", "expected 'owner/name', got 'johba/disinto/x'"),
    ],
)
def test_collaborator_check_refuses_what_forgejo_would_misread(forge, engine, key, value, reason):
    """Forgejo grants write for a permission it does not know: check stops it before any request."""
    resources = identity("dev-qwen")
    resources[2].inputs[key] = value
    with pytest.raises(CheckFailedError) as caught:
        engine.up(resources)
    assert caught.value.failures == [(key, reason)]
    assert [r for r in forge.requests if "/collaborators/" in r.path] == []


def test_collaborator_refresh_notices_a_permission_changed_by_hand(forge, engine):
    engine.up(identity("dev-qwen"))
    forge.add_collaborator("johba/disinto", "dev-qwen", permission="read")
    ops = engine.refresh()
    assert ops["dev-qwen-collaborator"] == "update"
    assert engine.outputs("dev-qwen-collaborator")["permission"] == "read"
    forge.clear_requests()
    assert engine.up(identity("dev-qwen"))["dev-qwen-collaborator"] == "update"
    assert [(r.method, r.body) for r in forge.requests] == [("PUT", {"permission": "write"})]
    assert_identity_works(forge, engine, "dev-qwen")


def test_replace_flag_on_the_collaborator_keeps_the_grant(forge, engine):
    engine.up(identity("dev-qwen"))
    assert engine.up(identity("dev-qwen", replace=["collaborator"]))["dev-qwen-collaborator"] == "replace"
    assert_identity_works(forge, engine, "dev-qwen")


WRITES = [
    ("POST", r"^/api/v1/admin/users$"),
    ("POST", r"^/api/v1/users/[^/]+/tokens$"),
    ("PUT", r"^/api/v1/repos/[^/]+/[^/]+/collaborators/[^/]+$"),
]
FAULTS = [
    {"kind": "status", "status": 503, "times": 2},
    {"kind": "reset"},
    {"kind": "timeout"},  # held until the client's deadline ends it
    {"kind": "drop_response"},
]


@pytest.mark.reliability
@pytest.mark.parametrize("write", WRITES, ids=lambda w: f"{w[0]} {w[1]}")
@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f["kind"])
def test_faults_on_create_converge(forge, engine, write, fault):
    injected = forge.inject(Fault(method=write[0], path_regex=write[1], **fault))
    with contextlib.suppress(ProviderError):  # the engine reports the failure; the next run must converge
        engine.up(identity("dev-qwen"))
    assert injected.hits >= 1  # a fault that never fired proves nothing
    engine.up(identity("dev-qwen"))
    assert forge.user("dev-qwen") is not None
    assert_identity_works(forge, engine, "dev-qwen")


UPDATE_WRITES = [
    ("PATCH", r"^/api/v1/admin/users/[^/]+$", {"password_rotation": 1}),
    ("DELETE", r"^/api/v1/users/[^/]+/tokens/[^/]+$", {"rotation": 1}),
    ("POST", r"^/api/v1/users/[^/]+/tokens$", {"rotation": 1}),
]


@pytest.mark.reliability
@pytest.mark.parametrize("write", UPDATE_WRITES, ids=lambda w: f"{w[0]} {w[1]}")
@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f["kind"])
def test_faults_on_rotation_converge(forge, engine, write, fault):
    engine.up(identity("dev-qwen"))
    injected = forge.inject(Fault(method=write[0], path_regex=write[1], **fault))
    with contextlib.suppress(ProviderError):
        engine.up(identity("dev-qwen", **write[2]))
    assert injected.hits >= 1
    engine.up(identity("dev-qwen", **write[2]))
    assert_identity_works(forge, engine, "dev-qwen")


def test_eight_agents_concurrently(forge, engine):
    agents = [f"dev-{i}" for i in range(8)]
    engine.concurrent_up([r for a in agents for r in identity(a)])
    tokens = set()
    for agent in agents:
        assert_identity_works(forge, engine, agent)
        tokens.add(engine.outputs(f"{agent}-token")["token"])
    assert len(tokens) == 8


PICKLE_SCRIPT = """
import sys
from pulumi.dynamic.dynamic import serialize_provider
from disinto_infra.forgejo.user import ForgejoUserProvider
from disinto_infra.forgejo.token import ForgejoTokenProvider
from disinto_infra.forgejo.collaborator import ForgejoCollaboratorProvider
for cls in (ForgejoUserProvider, ForgejoTokenProvider, ForgejoCollaboratorProvider):
    print(serialize_provider(cls()))
"""


def test_pickled_providers_small_stable_and_credential_free(forge, engine):
    engine.up(identity("dev-qwen"))
    blobs = [
        subprocess.run([sys.executable, "-c", PICKLE_SCRIPT], capture_output=True, text=True, check=True).stdout
        for _ in range(2)
    ]
    assert blobs[0] == blobs[1]
    stored = {engine.state[n].inputs["__provider"] for n in engine.state}
    assert stored == set(blobs[0].split())
    import base64

    for blob in stored:
        raw = base64.b64decode(blob)
        assert len(raw) < 1024
        assert ADMIN_PASSWORD.encode() not in raw and forge.url.encode() not in raw


def test_errors_name_the_request_and_hide_secrets(forge, engine):
    engine.up(identity("dev-qwen"))
    secret = engine.outputs("dev-qwen-user")["password"]
    fault = forge.inject(Fault(method="POST", path_regex=r"/tokens$", kind="status", status=500, times=5))
    with pytest.raises(ProviderError) as failure:
        engine.up(identity("dev-qwen", rotation=1))
    assert fault.hits == 1  # a 500 is not retried
    text = str(failure.value)
    assert "POST /api/v1/users/dev-qwen/tokens: HTTP 500" in text
    assert secret not in text and ADMIN_PASSWORD not in text


@pytest.fixture
def token_only_engine(forge):
    """The admin reached with a token only (an admin with 2FA): no admin password to fall back on."""
    admin_token = forge.add_token(ADMIN, name="infra", scopes=["all"])
    config = {k: v for k, v in host_config(forge).items() if k != "disinto:adminPassword"}
    with Host({**config, "disinto:adminToken": Secret(admin_token)}) as host:
        yield Engine(host)


def test_rotating_token_and_password_together_with_an_admin_token_only(forge, token_only_engine):
    engine = token_only_engine
    engine.up(identity("dev-qwen"))
    old = engine.outputs("dev-qwen-token")
    ops = engine.up(identity("dev-qwen", rotation=1, password_rotation=1))
    assert ops == {"dev-qwen-user": "update", "dev-qwen-token": "replace", "dev-qwen-collaborator": "same"}
    assert login(forge, token=old["token"]) == 401
    assert_identity_works(forge, engine, "dev-qwen")


def test_adoption_and_removal_with_an_admin_token_only(forge, token_only_engine):
    forge.add_user("dev-qwen", password="legacy-pass-1", email="dev-qwen@disinto.local", must_change_password=True)
    token_only_engine.up(identity("dev-qwen"))
    assert_identity_works(forge, token_only_engine, "dev-qwen")
    token_only_engine.up([r for r in identity("dev-qwen") if r.name == "dev-qwen-user"])
    assert forge.tokens_of("dev-qwen") == [] and "dev-qwen" not in forge.collaborators_of("johba/disinto")
