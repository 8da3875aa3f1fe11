"""A stack's registrations are held to its recorded plan, byte for byte (tests/support/record_plan.py)."""

import difflib

import pytest

from tests.support import record_plan
from tests.support.record_plan import RUNTIMES, golden_path, record


@pytest.mark.parametrize("runtime", sorted(RUNTIMES))
def test_plan_equals_the_recorded_one(runtime):
    expected = golden_path(runtime).read_text(encoding="utf-8")
    got = record(runtime)
    diff = "".join(
        difflib.unified_diff(
            expected.splitlines(True), got.splitlines(True), str(golden_path(runtime)), "this program", n=2
        )
    )
    # A deliberate change: `python -m tests.support.record_plan`, committed alone with its reason.
    assert got == expected, f"the {runtime} plan moved:\n{diff[:6000]}"


def test_runtime_docker_said_explicitly_is_the_default(monkeypatch):
    monkeypatch.setitem(record_plan.RUNTIMES, "docker", {"runtime": "docker"})
    assert record("docker") == golden_path("docker").read_text(encoding="utf-8")
