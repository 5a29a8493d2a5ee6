"""How long `vozo batch` pauses a family's submissions after a refusal or a failed connection."""

from __future__ import annotations

import pytest

from vozo.batch import _scheduler


@pytest.mark.parametrize("slowdowns", [1, 8, 1100, 100_000])
def test_the_pause_after_many_slowdowns_stays_at_its_cap(slowdowns: int) -> None:
    """The backoff doubled without bound: after ~1,024 slow-downs with no job accepted in between (17 minutes of 1304
    answers while the key's other jobs hold every slot), 0.25 * 2**n overflowed a float and the run crashed with
    "OverflowError: int too large to convert to float"."""
    pause = _scheduler.backoff(slowdowns)
    assert 0 < pause <= _scheduler._MAX_PAUSE
    if slowdowns >= 10:
        assert pause >= _scheduler._MAX_PAUSE / 2  # jittered within the cap's upper half
