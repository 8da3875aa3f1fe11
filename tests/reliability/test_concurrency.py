"""Concurrency: 20 agents through the provider host at once (`Engine.concurrent_up`; the host itself
serves four calls at a time), every identity distinct and correct — also when faults hit some of
the writes while the others run."""

from __future__ import annotations

import contextlib

import pytest

from tests.support.convergence import (
    agent_resources,
    assert_identity_converged,
    assert_no_duplicate_users,
    profile_resource,
)
from tests.support.engine import ProviderError
from tests.support.forge_login import login
from tests.support.forgejo_double import Fault

pytestmark = pytest.mark.reliability

AGENTS = [f"dev-{i:02d}" for i in range(20)]


def fleet(agents=AGENTS):
    resources = []
    for agent in agents:
        resources += agent_resources(agent)
        resources.append(profile_resource(agent))
    return resources


def assert_fleet_correct(forge, engine, agents=AGENTS):
    users, tokens, passwords, token_ids = set(), set(), set(), set()
    for agent in agents:
        assert_identity_converged(forge, engine, agent)
        user, token = engine.outputs(f"{agent}-user"), engine.outputs(f"{agent}-token")
        assert user["username"] == token["username"] == agent
        assert int(token["user_id"]) == int(user["user_id"]) == forge.user(agent)["id"]
        assert forge.token_owner(token["token"]) == agent
        users.add(int(user["user_id"]))
        tokens.add(token["token"])
        token_ids.add(int(token["token_id"]))
        passwords.add(user["password"])
        repo = forge.repo(f"{agent}/.profile")
        assert repo is not None and repo["private"] is True
        assert engine.outputs(f"{agent}-profile")["repo"] == f"{agent}/.profile"
    assert len(users) == len(tokens) == len(token_ids) == len(passwords) == len(agents)
    assert_no_duplicate_users(forge)
    # No token of one agent logs in as another.
    for agent in agents[:3]:
        assert login(forge, token=engine.outputs(f"{agent}-token")["token"]) == agent


def test_twenty_agents_at_once(forge, engine):
    ops = engine.concurrent_up(fleet(), workers=8)
    assert set(ops.values()) == {"create"} and len(ops) == len(fleet())
    assert_fleet_correct(forge, engine)
    forge.clear_requests()
    assert set(engine.concurrent_up(fleet(), workers=8).values()) == {"same"}
    assert forge.requests == []


def test_twenty_agents_at_once_with_faults(forge, engine):
    """503s, resets and lost answers scattered over the writes of a concurrent run: the next converges."""
    faults = [
        forge.inject(Fault(method="POST", path_regex=r"^/api/v1/admin/users$", kind="drop_response", times=3)),
        forge.inject(
            Fault(method="POST", path_regex=r"^/api/v1/users/[^/]+/tokens$", kind="status", status=503, times=6)
        ),
        forge.inject(
            Fault(method="POST", path_regex=r"^/api/v1/users/[^/]+/tokens$", kind="drop_response", times=3, skip=4)
        ),
        forge.inject(Fault(method="PUT", path_regex=r"/collaborators/[^/]+$", kind="reset", times=4)),
    ]
    with contextlib.suppress(ProviderError):
        engine.concurrent_up(fleet(), workers=8)
    assert all(f.hits >= 1 for f in faults), [f.hits for f in faults]
    forge.clear_faults()
    engine.concurrent_up(fleet(), workers=8)
    assert_fleet_correct(forge, engine)
    forge.clear_requests()
    assert set(engine.concurrent_up(fleet(), workers=8).values()) == {"same"}
    assert forge.requests == []
