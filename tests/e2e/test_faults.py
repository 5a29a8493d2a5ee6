"""Each fault mode of FakeVozo, over a socket, with the outcome the wrapper promises: retried and succeeded, or the
right typed error; never a partial file, never a duplicate job."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest

import vozo
from vozo.testing import Faults
from vozo.testing._media import sample_video

from .conftest import FAST_WAIT

LIPSYNC = {"reference_file_url": "https://m.example.com/presenter.mp4", "audio_url": "https://m.example.com/voice.mp3"}


def create_job(live) -> str:
    return live.call(lambda c: c.lipsync.create(**LIPSYNC)).task_id


@pytest.mark.parametrize("retry_after", ["0", "http-date", None])
def test_429_on_reads_is_retried_whatever_the_retry_after_form(live, retry_after) -> None:
    task_id = create_job(live)
    live.fake.faults.rate_limit, live.fake.faults.retry_after = 0.5, retry_after
    for _ in range(3):
        assert live.call(lambda c: c.with_options(max_retries=8).lipsync.get(task_id)).status.value
    assert live.fake.injected["rate_limit"] >= 1


def test_a_5xx_burst_on_reads_is_ridden_out(live) -> None:
    task_id = create_job(live)
    live.fake.faults.burst = 2
    assert live.call(lambda c: c.lipsync.get(task_id)).status.value
    assert live.fake.faults.burst == 0


def test_a_5xx_on_create_is_raised_and_creates_nothing(live) -> None:
    live.fake.faults.burst, live.fake.faults.html_errors = 1, True
    raised = live.raises(vozo.InternalServerError, lambda c: c.lipsync.create(**LIPSYNC))
    assert raised.body_excerpt.startswith("<html>")
    assert live.fake.jobs == {}


@pytest.mark.parametrize(("fault", "jobs_created"), [("reset_before", 0), ("reset_after", 1)])
def test_a_dropped_connection_on_create_is_never_retried(live, fault, jobs_created) -> None:
    setattr(live.fake.faults, fault, 1.0)
    raised = live.raises(vozo.APIConnectionError, lambda c: c.with_options(max_retries=5).lipsync.create(**LIPSYNC))
    assert type(raised) is vozo.APIConnectionError  # dropped after connecting: not provably unsent
    assert len(live.fake.create_requests) == jobs_created  # one job at most: no duplicate from a retry


def test_a_dropped_connection_on_a_read_is_retried(live) -> None:
    task_id = create_job(live)
    live.fake.faults = Faults(reset_after=0.5, seed=3)
    for _ in range(5):
        assert live.call(lambda c: c.with_options(max_retries=8).lipsync.get(task_id)).status.value
    assert live.fake.injected["reset_after"] >= 1


def counting_client(live, sent: list[str]) -> httpx.Client | httpx.AsyncClient:
    """A lent http client of the live flavour that notes every request the wrapper sends through it."""
    if live.flavour == "sync":
        return httpx.Client(event_hooks={"request": [lambda r: sent.append(f"{r.method} {r.url.path}")]})

    async def note(request: httpx.Request) -> None:
        sent.append(f"{request.method} {request.url.path}")

    return httpx.AsyncClient(event_hooks={"request": [note]})


def test_a_slow_create_times_out_without_a_second_request(live) -> None:
    release = threading.Event()  # every request stalls until the call is over: longer than any read timeout
    live.fake.faults = Faults(stall=1.0, stall_until=release)
    sent: list[str] = []
    create = lambda c: c.with_options(max_retries=5).lipsync.create(**LIPSYNC)  # noqa: E731
    try:
        live.raises(vozo.APITimeoutError, create, timeout=0.2, http_client=counting_client(live, sent))
    finally:
        release.set()
    assert sent == ["POST /v1/video_generation"]  # the job may exist: never sent twice


def test_a_slow_read_times_out_then_the_retry_succeeds(live) -> None:
    task_id = create_job(live)
    # With seed 1 the first read stalls until the test releases it (after the call: past any read timeout) and the
    # retry is answered at once.
    release = threading.Event()
    live.fake.faults = Faults(stall=0.5, stall_until=release, seed=1)
    try:
        status = live.call(lambda c: c.with_options(max_retries=1).lipsync.get(task_id), timeout=1.0)
    finally:
        release.set()
    assert status.status.value in ("pending", "processing", "done")  # answered: the retry got through
    assert live.fake.injected["stall"] == 1
    assert live.fake.requests["GET /v1/video_generation/{task_id}"] == 2


def test_malformed_json_is_a_typed_error(live) -> None:
    task_id = create_job(live)
    live.fake.faults.malformed_json = 1.0
    assert "is not JSON" in str(live.raises(vozo.APIResponseValidationError, lambda c: c.lipsync.get(task_id)))


def test_an_unknown_status_is_waited_through(live) -> None:
    live.fake.faults.unknown_status = "gpu_warmup"
    seen: list[str] = []
    status = live.call(
        lambda c: c.lipsync.create_and_wait(
            **LIPSYNC, on_update=lambda s: seen.append(s.status.value), poll_interval=0.005
        )
    )
    assert status.status.value == "done"
    assert "gpu_warmup" in seen


def done_job(live) -> vozo.types.LipsyncJobStatus:
    return live.call(lambda c: c.lipsync.create_and_wait(**LIPSYNC, **FAST_WAIT))


def test_a_truncated_download_is_retried_to_a_complete_file(live, tmp_path: Path) -> None:
    status = done_job(live)
    live.fake.faults = Faults(truncate_downloads=0.5, seed=1)
    path = live.call(lambda c: c.with_options(max_retries=10).download(status, tmp_path / "out.mp4"))
    assert path.read_bytes() == sample_video()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]
    assert live.fake.injected["truncate_downloads"] >= 1


def test_downloads_that_always_truncate_leave_no_file(live, tmp_path: Path) -> None:
    status = done_job(live)
    live.fake.faults.truncate_downloads = 1.0
    raised = live.raises(vozo.DownloadError, lambda c: c.download(status, tmp_path / "out.mp4"))
    assert raised.retryable
    assert list(tmp_path.iterdir()) == []


def test_setting_the_seed_restarts_the_draws() -> None:
    fresh, reseeded = Faults(stall=0.5, seed=1), Faults(stall=0.5, seed=9)
    [reseeded.roll(0.5) for _ in range(5)]
    reseeded.seed = 1
    assert [reseeded.roll(0.5) for _ in range(20)] == [fresh.roll(0.5) for _ in range(20)]
