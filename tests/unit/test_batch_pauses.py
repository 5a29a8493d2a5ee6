"""How long `vozo batch` pauses a family's submissions after a refusal or a failed connection."""

from __future__ import annotations

import time

import anyio
import pytest

import vozo
from vozo import RateLimitError
from vozo.batch import RowState, _manifest, _scheduler
from vozo.batch._journal import Journal


@pytest.mark.parametrize("slowdowns", [1, 8, 1100, 100_000])
def test_the_pause_after_many_slowdowns_stays_at_its_cap(slowdowns: int) -> None:
    """The backoff doubled without bound: after ~1,024 slow-downs with no job accepted in between (17 minutes of 1304
    answers while the key's other jobs hold every slot), 0.25 * 2**n overflowed a float and the run crashed with
    "OverflowError: int too large to convert to float"."""
    pause = _scheduler.backoff(slowdowns)
    assert 0 < pause <= _scheduler._MAX_PAUSE
    if slowdowns >= 10:
        assert pause >= _scheduler._MAX_PAUSE / 2  # jittered within the cap's upper half


def test_a_storm_of_refusals_saying_retry_after_0_backs_off_instead_of_hammering(tmp_path) -> None:
    """Vozo (or a proxy) answering every create 429 with `Retry-After: 0`: each refusal paused the family for 0 s,
    so the run sent its creates again at once, without end: 2,100 requests (and as many fsynced journal writes) in
    3 s against FakeVozo. Retry-After is a floor, never shorter than the backoff of the refusals in a row."""
    manifest = tmp_path / "m.csv"
    manifest.write_text("id,reference_file_url,audio_url\na,https://m.example.com/a.mp4,https://m.example.com/a.mp3\n")
    journal = Journal(tmp_path / "j.sqlite")
    refusal = RateLimitError(status_code=429, method="POST", path="/v1/video_generation", retry_after=0.0)

    async def refuse_in_a_row(times: int) -> float:  # then once more: how long that last refusal pauses
        async with vozo.AsyncVozo(api_key="test-key", base_url="https://vozo.test") as client:
            journal.sync(_manifest.load(manifest), rerun_changed=False, resubmit_uncertain=False)
            runner = _scheduler.Runner(client, journal, tmp_path)
            row = _scheduler._Work("a", "lipsync", RowState.QUEUED)
            for _ in range(times):
                await runner._slow_down(row, refusal, 0.0, lower_limit=False)
                runner._paused_until["lipsync"] = 0.0  # the pause is over: the next create is refused again
            await runner._slow_down(row, refusal, 0.0, lower_limit=False)
            return runner._paused_until["lipsync"] - time.monotonic()

    try:
        assert anyio.run(refuse_in_a_row, 9) >= _scheduler._MAX_PAUSE / 2 - 1  # ten in a row: the backoff's cap
    finally:
        journal.close()
