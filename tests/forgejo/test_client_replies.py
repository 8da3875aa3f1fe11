"""The Forgejo client reads a reply up to http_get's limit (issue 19): a flooding server is an
error naming the request, in bounded memory, never a reply read whole."""

from __future__ import annotations

import tracemalloc

import pytest

from disinto_infra import http_get
from disinto_infra.forgejo.client import ForgejoClient, ForgejoError
from tests.support.flood import Flood


@pytest.mark.parametrize("chunked", [True, False])
def test_a_reply_past_the_limit_is_an_error_not_a_read(chunked):
    tracemalloc.start()
    try:
        with (
            Flood(chunked) as flood,
            ForgejoClient(flood.url, timeout=5, attempts=1) as client,
            pytest.raises(ForgejoError) as caught,
        ):
            client.request("GET", "/version", auth=None)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert caught.value.status == 200 and http_get.TOO_LARGE in str(caught.value)
    assert "/version" in str(caught.value)
    assert peak < 3 * http_get.REPLY_LIMIT
