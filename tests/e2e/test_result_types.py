"""Each result file gets the type the spec tells: FakeVozo serves a small real file of that type, with its content
type, and `vozo batch` names the file with its extension (never `.bin` for a type the spec tells)."""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import wave
from io import BytesIO
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
import yaml

import vozo
import vozo.batch
import vozo_jobs.kinds
from spectools.jobkinds import find_job_kinds
from vozo.batch import RowState
from vozo.testing import FakeVozo
from vozo.testing._media import is_playable_mp4

ROOT = Path(__file__).resolve().parents[2]
KEY = "types-key"
BASE_URL = "http://127.0.0.1:9"  # never dialled: every request goes through the fake's in-process transport
NEW_RESULTS = ("srt_url", "vtt_url", "json_url", "preview_video_url")


@pytest.fixture
def more_results(monkeypatch: pytest.MonkeyPatch) -> None:
    """A docs update adds result links to translate's status; the translations kind as spectools now finds it."""
    spec = yaml.safe_load((ROOT / "openapi" / "vozo.yaml").read_text(encoding="utf-8"))
    updated = copy.deepcopy(spec)
    result = updated["components"]["schemas"]["MediaTranslateResult"]["properties"]
    result.update({name: {"type": "string"} for name in NEW_RESULTS})
    (found,) = [kind for kind in find_job_kinds(updated) if kind.name == "translations"]
    runtime = attrs.evolve(vozo_jobs.kinds.TRANSLATIONS, results=found.results, result_suffixes=found.result_suffixes)
    kinds = tuple(runtime if kind.name == "translations" else kind for kind in vozo_jobs.kinds.KINDS)
    monkeypatch.setattr(vozo_jobs.kinds, "KINDS", kinds)


def _fake() -> FakeVozo:
    ticks = itertools.count()  # the fake's clock moves one step each time it is read: no wall clock involved
    return FakeVozo(api_keys=[KEY], step_seconds=1.0, clock=lambda: float(next(ticks)))


def _client(fake: FakeVozo) -> vozo.AsyncVozo:
    http = httpx.AsyncClient(transport=fake.transport())
    return vozo.AsyncVozo(api_key=KEY, base_url=BASE_URL, http_client=http)


def _is_wav(data: bytes) -> bool:
    with wave.open(BytesIO(data)) as audio:
        return audio.getnframes() > 0


def test_fakevozo_serves_a_real_file_of_each_results_type(more_results: None) -> None:
    fake = _fake()

    async def go() -> dict[str, httpx.Response]:
        async with _client(fake) as client:
            job = await client.translations.create(media_url="https://m.test/talk.mp4", target_language="es")
            while (status := fake.status_of(job.task_id))["status"] != "done":
                pass  # each look moves the fake's clock one step
            http = httpx.AsyncClient(transport=fake.transport(), base_url=BASE_URL)
            async with http:
                return {name: await http.get(url) for name, url in status["result"].items()}

    served = asyncio.run(go())
    types = {name: response.headers["content-type"].split(";")[0] for name, response in served.items()}
    assert types == {
        "video_url": "video/mp4",
        "audio_url": "audio/wav",
        "subtitle_url": "application/x-subrip",
        "srt_url": "application/x-subrip",
        "vtt_url": "text/vtt",
        "json_url": "application/json",
        "preview_video_url": "video/mp4",
    }
    body = {name: response.content for name, response in served.items()}
    assert body["srt_url"].startswith(b"1\n00:00:00,000 --> 00:00:01,000\n[es] ")
    assert body["vtt_url"].startswith(b"WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n")
    assert json.loads(body["json_url"])["language"] == "es"
    assert is_playable_mp4(body["preview_video_url"])
    assert _is_wav(body["audio_url"])


def test_batch_names_each_result_file_with_its_type(more_results: None, tmp_path: Path) -> None:
    fake = _fake()
    manifest = tmp_path / "jobs.jsonl"
    manifest.write_text(json.dumps({"id": "talk", "media_url": "https://m.test/talk.mp4", "target_language": "es"}))

    async def go() -> vozo.batch.BatchSummary:
        async with _client(fake) as client:
            return await vozo.batch.run(client, manifest, tmp_path / "out", poll_interval=0.001)

    summary = asyncio.run(go())
    assert summary.counts == {RowState.COMPLETED: 1}
    outputs: dict[str, Any] = {which: Path(path).name for which, path in summary.rows[0].outputs.items()}
    assert outputs == {
        "video": "talk.video.mp4",
        "audio": "talk.audio.wav",
        "subtitle": "talk.subtitle.srt",
        "srt": "talk.srt.srt",
        "vtt": "talk.vtt.vtt",
        "json": "talk.json.json",
        "preview_video": "talk.preview_video.mp4",
    }
    out = tmp_path / "out"
    assert (out / "talk.vtt.vtt").read_text().startswith("WEBVTT")
    assert json.loads((out / "talk.json.json").read_text())["segments"]
    assert is_playable_mp4((out / "talk.preview_video.mp4").read_bytes())
