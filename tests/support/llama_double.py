"""LlamaDouble: a fake llama-server (or another OpenAI-compatible server) over real HTTP on an address of
this machine other than the loopback (tests/support/addresses.py): agents' containers reach it.

    with LlamaDouble(slots=4, alias="Qwen3.5-35B-A3B") as llama:
        requests.get(llama.url + "/props")

Shapes follow llama.cpp's `tools/server/README.md`: `/health` answers `{"status": "ok"}`, or 503
with `{"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}` while
loading (and so does every other route then); `/props` gives `total_slots`, `model_alias`,
`model_path`; `/v1/models` lists `{"id": alias}`. With `api_key` set, `/props` wants
`Authorization: Bearer <key>` (llama-server keeps `/health` and `/v1/models` public).

Modes: "ok", "loading", "no-props" (an OpenAI-compatible server without /health and /props),
"hang" (accepts, never answers until stopped: a client timeout), "reset" (drops each connection).
Every request is recorded (`llama.requests`: http_double.Seen, with `.path` and `.authorization`).
"""

from __future__ import annotations

from .addresses import host_address
from .http_double import Answer, HttpDouble, Seen

LOADING = {"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}
BAD_KEY = {"error": {"code": 401, "message": "Invalid API Key", "type": "authentication_error"}}
NOT_FOUND = {"error": {"code": 404, "message": "File Not Found", "type": "not_found_error"}}


class LlamaDouble(HttpDouble):
    def __init__(
        self,
        *,
        slots: int = 4,
        alias: str = "Qwen3.5-35B-A3B",
        model_path: str = "/models/Qwen3.5-35B-A3B-UD-Q4_K_XL.gguf",
        mode: str = "ok",
        api_key: str | None = None,
        loopback: bool = False,
    ):
        super().__init__()
        self.loopback = loopback  # listen on 127.0.0.1, as a server an operator started beside `check`
        self.slots, self.alias, self.model_path, self.mode, self.api_key = slots, alias, model_path, mode, api_key

    def listen_address(self) -> str:
        return "127.0.0.1" if self.loopback else host_address()

    def answer(self, seen: Seen) -> Answer:
        """Modes "hang" and "reset" are HttpDouble's; `configure` changes slots, alias, model_path,
        mode or api_key of the running server."""
        if self.mode == "loading":
            return Answer(503, LOADING)
        if seen.path in ("/health", "/v1/health") and self.mode in ("ok", "slots-only"):
            return Answer(200, {"status": "ok"})
        if seen.path == "/props" and self.mode in ("ok", "slots-only"):
            if self.api_key and seen.authorization != f"Bearer {self.api_key}":
                return Answer(401, BAD_KEY)
            if self.mode == "slots-only":  # a /props that names no model (issue 19)
                return Answer(200, {"total_slots": self.slots, "model_alias": "", "chat_template": ""})
            return Answer(
                200,
                {
                    "default_generation_settings": {"n_ctx": 65536},
                    "total_slots": self.slots,
                    "model_alias": self.alias,
                    "model_path": self.model_path,
                    "chat_template": "",
                    "build_info": "b0000-double",
                },
            )
        if seen.path in ("/v1/models", "/models"):
            return Answer(
                200,
                {
                    "object": "list",
                    "data": [
                        {"id": self.alias, "object": "model", "created": 0, "owned_by": "llamacpp"},
                    ],
                },
            )
        return Answer(404, NOT_FOUND)


def no_model_servers(monkeypatch) -> None:
    """For tests whose TOMLs name made-up servers (10.10.10.1, http://x:1): no probe leaves the
    machine; every server is unreachable. Tests of the probes use a LlamaDouble instead."""
    from disinto_infra.model_servers import probe as model_server

    monkeypatch.setattr(
        model_server,
        "probe",
        lambda url, key="", timeout=0: model_server.ServerProbe(
            url, model_server.ServerState.UNREACHABLE, "not probed in this test"
        ),
    )
