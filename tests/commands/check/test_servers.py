"""check.servers: judging what a probe of a server found, against the agents on it."""

from __future__ import annotations

from disinto_infra.commands.check.servers import judge
from disinto_infra.model import AgentSpec
from disinto_infra.model_servers.capacity import Placed, assignments
from disinto_infra.model_servers.probe import ServerProbe, ServerState

QWEN = ("Qwen3.5-35B-A3B", "/models/Qwen3.5-35B-A3B-UD-Q4_K_XL.gguf")


def placed(name: str, url: str = "http://10.0.0.1:8081", model: str = "unsloth/Qwen3.5-35B-A3B", **extra) -> Placed:
    return Placed("p.toml", AgentSpec(name=name, base_url=url, model=model, **extra))


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


def test_judge_shows_a_base_url_masked():
    group = assignments(
        [placed("a", "http://llm:hunter2@10.0.0.1:8081"), placed("b", "http://llm:hunter2@10.0.0.1:8081")]
    )[0]
    facts = judge(group, ServerProbe(group.base_url, ServerState.OK, models=QWEN, slots=1, source="props"))
    assert facts.base_url == "http://llm:***@10.0.0.1:8081"
    assert facts.problems == ("http://llm:***@10.0.0.1:8081: 2 agents (a, b) for 1 slot",)
