"""The job governor (``max_active_jobs``): a slot per job this client created, back when the job ends or when the
create made none (a failure, a cancellation). Asyncio and trio tasks, and sync threads, over an in-process transport.

No verdict waits on the wall clock: a create that should find a slot is checked once every task is blocked
(``anyio.wait_all_tasks_blocked``), so one left waiting for a slot is seen as waiting, not timed.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx
import pytest

import vozo
from vozo._jobs import DEFAULT_POLL_INTERVAL
from vozo.testing import ManualClock

from .conftest import API_KEY, BASE_URL

LIPSYNC = {"reference_file_url": "https://m.test/presenter.mp4", "audio_url": "https://m.test/voice.mp3"}
BACKENDS = ["asyncio", "trio"]


class Answers:
    """Answers creates with the task ids given (then ``t1``, ``t2``, ...), ``fail`` creates with 400, ``hang``
    creates never; every status is ``done``."""

    def __init__(self, *task_ids: str) -> None:
        self.task_ids = list(task_ids)
        self.creates = 0

    def answer(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"status": "done", "video_url": "https://cdn.test/v.mp4"})
        self.creates += 1
        if b'"fail"' in request.content:
            return httpx.Response(400, json={"code": "1001", "message": "bad request"})
        return httpx.Response(200, json={"task_id": self.task_ids.pop(0) if self.task_ids else f"t{self.creates}"})

    async def async_answer(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        if b'"hang"' in request.content:
            self.creates += 1
            await anyio.sleep_forever()
        return self.answer(request)


def async_client(fake: Answers | Statuses, limit: int) -> vozo.AsyncVozo:
    http_client = httpx.AsyncClient(transport=httpx.MockTransport(fake.async_answer))
    return vozo.AsyncVozo(api_key=API_KEY, base_url=BASE_URL, max_active_jobs=limit, http_client=http_client)


async def creates_that_find_a_slot(client: vozo.AsyncVozo, count: int, **extra: Any) -> int:
    """Start ``count`` creates; once every task is blocked, how many got through (the rest wait for a slot)."""
    done: list[str] = []

    async def create() -> None:
        done.append((await client.lipsync.create(**LIPSYNC, **extra)).task_id)

    async with anyio.create_task_group() as group:
        for _ in range(count):
            group.start_soon(create)
        await anyio.wait_all_tasks_blocked()
        group.cancel_scope.cancel()
    return len(done)


def run(backend: str, scenario: Callable[[], Awaitable[None]]) -> None:
    anyio.run(scenario, backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_same_task_id_twice_holds_one_slot(backend: str) -> None:
    """Vozo answering two identical creates with one existing job: one job, ended once, so one slot. Before, the
    second slot was never given back, and after enough such answers every create waited forever."""
    fake = Answers("same", "same")

    async def scenario() -> None:
        async with async_client(fake, limit=2) as client:
            assert await creates_that_find_a_slot(client, 2) == 2
            assert client.jobs.active == 1
            await client.lipsync.get("same")  # done: its slot is free
            assert client.jobs.active == 0
            assert await creates_that_find_a_slot(client, 3) == 2  # both slots, and only two

    run(backend, scenario)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_create_cancelled_while_queued_or_in_flight_gives_its_slot_back(backend: str) -> None:
    fake = Answers()

    async def scenario() -> None:
        async with async_client(fake, limit=1) as client:
            assert await creates_that_find_a_slot(client, 2, extra_body={"hang": True}) == 0  # one sent, one queued
            assert (fake.creates, client.jobs.active) == (1, 0)
            assert await creates_that_find_a_slot(client, 1) == 1  # neither cancelled create kept the slot

    run(backend, scenario)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_failed_create_gives_its_slot_back(backend: str) -> None:
    fake = Answers()

    async def scenario() -> None:
        async with async_client(fake, limit=1) as client:
            for _ in range(3):  # each failure frees the one slot for the next
                with pytest.raises(vozo.BadRequestError):
                    await client.lipsync.create(**LIPSYNC, extra_body={"fail": True})
            assert await creates_that_find_a_slot(client, 1) == 1

    run(backend, scenario)


def test_sync_threads_share_the_slots_and_failures_give_theirs_back() -> None:
    fake = Answers("same", "same")
    http_client = httpx.Client(transport=httpx.MockTransport(fake.answer))
    with vozo.Vozo(api_key=API_KEY, base_url=BASE_URL, max_active_jobs=2, http_client=http_client) as client:
        with pytest.raises(vozo.BadRequestError):
            client.lipsync.create(**LIPSYNC, extra_body={"fail": True})
        threads = [threading.Thread(target=client.lipsync.create, kwargs=LIPSYNC) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert (fake.creates, client.jobs.active) == (3, 1)  # "same" twice: one job
        client.lipsync.get("same")
        # Both slots are free, and only two: taken without blocking, so a slot lost fails here instead of hanging
        slots = client._state.jobs._slots
        assert [slots.acquire(blocking=False) for _ in range(3)] == [True, True, False]


class Statuses:
    """Creates answered ``t1``, ``t2``, ...; each job's status as set in ``values`` (``pending`` until then, 404
    for ``"gone"``), and the task ids whose status was asked."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.asked: list[str] = []
        self.creates = 0
        self.asked_thrice: anyio.Event | None = None  # set once a job's status was asked three times

    def answer(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            self.creates += 1
            return httpx.Response(200, json={"task_id": f"t{self.creates}"})
        task_id = request.url.path.rsplit("/", 1)[-1]
        self.asked.append(task_id)
        if self.asked_thrice is not None and self.asked.count(task_id) == 3:
            self.asked_thrice.set()
        value = self.values.get(task_id, "pending")
        if value == "gone":
            return httpx.Response(404, json={"code": "5", "message": "Task not found."})
        if value == "revoked":
            return httpx.Response(401, json={"code": "1302", "message": "Invalid API key."})
        return httpx.Response(200, json={"status": value})

    async def async_answer(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        return self.answer(request)


@pytest.fixture
def quick_asking(monkeypatch: pytest.MonkeyPatch) -> None:
    """A waiting create asks after unwatched jobs every millisecond instead of from 2 s."""
    from vozo._async import _governor as async_governor
    from vozo._sync import _governor as sync_governor

    for module in (async_governor, sync_governor):
        monkeypatch.setattr(module, "DEFAULT_POLL_INTERVAL", 0.001)
        monkeypatch.setattr(module, "MAX_POLL_INTERVAL", 0.001)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("ending", ["done", "failed", "gone"])
def test_a_job_whose_wait_was_cancelled_frees_its_slot_once_a_waiting_create_sees_it_end(
    backend: str, ending: str, quick_asking: None
) -> None:
    """A wait cancelled (a user's timeout) left its job holding the slot for ever: the next creates waited for ever.
    A waiting create now asks after jobs no wait watches; while they run, it keeps waiting."""
    fake = Statuses()

    async def scenario() -> None:
        async with async_client(fake, limit=1) as client:
            async with anyio.create_task_group() as group:  # a wait cancelled once the job exists
                group.start_soon(lambda: client.lipsync.create_and_wait(**LIPSYNC))
                await anyio.wait_all_tasks_blocked()  # created, waiting its first interval
                group.cancel_scope.cancel()
            assert (fake.creates, client.jobs.active) == (1, 1)
            created: list[str] = []

            async def create() -> None:
                created.append((await client.lipsync.create(**LIPSYNC)).task_id)

            with anyio.fail_after(60):  # a safety net only: each step ends as soon as what it waits for happens
                async with anyio.create_task_group() as group:
                    fake.asked_thrice = anyio.Event()
                    group.start_soon(create)
                    await fake.asked_thrice.wait()  # asked after, still running: the create keeps waiting
                    assert created == []
                    fake.values["t1"] = ending
            assert (created, client.jobs.active) == (["t2"], 1)

    run(backend, scenario)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_waiting_create_leaves_a_watched_job_to_its_wait(backend: str, quick_asking: None) -> None:
    fake = Statuses()

    async def scenario() -> None:
        async with async_client(fake, limit=1) as client:
            async with anyio.create_task_group() as group:
                group.start_soon(lambda: client.lipsync.wait("t1", poll_interval=3600))  # no look for an hour
                job = await client.lipsync.create(**LIPSYNC)
                assert job.task_id == "t1"
                with anyio.move_on_after(0.05):  # many turns of asking, were it to ask
                    await client.lipsync.create(**LIPSYNC)
                group.cancel_scope.cancel()
            assert fake.asked == ["t1"]  # only the wait's own first look

    run(backend, scenario)


def test_a_sync_create_waiting_for_a_slot_asks_after_a_job_no_wait_watches(quick_asking: None) -> None:
    fake = Statuses()
    http_client = httpx.Client(transport=httpx.MockTransport(fake.answer))
    with vozo.Vozo(api_key=API_KEY, base_url=BASE_URL, max_active_jobs=1, http_client=http_client) as client:
        client.lipsync.create(**LIPSYNC)  # only created: its outcome was to come from a callback
        fake.values["t1"] = "done"
        created: list[str] = []
        thread = threading.Thread(target=lambda: created.append(client.lipsync.create(**LIPSYNC).task_id))
        thread.start()
        thread.join(timeout=60)  # a safety net only: it ends as soon as t1 is seen done
        assert (created, fake.asked) == (["t2"], ["t1"])


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_waiting_create_raises_a_refusal_its_asking_meets_instead_of_waiting_for_ever(
    backend: str, quick_asking: None
) -> None:
    """A key revoked (401) or refused (403) while a create waits for a slot: asking after the unwatched job was
    refused at every turn and the refusal dropped, so the create waited for ever, silently, for a slot it could not
    use. It now fails with the refusal, as a wait does; the unwatched job keeps its slot, and nothing was created."""
    fake = Statuses()

    async def scenario() -> None:
        async with async_client(fake, limit=1) as client:
            await client.lipsync.create(**LIPSYNC)  # only created: no wait watches it
            fake.values["t1"] = "revoked"
            with anyio.fail_after(60):  # a safety net only: the first turn of asking ends it
                with pytest.raises(vozo.AuthenticationError):
                    await client.lipsync.create(**LIPSYNC)
            assert (fake.creates, client.jobs.active) == (1, 1)
            fake.values["t1"] = "done"
            with anyio.fail_after(60):  # asking resumes with the next create: the flag was reset
                assert (await client.lipsync.create(**LIPSYNC)).task_id == "t2"

    run(backend, scenario)


def test_a_sync_waiting_create_raises_a_refusal_its_asking_meets(quick_asking: None) -> None:
    fake = Statuses()
    http_client = httpx.Client(transport=httpx.MockTransport(fake.answer))
    with vozo.Vozo(api_key=API_KEY, base_url=BASE_URL, max_active_jobs=1, http_client=http_client) as client:
        client.lipsync.create(**LIPSYNC)
        fake.values["t1"] = "revoked"
        with pytest.raises(vozo.AuthenticationError):
            client.lipsync.create(**LIPSYNC)
        assert (fake.creates, client.jobs.active) == (1, 1)


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_unwatched_job_is_asked_after_on_its_own_schedule_not_at_every_waiting_creates_turn(
    backend: str, quick_asking: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each waiting create kept its own schedule, from 2 s: creates that began waiting at different moments (a batch
    feeding them in) each asked after the unwatched jobs at their own turns, so a job was asked far more often than a
    wait polls it (every 2 s for ever instead of growing to every 2 min). The job now has one schedule: with the
    clock standing still, twenty turns of waiting ask after it once."""
    from vozo import _http
    from vozo._async import _governor as async_governor

    # time stands still for the governor once the job's first ask is due: no ask falls due again
    clock = ManualClock(1000.0)
    monkeypatch.setattr(async_governor, "monotonic", clock, raising=False)
    turns = 0
    enough = anyio.Event()
    acquire_within = _http.async_acquire_within

    async def counted(slots: anyio.Semaphore, seconds: float) -> bool:
        nonlocal turns
        turns += 1
        if turns == 20:
            enough.set()
        return await acquire_within(slots, seconds)

    monkeypatch.setattr(_http, "async_acquire_within", counted)
    fake = Statuses()

    async def scenario() -> None:
        async with async_client(fake, limit=1) as client:
            await client.lipsync.create(**LIPSYNC)  # only created: no wait watches it
            clock.advance(0.001)  # its first ask, one interval after its create
            with anyio.fail_after(60):  # a safety net only: twenty turns of 1 ms each
                async with anyio.create_task_group() as group:
                    group.start_soon(lambda: client.lipsync.create(**LIPSYNC))
                    await enough.wait()
                    group.cancel_scope.cancel()
            assert fake.asked == ["t1"]

    run(backend, scenario)


def test_sync_threads_watching_one_job_keep_its_count() -> None:
    """Two threads waiting on one job: the count and its removal raced (a KeyError out of a wait, or a job left
    counted as watched for ever, never asked after). Thread switches forced often, so a race shows."""
    import sys

    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        governor = vozo.types.JobGovernor(limit=1)
        errors: list[BaseException] = []

        def wait_often() -> None:
            try:
                for _ in range(2000):
                    with governor.watching("t1"):
                        pass
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=wait_often) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switch_interval)
    assert errors == []
    assert governor._watched == {}


@pytest.mark.parametrize("flavour", ["async", "sync"])
def test_a_job_whose_wait_ends_while_a_create_has_waited_long_is_asked_when_its_own_ask_falls_due(
    flavour: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A waiting create kept a wake-up delay of its own, from 2 s growing to 2 min, beside each job's asking schedule:
    a wait cancelled once the create had waited long left its job unasked until the create next woke, up to 2 min
    later. The create now wakes when the earliest ask may fall due: the job is asked one interval after its wait
    ended. Time is the governor's clock, moved by each wait for a slot by as long as it would have lasted."""
    from vozo import _http

    clock = ManualClock()
    wait_ends_at = 1000.0  # the create has waited long by then: a delay of its own would have grown to 2 min
    asked_at: list[float] = []
    wait = contextlib.ExitStack()

    def time_passes(seconds: float) -> None:  # no slot frees meanwhile: each wait lasts as long as it was given
        end = clock() + seconds
        if clock() < wait_ends_at <= end:
            clock.advance(wait_ends_at - clock())
            wait.close()  # the job's wait is cancelled
        clock.advance(end - clock())

    if flavour == "async":
        governor: Any = vozo.types.AsyncJobGovernor(1, clock=clock)

        async def check(task_id: str) -> None:
            asked_at.append(clock())
            governor.ended(task_id)  # it read done

        async def acquire_within(slots: anyio.Semaphore, seconds: float) -> bool:
            await anyio.lowlevel.checkpoint()
            if slots.value:
                slots.acquire_nowait()
                return True
            time_passes(seconds)
            return False

        async def scenario() -> None:
            await governor.reserve()
            governor.started("t1", check)
            wait.enter_context(governor.watching("t1"))
            monkeypatch.setattr(_http, "async_acquire_within", acquire_within)
            with anyio.fail_after(60):  # a safety net only: the clock is the governor's
                await governor.reserve()

        anyio.run(scenario)
    else:
        governor = vozo.types.JobGovernor(1, clock=clock)

        def sync_check(task_id: str) -> None:
            asked_at.append(clock())
            governor.ended(task_id)

        def sync_acquire_within(slots: threading.BoundedSemaphore, seconds: float) -> bool:
            if slots.acquire(blocking=False):
                return True
            time_passes(seconds)
            return False

        governor.reserve()
        governor.started("t1", sync_check)
        wait.enter_context(governor.watching("t1"))
        monkeypatch.setattr(_http, "sync_acquire_within", sync_acquire_within)
        governor.reserve()
    assert asked_at == [wait_ends_at + DEFAULT_POLL_INTERVAL]
    assert governor.active == 0
