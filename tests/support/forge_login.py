"""Logging in to the Forgejo double with an agent's credentials: `login` says who Forgejo takes a
token or a password for, and `assert_identity_works` that an agent's user, token and grant in the
engine's state are one working identity."""

from __future__ import annotations

import requests


def login(forge, auth=None, token=None):
    """Who Forgejo says we are (GET /api/v1/user), or the status it refuses us with."""
    headers = {"Authorization": f"token {token}"} if token else {}
    r = requests.get(f"{forge.url}/api/v1/user", auth=auth, headers=headers, timeout=5)
    return r.json()["login"] if r.status_code == 200 else r.status_code


def assert_identity_works(forge, engine, agent, username=None):
    username = username or agent
    user, token = engine.outputs(f"{agent}-user"), engine.outputs(f"{agent}-token")
    assert login(forge, token=token["token"]) == username
    assert login(forge, auth=(username, user["password"])) == username
    assert forge.user(username)["must_change_password"] is False
    assert forge.collaborators_of("johba/disinto")[username] == "write"
    assert [t["id"] for t in forge.tokens_of(username)] == [int(token["token_id"])]
    # Token and grant know the user they belong to (a user made again replaces them).
    grant = engine.outputs(f"{agent}-collaborator")
    assert int(token["user_id"]) == int(grant["user_id"]) == int(user["user_id"]) == forge.user(username)["id"]
