"""Values parsed from what we did not write: JSON replies, TOML, YAML and HCL files, stack config.

Such a value is typed `object` and narrowed where it is read, so mypy makes every reader check the
shape before trusting it. `Any` is written only where a Pulumi signature forces it, and says so
there (`forgejo.base.Props` is the main one).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

# A JSON object, a TOML table, a YAML mapping: keys are strings, values unchecked.
JsonObject = dict[str, object]


def as_object(value: object) -> JsonObject | None:
    """`value` when it is an object/table, else None.

    The keys are typed as strings: JSON objects and TOML tables have no other kind. A YAML mapping
    may hold others (`1: x`); a reader that looks keys up by string just does not find them.
    """
    return cast(JsonObject, value) if isinstance(value, dict) else None


def object_or_empty(value: object) -> JsonObject:
    """`value` when it is an object/table, else an empty one (for "absent means nothing")."""
    found = as_object(value)
    return found if found is not None else {}


def objects(value: object) -> list[JsonObject]:
    """The objects of a list (others skipped); [] when `value` is no list."""
    if not isinstance(value, list):
        return []
    return [cast(JsonObject, item) for item in value if isinstance(item, dict)]


def strings(value: object) -> list[str]:
    """The strings of a list (others skipped); [] when `value` is no list."""
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def text(body: Mapping[str, object], key: str) -> str | None:
    """A string field, or None when it is absent or not a string."""
    value = body.get(key)
    return value if isinstance(value, str) else None


def text_or(body: Mapping[str, object], key: str, default: str) -> str:
    """A string field; `default` when it is absent or not a string."""
    found = text(body, key)
    return default if found is None else found


def whole(body: Mapping[str, object], key: str) -> int | None:
    """An integer field (a float with no fraction counts: JSON has one number type), else None."""
    value = body.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None
