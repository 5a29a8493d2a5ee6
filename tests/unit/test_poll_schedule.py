"""The phase-aware poll schedule, and the waiting figures the README quotes from its simulation."""

from __future__ import annotations

import asyncio
import heapq
import math
from pathlib import Path
from types import SimpleNamespace

import attrs
import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

import vozo
import vozo.batch
from bench import _waiting
from vozo import _jobs
from vozo._jobs import MAX_POLL_INTERVAL
from vozo._kinds import JobKind, kind_named
from vozo.batch import _scheduler
from vozo.batch._journal import Journal, RowState
from vozo_api_client.models import JobStatus, MediaTranslateJobStatus

README = Path(__file__).parents[2] / "README.md"


def lipsync(value: str) -> JobStatus:
    return JobStatus.from_dict({"status": value})


def poller(kind: str | JobKind = "lipsync", poll_interval: float = 2.0) -> _jobs.Poller:
    kind = kind_named(kind) if isinstance(kind, str) else kind
    return _jobs.Poller(kind, "t", timeout=10**6, poll_interval=poll_interval, on_update=None)


def looks(p: _jobs.Poller, make, values: list[str]) -> list[float]:
    return [p.observe(make(value)) for value in values]


def test_a_queued_job_is_looked_at_ever_more_rarely_up_to_the_hard_cap() -> None:
    delays = looks(poller(), lipsync, ["pending"] * 40)
    assert delays[:3] == [2.0, 3.0, 4.5]
    assert max(delays) == delays[-1] == _jobs.MAX_POLL_INTERVAL == 120.0


def test_processing_is_looked_at_each_minute_then_tighter_as_the_documented_duration_nears() -> None:
    p = poller()
    looks(p, lipsync, ["pending"] * 40)  # the last look that saw it queued was 120 s ago
    delays = looks(p, lipsync, ["processing"] * 30)
    assert delays[0] == _jobs.EARLY_PROCESSING_INTERVAL == 60.0
    # half of the 10 documented minutes, counted from the last queued look: 120 s + 3 x 60 s
    assert delays[:4] == [60.0, 60.0, 60.0, _jobs.FINISHING_INTERVAL]
    assert set(delays[3:]) == {_jobs.FINISHING_INTERVAL}  # and stays tight however long the job runs


def test_a_job_first_seen_processing_may_finish_any_moment() -> None:
    delays = looks(poller(poll_interval=200.0), lipsync, ["processing"] * 5)
    assert delays == [_jobs.FINISHING_INTERVAL] * 5


def test_a_status_this_client_does_not_know_counts_as_processing() -> None:
    p = poller()
    looks(p, lipsync, ["pending"] * 40)
    assert looks(p, lipsync, ["gpu_warmup"] * 4) == [60.0, 60.0, 60.0, _jobs.FINISHING_INTERVAL]


def test_translation_stages_after_queuing_count_as_one_processing_phase() -> None:
    def translation(value: str) -> MediaTranslateJobStatus:
        return MediaTranslateJobStatus.from_dict({"status": value})

    p = poller("translation")
    assert looks(p, translation, ["queuing"] * 40)[-1] == 120.0
    stages = ["preprocessing", "transcribing", "translating", "dubbing", "rendering"]
    assert looks(p, translation, stages) == [60.0, 60.0, 60.0, 25.0, 25.0]
    assert p.observe(translation("done")) is None


def test_a_job_kind_whose_values_the_poller_does_not_know_is_polled_as_if_finishing() -> None:
    future = attrs.evolve(kind_named("lipsync"), name="future", statuses=("waiting", "working", "done"))
    p = poller(future)
    assert looks(p, lipsync, ["waiting"] * 10) == [2.0, 3.0, 4.5, 6.75, 10.125, 15.1875, 22.78125, 25.0, 25.0, 25.0]
    assert p.observe(lipsync("done")) is None


# No deadline: pure logic on a virtual clock, whose verdict must not hang on how long the machine took for one example
# (Hypothesis' default fails an example that took over 200 ms, as a descheduled process on a loaded machine can).
@settings(deadline=None)
@given(st.lists(st.sampled_from(["pending", "processing", "queuing", "rendering", "new_value"]), max_size=80))
def test_every_delay_is_bounded_and_tight_once_processing_is_long_under_way(values: list[str]) -> None:
    p = poller()
    processing_for = None
    for value in values:
        delay = p.observe(lipsync(value))
        assert 0 < delay <= _jobs.MAX_POLL_INTERVAL
        if value in _jobs.QUEUED_STATUSES:
            processing_for = None
        else:
            # known to be processing for longer than half the shortest documented duration: tight, whatever came before
            if processing_for is not None and processing_for >= _jobs.SHORTEST_PROCESSING / 2:
                assert delay <= _jobs.FINISHING_INTERVAL
            processing_for = (processing_for or 0.0) + delay


def test_the_readme_quotes_the_simulations_figures_for_its_seed() -> None:
    # Deterministic: a seeded draw of 10,000 jobs and a virtual clock; the README must be updated with the schedule.
    rows = _waiting.readme_rows(_waiting.simulate())
    readme = README.read_text()
    missing = [row for row in rows if row not in readme]
    assert not missing, "README's waiting table is out of date; `python -m bench._waiting` prints:\n" + "\n".join(rows)


def test_the_schedule_beats_fixed_30_s_polling_on_requests_with_p95_lateness_under_30_s() -> None:
    ours, *fixed = _waiting.simulate(count=2000)
    every_30 = next(r for r in fixed if r.schedule == "every 30 s")
    assert ours.requests_per_job < every_30.requests_per_job
    assert ours.lateness_p95 <= 30.0


def test_a_batch_counts_each_poll_delay_from_when_the_look_was_made(tmp_path, monkeypatch) -> None:
    # A slow answer must not push every later look back: on many short jobs that drift adds up to lost throughput.
    now = [1000.0]
    monkeypatch.setattr(_scheduler, "time", SimpleNamespace(monotonic=lambda: now[0]))

    def slow_answer(request: httpx.Request) -> httpx.Response:
        now[0] += 0.5  # the answer takes half a second to come back
        return httpx.Response(200, json={"status": "processing"})

    async def scenario() -> float:
        http = httpx.AsyncClient(transport=httpx.MockTransport(slow_answer))
        async with vozo.AsyncVozo(api_key="k", base_url="https://api.vozo.test", http_client=http) as client:
            runner = _scheduler.Runner(client, Journal(tmp_path / "journal.db"), tmp_path)
            work = _scheduler._Work("r1", "lipsync", RowState.SUBMITTED, "t1", "processing")
            runner._start_polling(work, delay=0.0)
            heapq.heappop(runner._due)
            await runner._poll(work)
            return runner._due[0][0]

    asked = now[0]
    assert asyncio.run(scenario()) == asked + 2.0  # the first delay (poll_interval), from the look, not the answer


def test_a_batch_looks_again_within_the_poll_cap_whatever_its_poll_interval(tmp_path, monkeypatch) -> None:
    # poll_interval=inf (or a huge one) passed the checks; the batch waited that long for a first look: forever.
    now = [1000.0]
    monkeypatch.setattr(_scheduler, "time", SimpleNamespace(monotonic=lambda: now[0]))

    def created(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"task_id": "t1"})

    async def scenario() -> list[float]:
        manifest = tmp_path / "m.csv"
        manifest.write_text("id,reference_file_url,audio_url\nr1,https://m.test/p.mp4,https://m.test/a.mp3\n")
        journal = Journal(tmp_path / "journal.db")
        journal.sync(vozo.batch.load(manifest), rerun_changed=False, resubmit_uncertain=False)
        http = httpx.AsyncClient(transport=httpx.MockTransport(created))
        async with vozo.AsyncVozo(api_key="k", base_url="https://api.vozo.test", http_client=http) as client:
            runner = _scheduler.Runner(client, journal, tmp_path, poll_interval=math.inf, timeout=30.0)
            work = _scheduler._Work("r1", "lipsync", RowState.QUEUED)
            await runner._create(work)  # the job exists: its first look is scheduled
            first = heapq.heappop(runner._due)[0]
            await runner._download_failed(work, vozo.DownloadError("cut short", url="https://m.test/v", retryable=True))
            return [first, runner._due[0][0]]  # and a download tried again from a fresh link

    first_look, download_again = asyncio.run(scenario())
    assert first_look <= now[0] + 30.0  # no later than the row's timeout, when a look can end its wait
    assert download_again <= now[0] + MAX_POLL_INTERVAL
