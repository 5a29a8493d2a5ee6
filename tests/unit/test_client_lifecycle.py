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


def test_a_closed_client_is_not_reopened_by_a_with_block() -> None:
    """httpx refuses to reopen a closed client; ours entered again silently, and failed only at the next call."""
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"status": "pending"}))
    with vozo.Vozo(api_key=API_KEY, base_url=BASE_URL, http_client=httpx.Client(transport=transport)) as client:
        pass
    with pytest.raises(vozo.VozoError, match="closed and cannot be reopened"), client:
        pass
    with pytest.raises(vozo.VozoError, match="closed and cannot be reopened"), client.with_options(max_retries=0):
        pass

    async def reopen() -> None:
        http_client = httpx.AsyncClient(transport=transport)
        async with vozo.AsyncVozo(api_key=API_KEY, base_url=BASE_URL, http_client=http_client) as async_client:
            pass
        with pytest.raises(vozo.VozoError, match="closed and cannot be reopened"):
            async with async_client:
                pass

    asyncio.run(reopen())


def test_an_async_client_used_in_a_second_event_loop_says_so() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"status": "pending"}))
    client = vozo.AsyncVozo(api_key=API_KEY, base_url=BASE_URL, http_client=httpx.AsyncClient(transport=transport))
    assert asyncio.run(client.lipsync.get("t1")).status.value == "pending"
    with pytest.raises(vozo.VozoError, match="first used in another event loop"):
        asyncio.run(client.lipsync.get("t1"))
    with pytest.raises(vozo.VozoError, match="create one client per event loop"):
        trio.run(client.lipsync.get, "t1")


@pytest.mark.parametrize("client_class", [vozo.Vozo, vozo.AsyncVozo])
def test_a_client_refuses_pickle_and_copies_saying_what_to_do_instead(client_class) -> None:
    """Its connections, job slots and event loop cannot be copied nor cross processes: a VozoError, not a TypeError
    about an RLock from deep inside."""
    import copy
    import pickle

    client = client_class(api_key=API_KEY, base_url=BASE_URL, max_active_jobs=3)
    for attempt in (pickle.dumps, copy.copy, copy.deepcopy):
        with pytest.raises(vozo.VozoError, match=r"create one in each process, share one within it, and use with_"):
            attempt(client)
    assert repr(client.jobs) == f"<{type(client.jobs).__name__} active=0 limit=3>"
    with pytest.raises(AttributeError):
        client.jobs.limit = 5  # its slots are made for the first: a new limit would change nothing
