"""Every job kind end to end against FakeVozo over a socket: create, wait, download.

The fake runs on a manual clock: a job moves one status on only when the test's ``on_update`` says so, so every
status is seen and no verdict depends on the machine's pace.
"""

from __future__ import annotations

import math

import httpx
import pytest

import vozo
from vozo.testing import FakeVozo, Faults, ManualClock
from vozo.testing._media import is_playable_mp4, sample_video

from .conftest import FAST_WAIT, KEY, STEP

LIPSYNC = {"reference_file_url": "https://m.example.com/presenter.mp4", "audio_url": "https://m.example.com/voice.mp3"}


@pytest.fixture
def fake() -> FakeVozo:
    return FakeVozo(
        api_keys=[KEY], revoked_keys=["revoked-key"], step_seconds=STEP, clock=ManualClock(), faults=Faults(seed=7)
    )


def stepping(fake: FakeVozo, seen: list[str] | None = None) -> dict[str, object]:
    """Wait options that move the job one status on each time a new one is seen (and record it)."""

    def next_status(status: object) -> None:
        if seen is not None:
            seen.append(status.status.value)  # type: ignore[attr-defined]
        fake.advance(STEP)

    return {**FAST_WAIT, "on_update": next_status}


def test_lipsync_create_wait_download(live, tmp_path) -> None:
    seen: list[str] = []

    status = live.call(lambda c: c.lipsync.create_and_wait(**LIPSYNC, model="precision", **stepping(live.fake, seen)))
    path = live.call(lambda c: c.download(status, tmp_path / "talking.mp4"))
    assert seen == ["pending", "processing", "done"]
    assert path.read_bytes() == sample_video()
    assert is_playable_mp4(path.read_bytes())
    assert [r["body"]["model"] for r in live.fake.create_requests] == ["precision_v1"]


def test_reusable_lipsync_is_polled_through_the_lipsync_status_endpoint(live) -> None:
    status = live.call(
        lambda c: c.reusable_lipsync.create_and_wait(
            model_id="mdl_1", audio_url="https://m.example.com/a.wav", **stepping(live.fake)
        )
    )
    assert status.status.value == "done"
    assert live.fake.create_requests[0]["type"] == "reusable_lipsync"


def test_translation_walks_every_stage_and_serves_each_result(live, tmp_path) -> None:
    seen: list[str] = []
    status = live.call(
        lambda c: c.translations.create_and_wait(
            media_url="https://m.example.com/keynote.mp4",
            target_language="es",
            export_type="all",
            **stepping(live.fake, seen),
        )
    )
    assert seen == ["queuing", "preprocessing", "transcribing", "translating", "dubbing", "rendering", "done"]
    for which, name in (("video", "v.mp4"), ("audio", "a.wav"), ("subtitle", "s.srt")):
        path = live.call(lambda c, which=which, name=name: c.download(status, tmp_path / name, which=which))
        assert path.stat().st_size > 0
    assert (tmp_path / "s.srt").read_text().startswith("1\n00:00:00,000 --> 00:00:01,000\n[es]")
    assert (tmp_path / "a.wav").read_bytes()[:4] == b"RIFF"


def test_a_job_failing_with_a_documented_code(live) -> None:
    live.fake.fail_next("20601", "There are no faces in the picture.")
    raised = live.raises(vozo.JobFailedError, lambda c: c.lipsync.create_and_wait(**LIPSYNC, **stepping(live.fake)))
    assert (raised.code, raised.code_description) == ("20601", "There are no faces in the picture.")
    assert raised.task_id == live.fake.create_requests[0]["task_id"]


def test_the_per_key_concurrency_limit_is_error_1304(live) -> None:
    """Seen with retries off: a refused create is retried (Vozo created nothing); the fake's manual clock keeps
    both jobs active until the test moves it."""
    live.fake.max_active_jobs = 2
    live.call(lambda c: c.lipsync.create(**LIPSYNC))
    live.call(lambda c: c.lipsync.create(**LIPSYNC))
    raised = live.raises(vozo.RateLimitError, lambda c: c.lipsync.create(**LIPSYNC), max_retries=0)
    assert (raised.status_code, raised.code, raised.retryable) == (429, "1304", True)
    assert len(live.fake.jobs) == 2
    live.fake.advance(10 * STEP)  # both jobs end: the key may have two again
    live.call(lambda c: c.lipsync.create(**LIPSYNC))
    assert len(live.fake.jobs) == 3


def test_keys_are_checked(live) -> None:
    assert live.raises(vozo.AuthenticationError, lambda c: c.lipsync.get("x"), api_key="wrong").code == "7"
    assert live.raises(vozo.AuthenticationError, lambda c: c.lipsync.get("x"), api_key="revoked-key").code == "1302"


def test_an_unknown_task_is_not_found(live) -> None:
    assert live.raises(vozo.NotFoundError, lambda c: c.translations.get("nope")).status_code == 404


def test_the_fake_refuses_a_body_the_spec_refuses(live) -> None:
    response = httpx.post(
        f"{live.url}/v1/video_generation", json={"audio_url": "x"}, headers={"Authorization": f"Bearer {KEY}"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "5"
    assert "reference_file_url" in response.json()["message"]
    assert live.fake.jobs == {}


def test_a_manual_clock_moves_jobs_only_when_advanced(live) -> None:
    task_id = live.call(lambda c: c.lipsync.create(**LIPSYNC)).task_id
    assert live.fake.status_of(task_id)["status"] == "pending"
    live.fake.advance(STEP / 2)
    assert live.fake.status_of(task_id)["status"] == "pending"
    live.fake.advance(STEP / 2)
    assert live.fake.status_of(task_id)["status"] == "processing"
    live.fake.advance(STEP)
    assert live.fake.status_of(task_id)["status"] == "done"
    # what the status endpoint answers, links included, and a task id it never made is a VozoError, not a KeyError
    assert live.fake.status_of(task_id) == live.call(lambda c: c.lipsync.get(task_id)).to_dict()
    with pytest.raises(vozo.InvalidInputError, match="this FakeVozo has no job 'li-nope'"):
        live.fake.status_of("li-nope")
    with pytest.raises(vozo.InvalidInputError, match="only moves forward"):
        live.fake.advance(-1)
    with pytest.raises(vozo.InvalidInputError, match=r"needs FakeVozo\(clock=ManualClock\(\)\)"):
        FakeVozo().advance(1)


@pytest.mark.parametrize("seconds", [math.inf, "1", None], ids=["inf", "str", "none"])
def test_a_manual_clock_refuses_what_is_no_finite_number_of_seconds(live, seconds) -> None:
    """advance(math.inf), to end every job at once, made every status answer a 500 (int(inf) in the fake), retried as
    Vozo's failure; a string or None was a bare TypeError."""
    task_id = live.call(lambda c: c.lipsync.create(**LIPSYNC)).task_id
    with pytest.raises(vozo.InvalidInputError, match="a finite number of seconds"):
        live.fake.advance(seconds)
    assert live.fake.status_of(task_id)["status"] == "pending"
