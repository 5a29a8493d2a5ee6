"""Many concurrent calls wait their turn before httpx's pool, whose queue grows costly; copies share the turns.

No verdict here depends on the machine's pace: the handler holds every call it gets until the rest are seen
waiting for a slot, so the peak is exactly the limit however slowly threads or tasks are scheduled.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import anyio
import anyio.lowlevel
import httpx
import pytest

import vozo
from vozo import _http

from .conftest import API_KEY, BASE_URL

CALLS = 10 * _http.MAX_REQUESTS_IN_FLIGHT
SAFETY_NET = 60.0  # only against a hung test: the verdicts come from counts, never from this


class InFlight:
    """Calls inside the transport now, the most ever, and a gate holding them there until opened."""

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0
        self.gate = threading.Event()
        self._lock = threading.Lock()

    def enter(self) -> None:
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)

    def leave(self) -> httpx.Response:
        with self._lock:
            self.now -= 1
        return httpx.Response(200, json={"status": "pending"})


def settled(seen: InFlight, waiting: int) -> bool:
    """Every call is either in the transport or waiting for a slot, or too many got in."""
    return seen.now > _http.MAX_REQUESTS_IN_FLIGHT or waiting == CALLS - seen.now


def wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + SAFETY_NET
    while not condition():
        assert time.monotonic() < deadline, "the calls never settled"
        time.sleep(0.001)


class CountedSlots(_http.RequestSlots):
    """The sync client's slots, counting the calls that reached them."""

    def __init__(self) -> None:
        super().__init__(_http.MAX_REQUESTS_IN_FLIGHT)
        self.arrived = 0
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        with self._lock:
            self.arrived += 1
        super().__enter__()


def test_sync_calls_beyond_the_limit_wait_for_a_slot_shared_with_copies() -> None:
    seen = InFlight()

    def handler(request: httpx.Request) -> httpx.Response:
        seen.enter()
        seen.gate.wait(SAFETY_NET)
        return seen.leave()

    client = vozo.Vozo(
        api_key=API_KEY, base_url=BASE_URL, http_client=httpx.Client(transport=httpx.MockTransport(handler))
    )
    made = client._state.request_slots  # the client's own: as many free slots as the limit
    assert isinstance(made, _http.RequestSlots)
    assert made._tokens.qsize() == _http.MAX_REQUESTS_IN_FLIGHT
    slots = client._state.request_slots = CountedSlots()
    copy = client.with_options(max_retries=0)
    with ThreadPoolExecutor(max_workers=CALLS) as pool:
        results = pool.map(lambda i: (client, copy)[i % 2].lipsync.get(f"t{i}"), range(CALLS))
        try:
            # A call that reached the slots and is not in the transport (which holds every call) waits for a slot.
            wait_for(lambda: slots.arrived == CALLS and settled(seen, slots.arrived - seen.now))
            assert seen.now == _http.MAX_REQUESTS_IN_FLIGHT
        finally:
            seen.gate.set()
        statuses = list(results)
    assert len(statuses) == CALLS
    assert seen.peak == _http.MAX_REQUESTS_IN_FLIGHT


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_async_calls_beyond_the_limit_wait_for_a_slot_shared_with_copies(backend: str) -> None:
    seen = InFlight()

    async def main() -> list[str]:
        gate = anyio.Event()

        async def handler(request: httpx.Request) -> httpx.Response:
            seen.enter()
            await gate.wait()
            return seen.leave()

        transport = httpx.MockTransport(handler)
        client = vozo.AsyncVozo(api_key=API_KEY, base_url=BASE_URL, http_client=httpx.AsyncClient(transport=transport))
        copy = client.with_options(max_retries=0)
        slots = client._state.request_slots
        statuses: list[str] = []

        async def get(i: int) -> None:
            statuses.append((await (client, copy)[i % 2].lipsync.get(f"t{i}")).status.value)

        async with anyio.create_task_group() as group:
            for i in range(CALLS):
                group.start_soon(get, i)
            try:
                with anyio.fail_after(SAFETY_NET):
                    while not settled(seen, slots.statistics().tasks_waiting):
                        await anyio.lowlevel.checkpoint()
                assert seen.now == _http.MAX_REQUESTS_IN_FLIGHT
            finally:
                gate.set()
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
