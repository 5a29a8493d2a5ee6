"""Many concurrent calls wait their turn before httpx's pool, whose queue grows costly; copies share the turns."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import anyio
import httpx
import pytest

import vozo
from vozo import _http

from .conftest import API_KEY, BASE_URL

CALLS = 10 * _http.MAX_REQUESTS_IN_FLIGHT


class InFlight:
    def __init__(self) -> None:
        self.now = 0
        self.peak = 0
        self._lock = threading.Lock()

    def enter(self) -> None:
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)

    def leave(self) -> httpx.Response:
        with self._lock:
            self.now -= 1
        return httpx.Response(200, json={"status": "pending"})


def test_sync_calls_beyond_the_limit_wait_for_a_slot_shared_with_copies() -> None:
    seen = InFlight()

    def handler(request: httpx.Request) -> httpx.Response:
        seen.enter()
        time.sleep(0.02)
        return seen.leave()

    client = vozo.Vozo(
        api_key=API_KEY, base_url=BASE_URL, http_client=httpx.Client(transport=httpx.MockTransport(handler))
    )
    copy = client.with_options(max_retries=0)
    with ThreadPoolExecutor(max_workers=3 * _http.MAX_REQUESTS_IN_FLIGHT) as pool:
        statuses = list(pool.map(lambda i: (client, copy)[i % 2].lipsync.get(f"t{i}"), range(CALLS)))
    assert len(statuses) == CALLS
    assert seen.peak == _http.MAX_REQUESTS_IN_FLIGHT


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_async_calls_beyond_the_limit_wait_for_a_slot_shared_with_copies(backend: str) -> None:
    seen = InFlight()

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.enter()
        await anyio.sleep(0.01)
        return seen.leave()

    async def main() -> list[str]:
        transport = httpx.MockTransport(handler)
        client = vozo.AsyncVozo(api_key=API_KEY, base_url=BASE_URL, http_client=httpx.AsyncClient(transport=transport))
        copy = client.with_options(max_retries=0)
        statuses: list[str] = []

        async def get(i: int) -> None:
            statuses.append((await (client, copy)[i % 2].lipsync.get(f"t{i}")).status.value)

        async with anyio.create_task_group() as group:
            for i in range(CALLS):
                group.start_soon(get, i)
        return statuses

    assert anyio.run(main, backend=backend) == ["pending"] * CALLS
    assert seen.peak == _http.MAX_REQUESTS_IN_FLIGHT


def test_a_slot_is_given_back_when_the_call_fails() -> None:
    refusals: list[vozo.AuthenticationError] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"code": "1302", "message": "API key has been revoked."})

    client = vozo.Vozo(
        api_key=API_KEY, base_url=BASE_URL, http_client=httpx.Client(transport=httpx.MockTransport(refuse))
    )

    def call_more_times_than_there_are_slots() -> None:
        for _ in range(_http.MAX_REQUESTS_IN_FLIGHT + 1):
            try:
                client.lipsync.get("t")
            except vozo.AuthenticationError as exc:
                refusals.append(exc)

    caller = threading.Thread(target=call_more_times_than_there_are_slots, daemon=True)
    caller.start()
    caller.join(timeout=10)
    assert not caller.is_alive(), "a failed call kept its slot: the next call blocked"
    assert len(refusals) == _http.MAX_REQUESTS_IN_FLIGHT + 1
