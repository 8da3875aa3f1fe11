"""token_age: the clock rules of scheduled rotation."""

from __future__ import annotations

from datetime import UTC, datetime

from disinto_infra.forgejo import token_age

MADE = datetime(2026, 11, 1, 23, 59, tzinfo=UTC)


def test_iso_round_trip_and_garbage():
    assert token_age.iso(MADE) == "2026-11-01T23:59:00Z"
    assert token_age.parse("2026-11-01T23:59:00Z") == MADE
    assert token_age.parse("2026-11-01T23:59:00") == MADE  # no zone: UTC
    assert [token_age.parse(v) for v in ("", None, "yesterday", 5)] == [None] * 4


def test_made_at_prefers_the_recorded_creation():
    assert token_age.made_at({"created_at": "2026-11-01T23:59:00Z"}, {"issued_at": "2020-01-01T00:00:00Z"}) == MADE
    assert token_age.made_at({"created_at": ""}, {"issued_at": "2026-11-01T23:59:00Z"}) == MADE
    assert token_age.made_at({}, {}) is None


def test_due_at_exactly_its_limit_never_without_one():
    at = datetime(2026, 11, 8, 23, 59, tzinfo=UTC)
    assert token_age.is_due(MADE, 7, at) and not token_age.is_due(MADE, 8, at)
    assert not token_age.is_due(MADE, 0, at) and not token_age.is_due(None, 7, at)
    assert token_age.age_days(MADE, at) == 7.0 and token_age.age_days(None, at) is None


def test_a_successor_has_another_day_in_its_name():
    # A limit is at least one day: the successor is made on a later UTC day than the token it replaces.
    successor = datetime(2026, 11, 2, 23, 59, tzinfo=UTC)
    assert token_age.is_due(MADE, 1, successor)
    assert token_age.day_stamp(MADE) == "d20261101" != token_age.day_stamp(successor)
