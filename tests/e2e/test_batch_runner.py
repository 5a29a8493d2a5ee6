"""The batch runner on anyio: asyncio and trio alike, its journal's commits off the event loop and still made
before each next step, and its memory held by the rows in flight, not by every row of the batch."""

from __future__ import annotations

import functools
import gc
import threading
import weakref
from typing import Any

import anyio
import pytest

import vozo.batch
from vozo.batch import RowState, _scheduler
from vozo.batch._journal import Journal
from vozo.testing import FakeVozo

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


@pytest.mark.parametrize("deleted", [("vozo-batch.sqlite",), ("vozo-batch.sqlite", "vozo-batch.sqlite-wal",
                                                            "vozo-batch.sqlite-shm")])  # fmt: skip
def test_a_journal_deleted_during_the_run_is_written_back_with_every_task_id(tmp_path, deleted) -> None:
    """Deleted mid-run, the journal used to live on only in the run's open file: gone when the run ended, so the
    next run took the folder for a new batch and submitted (and billed) every row again."""
    out = tmp_path / "out"
    fake = FakeVozo(api_keys=[KEY], step_seconds=0.01, max_active_jobs=10)
    removed = threading.Event()

    def delete_once_a_row_is_sent(progress: vozo.batch.BatchProgress) -> None:
        if not removed.is_set() and progress.counts.get(RowState.SUBMITTED):
            removed.set()
            for name in deleted:
                (out / name).unlink(missing_ok=True)

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
