"""When a token was made and when it is due: the clock rules of scheduled rotation, in one place.

Forgejo does not say when a token was made (its AccessToken has no time field, swagger v11.0.15),
so the token resource keeps it itself:
- output `created_at`: the ISO UTC time `create` made the token;
- input `issued_at`: filled by the provider's `check` and carried over from the old inputs. The
  engine stores a resource's new inputs even when nothing changes (a same step keeps the old id
  and outputs, not the old inputs: pkg/resource/deploy/step.go, SameStep), so a token made before this
  existed gets "first seen" recorded without any update, and its age counts from there (an
  upgrade never rotates every token at once).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

DAY = timedelta(days=1)


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(value: object) -> datetime | None:
    """An ISO time we wrote (or any ISO time with a zone); None for anything else."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def made_at(outputs: Mapping[str, object], inputs: Mapping[str, object]) -> datetime | None:
    """The token's own creation time if recorded, else when this program first saw it."""
    return parse(outputs.get("created_at")) or parse(inputs.get("issued_at"))


def is_due(made: datetime | None, max_age_days: int, at: datetime) -> bool:
    """Older than its limit (0 = no limit; an unknown age is never due)."""
    return bool(max_age_days) and made is not None and at - made >= max_age_days * DAY


def age_days(made: datetime | None, at: datetime) -> float | None:
    return None if made is None else (at - made) / DAY


def day_stamp(moment: datetime) -> str:
    """`d20261130`: part of a scheduled token's name, so the next one (a day or more later)
    has another name while both exist, and a retry on the same day finds the lost one."""
    return moment.astimezone(UTC).strftime("d%Y%m%d")
