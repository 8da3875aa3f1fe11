"""capacity: grouping agents by server, the slot rule, hire's room, the `pulumi up` warning."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from disinto_infra.config.project_toml import AgentSpec
from disinto_infra.model_servers import probe as model_server
from disinto_infra.model_servers.capacity import (
    Placed,
    Room,
    assignments,
    crowded_servers,
    over_capacity,
    room_for,
    sharing,
)
from disinto_infra.model_servers.probe import ServerProbe, ServerState
from tests.support.llama_double import LlamaDouble

QWEN = ("Qwen3.5-35B-A3B", "/models/Qwen3.5-35B-A3B-UD-Q4_K_XL.gguf")


def placed(name: str, url: str = "http://10.0.0.1:8081", model: str = "unsloth/Qwen3.5-35B-A3B", **extra) -> Placed:
    return Placed("p.toml", AgentSpec(name=name, base_url=url, model=model, **extra))


def test_agents_group_by_server_ignoring_a_trailing_slash():
    groups = assignments(
        [placed("a", api_key="k1"), placed("b", "http://10.0.0.1:8081/"), placed("c", "http://other:1")]
    )
    assert [(g.base_url, g.api_key, [p.spec.name for p in g.agents]) for g in groups] == [
        ("http://10.0.0.1:8081", "k1", ["a", "b"]),
        ("http://other:1", "sk-no-key-required", ["c"]),
    ]


def test_over_capacity_wording():
    assert over_capacity(None, ["a", "b"]) is None and over_capacity(2, ["a", "b"]) is None
    assert over_capacity(1, ["a", "b"]) == "2 agents (a, b) for 1 slot"
    assert over_capacity(0, ["a"]) == "1 agent (a) for 0 slots"  # not "1 agents"


def test_room_for_refuses_warns_or_forces():
    ok = ServerProbe("http://s:1", ServerState.OK, models=QWEN, slots=2)
    assert room_for("c", "http://s:1/", ["a"], ok, force=False) == Room(False, ("http://s:1: 2 agents for 2 slots",))
    assert room_for("c", "http://s:1/", [], replace(ok, slots=1), force=False).lines == (
        "http://s:1: 1 agent for 1 slot",
    )
    refused = room_for("c", "http://s:1", ["a", "b"], ok, force=False)
    assert refused.refuse and "3 agents (a, b, c) for 2 slots" in refused.lines[0]
    forced = room_for("c", "http://s:1", ["a", "b"], ok, force=True)
    assert not forced.refuse and forced.lines[0].endswith("hiring anyway (--force)")
    down = room_for("c", "http://s:1", ["a", "b"], ServerProbe("http://s:1", ServerState.UNREACHABLE, "x"), False)
    assert not down.refuse and down.lines[0].startswith("warning: http://s:1 does not answer (x)")
    odd = room_for("c", "http://s:1", [], ServerProbe("http://s:1", ServerState.ERROR, "/health: HTTP 500"), False)
    assert odd.lines[0] == (
        "warning: http://s:1 answers, but not as a model server does (/health: HTTP 500); its slots were not checked"
    )  # not "is error (…)"
    unknown = room_for("c", "http://s:1", ["a"], replace(ok, slots=None), False)
    assert unknown.lines[0].startswith("warning: http://s:1 does not say how many slots it has")  # not "? slot(s)"


def test_sharing_reads_the_toml_and_picks_the_key(tmp_path: Path):
    toml = tmp_path / "p.toml"
    toml.write_text(
        '[agents.a]\nbase_url = "http://s:1/"\napi_key = "ka"\n[agents.b]\nbase_url = "http://s:1"\n'
        '[agents.c]\nbase_url = "http://t:1"\n[agents.schedule]\nplanner_interval = 5\n'
    )
    assert sharing(toml, "new", "http://s:1") == (["a", "b"], "ka")
    assert sharing(toml, "b", "http://s:1") == (["a"], "ka")
    assert sharing(tmp_path / "missing.toml", "x", "http://s:1") == ([], "sk-no-key-required")


def with_credentials(url: str) -> str:
    return url.replace("http://", "http://llm:hunter2@")


def test_lines_mask_a_base_urls_credentials():
    with LlamaDouble(slots=1) as llama:
        url = with_credentials(llama.url)
        (line,) = crowded_servers([placed("a", url), placed("b", url)])
    assert "hunter2" not in line and line.startswith(
        llama.url.replace("http://", "http://llm:***@") + ": 2 agents (a, b)"
    )
    ok = ServerProbe(url, ServerState.OK, slots=1)
    for room in (
        room_for("c", url, ["a"], ok, force=False),
        room_for("c", url, ["a"], ok, force=True),
        room_for("c", url, [], ServerProbe(url, ServerState.UNREACHABLE, "x"), force=False),
    ):
        assert "hunter2" not in " ".join(room.lines) and "llm:***@" in room.lines[0]
    assert assignments([placed("a", url)])[0].shown == llama.url.replace("http://", "http://llm:***@")


@pytest.mark.parametrize("error", [OSError("Could not find a suitable TLS CA certificate bundle"), RuntimeError("bug")])
def test_the_up_warning_never_raises(monkeypatch, error):
    """Inside `pulumi up`: whatever a probe throws, that server is left out, the rest still judged."""

    def probe(base_url, api_key="", timeout=0.0):
        if "broken" in base_url:
            raise error
        return ServerProbe(base_url, ServerState.OK, slots=1)

    monkeypatch.setattr(model_server, "probe", probe)
    lines = crowded_servers(
        [
            placed("a", "http://broken:1"),
            placed("b", "http://broken:1"),
            placed("c", "http://s:1"),
            placed("d", "http://s:1"),
        ]
    )
    assert len(lines) == 1 and lines[0].startswith("http://s:1: 2 agents (c, d) for 1 slot: the rest wait")
