"""Every job kind end to end against FakeVozo over a socket: create, wait, download."""

from __future__ import annotations

import httpx

import vozo
from vozo.testing._media import is_playable_mp4, sample_video

from .conftest import FAST_WAIT, KEY

LIPSYNC = {"reference_file_url": "https://m.example.com/presenter.mp4", "audio_url": "https://m.example.com/voice.mp3"}


def test_lipsync_create_wait_download(live, tmp_path) -> None:
    seen: list[str] = []

    status = live.call(
        lambda c: c.lipsync.create_and_wait(
            **LIPSYNC, model="precision", on_update=lambda s: seen.append(s.status.value), **FAST_WAIT
        )
    )
    path = live.call(lambda c: c.download(status, tmp_path / "talking.mp4"))
    assert seen[0] == "pending"
    assert seen[-1] == "done"
    assert path.read_bytes() == sample_video()
    assert is_playable_mp4(path.read_bytes())
    assert [r["body"]["model"] for r in live.fake.create_requests] == ["precision_v1"]


def test_reusable_lipsync_is_polled_through_the_lipsync_status_endpoint(live) -> None:
    status = live.call(
        lambda c: c.reusable_lipsync.create_and_wait(
            model_id="mdl_1", audio_url="https://m.example.com/a.wav", **FAST_WAIT
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
            on_update=lambda s: seen.append(s.status.value),
            poll_interval=0.005,
        )
    )
    assert seen[0] == "queuing"
    assert seen[-1] == "done"
    assert {"preprocessing", "transcribing", "translating", "dubbing", "rendering"} & set(seen)
    for which, name in (("video", "v.mp4"), ("audio", "a.wav"), ("subtitle", "s.srt")):
        path = live.call(lambda c, which=which, name=name: c.download(status, tmp_path / name, which=which))
        assert path.stat().st_size > 0
    assert (tmp_path / "s.srt").read_text().startswith("1\n00:00:00,000 --> 00:00:01,000\n[es]")
    assert (tmp_path / "a.wav").read_bytes()[:4] == b"RIFF"


def test_a_job_failing_with_a_documented_code(live) -> None:
    live.fake.fail_next("20601", "There are no faces in the picture.")
    raised = live.raises(vozo.JobFailedError, lambda c: c.lipsync.create_and_wait(**LIPSYNC, **FAST_WAIT))
    assert (raised.code, raised.code_description) == ("20601", "There are no faces in the picture.")
    assert raised.task_id == live.fake.create_requests[0]["task_id"]


def test_the_per_key_concurrency_limit_is_error_1304(live) -> None:
    live.fake.max_active_jobs = 2
    live.fake.clock = lambda: 0.0  # the jobs stay pending: none may end (and free its slot) before the third create
    live.call(lambda c: c.lipsync.create(**LIPSYNC))
    live.call(lambda c: c.lipsync.create(**LIPSYNC))
    raised = live.raises(vozo.RateLimitError, lambda c: c.lipsync.create(**LIPSYNC))
    assert (raised.status_code, raised.code, raised.retryable) == (429, "1304", True)
    assert len(live.fake.jobs) == 2


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
