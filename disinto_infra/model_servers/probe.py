"""Ask a model server what it serves and how many requests it takes at once (read-only probes).

llama-server answers `/health` (503 while the model loads) and `/props` (its slots and model
names); other OpenAI-compatible servers only `/v1/models`, and their slot count stays unknown. The
api key is sent only in the Authorization header, every error message is our own wording (never the
server's text), and a probe never raises: `hire` and the Pulumi program go on without the server's
answer. Why: docs/decisions/model-server-probe.md.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit

import requests

from disinto_infra import deadline, http_get, url_mask
from disinto_infra.http_get import Reply

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 3.0


class ServerState(StrEnum):
    OK = "ok"
    LOADING = "loading"  # 503 on /health: up, the model is still loading
    UNREACHABLE = "unreachable"  # no answer: refused, reset, timed out, TLS, no CA file, unsendable key
    ERROR = "error"  # answered, but not as a model server does


@dataclass(frozen=True)
class ServerProbe:
    """What one model server said about itself."""

    base_url: str
    state: ServerState
    detail: str = ""  # why it is not ok, in our own words
    models: tuple[str, ...] = ()  # the names it serves under (alias, gguf path, /v1/models ids)
    slots: int | None = None  # requests it serves at once; None when it does not say
    source: str = ""  # "props" or "v1/models"

    @property
    def reachable(self) -> bool:
        return self.state in (ServerState.OK, ServerState.LOADING)


def _get(session: requests.Session, url: str, api_key: str, timeout: float) -> Reply:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    return http_get.get(url, headers, timeout, via=session.get)


def _at(base_url: str, route: str) -> str:
    """`route` under the base_url's path, its query kept: a key carried as `?key=…` goes with
    every request, and the route never lands inside the query."""
    parts = urlsplit(base_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + route, fragment=""))


def _health(answer: Reply) -> tuple[ServerState, str]:
    if answer.status is None:
        return ServerState.UNREACHABLE, answer.failure
    if answer.status == 200:
        return ServerState.OK, ""
    if answer.status == 503:
        return ServerState.LOADING, "the model is loading (/health: 503)"
    if answer.status == 404:
        return ServerState.OK, ""  # no /health: not llama-server; /v1/models decides
    return ServerState.ERROR, f"/health: HTTP {answer.status}"


def _props(body: object) -> tuple[tuple[str, ...], int | None] | None:
    if not isinstance(body, dict) or ("total_slots" not in body and "model_path" not in body):
        return None
    names = tuple(str(body[k]) for k in ("model_alias", "model_path") if isinstance(body.get(k), str) and body[k])
    slots = body.get("total_slots")
    # A count below 1 is no count (llama-server's --parallel is at least 1): unknown, not "no room".
    if isinstance(slots, (int, float)) and not isinstance(slots, bool) and 1 <= slots < 2**31:
        return names, int(slots)
    return names, None


def _listed_models(body: object) -> tuple[str, ...] | None:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        return None
    return tuple(str(m["id"]) for m in data if isinstance(m, dict) and isinstance(m.get("id"), str))


def probe(base_url: str, api_key: str = "", timeout: float = DEFAULT_TIMEOUT) -> ServerProbe:
    """Health, then `/props`, else `/v1/models`. Never raises for what the server does."""
    root = base_url.rstrip("/")
    logger.debug("model server %s: probing (key %s)", url_mask.mask_credentials(root), "given" if api_key else "none")
    with deadline.session() as session:
        state, detail = _health(_get(session, _at(root, "/health"), api_key, timeout))
        if state is ServerState.UNREACHABLE or state is ServerState.ERROR:
            return ServerProbe(root, state, detail)
        if state is ServerState.LOADING:
            # llama-server answers 503 on every route while loading: nothing more to learn yet.
            return ServerProbe(root, state, detail)
        props = _get(session, _at(root, "/props"), api_key, timeout)
        if props.status is None:
            return ServerProbe(root, ServerState.UNREACHABLE, f"/props: {props.failure}")
        if props.status == 401:
            return ServerProbe(root, ServerState.ERROR, "/props: HTTP 401: the api_key is not accepted")
        parsed = _props(props.body) if props.status == 200 else None
        if parsed is not None and parsed[0]:
            return ServerProbe(root, ServerState.OK, models=parsed[0], slots=parsed[1], source="props")
        # No /props, or one with slots but no model name (llama-server without model_path or
        # alias): the model list says what it serves.
        slots = parsed[1] if parsed is not None else None
        source = "props, v1/models" if parsed is not None else "v1/models"
        listed = _get(session, _at(root, "/v1/models"), api_key, timeout)
        if listed.status is None:
            return ServerProbe(root, ServerState.UNREACHABLE, f"/v1/models: {listed.failure}")
        names = _listed_models(listed.body) if listed.status == 200 else None
        if names is None and parsed is not None:
            return ServerProbe(root, ServerState.OK, slots=slots, source="props")  # slots known, models not
        if names is None:
            why = f"HTTP {listed.status}" if listed.status != 200 else "not an OpenAI model list"
            return ServerProbe(root, ServerState.ERROR, f"neither /props nor /v1/models answered ({why})")
        return ServerProbe(root, ServerState.OK, models=names, slots=slots, source=source)


# ---------------------------------------------------------------- which model is it?

# What follows a model's name in a gguf file or a quantized repo: a quantization tag.
_QUANT_TAIL = re.compile(r"^(ud[-_])?(i?q\d[\w]*|f16|bf16|f32|fp16|fp8|mxfp4\w*)$", re.IGNORECASE)
_SHARD = re.compile(r"-\d{5}-of-\d{5}$")


def _stem(name: str) -> str:
    """`unsloth/Qwen3.5-35B-A3B-GGUF:Q4_K_M`, `/m/Qwen3.5-35B-A3B-UD-Q4_K_XL.gguf` → the model's
    own name, lower-case: last path segment, no `.gguf`, shard number, `:tag` or `-GGUF`."""
    stem = name.strip().replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    stem = stem.split(":", 1)[0]
    stem = re.sub(r"\.gguf$", "", stem, flags=re.IGNORECASE)
    stem = _SHARD.sub("", stem)
    stem = re.sub(r"[-_.]gguf$", "", stem, flags=re.IGNORECASE)
    return stem.lower()


def model_matches(wanted: str, served: str) -> bool:
    """Is `served` (an alias, gguf path or listed id) the model an agent asks for as `wanted`?

    Exact names match. Otherwise both are reduced to the model's own name (`_stem`): equal
    stems match, and so does a served stem that is the wanted one plus a quantization tag
    (`qwen3.5-35b-a3b-ud-q4_k_xl` serves `unsloth/Qwen3.5-35B-A3B`). A longer model name
    (`...-a3b` against `...-a3b-instruct`) is another model.
    """
    if wanted == served:
        return True
    want, have = _stem(wanted), _stem(served)
    if not want or not have:
        return False
    if want == have:
        return True
    if have.startswith(want) and have[len(want) : len(want) + 1] in ("-", "_", "."):
        return bool(_QUANT_TAIL.match(have[len(want) + 1 :]))
    return False


def serves(probe_: ServerProbe, wanted: str) -> bool:
    return any(model_matches(wanted, name) for name in probe_.models)
