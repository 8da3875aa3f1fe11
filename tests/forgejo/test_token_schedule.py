"""Scheduled token rotation (`max_age_days`) through the real provider host, driven like the engine.

The clock is the provider host's own: a token "made long ago" is one whose state says so, which
is how the engine would hand it to `diff` (old outputs) and `check` (old inputs).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from disinto_infra.forgejo import token_age
from tests.support.engine import ProviderError
from tests.support.forge_login import assert_identity_works, login
from tests.support.identity import identity

LONG_AGO = "2020-01-01T00:00:00Z"


def fleet(*agents: str, max_age: int | None = 30) -> list:
    """The identities of `agents`, each token with `max_age_days`."""
    resources = [r for agent in agents for r in identity(agent)]
    for res in resources:
        if res.name.endswith("-token") and max_age is not None:
            res.inputs["max_age_days"] = max_age
    return resources


def made_days_ago(forge, engine, agent: str, days: float) -> None:
    """Make the token `days` old, as both sides would hold it: its creation and first-seen
    times in the engine's state, and the day in its name in Forgejo and in the state."""
    made = token_age.now() - timedelta(days=days)
    state = engine.state[f"{agent}-token"]
    state.outputs["created_at"] = state.inputs["issued_at"] = token_age.iso(made)
    if "-d20" in state.outputs["token_name"]:
        renamed = state.outputs["token_name"].rsplit("-", 1)[0] + "-" + token_age.day_stamp(made)
        with forge.state.lock:
            forge.state.tokens[int(state.id)]["name"] = renamed
        state.outputs["token_name"] = renamed


def sent(forge) -> list[tuple[str, str]]:
    return [(r.method, r.path.split("/")[-1]) for r in forge.requests]


def test_a_scheduled_token_records_when_it_was_made_and_its_day(forge, engine):
    engine.up(fleet("dev-qwen"))
    token = engine.outputs("dev-qwen-token")
    made = token_age.parse(token["created_at"])
    assert made is not None and token_age.now() - made < timedelta(minutes=5)
    assert token["token_name"].endswith("-" + token_age.day_stamp(made))
    assert engine.state["dev-qwen-token"].inputs["issued_at"]


def test_an_expired_token_is_replaced_new_before_old_and_a_rerun_sends_nothing(forge, engine):
    engine.up(fleet("dev-qwen", "dev-qwen2"))
    made_days_ago(forge, engine, "dev-qwen", 31)
    old = engine.outputs("dev-qwen-token")
    other_before = {n: engine.outputs(n) for n in engine.state if n.startswith("dev-qwen2")}
    forge.clear_requests()

    planned = engine.preview(fleet("dev-qwen", "dev-qwen2"))
    assert forge.requests == []
    assert planned["dev-qwen-token"] == "replace"
    assert {n: op for n, op in planned.items() if n != "dev-qwen-token"} == {
        n: "same" for n in planned if n != "dev-qwen-token"
    }

    assert engine.up(fleet("dev-qwen", "dev-qwen2")) == planned
    assert sent(forge) == [("POST", "tokens"), ("DELETE", str(int(old["token_id"])))]
    new = engine.outputs("dev-qwen-token")
    assert new["token_name"] != old["token_name"] and new["created_at"] != LONG_AGO
    assert login(forge, token=old["token"]) == 401
    assert_identity_works(forge, engine, "dev-qwen")
    # No other agent's resources changed.
    assert {n: engine.outputs(n) for n in other_before} == other_before

    forge.clear_requests()
    assert set(engine.up(fleet("dev-qwen", "dev-qwen2")).values()) == {"same"}
    assert forge.requests == []


def test_a_token_within_its_limit_is_untouched(forge, engine):
    engine.up(fleet("dev-qwen"))
    made_days_ago(forge, engine, "dev-qwen", 29)
    before = engine.outputs("dev-qwen-token")
    forge.clear_requests()
    assert set(engine.preview(fleet("dev-qwen")).values()) == {"same"}
    assert set(engine.up(fleet("dev-qwen")).values()) == {"same"}
    assert forge.requests == [] and engine.outputs("dev-qwen-token") == before


def test_without_a_limit_age_does_not_matter(forge, engine):
    engine.up(fleet("dev-qwen", max_age=None))
    assert "-d20" not in engine.outputs("dev-qwen-token")["token_name"]
    made_days_ago(forge, engine, "dev-qwen", 3650)
    forge.clear_requests()
    assert set(engine.up(fleet("dev-qwen", max_age=None)).values()) == {"same"}
    assert forge.requests == []


def test_tokens_from_before_the_upgrade_count_from_first_sight(forge, engine):
    """State written before `created_at` existed: no surprise rotation, the age starts now."""
    engine.up(fleet("dev-qwen", max_age=None))
    state = engine.state["dev-qwen-token"]
    del state.outputs["created_at"], state.inputs["issued_at"]
    forge.clear_requests()
    assert set(engine.up(fleet("dev-qwen", max_age=1)).values()) == {"same"}
    assert forge.requests == []
    first_seen = token_age.parse(engine.state["dev-qwen-token"].inputs["issued_at"])
    assert first_seen is not None and token_age.now() - first_seen < timedelta(minutes=5)
    # Carried over, not renewed, on later runs.
    assert engine.up(fleet("dev-qwen", max_age=1))["dev-qwen-token"] == "same"
    assert token_age.parse(engine.state["dev-qwen-token"].inputs["issued_at"]) == first_seen
    # The next in-place update (a password rotation) writes it down as the token's created_at.
    resources = fleet("dev-qwen", max_age=1)
    resources[0].inputs["password_rotation"] = 1
    assert engine.up(resources)["dev-qwen-token"] == "update"
    assert token_age.parse(engine.outputs("dev-qwen-token")["created_at"]) == first_seen


def test_a_legacy_token_past_its_limit_since_first_sight_rotates(forge, engine):
    engine.up(fleet("dev-qwen", max_age=None))
    state = engine.state["dev-qwen-token"]
    del state.outputs["created_at"]
    state.inputs["issued_at"] = LONG_AGO
    old = engine.outputs("dev-qwen-token")
    forge.clear_requests()
    assert engine.up(fleet("dev-qwen", max_age=7))["dev-qwen-token"] == "replace"
    assert sent(forge) == [("POST", "tokens"), ("DELETE", str(int(old["token_id"])))]
    assert_identity_works(forge, engine, "dev-qwen")


def test_a_bad_limit_fails_in_check_without_a_request(forge, engine):
    forge.clear_requests()
    with pytest.raises(ProviderError, match="max_age_days must be a positive whole number of days"):
        engine.up(fleet("dev-qwen", max_age=0))
    assert [r for r in forge.requests if "tokens" in r.path] == []
