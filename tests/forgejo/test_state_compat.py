"""Stacks made by earlier versions keep working: the engine reads and deletes existing resources with the
provider blob stored in their state, not the one the current program pickles
(docs/decisions/module-paths-frozen-by-state.md: `delete` and `read` use the blob stored in state).

`tests/data/provider_blobs.json` holds the `__provider` of each dynamic resource type as the program
pickled it at commit 56a311d, before the modules moved into packages (issue 20). Those blobs name their
provider class by module path (`disinto_infra.forgejo.user`, …), so those paths must stay importable.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import dill
import pytest
from pulumi.dynamic import ResourceProvider

from tests.support.engine import PROVIDER_KEY
from tests.support.identity import program

RECORDED = json.loads((Path(__file__).parents[1] / "data" / "provider_blobs.json").read_text())["blobs"]


@pytest.mark.parametrize("resource_type", sorted(RECORDED))
def test_recorded_blob_unpickles_to_a_provider(resource_type):
    provider = dill.loads(base64.b64decode(RECORDED[resource_type]))
    assert isinstance(provider, ResourceProvider)
    assert type(provider).__module__.startswith("disinto_infra.forgejo.")


def test_the_program_registers_every_recorded_type():
    """A new dynamic type would need its blob recorded here too; a vanished one breaks old stacks."""
    assert {r.type for r in program("dev-qwen")} == set(RECORDED)


def test_old_blobs_serve_read_and_delete(forge, engine):
    resources = program("dev-qwen")
    engine.up(resources)
    for state in engine.state.values():
        state.outputs[PROVIDER_KEY] = RECORDED[state.type]
    assert set(engine.refresh().values()) == {"same"}
    assert {engine.state[r.name].outputs[PROVIDER_KEY] for r in resources} == set(RECORDED.values())
    ops = engine.destroy()
    assert set(ops.values()) == {"delete"} and engine.state == {}
    assert forge.tokens_of("dev-qwen") == [] and "dev-qwen" not in forge.collaborators_of("johba/disinto")
