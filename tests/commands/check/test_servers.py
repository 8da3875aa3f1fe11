"""check.servers: judging what a probe of a server found, against the agents on it."""

from __future__ import annotations

from disinto_infra.commands.check.servers import judge
from disinto_infra.config.project_toml import LOOPBACK_BASE_URL, AgentSpec
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


def test_a_loopback_server_is_never_ok_even_when_it_answers():
    """It answers `check` on this machine; inside an agent's container the loopback is the container."""
    group = assignments([placed("a", "http://127.0.0.1:8081")])[0]
    facts = judge(group, ServerProbe(group.base_url, ServerState.OK, models=QWEN, slots=4, source="props"))
    assert (facts.state, facts.detail) == ("loopback", "answers here, not from an agent's container")
    assert facts.problems == (f"p.toml: agents.a.base_url: http://127.0.0.1:8081 {LOOPBACK_BASE_URL}",)
    for url in ("http://localhost:8081", "http://[::1]:8081", "http://llama.localhost:8081"):
        group = assignments([placed("a", url)])[0]
        down = judge(group, ServerProbe(group.base_url, ServerState.UNREACHABLE, "connection refused"))
        assert down.state == "loopback" and down.problems[-1].endswith(LOOPBACK_BASE_URL), url
