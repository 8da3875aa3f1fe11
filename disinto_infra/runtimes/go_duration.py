"""Durations the way the docker provider reads them back: Go's `time.Duration.String()`.

The provider stores each healthcheck duration as Go prints it, so an input written any other way
(`60s` comes back as `1m0s`) is a diff on every `up`. The program writes each duration with
`go_string` (`of_seconds` for whole seconds); `check` reads a Nomad client's with `parse`.
Why: docs/decisions/healthcheck-durations.md
"""

from __future__ import annotations

import re

_NANOS = {"ns": 1, "us": 10**3, "µs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")


def parse(text: str) -> int:
    """Nanoseconds of a Go duration string (`1m30s`, `500ms`); ValueError if Go would refuse it.
    Signs are not accepted: the provider refuses negative healthcheck durations anyway."""
    if text == "0":
        return 0
    position, total = 0, 0
    for match in _PART.finditer(text):
        if match.start() != position:
            break
        number, unit = match.groups()
        whole, _, fraction = number.partition(".")
        total += int(whole or 0) * _NANOS[unit] + (
            int(fraction) * _NANOS[unit] // 10 ** len(fraction) if fraction else 0
        )
        position = match.end()
    if position != len(text) or not text:
        raise ValueError(f"not a Go duration: {text!r}")
    return total


def go_string(nanos: int) -> str:
    """Go's `Duration.String()` of a non-negative duration: `0s`, `500ms`, `1.5s`, `1m0s`, `1h0m0s`."""
    if nanos == 0:
        return "0s"
    if nanos < 10**9:
        for unit, size in (("ms", 10**6), ("µs", 10**3), ("ns", 1)):
            if nanos >= size:
                return _decimal(nanos, size) + unit
    hours, rest = divmod(nanos, 3600 * 10**9)
    minutes, rest = divmod(rest, 60 * 10**9)
    seconds = _decimal(rest, 10**9) + "s"
    if hours:
        return f"{hours}h{minutes}m{seconds}"
    if minutes:
        return f"{minutes}m{seconds}"
    return seconds


def _decimal(value: int, size: int) -> str:
    whole, fraction = divmod(value, size)
    if not fraction:
        return str(whole)
    digits = str(fraction).rjust(len(str(size)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}"


def of_seconds(value: int) -> str:
    """Whole seconds as the provider reads them back (90 → `1m30s`)."""
    return go_string(value * 10**9)
