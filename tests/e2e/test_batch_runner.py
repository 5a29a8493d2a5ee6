"""The batch runner on anyio: asyncio and trio alike, its journal's commits off the event loop and still made
before each next step, and its memory held by the rows in flight, not by every row of the batch."""

from __future__ import annotations

import contextlib
import functools
import gc
import itertools
import json
import os
import shutil
import sqlite3
import threading
import weakref
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest

import vozo.batch
from vozo._jobs import Poller
from vozo.batch import RowState, _scheduler
from vozo.batch._journal import Journal, JournalReplacedError
from vozo.testing import FakeVozo, ManualClock

from .conftest import KEY
from .test_batch import row_of, run_batch, write_manifest

BACKENDS = ["asyncio", "trio"]
EVENT_TIMEOUT = 30.0  # a safety net against a hung test only: verdicts come from events


@pytest.mark.parametrize("backend", BACKENDS)
def test_submitting_is_committed_before_the_create_leaves_and_commits_leave_the_loop(tmp_path, backend) -> None:
    out = tmp_path / "out"
    seen_at_create: dict[str, RowState] = {}

    def at_create(job_type: str, body: dict[str, Any]) -> None:  # the fake's thread, as the create arrives
        rows = {row.key: row.state for row in vozo.batch.status(out).rows}  # its own connection: what is durable
        seen_at_create[row_of(body)] = rows[row_of(body)]

    fake = FakeVozo(api_keys=[KEY], step_seconds=0.01, max_active_jobs=10, fail_when=at_create)
    threads: set[int] = set()
    loop_ran, commit_started = threading.Event(), threading.Event()
    update = Journal.update

    def slow_first_commit(journal: Journal, key: str, **values: Any) -> None:
        threads.add(threading.get_ident())
        if not commit_started.is_set():
            commit_started.set()  # the loop must go on while this commit waits: were it on the loop, it could not
            assert loop_ran.wait(EVENT_TIMEOUT), "the event loop was blocked by a journal commit"
        update(journal, key, **values)

    async def main() -> vozo.batch.BatchSummary:
        async def beside() -> None:
            await anyio.to_thread.run_sync(commit_started.wait, EVENT_TIMEOUT)
            loop_ran.set()

        async with anyio.create_task_group() as group:
            group.start_soon(beside)
            return await run_batch(url, write_manifest(tmp_path / "m.csv", 6, 2), out)

    with pytest.MonkeyPatch.context() as patch, fake.serve() as url:
        patch.setattr(Journal, "update", slow_first_commit)
        summary = anyio.run(main, backend=backend)
    assert summary.counts == {RowState.COMPLETED: 8}
    assert seen_at_create == dict.fromkeys(seen_at_create, RowState.SUBMITTING)
    assert len(seen_at_create) == 8
    assert loop_ran.is_set()
    assert threading.get_ident() not in threads


def test_a_batch_holds_only_the_rows_in_flight(tmp_path, monkeypatch) -> None:
    """A finished row leaves nothing behind in the runner: its fields, poller and status go with it."""
    live: weakref.WeakSet[Any] = weakref.WeakSet()

    class Tracked(_scheduler._Work):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            live.add(self)

    monkeypatch.setattr(_scheduler, "_Work", Tracked)
    most = 0

    def progress(snapshot: vozo.batch.BatchProgress) -> None:
        nonlocal most
        if snapshot.finished_this_run % 20 == 0:
            gc.collect()  # a traceback may hold a finished row's step in a cycle for a moment
            most = max(most, len(live))

    fake = FakeVozo(api_keys=[KEY], step_seconds=0.005, max_active_jobs=5)
    # Every object made before the run (the whole test session's) goes to the permanent generation: each collect above
    # then walks only what the run made, where the cycles that matter are, instead of the session's heap.
    gc.freeze()
    try:
        with fake.serve() as url:
            run = functools.partial(run_batch, url, write_manifest(tmp_path / "m.csv", 80), tmp_path / "out")
            summary = anyio.run(functools.partial(run, max_active=5, on_progress=progress))
    finally:
        gc.unfreeze()
    assert summary.counts == {RowState.COMPLETED: 80}
    gc.collect()
    assert not live  # nothing kept once the run is over
    assert 0 < most <= 3 * 5  # at Vozo (max_active), and being downloaded: never the 80 rows


def test_a_row_costs_one_commit_per_step_it_takes(tmp_path, monkeypatch) -> None:
    """Each commit is an fsync: done is written with the download it starts, and the last result file with the
    row's completion, so a row of one result costs submitting, submitted, each status before done, done, completed."""
    writes: list[tuple[str, dict[str, Any]]] = []
    update = Journal.update

    def recorded(journal: Journal, key: str, **values: Any) -> None:
        writes.append((key, values))
        update(journal, key, **values)

    monkeypatch.setattr(Journal, "update", recorded)
    fake = FakeVozo(api_keys=[KEY], step_seconds=0.01, max_active_jobs=10)
    with fake.serve() as url:
        summary = anyio.run(run_batch, url, write_manifest(tmp_path / "m.csv", 2, 2), tmp_path / "out")
    assert summary.counts == {RowState.COMPLETED: 4}
    for key in ("ls-0000", "ls-0001", "tr-0000", "tr-0001"):
        steps = [values for row, values in writes if row == key]
        done = [values for values in steps if values.get("status") == "done"]
        assert done == [{"status": "done", "state": RowState.DOWNLOADING}]
        completed = steps[-1]
        assert completed["state"] is RowState.COMPLETED
        results = len(completed["outputs"])  # lipsync: the video; translation: video, audio and subtitles
        assert results == (1 if key.startswith("ls") else 3)
        # every result but the last is committed as it lands; the last one with the completion
        assert sum(1 for values in steps if set(values) == {"outputs"}) == results - 1
        assert [values["state"] for values in steps if "state" in values] == [
            RowState.SUBMITTED,
            RowState.DOWNLOADING,
            RowState.COMPLETED,
        ]


def test_a_jobs_first_look_counts_from_when_its_create_was_sent(tmp_path, monkeypatch) -> None:
    """On short jobs the create's answer and the commit of its task id must not push every later look back: the
    first look is one poll interval after the create left. The commit here takes 0.01 s of the scheduler's clock,
    half the interval run_batch polls at (0.02 s)."""
    real = _scheduler.time.monotonic
    offset = 0.0
    first_delays: list[float] = []
    update, start_polling = Journal.update, _scheduler.Runner._start_polling

    def slow_submitted_commit(journal: Journal, key: str, **values: Any) -> None:
        nonlocal offset
        if values.get("state") is RowState.SUBMITTED:
            offset += 0.01
        update(journal, key, **values)

    def recorded(runner: _scheduler.Runner, work: Any, *, delay: float) -> None:
        first_delays.append(delay)
        start_polling(runner, work, delay=delay)

    monkeypatch.setattr(_scheduler, "time", SimpleNamespace(monotonic=lambda: real() + offset))
    monkeypatch.setattr(Journal, "update", slow_submitted_commit)
    monkeypatch.setattr(_scheduler.Runner, "_start_polling", recorded)
    fake = FakeVozo(api_keys=[KEY], step_seconds=0.01, max_active_jobs=10)
    with fake.serve() as url:
        summary = anyio.run(run_batch, url, write_manifest(tmp_path / "m.csv", 2), tmp_path / "out")
    assert summary.counts == {RowState.COMPLETED: 2}
    assert len(first_delays) == 2
    assert all(delay <= 0.02 - 0.01 for delay in first_delays)  # and the create's round trip is taken out too


@pytest.mark.parametrize("lateness", [0.1, 0.4])
def test_a_late_look_does_not_push_the_later_ones_back(tmp_path, monkeypatch, lateness) -> None:
    """Each look is made ``lateness`` s of the scheduler's clock after it was due (an event loop's latency,
    magnified): the next one is still due the Poller's delay after the previous was due, so lateness does not add
    up over a job; but never sooner than half a delay after the look was made (requests waiting for their turn)."""
    real = _scheduler.time.monotonic
    offset = 0.0
    dues: dict[str, list[float]] = {}
    delays: dict[str, list[float]] = {}
    ask, schedule, observe = _scheduler.Runner._ask, _scheduler.Runner._schedule_at, Poller.observe

    async def late(runner: _scheduler.Runner, work: Any) -> Any:
        nonlocal offset
        offset += lateness
        return await ask(runner, work)

    def recorded_due(runner: _scheduler.Runner, work: Any, when: float) -> None:
        schedule(runner, work, when)
        dues.setdefault(work.task_id, []).append(when)

    def recorded_delay(poller: Poller[Any], status: Any) -> float | None:
        delay = observe(poller, status)
        if delay is not None:
            delays.setdefault(poller.task_id, []).append(delay)
        return delay

    monkeypatch.setattr(_scheduler, "time", SimpleNamespace(monotonic=lambda: real() + offset))
    monkeypatch.setattr(_scheduler.Runner, "_ask", late)
    monkeypatch.setattr(_scheduler.Runner, "_schedule_at", recorded_due)
    monkeypatch.setattr(Poller, "observe", recorded_delay)
    fake = FakeVozo(api_keys=[KEY], step_seconds=0.5, max_active_jobs=10)

    async def main() -> vozo.batch.BatchSummary:
        async with vozo.AsyncVozo(api_key=KEY, base_url=url) as client:
            return await vozo.batch.run(client, write_manifest(tmp_path / "m.csv", 1), tmp_path / "out",
                                        poll_interval=0.5)  # fmt: skip

    with fake.serve() as url:
        summary = anyio.run(main)
    assert summary.counts == {RowState.COMPLETED: 1}  # one row: its looks alone move the clock
    assert len(delays) == 1
    for task_id, after in delays.items():
        looks = dues[task_id]
        assert len(looks) == len(after) + 1  # the first look, then one per look that did not see done
        gaps = [later - earlier for earlier, later in itertools.pairwise(looks)]
        if lateness < min(after) / 2:  # poll_interval 0.5: delays 0.5, 0.75, ...
            assert gaps == pytest.approx(after)  # from when each look was due, whatever the real latency
        else:  # half a delay after the look was made: its lateness, plus the real time the look took to start
            assert all(lateness + delay / 2 <= gap < lateness + delay for gap, delay in zip(gaps, after, strict=True))


def once_a_row_is_sent(
    done: threading.Event, action: Callable[[], object]
) -> Callable[[vozo.batch.BatchProgress], None]:
    """An on_progress that runs ``action`` once, as soon as a row is submitted, and sets ``done``."""

    def on_progress(progress: vozo.batch.BatchProgress) -> None:
        if not done.is_set() and progress.counts.get(RowState.SUBMITTED):
            done.set()
            action()

    return on_progress


@pytest.mark.parametrize("deleted", [("vozo-batch.sqlite",), ("vozo-batch.sqlite", "vozo-batch.sqlite-wal",
                                                            "vozo-batch.sqlite-shm")])  # fmt: skip
def test_a_journal_deleted_during_the_run_is_written_back_with_every_task_id(tmp_path, deleted) -> None:
    """Deleted mid-run, the journal used to live on only in the run's open file: gone when the run ended, so the
    next run took the folder for a new batch and submitted (and billed) every row again."""
    out = tmp_path / "out"
    fake = FakeVozo(api_keys=[KEY], step_seconds=0.01, max_active_jobs=10)
    removed = threading.Event()
    delete_once_a_row_is_sent = once_a_row_is_sent(
        removed, lambda: [(out / name).unlink(missing_ok=True) for name in deleted]
    )

    manifest = write_manifest(tmp_path / "m.csv", 6, 2)
    with fake.serve() as url:
        anyio.run(functools.partial(run_batch, url, manifest, out, on_progress=delete_once_a_row_is_sent))
        assert removed.is_set()
        journalled = vozo.batch.status(out)
        assert journalled.counts == {RowState.COMPLETED: 8}
        assert {row.task_id for row in journalled.rows} == set(fake.jobs)
        again = anyio.run(run_batch, url, manifest, out)
    assert again.counts == {RowState.COMPLETED: 8}
    assert len(fake.create_requests) == 8  # nothing submitted twice


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_batch_on_a_client_with_max_active_jobs_is_the_only_one_asking_after_its_jobs(
    tmp_path, monkeypatch, backend
) -> None:
    """A client's max_active_jobs governor asks after its jobs no wait watches whenever a create waits for a slot; a
    batch polls its jobs itself, without a wait, so each job was asked after twice while the client was saturated:
    extra status requests for nothing. The batch now tells the governor it watches them: every status request for
    a job is one of the batch's own looks. Time is driven: the fake moves a step after each of the batch's looks, and
    the governor's clock jumps past every job's next ask at each turn of a waiting create, and that create turns
    twice (asking in between) before each look while creates wait."""
    from vozo import _http
    from vozo._async import _governor

    rows = 4
    fake = FakeVozo(api_keys=[KEY], step_seconds=1.0, max_active_jobs=10, clock=ManualClock())
    governor_clock = ManualClock()
    monkeypatch.setattr(_governor, "monotonic", governor_clock)  # the client's governor is made with it
    turns = 0
    turned = anyio.Event()

    async def a_turn_passes(slots: anyio.Semaphore, seconds: float) -> bool:  # each wait for a slot, in no time
        nonlocal turns, turned
        await anyio.lowlevel.checkpoint()
        if slots.value:
            slots.acquire_nowait()
            return True
        governor_clock.advance(seconds + 1000.0)  # every scheduled ask is due at the next turn
        turns += 1
        turned.set()
        turned = anyio.Event()
        return False

    looks: Counter[str] = Counter()  # the batch's own
    ask = _scheduler.Runner._ask

    async def looked(runner: _scheduler.Runner, work: Any) -> Any:
        start = turns
        while len(fake.create_requests) < rows and turns < start + 2:  # creates wait for a slot: let them ask
            await turned.wait()
        looks[work.task_id] += 1
        answer = await ask(runner, work)
        fake.advance(1.0)
        return answer

    asked: Counter[str] = Counter()  # every status request the API received

    async def count(request: httpx.Request) -> None:
        if request.method == "GET" and request.url.path.startswith("/v1/video_generation/"):
            asked[request.url.path.rsplit("/", 1)[1]] += 1

    monkeypatch.setattr(_http, "async_acquire_within", a_turn_passes)
    monkeypatch.setattr(_scheduler.Runner, "_ask", looked)

    async def main() -> vozo.batch.BatchSummary:
        http = httpx.AsyncClient(event_hooks={"request": [count]})
        async with vozo.AsyncVozo(api_key=KEY, base_url=url, max_active_jobs=1, http_client=http) as client:
            with anyio.fail_after(EVENT_TIMEOUT):
                return await vozo.batch.run(client, write_manifest(tmp_path / "m.csv", rows), tmp_path / "out",
                                            max_active=rows, poll_interval=0.01)  # fmt: skip

    with fake.serve() as url:
        summary = anyio.run(main, backend=backend)
    assert summary.counts == {RowState.COMPLETED: rows}
    assert turns >= 2 * (rows - 1)  # creates did wait for a slot, and turned while the batch's jobs ran
    assert len(looks) == rows
    assert asked == looks


def _put_in_place(path: Path, other: Path, how: str) -> None:
    """What can happen to a journal behind a run's back: a copy over it, a file moved in, another run writing it."""
    if how == "overwritten":  # cp other.sqlite vozo-batch.sqlite: the same file, another content
        shutil.copyfile(other, path)
    elif how == "replaced":  # another file moved in under the name
        shutil.copyfile(other, path.with_name("moved-in"))
        os.replace(path.with_name("moved-in"), path)
    else:  # another program (a second run) writes it through SQLite
        with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as db:
            db.execute("UPDATE rows SET error = 'another run' WHERE row_key = 'ls-0005'")


@pytest.mark.parametrize("how", ["overwritten", "replaced", "written"])
def test_a_journal_replaced_during_the_run_stops_it_keeping_every_task_id_and_the_file_put_there(tmp_path, how) -> None:
    """A journal overwritten in place went unnoticed: the run read and wrote another batch's file through its own
    write-ahead log, mixing the two batches' states (and closing put its log into that file). One moved in was
    written over; one another run wrote was shared. The run now stops at its next statement, writes nothing more,
    leaves the file there as it found it, and keeps the task id of every job it knew, in the error and beside it."""
    out = tmp_path / "out"
    fake = FakeVozo(api_keys=[KEY], step_seconds=0.01, max_active_jobs=10)
    changed = threading.Event()
    change_once_a_row_is_sent = once_a_row_is_sent(
        changed, lambda: _put_in_place(out / "vozo-batch.sqlite", other, how)
    )

    with fake.serve() as url:
        anyio.run(run_batch, url, write_manifest(tmp_path / "other.csv", 2), tmp_path / "other")
        other = tmp_path / "other" / "vozo-batch.sqlite"
        others = {row.task_id for row in vozo.batch.status(tmp_path / "other").rows}
        with pytest.raises(JournalReplacedError) as stopped:
            anyio.run(functools.partial(run_batch, url, write_manifest(tmp_path / "m.csv", 6), out,
                                        on_progress=change_once_a_row_is_sent))  # fmt: skip
    assert changed.is_set()
    message = str(stopped.value)
    assert {"overwritten": "overwritten in place", "replaced": "replaced by another file",
            "written": "written by another program"}[how] in message  # fmt: skip
    assert "put its own journal back" in message
    sent = set(fake.jobs) - others  # every job this batch's creates made
    assert sent
    kept = {task_id for ids in stopped.value.task_ids.values() for task_id in ids}
    assert kept == sent
    assert stopped.value.saved is not None
    saved = json.loads(stopped.value.saved.read_text())["task_ids"]
    assert {task_id for ids in saved.values() for task_id in ids} == sent
    assert all(task_id in message for task_id in sorted(sent)[:5])
    after = {row.key: row.task_id for row in vozo.batch.status(out).rows}
    if how == "written":  # the same journal, shared through SQLite: this run's rows, as far as they were written
        assert set(after) == {f"ls-{n:04d}" for n in range(6)}
    else:  # left as it was put there: none of this run's log read into it
        assert after == {row.key: row.task_id for row in vozo.batch.status(tmp_path / "other").rows}
        assert (out / "vozo-batch.sqlite").read_bytes() == other.read_bytes()
