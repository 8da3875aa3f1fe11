"""check.servers: grouping agents by server, judging what a probe found, hire's room rule."""
from __future__ import annotations

from pathlib import Path

from disinto_infra.check.servers import Placed, Room, assignments, judge, over_capacity, room_for, sharing
from disinto_infra.model import AgentSpec
from disinto_infra.model_server import ServerProbe, ServerState

QWEN = ("Qwen3.5-35B-A3B", "/models/Qwen3.5-35B-A3B-UD-Q4_K_XL.gguf")


def placed(name: str, url: str = "http://10.0.0.1:8081", model: str = "unsloth/Qwen3.5-35B-A3B", **extra) -> Placed:
    return Placed("p.toml", AgentSpec(name=name, base_url=url, model=model, **extra))


def test_agents_group_by_server_ignoring_a_trailing_slash():
    groups = assignments([placed("a", api_key="k1"), placed("b", "http://10.0.0.1:8081/"), placed("c", "http://other:1")])
    assert [(g.base_url, g.api_key, [p.spec.name for p in g.agents]) for g in groups] == [
        ("http://10.0.0.1:8081", "k1", ["a", "b"]), ("http://other:1", "sk-no-key-required", ["c"])]


def test_judge_names_crowding_and_the_wrong_model():
    group = assignments([placed("a"), placed("b"), placed("c", model="meta/Llama-3.3-70B")])[0]
    facts = judge(group, ServerProbe(group.base_url, ServerState.OK, models=QWEN, slots=2, source="props"))
    assert [a.serves_model for a in facts.agents] == [True, True, False]
    assert facts.problems == (
        'p.toml: agents.c.model: "meta/Llama-3.3-70B", but http://10.0.0.1:8081 serves ' + ", ".join(QWEN),
        "http://10.0.0.1:8081: 3 agents (a, b, c) for 2 slots",
    )


def test_judge_unknown_model_and_slots_are_not_problems():
    group = assignments([placed("a")])[0]
    loading = judge(group, ServerProbe(group.base_url, ServerState.LOADING, "the model is loading (/health: 503)"))
    assert loading.agents[0].serves_model is None
    assert loading.problems == ("http://10.0.0.1:8081: not ready: the model is loading (/health: 503)",)


def test_over_capacity_wording():
    assert over_capacity(None, ["a", "b"]) is None and over_capacity(2, ["a", "b"]) is None
    assert over_capacity(1, ["a", "b"]) == "2 agents (a, b) for 1 slot"


def test_room_for_refuses_warns_or_forces():
    ok = ServerProbe("http://s:1", ServerState.OK, models=QWEN, slots=2)
    assert room_for("c", "http://s:1/", ["a"], ok, force=False) == Room(False, ("http://s:1: 2 agent(s) for 2 slot(s)",))
    refused = room_for("c", "http://s:1", ["a", "b"], ok, force=False)
    assert refused.refuse and "3 agents (a, b, c) for 2 slots" in refused.lines[0]
    forced = room_for("c", "http://s:1", ["a", "b"], ok, force=True)
    assert not forced.refuse and forced.lines[0].endswith("hiring anyway (--force)")
    down = room_for("c", "http://s:1", ["a", "b"], ServerProbe("http://s:1", ServerState.UNREACHABLE, "x"), False)
    assert not down.refuse and down.lines[0].startswith("warning: http://s:1 is unreachable")


def test_sharing_reads_the_toml_and_picks_the_key(tmp_path: Path):
    toml = tmp_path / "p.toml"
    toml.write_text('[agents.a]\nbase_url = "http://s:1/"\napi_key = "ka"\n[agents.b]\nbase_url = "http://s:1"\n'
                    '[agents.c]\nbase_url = "http://t:1"\n[agents.schedule]\nplanner_interval = 5\n')
    assert sharing(toml, "new", "http://s:1") == (["a", "b"], "ka")
    assert sharing(toml, "b", "http://s:1") == (["a"], "ka")
    assert sharing(tmp_path / "missing.toml", "x", "http://s:1") == ([], "sk-no-key-required")
