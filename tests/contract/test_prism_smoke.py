"""The wrapper end to end against Prism serving openapi/vozo.yaml: a real socket, real HTTP, the spec's examples."""

from __future__ import annotations

import asyncio

import pytest

import vozo

pytestmark = pytest.mark.prism  # needs Prism (node_modules/.bin/prism)


@pytest.fixture
def client(prism):
    with vozo.Vozo(api_key="vz-smoke", base_url=prism.url) as client:
        yield client


def test_lipsync_lifecycle_through_prism(client, tmp_path) -> None:
    job = client.lipsync.create(
        reference_file_url="https://media.example.com/presenter.mp4",
        audio_url="https://media.example.com/voiceover.mp3",
    )
    assert job.task_id == "6f1c2b9e-3a52-4d8e-9b7a-2c4f0e1d8a37"
    status = client.lipsync.wait(job.task_id, poll_interval=0.01)
    assert status.video_url == "https://cdn.example.com/results/6f1c2b9e.mp4"


def test_translation_lifecycle_through_prism(client) -> None:
    status = client.translations.create_and_wait(
        media_url="https://media.example.com/keynote.mp4", target_language="es", poll_interval=0.01
    )
    assert status.result.subtitle_url == "https://cdn.example.com/results/keynote.es.srt"


def test_async_client_through_prism(prism) -> None:
    async def run() -> str:
        async with vozo.AsyncVozo(api_key="vz-smoke", base_url=prism.url) as client:
            job = await client.reusable_lipsync.create(model_id="mdl_1", audio_url="https://media.example.com/a.wav")
            return (await client.reusable_lipsync.wait(job.task_id, poll_interval=0.01)).status.value

    assert asyncio.run(run()) == "done"


def test_prism_refuses_what_the_spec_refuses(prism) -> None:
    import httpx

    response = httpx.post(
        f"{prism.url}/v1/video_generation", json={"audio_url": "x"}, headers={"Authorization": "Bearer k"}
    )
    assert response.status_code in (400, 422)
