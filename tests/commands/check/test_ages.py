"""check.ages: each agent's token from the exported state, against its limit."""

from __future__ import annotations

from datetime import UTC, datetime

from disinto_infra.commands.check.ages import TOKEN_TYPE, token_ages
from disinto_infra.config.project_toml import AgentSpec
from disinto_infra.config.stack_settings import StackSettings
from disinto_infra.model_servers.capacity import Placed

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def token(name: str, outputs: dict, inputs: dict | None = None) -> dict:
    urn = f"urn:pulumi:dev::disinto::disinto:index:Agent$pulumi-python:dynamic/forgejo:Token::{name}-token"
    return {"urn": urn, "type": TOKEN_TYPE, "outputs": outputs, "inputs": inputs or {}}


def test_ages_limits_and_unknowns(tmp_path):
    agents = [
        Placed("p.toml", AgentSpec(name=n, base_url="http://s:1", model="m", **extra))
        for n, extra in (("a", {"token_max_age_days": 30}), ("b", {}), ("c", {}), ("d", {}))
    ]
    resources = [
        token("a", {"created_at": "2026-10-30T12:00:00Z"}),
        token("b", {}, {"issued_at": "2026-11-29T00:00:00Z"}),  # made before ages were recorded
        token("c", {"created_at": "2026-11-30T00:00:00Z"}),
        {"urn": "urn:pulumi:dev::disinto::docker:index/volume:Volume::d-token", "type": "docker:index/volume:Volume"},
    ]
    settings = StackSettings.from_mapping({"tokenMaxAgeDays": 90}, tmp_path)
    a, b, c, d = token_ages(resources, agents, settings, NOW)
    assert (a.age_days, a.max_age_days, a.due) == (31.0, 30, True)
    assert (b.made_at, b.age_days, b.max_age_days, b.due) == ("2026-11-29T00:00:00Z", 1.5, 90, False)
    assert (c.age_days, c.due) == (0.5, False)
    assert (d.made_at, d.age_days, d.due) == (None, None, None)
    never = token_ages(resources, agents[1:2], StackSettings.from_mapping({}, tmp_path), NOW)[0]
    assert (never.max_age_days, never.due) == (None, False)
