"""Jobs beyond the key's cap wait their turn in the client: many create_and_wait at once, never a 1304.

The fake runs on a manual clock that moves only while the client holds every slot (or has created every job): a job
can never end before the creates beyond the cap have had their chance to reach the fake, so without the governor the
fourth create is refused with 1304 however fast or slow the machine runs the test.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import vozo
from vozo.testing import FakeVozo, ManualClock

from .conftest import KEY

LIPSYNC = {"reference_file_url": "https://m.example.com/presenter.mp4", "audio_url": "https://m.example.com/voice.mp3"}
CAP = 3
JOBS = 12
STEP = 1.0


@pytest.fixture
def capped() -> FakeVozo:
    return FakeVozo(api_keys=[KEY], max_active_jobs=CAP, step_seconds=STEP, clock=ManualClock())


def saturated_clock(fake: FakeVozo, client: vozo.Vozo | vozo.AsyncVozo) -> dict[str, object]:
    """Wait options whose ``on_update`` moves every job one status on, but only once the client holds all its slots
    or has created every job: until then the jobs at the fake stay active, so an extra create would get 1304."""

    def next_status(_: object) -> None:
        if client.jobs.active == CAP or len(fake.jobs) == JOBS:
            fake.advance(STEP)

    return {"poll_interval": 0.01, "on_update": next_status}


def test_asyncio_gather_beyond_the_cap_just_works(capped: FakeVozo) -> None:
    async def main(url: str) -> list[str]:
        async with vozo.AsyncVozo(api_key=KEY, base_url=url, max_active_jobs=CAP, max_retries=0) as client:
            done = await asyncio.gather(
                *(client.lipsync.create_and_wait(**LIPSYNC, **saturated_clock(capped, client)) for _ in range(JOBS))
            )
            assert client.jobs.active == 0  # every slot came back once its job was seen to end
            return [status.status.value for status in done]

    with capped.serve() as url:
        assert asyncio.run(main(url)) == ["done"] * JOBS
    # max_retries=0: a single 1304 would have raised. The fake created exactly one job per call.
    assert len(capped.jobs) == JOBS
    assert capped.requests["POST /v1/video_generation"] == JOBS


def test_threads_beyond_the_cap_just_work(capped: FakeVozo) -> None:
    peak = 0
    lock = threading.Lock()
    with capped.serve() as url, vozo.Vozo(api_key=KEY, base_url=url, max_active_jobs=CAP, max_retries=0) as client:

        def one(_: int) -> str:
            nonlocal peak
            try:
                job = client.lipsync.create(**LIPSYNC)
            except vozo.VozoError:  # a refused create: end every job, so that the test fails instead of hanging
                capped.advance(10 * STEP)
                raise
            with lock:
                peak = max(peak, client.jobs.active)
            return client.lipsync.wait(job.task_id, **saturated_clock(capped, client)).status.value

        with ThreadPoolExecutor(JOBS) as pool:
            assert list(pool.map(one, range(JOBS))) == ["done"] * JOBS
    assert peak <= CAP
    assert len(capped.jobs) == JOBS
    assert capped.requests["POST /v1/video_generation"] == JOBS


def test_without_a_governor_the_key_cap_is_vozo_s_to_enforce(capped: FakeVozo) -> None:
    """The default (no limit) leaves Vozo to refuse: the retries then run out on jobs that last."""
    slow = FakeVozo(api_keys=[KEY], max_active_jobs=CAP, clock=ManualClock())  # jobs that never end
    with slow.serve() as url, vozo.Vozo(api_key=KEY, base_url=url, max_retries=1) as client:
        for _ in range(CAP):
            client.lipsync.create(**LIPSYNC)
        with pytest.raises(vozo.RateLimitError) as refused:
            client.lipsync.create(**LIPSYNC)
    assert refused.value.code == "1304"
    assert slow.requests["POST /v1/video_generation"] == CAP + 2  # the refused create was retried once


def test_max_active_jobs_must_be_a_positive_whole_number() -> None:
    for bad in (0, -1, True):
        with pytest.raises(vozo.InvalidInputError, match="max_active_jobs"):
            vozo.Vozo(api_key=KEY, max_active_jobs=bad)
