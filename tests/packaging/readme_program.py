"""A user's program written from the README's examples, type-checked by tests/packaging against the built wheel.

Each ``assert_type`` states a public return as users should see it: a precise type, never ``Any``. mypy --strict
runs on this file in a fresh venv holding only the wheel and its runtime dependencies.
"""

from __future__ import annotations

from pathlib import Path
from typing import assert_type
from urllib.parse import parse_qs, urlsplit

import vozo
from vozo import AsyncVozo, Vozo
from vozo.types import (
    JSON,
    AsyncTranslations,
    Job,
    JobGovernor,
    Lipsync,
    LipsyncJobStatus,
    TranslationJobStatus,
    Unset,
)


def quickstart() -> None:
    with Vozo() as client:
        job = client.lipsync.create(
            reference_file_url="https://example.com/presenter.mp4",
            audio_url="https://example.com/voiceover.mp3",
            model="precision",
        )
        assert_type(job, Job)
        assert_type(job.task_id, str)
        status = client.lipsync.wait(job.task_id, on_update=lambda s: print(s.status.value))
        assert_type(status, LipsyncJobStatus)
        assert_type(client.download(status, "talking.mp4"), Path)
        assert_type(client.lipsync, Lipsync)  # the names help() gives, importable from vozo.types
        assert_type(client.jobs, JobGovernor)
        assert_type(client.jobs.active, int)


def one_call() -> None:
    client = Vozo()
    status = client.lipsync.create_and_wait(
        reference_file_url="https://example.com/presenter.mp4",
        audio_url="https://example.com/voiceover.mp3",
    )
    assert_type(status, LipsyncJobStatus)
    assert_type(client.download(status, "talking.mp4"), Path)
    dubbed = client.translations.create_and_wait(media_url="https://example.com/talk.mp4", target_language="es")
    assert_type(dubbed, TranslationJobStatus)
    assert_type(client.download(dubbed, "talk.es.mp4", which="audio"), Path)
    assert_type(client.with_options(max_retries=5), Vozo)


async def awaited() -> None:
    async with AsyncVozo() as client:
        status = await client.lipsync.create_and_wait(
            reference_file_url="https://example.com/presenter.mp4",
            audio_url="https://example.com/voiceover.mp3",
        )
        assert_type(status, LipsyncJobStatus)
        assert_type(await client.download(status, "talking.mp4"), Path)
        assert_type(client.translations, AsyncTranslations)


def callback_with_a_reference(client: Vozo, order_id: str, request_url: str, body: bytes) -> None:
    secret = "s3cret"
    callback_url = vozo.callbacks.add_token(f"https://hooks.example.com/vozo?order={order_id}", secret)
    assert_type(callback_url, str)
    client.lipsync.create(
        reference_file_url="https://example.com/presenter.mp4",
        audio_url="https://example.com/voiceover.mp3",
        callback_url=callback_url,
    )
    assert_type(vozo.callbacks.verify_token(request_url, secret), bool)
    order = parse_qs(urlsplit(request_url).query)["order"][0]
    assert_type(order, str)
    assert_type(vozo.callbacks.parse(body, {}, kind="reusable_lipsync"), LipsyncJobStatus)


def results(status: LipsyncJobStatus, dubbed: TranslationJobStatus) -> None:
    """Result URLs read as ``str | None`` without importing anything from vozo_api_client."""
    assert_type(status.video_url or None, str | None)
    if not isinstance(dubbed.result, Unset):
        assert_type(dubbed.result.audio_url or None, str | None)


class TenantVozo(Vozo):
    tenant = "acme"


def before_an_update(client: Vozo, tenant_client: TenantVozo) -> None:
    """An operation the SDK does not know yet, and a field its spec lacks: the user's own typed values go in as
    they are (``dict`` and ``list`` are invariant, so a ``dict[str, str]`` must be taken as it is), JSON comes out."""
    payload: dict[str, str] = {"name": "thing"}
    assert_type(client.request("POST", "/v1/new/thing", json=payload), JSON)
    ids: list[int] = [1, 2]
    nested: dict[str, list[dict[str, int]]] = {"items": [{"n": 1}]}
    assert_type(client.request("PUT", "/v1/new/thing?dry_run=1", json={"ids": ids, "nested": nested}), JSON)
    extra: dict[str, list[str]] = {"glossary_ids": ["g1"]}
    job = client.translations.create(media_url="https://example.com/talk.mp4", target_language="es", extra_body=extra)
    assert_type(job, Job)
    assert_type(tenant_client.with_options(timeout=5.0).tenant, str)
    assert_type(client.jobs.limit, int | None)


def callback(body: bytes, headers: dict[str, str]) -> None:
    assert_type(vozo.callbacks.parse(body, headers, kind="lipsync"), LipsyncJobStatus)
    assert_type(vozo.callbacks.parse(body, headers, kind="translations"), TranslationJobStatus)
    assert_type(vozo.callbacks.parse(body, headers), LipsyncJobStatus | TranslationJobStatus)


def errors(client: Vozo, task_id: str) -> None:
    try:
        client.lipsync.wait(task_id, timeout=600)
    except vozo.JobFailedError as exc:
        assert_type(exc.status, LipsyncJobStatus | TranslationJobStatus)
        assert_type(exc.code, str | None)
        assert_type(exc.message, str | None)
    except vozo.JobTimeoutError as exc:
        assert_type(exc.last_status, LipsyncJobStatus | TranslationJobStatus | None)
        assert_type(exc.timeout, float)
    except vozo.APIStatusError as exc:
        assert_type(exc.status_code, int)
        assert_type(exc.code, str | None)
        assert_type(exc.retryable, bool)
    except vozo.VozoError as exc:
        assert_type(exc.task_id, str | None)
