"""The Pulumi SDK internals that `plan` needs, in one place.

`plan` runs the program in-process under mocks and waits for every registration; the public
`pulumi.runtime.set_mocks` covers the mocks, not the waiting, the reset between runs, or a monitor
that sees each registration's options. These names are private to the SDK and may change in any
release: `CHECKED_AGAINST` is the version they were read from, and tests/program/test_sdk_internals.py
fails when the installed SDK is another, so that a bump of the pin re-reads them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from pulumi.runtime import mocks as _mocks
from pulumi.runtime import settings as _settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

CHECKED_AGAINST = "3.272.0"

T = TypeVar("T")

# The SDK's monitor of mocks: `plan` subclasses it to record each registration with its options.
MockMonitor = _mocks.MockMonitor
ResourceRegistration = _mocks.MockMonitor.ResourceRegistration


def wait_for(awaitable: Awaitable[T]) -> T:
    """Run an awaitable to its end on the SDK's own event loop (the SDK's tests do the same)."""
    result: T = _sync_await(awaitable)
    return result


def ensure_event_loop() -> None:
    """A registration runs in an executor thread, which has no event loop until given one."""
    _ensure_event_loop()  # type: ignore[no-untyped-call]


def fresh_run() -> None:
    """Forget the previous in-process run: its root Stack and the outputs it still waits for."""
    _settings.ROOT.set(None)
    _settings.SETTINGS.outputs.clear()


def root_resource() -> object:
    return _settings.get_root_resource()


def run_program(body: Callable[[], None]) -> None:
    """Run a program's body as the engine's language host would, and wait for every output."""
    wait_for(run_pulumi_func(body))
