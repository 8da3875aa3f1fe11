"""model_server: probes against the fake llama-server over real HTTP, and model-name matching."""

from __future__ import annotations

import functools

import pytest

from disinto_infra.model_servers import probe as model_server
from disinto_infra.model_servers.probe import ServerState, model_matches, serves
from tests.support.budgets import ANSWER_BUDGET
from tests.support.llama_double import LlamaDouble

SEEDED_KEY = "sk-seeded-7c1f0e9b"
# The probe with a budget no load exhausts; the timeout tests give their own.
probe = functools.partial(model_server.probe, timeout=ANSWER_BUDGET)


@pytest.fixture
def llama():
    with LlamaDouble() as double:
        yield double


def test_ok_server_gives_slots_and_model_names(llama):
    found = probe(llama.url)
    assert found.state is ServerState.OK and found.reachable
    assert found.slots == 4 and found.source == "props"
    assert found.models == ("Qwen3.5-35B-A3B", "/models/Qwen3.5-35B-A3B-UD-Q4_K_XL.gguf")
    assert [r.path for r in llama.requests] == ["/health", "/props"]


def test_loading_server_is_reachable_but_not_ready(llama):
    llama.configure(mode="loading")
    found = probe(llama.url)
    assert found.state is ServerState.LOADING and found.reachable
    assert "loading" in found.detail and found.slots is None


def test_server_without_props_falls_back_to_v1_models(llama):
    llama.configure(mode="no-props", alias="qwen2.5-coder:32b")
    found = probe(llama.url)
    assert found.state is ServerState.OK and found.source == "v1/models"
    assert found.models == ("qwen2.5-coder:32b",) and found.slots is None


def test_props_without_a_model_name_asks_v1_models(llama):
    llama.configure(mode="slots-only", slots=3, alias="Llama-3.3-70B-Instruct")
    found = probe(llama.url)
    assert found.state is ServerState.OK and found.slots == 3
    assert found.models == ("Llama-3.3-70B-Instruct",) and found.source == "props, v1/models"
    assert [r.path for r in llama.requests] == ["/health", "/props", "/v1/models"]
    assert not serves(found, "unsloth/Qwen3.5-35B-A3B")


@pytest.mark.parametrize("slots", [0, -2, True, 1e12])
def test_a_slot_count_below_one_is_unknown(llama, slots):
    llama.configure(slots=slots)
    assert probe(llama.url).slots is None


def test_a_key_in_the_base_urls_query_goes_with_every_request(llama):
    found = probe(llama.url + "/?key=sk-q-1")
    assert found.state is ServerState.OK and found.slots == 4
    assert [(r.path, r.query) for r in llama.requests] == [
        ("/health", {"key": "sk-q-1"}),
        ("/props", {"key": "sk-q-1"}),
    ]


def test_api_key_only_in_the_bearer_header(llama):
    llama.configure(api_key=SEEDED_KEY, slots=2)
    found = probe(llama.url + "/", api_key=SEEDED_KEY)
    assert found.slots == 2
    assert {r.authorization for r in llama.requests} == {f"Bearer {SEEDED_KEY}"}
    assert all(SEEDED_KEY not in r.path for r in llama.requests)


def test_wrong_api_key_is_named_without_the_key(llama):
    llama.configure(api_key="the-real-key")
    found = probe(llama.url, api_key=SEEDED_KEY)
    assert found.state is ServerState.ERROR and "api_key" in found.detail
    assert SEEDED_KEY not in repr(found)


def test_hanging_server_times_out(llama):
    llama.configure(mode="hang")
    found = probe(llama.url, api_key=SEEDED_KEY, timeout=0.2)
    assert found.state is ServerState.UNREACHABLE and "no whole answer within 0.2s (timed out)" in found.detail
    assert SEEDED_KEY not in repr(found)


def test_reset_connection_is_unreachable(llama):
    llama.configure(mode="reset")
    found = probe(llama.url)
    assert found.state is ServerState.UNREACHABLE and "reset" in found.detail


def test_a_missing_ca_bundle_is_a_probe_not_an_exception(llama, tmp_path, monkeypatch):
    missing = tmp_path / "ca.pem"
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(missing))
    found = probe(llama.url.replace("http:", "https:"))
    assert (found.state, found.detail) == (
        ServerState.UNREACHABLE,
        f"CA file {missing} (env REQUESTS_CA_BUNDLE) not found",
    )


def test_tls_failure_is_named_as_such(llama):
    found = probe(llama.url.replace("http:", "https:"))
    assert (found.state, found.detail) == (ServerState.UNREACHABLE, "TLS handshake failed (certificate not trusted?)")


def test_a_key_no_header_can_carry_is_a_probe_not_an_exception(llama):
    found = probe(llama.url, api_key="sk-ключ")
    assert (found.state, found.detail) == (
        ServerState.UNREACHABLE,
        "the token holds characters an HTTP header cannot carry",
    )
    assert "ключ" not in repr(found) and llama.requests == []


def test_nothing_listening_is_unreachable():
    with LlamaDouble() as gone:
        url = gone.url
    assert probe(url, timeout=0.5).state is ServerState.UNREACHABLE


@pytest.mark.parametrize(
    "wanted, served",
    [
        ("unsloth/Qwen3.5-35B-A3B", "/models/Qwen3.5-35B-A3B-UD-Q4_K_XL.gguf"),
        ("unsloth/Qwen3.5-35B-A3B", "Qwen3.5-35B-A3B"),
        ("unsloth/Qwen3.5-35B-A3B-GGUF", "/m/qwen3.5-35b-a3b-q8_0-00001-of-00002.gguf"),
        ("Qwen3.5-35B-A3B", "unsloth/Qwen3.5-35B-A3B-GGUF:Q4_K_M"),
        ("qwen2.5-coder:32b", "qwen2.5-coder:32b"),
        ("gpt-oss-20b", "/models/gpt-oss-20b-mxfp4.gguf"),
    ],
)
def test_same_model_under_other_names(wanted, served):
    assert model_matches(wanted, served)


@pytest.mark.parametrize(
    "wanted, served",
    [
        ("unsloth/Qwen3.5-35B-A3B", "/models/Qwen3-Coder-30B-A3B-Q4_K_M.gguf"),
        ("unsloth/Qwen3.5-35B", "/models/Qwen3.5-35B-A3B-Q4_K_M.gguf"),  # a longer name is another model
        ("Qwen3.5-35B-A3B", "Qwen3.5-35B-A3B-Instruct"),
        ("x", ""),
    ],
)
def test_other_models_do_not_match(wanted, served):
    assert not model_matches(wanted, served)


def test_serves_checks_every_name(llama):
    assert serves(probe(llama.url), "unsloth/Qwen3.5-35B-A3B")
    assert not serves(probe(llama.url), "unsloth/Llama-3.3-70B")
