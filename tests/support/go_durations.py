"""What the docker provider's read makes of a duration the program wrote: Go's ParseDuration, then
Duration.String() (runtimes/go_duration.py has both halves; only the tests need them together)."""

from __future__ import annotations

from disinto_infra.runtimes.go_duration import go_string, parse


def read_back(text: str) -> str:
    """What the provider's read stores for a duration the program wrote."""
    return go_string(parse(text))
