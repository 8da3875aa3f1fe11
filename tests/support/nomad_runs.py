"""The recorded plan's fleet (tests/support/record_plan.py) run under mocks on the nomad runtime.

`nomad_run()` and `review_run()` (with a review token) are run once and shared by the read-only
tests; `jobspec(run, agent)` is an agent's Nomad job as the program registers it.
"""

from __future__ import annotations

import json
from functools import cache

from disinto_infra.program.build import build_fleet
from disinto_infra.program.plan import RecordingMocks, run_with_mocks
from tests.support import record_plan

AGENTS = ("llama", "dev-qwen2")
T = {
    "kv": "vault:kv/secretV2:SecretV2",
    "policy": "vault:index/policy:Policy",
    "role": "vault:jwt/authBackendRole:AuthBackendRole",
    "volume": "nomad:index/dynamicHostVolume:DynamicHostVolume",
    "job": "nomad:index/job:Job",
}


def run_fleet(runtime: str = "nomad", mocks: RecordingMocks | None = None, **overrides):
    settings = record_plan.settings(runtime).model_copy(update=overrides)
    fleet = record_plan.fleet()
    formulas = record_plan.formulas(fleet)
    return run_with_mocks(lambda: build_fleet(settings, fleet, "dev", formulas, warn=lambda _: None), mocks=mocks)


@cache
def nomad_run():
    """One run shared by the read-only tests (mocks are quick, but there is no need to repeat)."""
    return run_fleet()


@cache
def review_run():
    return run_fleet(forge_review_token="review-secret-123")


def jobspec(run, agent: str) -> dict:
    return json.loads(run.named(f"{agent}-job").inputs["jobspec"])
