"""Token ages for `check`: each agent's token in the state, against its limit (token_age.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from disinto_infra import naming
from disinto_infra.commands.check.facts import TokenAgeFacts
from disinto_infra.config.stack_settings import StackSettings
from disinto_infra.forgejo import token_age
from disinto_infra.forgejo.identity import token_max_age
from disinto_infra.model_servers.capacity import Placed
from disinto_infra.parsed import JsonObject, object_or_empty

TOKEN_TYPE = "pulumi-python:dynamic/forgejo:Token"


def _by_name(resources: Sequence[JsonObject]) -> dict[str, JsonObject]:
    """Token resources by logical name (the URN's last `::` part)."""
    return {str(r.get("urn", "")).rsplit("::", 1)[-1]: r for r in resources if r.get("type") == TOKEN_TYPE}


def token_ages(
    resources: Sequence[JsonObject], agents: Sequence[Placed], settings: StackSettings, at: datetime
) -> tuple[TokenAgeFacts, ...]:
    tokens = _by_name(resources)
    facts = []
    for placed in agents:
        limit = token_max_age(placed.spec, settings)
        found = tokens.get(naming.child_names(placed.spec.name).token)
        made = (
            token_age.made_at(object_or_empty(found.get("outputs")), object_or_empty(found.get("inputs")))
            if found
            else None
        )
        age = token_age.age_days(made, at)
        due = None if made is None else token_age.is_due(made, limit or 0, at)
        facts.append(
            TokenAgeFacts(
                placed.spec.name,
                token_age.iso(made) if made else None,
                None if age is None else round(age, 1),
                limit,
                due,
            )
        )
    return tuple(facts)
