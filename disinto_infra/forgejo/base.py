"""What every Forgejo dynamic provider shares: configuration, and reading engine-shaped values.

The engine hands providers values as they came over the wire: `None` dropped, numbers as floats,
and during a preview values that are not known yet as `Unknown`. These helpers turn them back
into what the providers compare.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from pulumi.dynamic import ConfigureRequest, ResourceProvider
from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN

from disinto_infra.forgejo import connection

# The property dicts the engine passes to and takes from a dynamic provider. Any, because
# pulumi.dynamic.ResourceProvider (pulumi 3.272.0, pulumi/dynamic/dynamic.py: check, diff, create,
# read, update, delete, and CheckResult/CreateResult/ReadResult/UpdateResult) types them
# `dict[str, Any]`: a value is whatever the engine deserialised (None dropped, numbers as floats,
# `Unknown` in a preview). Read a field through `as_int`, `is_unknown` or a state class's
# `from_props` / `from_outputs`, never by trusting its type.
Props = dict[str, Any]


def is_unknown(value: object) -> bool:
    return isinstance(value, Unknown) or value == UNKNOWN


def as_int(value: object, default: int = 0) -> int:
    """An integer from an engine value (3.0 → 3); absent → default."""
    if value is None or is_unknown(value):
        return default
    if isinstance(value, (int, float, str)):
        return int(value)
    raise TypeError(f"expected a number, not {type(value).__name__}")


def differs(old: object, new: object) -> bool:
    """A change as a diff must see it; an unknown new value may be a change."""
    return is_unknown(new) or old != new


def int_differs(old: object, new: object) -> bool:
    """`differs` for counters, which come back from the engine as floats."""
    return is_unknown(new) or as_int(old) != as_int(new)


def user_recreated(olds: Props, news: Props) -> bool:
    """The owning user was deleted and made again (new id): Forgejo dropped its tokens and grants.

    An unknown id (a preview while the user is being updated) is not taken as a new user: a
    password rotation would otherwise preview as a token replacement. `up` decides on known ids.
    """
    new = news.get("user_id")
    return new is not None and not is_unknown(new) and as_int(olds.get("user_id")) != as_int(new)


class ForgejoProvider(ResourceProvider):
    """Base of our providers. Holds no attributes: the object is pickled into the state."""

    def configure(self, req: ConfigureRequest) -> None:
        connection.configure(req.config)


def args_props(args: object) -> Props:
    """A resource's props from its args dataclass, values untouched (`asdict` would deep-copy Outputs)."""
    return {f.name: getattr(args, f.name) for f in fields(args)}  # type: ignore[arg-type]
