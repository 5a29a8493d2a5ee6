"""A user's program over the whole public surface, written from the README as an IDE user writes it.

tests/packaging type-checks it against the built wheel, installed with its ``testing`` and ``batch`` extras in a fresh
venv, with mypy --strict and with pyright in strict mode (what VS Code's Pylance runs): a user must see no error, no
``Unknown`` type and no private type (``vozo_api_client``'s ``Unset`` is public as ``vozo.types.Unset``). Each
``assert_type`` states a public type as users should see it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Literal, assert_type

import httpx

import vozo
import vozo.batch
from vozo import AsyncVozo, Vozo
from vozo.testing import FakeVozo, Faults, ManualClock
from vozo.types import (
    JSON,
    UNSET,
    AnyStatus,
    AsyncJobGovernor,
    AsyncLipsync,
    AsyncReusableLipsync,
    AsyncTranslations,
    Job,
    JobGovernor,
    Lipsync,
    LipsyncJobStatus,
    LipsyncStatus,
    OcrTextBox,
    ReusableLipsync,
    SpeakerNumber,
    TranslationJobStatus,
    TranslationResult,
    Translations,
    TranslationStatus,
    Unset,
)


def every_kind(client: Vozo) -> None:
    job = client.lipsync.create(
        reference_file_url="https://example.com/presenter.mp4",
        audio_url="https://example.com/voice.mp3",
        model="precision",
        reference_file_type="video",
        callback_url="https://hooks.example.com/vozo",
        check_file_types=True,
        extra_body={"future_field": 1},
    )
    assert_type(job, Job)
    assert_type(job.task_id, str)
    status = client.lipsync.get(job.task_id)
    assert_type(status, LipsyncJobStatus)
    assert_type(status.status, LipsyncStatus)
    assert_type(str(status.status), str)
    assert_type(status.video_url, str | Unset)
    if status.status is LipsyncStatus.DONE and not isinstance(status.video_url, Unset):
        assert_type(status.video_url, str)

    def seen(s: LipsyncJobStatus) -> None:
        print(s.status.value)

    done = client.lipsync.wait(job.task_id, timeout=600.0, poll_interval=5.0, on_update=seen)
    assert_type(done, LipsyncJobStatus)
    assert_type(
        client.lipsync.create_and_wait(
            reference_file_url="https://example.com/p.jpg",
            audio_url="https://example.com/v.wav",
            model="standard_v1",
            timeout=3600,
            on_update=lambda s: print(s.video_url or "not yet"),
        ),
        LipsyncJobStatus,
    )

    reusable = client.reusable_lipsync.create(model_id="m-1", audio_url="https://example.com/v.m4a")
    assert_type(reusable, Job)
    assert_type(client.reusable_lipsync.get(reusable.task_id), LipsyncJobStatus)
    assert_type(client.reusable_lipsync.wait(reusable.task_id), LipsyncJobStatus)
    assert_type(
        client.reusable_lipsync.create_and_wait(model_id="m-1", audio_url="https://example.com/v.mp3"),
        LipsyncJobStatus,
    )

    translation = client.translations.create(
        media_url="https://example.com/talk.mp4",
        target_language="pt-BR",
        media_type="video",
        source_language="en",
        export_type="all",
        subtitle_usage_type="original",
        speaker_number={"min": 1, "max": 2},
        user_prompt="formal",
    )
    assert_type(translation, Job)
    dubbed = client.translations.wait(translation.task_id)
    assert_type(dubbed, TranslationJobStatus)
    assert_type(dubbed.status, TranslationStatus)
    assert_type(dubbed.result, TranslationResult | Unset)
    if not isinstance(dubbed.result, Unset):
        assert_type(dubbed.result.video_url, str | Unset)
        assert_type(dubbed.result.subtitle_url or None, str | None)
    assert_type(
        client.translations.create_and_wait(
            media_url="https://example.com/talk.mp3",
            target_language="es",
            ocr_text_box=OcrTextBox(x=0.0, y=0.8, width=1.0, height=0.2),
            speaker_number=SpeakerNumber(min_=1, max_=3),
        ),
        TranslationJobStatus,
    )
    assert_type(client.translations.get("t"), TranslationJobStatus)
    assert_type(client.download(dubbed, "out/", which="subtitle", on_progress=lambda n, total: None), Path)
    assert_type(client.download("https://cdn.example.com/a.mp4", Path("a.mp4"), max_bytes=None, deadline=60.0), Path)


ModelName = Literal["standard", "precision"]


def enum_arguments(client: Vozo, model: ModelName, kind: vozo.types.ReferenceFileType) -> None:
    """A user's own Literal alias, a variable typed as one, and the enums vozo.types exports."""
    client.lipsync.create(reference_file_url="https://e.com/a.mp4", audio_url="https://e.com/a.mp3", model=model)
    export: Literal["auto", "video", "audio", "all"] = "audio"
    client.translations.create(media_url="https://e.com/a.mp4", target_language="es", export_type=export)
    client.lipsync.create(
        reference_file_url="https://e.com/a",
        audio_url="https://e.com/a.mp3",
        model=vozo.types.Model.PRECISION_V1,
        reference_file_type=kind,
        check_file_types=False,
    )


def a_status_vozo_adds_later(status: LipsyncJobStatus, dubbed: TranslationJobStatus) -> str:
    """Enums accept values Vozo adds later: branch on the listed members, compare the raw string of another."""
    if str(status.status) == "reviewing":
        return "a status this version does not list"
    match dubbed.status:
        case TranslationStatus.DONE:
            return "done"
        case TranslationStatus.FAILED:
            return "failed"
        case _:
            return f"still running: {dubbed.status}"


def unknown_fields(status: LipsyncJobStatus) -> None:
    """Fields Vozo adds later are kept, as JSON values (not Any: what is done with them is checked)."""
    assert_type(status["duration"], JSON)
    assert_type(status.additional_properties, dict[str, JSON])
    duration = status.additional_properties.get("duration")
    if isinstance(duration, int | float):
        print(duration * 1.5, status.additional_keys, "duration" in status)
    assert_type(LipsyncJobStatus.from_dict(status.to_dict()), LipsyncJobStatus)
    # The whole model as JSON values too (as json.dumps or a callback body takes them), not Any.
    assert_type(status.to_dict(), dict[str, JSON])
    assert_type(TranslationJobStatus.from_dict({"status": "done"}).to_dict(), dict[str, JSON])
    assert_type(SpeakerNumber(min_=1).to_dict(), dict[str, JSON])


class TenantVozo(Vozo):
    def __init__(self, tenant: str) -> None:
        super().__init__(api_key=f"key-of-{tenant}", max_active_jobs=5)
        self.tenant = tenant


def subclassed(client: TenantVozo) -> None:
    assert_type(client.with_options(max_retries=1), TenantVozo)
    assert_type(client.with_options(max_retries=1).tenant, str)


def resources_and_options(client: Vozo) -> None:
    assert_type(client.lipsync, Lipsync)
    assert_type(client.reusable_lipsync, ReusableLipsync)
    assert_type(client.translations, Translations)
    assert_type(client.jobs, JobGovernor)
    assert_type(client.jobs.active, int)
    assert_type(client.jobs.limit, int | None)
    copy = client.with_options(api_key="k", base_url="http://127.0.0.1:8000", timeout=httpx.Timeout(5.0), max_retries=0)
    assert_type(copy, Vozo)
    assert_type(copy.base_url, str)
    assert_type(copy.max_retries, int)
    assert_type(copy.timeout, httpx.Timeout)
    answer = client.request("GET", "/v1/account/credits")
    assert_type(answer, JSON)
    if isinstance(answer, dict):
        credits = answer.get("credits")
        print(credits)
    client.close()


async def async_everything() -> None:
    async with AsyncVozo(api_key="k", max_active_jobs=5, timeout=30.0, max_retries=3) as client:
        assert_type(client.lipsync, AsyncLipsync)
        assert_type(client.reusable_lipsync, AsyncReusableLipsync)
        assert_type(client.translations, AsyncTranslations)
        assert_type(client.jobs, AsyncJobGovernor)
        job = await client.lipsync.create(reference_file_url="https://e.com/a.mp4", audio_url="https://e.com/a.mp3")
        assert_type(job, Job)
        assert_type(await client.lipsync.get(job.task_id), LipsyncJobStatus)
        assert_type(await client.lipsync.wait(job.task_id), LipsyncJobStatus)
        statuses = await asyncio.gather(
            *(
                client.translations.create_and_wait(media_url=f"https://e.com/{n}.mp4", target_language="es")
                for n in range(3)
            )
        )
        assert_type(statuses, list[TranslationJobStatus])
        assert_type(
            await client.reusable_lipsync.create_and_wait(model_id="m", audio_url="https://e.com/a.mp3"),
            LipsyncJobStatus,
        )
        assert_type(await client.download(statuses[0], "out.mp4", which="video"), Path)
        assert_type(await client.request("POST", "/v1/x", json={"a": [1, 2]}), JSON)
        assert_type(client.with_options(max_retries=1), AsyncVozo)
        summary = await vozo.batch.run(client, "catalogue.csv", out="results/", max_active=5)
        assert_type(summary, vozo.batch.BatchSummary)
        assert_type(summary.complete, bool)
        for row in summary.unfinished:
            assert_type(row, vozo.batch.JournalRow)
            assert_type(row.state, vozo.batch.RowState)
            assert_type(row.task_id, str | None)
            print(row.key, row.error_code, row.outputs)
        assert_type(summary.counts[vozo.batch.RowState.COMPLETED], int)
        report = summary.report()  # what report.json holds: keys a type checker knows
        assert_type(report, vozo.batch.BatchReport)
        assert_type(report["rows"][0]["task_id"], str | None)
        assert_type(summary.rows[0].fields, dict[str, JSON])
        assert_type(vozo.batch.load("catalogue.csv")[0].fields, dict[str, JSON])
        assert_type(vozo.batch.status("results/"), vozo.batch.BatchSummary)


def errors(client: Vozo) -> None:
    try:
        client.lipsync.create_and_wait(reference_file_url="https://e.com/a.mp4", audio_url="https://e.com/a.mp3")
    except vozo.InvalidInputError as exc:
        assert_type(str(exc), str)
    except vozo.InsufficientCreditsError as exc:
        assert_type(exc.code, str | None)
    except vozo.AuthenticationError as exc:
        assert_type(exc.status_code, int)
    except vozo.PermissionDeniedError as exc:
        assert_type(exc.code_description, str | None)
    except vozo.RateLimitError as exc:
        assert_type(exc.retry_after, float | None)
        assert_type(exc.retryable, bool)
    except vozo.NotFoundError as exc:
        assert_type(exc.request_id, str | None)
    except vozo.BadRequestError as exc:
        assert_type(exc.message, str | None)
        assert_type(exc.server_ts, str | None)
    except vozo.InternalServerError as exc:
        assert_type(exc.body_excerpt, str | None)
        assert_type(exc.method, str)
        assert_type(exc.path, str)
    except vozo.APIStatusError as exc:
        assert_type(exc.status_code, int)
    except vozo.APITimeoutError as exc:
        assert_type(exc.task_id, str | None)
    except vozo.APIConnectionError as exc:
        print(exc)
    except vozo.APIResponseValidationError as exc:
        assert_type(exc.status_code, int | None)
        assert_type(exc.body_excerpt, str | None)
    except vozo.JobFailedError as exc:
        assert_type(exc.task_id, str | None)
        assert_type(exc.status, AnyStatus)
        assert_type(exc.code, str | None)
        assert_type(exc.message, str | None)
        assert_type(exc.code_description, str | None)
    except vozo.JobTimeoutError as exc:
        assert_type(exc.last_status, AnyStatus | None)
        assert_type(exc.timeout, float)
    except vozo.DownloadError as exc:
        assert_type(exc.url, str)
        assert_type(exc.status_code, int | None)
        assert_type(exc.retryable, bool)
        assert_type(exc.link_expired, bool)
    except vozo.CallbackError as exc:
        print(exc)
    except vozo.VozoError as exc:
        assert_type(exc.task_id, str | None)
    code = vozo.API_ERROR_CODES["1304"]
    print(code, vozo.JOB_ERROR_CODES, vozo.describe("104"))


def callbacks(body: bytes, headers: dict[str, str]) -> None:
    url = vozo.callbacks.add_token("https://hooks.example.com/vozo?order=1", b"secret")
    assert_type(url, str)
    assert_type(vozo.callbacks.verify_token(url, "secret", expected_url=url), bool)
    assert_type(vozo.callbacks.parse(body, headers, kind="lipsync"), LipsyncJobStatus)
    assert_type(vozo.callbacks.parse(body, kind="reusable_lipsync"), LipsyncJobStatus)
    assert_type(vozo.callbacks.parse(body.decode(), headers, kind="translations"), TranslationJobStatus)
    assert_type(vozo.callbacks.parse(body), AnyStatus)
    parsed = vozo.callbacks.parse(body)
    if isinstance(parsed, TranslationJobStatus):
        assert_type(parsed.status, TranslationStatus)


def testing() -> None:
    fake = FakeVozo(api_keys=["test-key"], step_seconds=1.0, clock=ManualClock(), faults=Faults(rate_limit=0.2, seed=1))
    fake.fail_next("20601")
    with fake.serve() as base_url, Vozo(api_key="test-key", base_url=base_url) as client:
        assert_type(base_url, str)
        job = client.lipsync.create(reference_file_url="https://x.test/a.mp4", audio_url="https://x.test/a.mp3")
        fake.advance(10)
        with fake.hold_creates() as hold:
            assert_type(hold.held.is_set(), bool)
            hold.release()
        print(len(fake.create_requests), fake.injected["rate_limit"])
        assert_type(fake.status_of(job.task_id), dict[str, JSON])
        assert_type(fake.create_requests[0]["body"], dict[str, JSON])
        assert_type(fake.jobs[job.task_id].body, dict[str, JSON])
    transport = fake.transport()
    AsyncVozo(api_key="test-key", http_client=httpx.AsyncClient(transport=transport))
    assert_type(UNSET, Unset)
