"""The SDK internals `plan` relies on (program/sdk_internals.py) are still there, and were read from
the SDK installed: a new pin fails here first, so that someone reads them again."""

from __future__ import annotations

import inspect
import re
from importlib import metadata
from pathlib import Path

from disinto_infra.program import sdk_internals
from disinto_infra.program.plan import Exported, RecordingMonitor, run_with_mocks

ROOT = Path(__file__).resolve().parents[2]


def test_the_internals_were_read_from_the_installed_and_pinned_sdk():
    pinned = re.search(r'"pulumi==([^"]+)"', (ROOT / "pyproject.toml").read_text())
    assert pinned is not None
    assert metadata.version("pulumi") == pinned.group(1) == sdk_internals.CHECKED_AGAINST, (
        "the Pulumi SDK changed: read the internals in disinto_infra/program/sdk_internals.py against it, "
        "then set CHECKED_AGAINST"
    )


def test_the_internals_have_the_shapes_the_adapter_uses():
    assert sdk_internals.ResourceRegistration._fields == ("urn", "id", "state")
    assert list(inspect.signature(sdk_internals.MockMonitor.RegisterResource).parameters) == ["self", "request"]
    assert issubclass(RecordingMonitor, sdk_internals.MockMonitor)


def test_runs_in_one_process_do_not_see_each_other():
    """fresh_run forgets the previous run's root Stack and its outputs still waited for."""
    import pulumi

    def program() -> str:
        pulumi.export("answer", 42)
        return "ran"

    first = run_with_mocks(program)
    second = run_with_mocks(lambda: "nothing exported")
    assert (first.result, first.exports) == ("ran", {"answer": Exported(42, secret=False)})
    assert (second.result, second.exports) == ("nothing exported", {})
