"""Tests of the engine harness (tests/support/engine.py), driven through tests/support/toy_provider.py."""

import base64
import json
import os
import subprocess
import sys

import pytest

from tests.support.engine import REPO_ROOT, UNKNOWN, CheckFailedError, Engine, Host, ProviderError, Ref, Res, Secret
from tests.support.toy_provider import OtherToyProvider, ToyProvider

pytestmark = pytest.mark.timeout(60)

CONFIG = {"disinto:greeting": "hello", "disinto:secretThing": Secret("s3cr3t")}


@pytest.fixture(scope="module")
def host():
    with Host(CONFIG) as h:
        yield h


@pytest.fixture
def log(tmp_path):
    return tmp_path / "calls.jsonl"


@pytest.fixture
def engine(host):
    return Engine(host)


def toy(name, log, inputs=None, provider=None, **opts):
    return Res(name, provider or ToyProvider(), {"label": name, "log": str(log), **(inputs or {})}, **opts)


def entries(log, method=None, label=None):
    if not log.exists():
        return []
    out = [json.loads(line) for line in log.read_text().splitlines()]
    return [e for e in out if (method is None or e["m"] == method) and (label is None or e["label"] == label)]


def methods(calls):
    return [m for m, _ in calls]


def test_create_same_update_replace_create_before_delete(engine, log):
    assert engine.up([toy("a", log, {"v": 1, "replace_on": ["k"], "k": "x"})]) == {"a": "create"}
    assert methods(engine.last_run_calls()) == ["Check", "Create"]
    first_id = engine.state["a"].id
    assert engine.outputs("a")["v"] == 1.0 and engine.outputs("a")["greeting"] == "hello"

    assert engine.up([toy("a", log, {"v": 1, "replace_on": ["k"], "k": "x"})]) == {"a": "same"}
    assert methods(engine.last_run_calls()) == ["Check", "Diff"]

    assert engine.up([toy("a", log, {"v": 2, "replace_on": ["k"], "k": "x"})]) == {"a": "update"}
    assert methods(engine.last_run_calls()) == ["Check", "Diff", "Update"]
    assert engine.state["a"].id == first_id and engine.outputs("a")["v"] == 2.0
    assert entries(log, "update")[-1]["old_seq"] == engine.outputs("a")["seq"]  # update got old outputs

    assert engine.up([toy("a", log, {"v": 2, "replace_on": ["k"], "k": "y"})]) == {"a": "replace"}
    # Check, Diff, the replacement's second Check (no olds), Create; the old is deleted at the end.
    assert methods(engine.last_run_calls()) == ["Check", "Diff", "Check", "Create", "Delete"]
    assert entries(log, "check")[-1]["olds"] == []
    new_id = engine.state["a"].id
    assert new_id != first_id
    tail = [(e["m"], e.get("id")) for e in entries(log) if e["m"] in ("create", "delete")][-2:]
    assert tail == [("create", new_id), ("delete", first_id)]
    assert engine.pending_deletes == []


def test_delete_before_replace_option_and_provider_answer(engine, log):
    base = {"replace_on": ["k"], "k": "x"}
    engine.up([toy("a", log, base, delete_before_replace=True)])
    old = engine.state["a"].id
    engine.up([toy("a", log, {**base, "k": "y"}, delete_before_replace=True)])
    assert methods(engine.last_run_calls()) == ["Check", "Diff", "Check", "Delete", "Create"]
    tail = [(e["m"], e.get("id")) for e in entries(log) if e["m"] in ("create", "delete")][-2:]
    assert tail == [("delete", old), ("create", engine.state["a"].id)]

    engine.up([toy("b", log, {**base, "dbr": True})])  # the provider asks for delete-before-replace
    engine.up([toy("b", log, {**base, "dbr": True, "k": "y"})])
    assert methods(engine.last_run_calls()) == ["Check", "Diff", "Check", "Delete", "Create"]
    # ...and an explicit delete_before_replace=False overrides the provider.
    engine.up([toy("b", log, {**base, "dbr": True, "k": "z"}, delete_before_replace=False)])
    assert methods(engine.last_run_calls()) == ["Check", "Diff", "Check", "Create", "Delete"]


def test_removed_resources_deleted_dependents_first_and_retain_on_delete(engine, log):
    engine.up(
        [
            toy("a", log),
            toy("b", log, {"up": Ref("a", "seq")}),
            toy("c", log, depends_on=["b"]),
            toy("kept", log, retain_on_delete=True),
        ]
    )
    ops = engine.up([])
    assert ops == {"a": "delete", "b": "delete", "c": "delete", "kept": "delete"}
    assert engine.last_run_calls() == [("Delete", "c"), ("Delete", "b"), ("Delete", "a")]
    assert [e["label"] for e in entries(log, "delete")] == ["c", "b", "a"]
    assert engine.state == {}


def test_destroy_in_reverse_dependency_order_honours_retain(engine, log):
    engine.up([toy("a", log), toy("b", log, {"up": Ref("a", "seq")}), toy("r", log, retain_on_delete=True)])
    engine.destroy()
    assert engine.last_run_calls() == [("Delete", "b"), ("Delete", "a")]
    assert engine.state == {}


def test_refresh_drops_gone_object_and_next_up_recreates_it(engine, log):
    engine.up([toy("a", log), toy("b", log)])
    gone = engine.state["a"].id
    (log.parent / (log.name + ".gone")).write_text(gone + "\n")
    assert engine.refresh() == {"a": "delete", "b": "same"}
    assert methods(engine.last_run_calls()) == ["Read", "Read"]
    assert "a" not in engine.state and "b" in engine.state
    assert engine.up([toy("a", log), toy("b", log)]) == {"a": "create", "b": "same"}


def test_wire_encoding_floats_and_dropped_nones(engine, log):
    engine.up([toy("a", log, {"count": 3, "maybe": None, "nested": {"n": 1, "x": None}, "items": [1, 2]})])
    created = entries(log, "create")[-1]
    assert created["types"]["count"] == "float"
    assert "maybe" not in created["keys"]
    outs = engine.outputs("a")
    assert outs["count"] == 3.0 and isinstance(outs["count"], float)
    assert outs["nested"] == {"n": 1.0} and outs["items"] == [1.0, 2.0]
    assert "maybe" not in engine.state["a"].inputs and "maybe" not in outs


def test_secrets_stay_secret_through_refs_and_reach_provider_plain(engine, log):
    engine.up(
        [
            toy("a", log, additional_secret_outputs=["token"]),
            toy("b", log, {"upstream": Ref("a", "token"), "pw": Secret("hunter2"), "plain": "p"}),
        ]
    )
    assert "token" in engine.state["a"].secret_outputs and "seq" not in engine.state["a"].secret_outputs
    b = engine.state["b"]
    assert {"upstream", "pw"} <= b.secret_inputs and "plain" not in b.secret_inputs
    assert {"upstream", "pw"} <= b.secret_outputs and "plain" not in b.secret_outputs
    assert engine.outputs("b")["upstream"] == engine.outputs("a")["token"]
    types = entries(log, "create", "b")[-1]["types"]
    assert types["upstream"] == "str" and types["pw"] == "str"  # the engine strips secrets for this host


def test_preview_calls_only_check_and_diff_and_passes_unknowns(engine, log):
    decl = [toy("a", log, {"v": 1}), toy("b", log, {"up_seq": Ref("a", "seq"), "up_label": Ref("a", "label")})]
    assert engine.preview(decl) == {"a": "create", "b": "create"}
    assert methods(engine.last_run_calls()) == ["Check", "Check"]
    b_check = entries(log, "check", "b")[-1]
    assert b_check["unknown"] == ["up_seq"]  # an output that is not an input is unknown; inputs are known
    assert engine.state == {}

    engine.up([*decl, toy("gone", log)])
    assert engine.preview([toy("a", log, {"v": 2}), decl[1]]) == {"a": "update", "b": "update", "gone": "delete"}
    assert set(methods(engine.last_run_calls())) == {"Check", "Diff"}
    assert entries(log, "check", "b")[-1]["unknown"] == ["up_seq"]
    assert engine.preview([*decl, toy("gone", log)]) == {"a": "same", "b": "same", "gone": "same"}


def test_targeted_replace_skips_diff(engine, log):
    engine.up([toy("a", log, {"v": 1})])
    old = engine.state["a"].id
    assert engine.preview([toy("a", log, {"v": 1}, replace=True)]) == {"a": "replace"}
    assert methods(engine.last_run_calls()) == ["Check"]
    assert engine.up([toy("a", log, {"v": 1}, replace=True)]) == {"a": "replace"}
    assert methods(engine.last_run_calls()) == ["Check", "Create", "Delete"]
    assert entries(log, "check")[-1]["olds"] == []
    assert entries(log, "delete")[-1]["id"] == old and engine.state["a"].id != old


def test_diff_unknown_falls_back_to_input_comparison_including_provider(engine, log):
    engine.up([toy("a", log, {"diff_unknown": True, "v": 1})])
    assert engine.up([toy("a", log, {"diff_unknown": True, "v": 1})]) == {"a": "same"}
    assert engine.up([toy("a", log, {"diff_unknown": True, "v": 2})]) == {"a": "update"}
    # Same inputs, another provider class: only `__provider` differs, and that is an update.
    assert engine.up([toy("a", log, {"diff_unknown": True, "v": 2}, provider=OtherToyProvider())]) == {"a": "update"}


def test_failures_keep_partial_progress(engine, host, log):
    with pytest.raises(ProviderError) as err:
        engine.up([toy("a", log, {"v": 1, "stderr": "hello from toy"}), toy("b", log, {"fail_create": True})])
    assert (err.value.method, err.value.name) == ("Create", "b")
    assert "fail_create requested" in err.value.details
    assert set(engine.state) == {"a"}
    assert "hello from toy" in host.stderr_text()

    with pytest.raises(ProviderError) as err:
        engine.up([toy("a", log, {"v": 2, "fail_update": True})])
    assert err.value.method == "Update" and engine.outputs("a")["v"] == 1.0

    with pytest.raises(CheckFailedError):
        engine.up([toy("a", log, {"v": 1, "fail_check": True})])
    assert engine.outputs("a")["v"] == 1.0


def test_failed_delete_of_replaced_object_stays_pending(engine, log):
    engine.up([toy("a", log, {"replace_on": ["k"], "k": "x", "fail_delete": True})])
    old = engine.state["a"].id
    with pytest.raises(ProviderError) as err:
        engine.up([toy("a", log, {"replace_on": ["k"], "k": "y", "fail_delete": True})])
    assert err.value.method == "Delete"
    assert engine.state["a"].id != old
    assert [p.id for p in engine.pending_deletes] == [old]


def test_concurrent_up_runs_independent_resources_in_parallel(engine, log):
    decl = [toy(f"r{i}", log, {"sleep": 0.3}) for i in range(8)]
    decl.append(toy("dep", log, {"up": Ref("r0", "seq")}))
    ops = engine.concurrent_up(decl, workers=8)
    assert set(ops.values()) == {"create"} and len(ops) == 9
    creates = {e["label"]: e for e in entries(log, "create")}
    spans = sorted((e["t0"], e["t1"]) for label, e in creates.items() if label != "dep")
    overlap = max(sum(1 for a, b in spans if a <= t < b) for t, _ in spans)
    assert overlap >= 2, spans  # the host serves up to 4 calls at once
    assert creates["dep"]["t0"] >= creates["r0"]["t1"]
    assert engine.outputs("dep")["up"] == engine.outputs("r0")["seq"]


def test_configure_value_reaches_provider_configure(engine, host, log):
    assert host.accept_secrets is False
    engine.up([toy("a", log)])
    assert entries(log, "create")[-1]["config"] == {"greeting": "hello", "secretThing": "s3cr3t"}


def test_provider_blob_is_identical_across_processes():
    code = (
        "from pulumi.dynamic.dynamic import serialize_provider\n"
        "from tests.support.toy_provider import ToyProvider\n"
        "print(serialize_provider(ToyProvider()))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    blobs = [
        subprocess.run(
            [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, check=True, capture_output=True, text=True
        ).stdout.strip()
        for _ in range(2)
    ]
    assert blobs[0] == blobs[1]
    raw = base64.b64decode(blobs[0])
    assert b"tests.support.toy_provider" in raw and len(raw) < 200  # pickled by reference


def test_unknown_sentinel_is_the_sdk_one():
    assert UNKNOWN == "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def dependents_of_a(log, k="x"):
    """a (delete-before-replace on k) ← b, c, f by property, d ← b, e by depends_on only."""
    return [
        toy("a", log, {"replace_on": ["k"], "k": k, "dbr": True}),
        toy("b", log, {"up": Ref("a", "seq"), "replace_on": ["up"]}),
        toy("c", log, {"up": Ref("a", "seq")}),  # its diff wants an update, not a replacement
        toy("d", log, {"up": Ref("b", "seq"), "replace_on": ["up"]}),  # through b
        toy("e", log, depends_on=["a"]),  # no input from a: never asked
        toy("f", log, {"up": Ref("a", "seq"), "replace_on": ["up"]}, retain_on_delete=True),
    ]


def test_delete_before_replace_first_deletes_the_dependents_that_must_be_replaced(engine, log):
    """The engine's calculateDependentReplacements (pulumi/pulumi pkg/resource/deploy/step_generator.go)."""
    engine.up(dependents_of_a(log))
    planned = engine.preview(dependents_of_a(log, k="y"))
    assert [m for m, _ in engine.last_run_calls() if m in ("Create", "Delete", "Update")] == []
    ops = engine.up(dependents_of_a(log, k="y"))
    assert (
        ops == planned == {"a": "replace", "b": "replace", "c": "update", "d": "replace", "e": "same", "f": "replace"}
    )
    calls = engine.last_run_calls()
    first_delete = calls.index(("Delete", "d"))
    # Each dependent with an input from the replaced set is asked Diff with those inputs unknown.
    asked = [n for m, n in calls[:first_delete] if m == "Diff" and n != "a"]
    assert sorted(asked) == ["b", "c", "d", "f"]
    assert [e["changed"] for e in entries(log, "diff", "b")][-1] == ["up"]
    # Dependents first, the retained one skipped, then the root; then the creates in program order.
    assert [c for c in calls if c[0] == "Delete"] == [("Delete", "d"), ("Delete", "b"), ("Delete", "a")]
    writes = [c for c in calls if c[0] in ("Create", "Update")]
    assert writes == [("Create", "a"), ("Create", "b"), ("Update", "c"), ("Create", "d"), ("Create", "f")]
    # Re-created dependents skip Diff after the root's create (the engine's "recreating" step).
    after = calls[calls.index(("Create", "a")) :]
    assert ("Diff", "b") not in after and ("Diff", "d") not in after and ("Diff", "c") in after
    assert engine.outputs("b")["up"] == engine.outputs("a")["seq"] and engine.pending_deletes == []
    assert set(engine.up(dependents_of_a(log, k="y")).values()) == {"same"}


def test_create_before_delete_replacement_deletes_no_dependent_early(engine, log):
    decl = dependents_of_a(log)
    decl[0].inputs.pop("dbr")
    engine.up(decl)
    decl = dependents_of_a(log, k="y")
    decl[0].inputs.pop("dbr")
    ops = engine.up(decl)
    assert ops["a"] == "replace" and ops["b"] == "replace" and ops["c"] == "update"
    calls = engine.last_run_calls()
    assert calls.index(("Create", "a")) < calls.index(("Delete", "b"))  # deletes only at the end


def test_replace_on_changes_acts_only_where_the_engine_knows_the_changed_keys(engine, log):
    # The dynamic host's Diff names no changed keys: only the engine's own (legacy) diff can match them.
    engine.up(
        [
            toy("a", log, {"diff_unknown": True, "v": 1}, replace_on_changes=["v"]),
            toy("b", log, {"v": 1}, replace_on_changes=["v"]),
        ]
    )
    ops = engine.up(
        [
            toy("a", log, {"diff_unknown": True, "v": 2}, replace_on_changes=["v"]),
            toy("b", log, {"v": 2}, replace_on_changes=["v"]),
        ]
    )
    assert ops == {"a": "replace", "b": "update"}
