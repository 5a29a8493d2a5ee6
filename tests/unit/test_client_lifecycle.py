"""Using a client after close(), or an AsyncVozo in a second event loop, is a VozoError that says what to do."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import trio

import vozo

from .conftest import API_KEY, BASE_URL


def test_a_closed_client_says_so(api) -> None:
    api.call(lambda c: c.close())
    error = api.raises(vozo.VozoError, lambda c: c.lipsync.get("t1"))
    assert "this client was closed" in str(error)
    copy = api.client.with_options(max_retries=0)  # a copy shares the closed pool
    assert "this client was closed" in str(api.raises(vozo.VozoError, lambda _: copy.lipsync.get("t1")))


def test_an_async_client_used_in_a_second_event_loop_says_so() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"status": "pending"}))
    client = vozo.AsyncVozo(api_key=API_KEY, base_url=BASE_URL, http_client=httpx.AsyncClient(transport=transport))
    assert asyncio.run(client.lipsync.get("t1")).status.value == "pending"
    with pytest.raises(vozo.VozoError, match="first used in another event loop"):
        asyncio.run(client.lipsync.get("t1"))
    with pytest.raises(vozo.VozoError, match="create one client per event loop"):
        trio.run(client.lipsync.get, "t1")
