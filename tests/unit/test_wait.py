from __future__ import annotations

import asyncio
from typing import Any

import anyio
import attrs
import httpx
import pytest

import vozo
from vozo import _jobs
from vozo._kinds import kind_named

from .conftest import API_KEY, BASE_URL, reply

FAST = {"poll_interval": 0.001}


def statuses(*values: str, **extra: object) -> list:
    return [reply(200, {"status": value, **extra}) for value in values]


def test_wait_polls_until_done_and_reports_each_change(api, recorder) -> None:
    recorder.replies = statuses("pending", "pending", "processing", "processing")
    recorder.default = reply(200, {"status": "done", "video_url": "https://cdn.test/out.mp4"})
    seen: list[str] = []
    final = api.call(lambda c: c.lipsync.wait("t1", on_update=lambda s: seen.append(s.status.value), **FAST))
    assert final.video_url == "https://cdn.test/out.mp4"
    assert seen == ["pending", "processing", "done"]
    assert len(recorder.requests) == 5


def test_a_status_vozo_adds_later_counts_as_in_progress(api, recorder) -> None:
    recorder.replies = statuses("pending", "gpu_warmup", "gpu_warmup")
    recorder.default = reply(200, {"status": "done", "video_url": "https://cdn.test/out.mp4"})
    seen: list[str] = []
    api.call(lambda c: c.lipsync.wait("t1", on_update=lambda s: seen.append(s.status.value), **FAST))
    assert seen == ["pending", "gpu_warmup", "done"]


def test_a_failed_jobs_megabyte_message_does_not_bury_the_advice(api, recorder) -> None:
    recorder.replies = [reply(200, {"status": "failed", "code": 20601, "message": "m" * 1_000_000})]
    raised = api.raises(vozo.JobFailedError, lambda c: c.lipsync.wait("t-77", **FAST))
    assert len(str(raised)) < 2000
    assert "create a new job" in str(raised)
    assert raised.message == "m" * 1_000_000


def test_failed_raises_with_the_task_id_and_any_error_fields(api, recorder) -> None:
    recorder.replies = [
        reply(200, {"status": "failed", "code": 20601, "message": "There are no faces in the picture."})
    ]
    raised = api.raises(vozo.JobFailedError, lambda c: c.lipsync.wait("t-77", **FAST))
    assert (raised.task_id, raised.code, raised.code_description) == (
        "t-77",
        "20601",
        "There are no faces in the picture.",
    )
    assert raised.status.status.value == "failed"


def test_a_translation_walks_its_stages_and_returns_its_result(api, recorder) -> None:
    recorder.replies = statuses("queuing", "preprocessing", "transcribing", "translating", "dubbing", "rendering")
    result = {
        "video_url": "https://cdn.test/k.es.mp4",
        "audio_url": "https://cdn.test/k.es.mp3",
        "subtitle_url": "https://cdn.test/k.es.srt",
    }
    recorder.default = reply(200, {"status": "done", "result": result})
    seen: list[str] = []
    final = api.call(lambda c: c.translations.wait("tr1", on_update=lambda s: seen.append(s.status.value), **FAST))
    assert seen == ["queuing", "preprocessing", "transcribing", "translating", "dubbing", "rendering", "done"]
    assert final.result.to_dict() == result
    assert recorder.requests[0].url.path == "/v1/media/translate/tr1"


def test_a_failed_translation_carries_err_code_and_err_message(api, recorder) -> None:
    recorder.default = reply(
        200, {"status": "failed", "err_code": "10002", "err_message": "Uploaded video has no audio stream"}
    )
    raised = api.raises(vozo.JobFailedError, lambda c: c.translations.wait("tr1", **FAST))
    assert (raised.code, raised.message) == ("10002", "Uploaded video has no audio stream")
    assert "job tr1 failed: code 10002" in str(raised)
    assert str(raised).endswith("It will not finish: create a new job (after fixing the input, if the code names it)")


def test_waiting_past_the_deadline_raises_job_timeout(api, recorder, virtual_time) -> None:
    recorder.default = reply(200, {"status": "processing"})
    raised = api.raises(vozo.JobTimeoutError, lambda c: c.lipsync.wait("t1", timeout=60, poll_interval=2))
    assert raised.task_id == "t1"
    assert raised.last_status.status.value == "processing"
    assert "still not finished after 60s (last status: processing)" in str(raised)
    assert "wait again with its task_id (or a larger timeout=); creating it again would pay twice" in str(raised)
    assert sum(virtual_time) == 60  # the last look's delay is cut to the deadline: no look is wasted past it


@pytest.mark.parametrize(
    ("failure", "said"),
    [
        (lambda _: reply(503, {"code": "1000", "message": "down"}), "InternalServerError, HTTP 503"),
        (httpx.RemoteProtocolError("peer closed connection"), "APIConnectionError"),
    ],
)
def test_a_deadline_reached_in_an_outage_says_the_status_could_not_be_read(
    api, recorder, virtual_time, failure, said
) -> None:
    """A wait whose status checks all failed ended "still not finished (last status: processing)": the outage that
    hid the job's end was only in __cause__ (and in a log a library leaves silent), not in what a user reads."""
    recorder.replies = [*statuses("processing")]
    recorder.default = failure
    raised = api.raises(vozo.JobTimeoutError, lambda c: c.with_options(max_retries=0).lipsync.wait("t1", timeout=60))
    assert f"(last status: processing; the last status check failed: {said})" in str(raised)
    assert isinstance(raised.__cause__, vozo.VozoError)
    assert str(raised).endswith("creating it again would pay twice")


def test_waiting_rides_out_an_outage_longer_than_the_retries(api, recorder) -> None:
    outage = [reply(503, {"code": "1000", "message": "down"}) for _ in range(7)]
    recorder.replies = [*statuses("pending"), *outage]
    recorder.default = reply(200, {"status": "done", "video_url": "https://cdn.test/v.mp4"})
    assert api.call(lambda c: c.lipsync.wait("t1", **FAST)).status.value == "done"
    assert len(recorder.requests) == 9


def test_a_status_garbled_in_transit_is_polled_again(api, recorder) -> None:
    garbled = [reply(200, raw=b'{"status": "proc') for _ in range(_jobs.GARBLED_TOLERANCE)]
    recorder.replies = [*statuses("pending"), *garbled, *statuses("processing"), *garbled]
    recorder.default = reply(200, {"status": "done", "video_url": "https://cdn.test/v.mp4"})
    assert api.call(lambda c: c.lipsync.wait("t1", **FAST)).status.value == "done"


def test_a_status_that_never_parses_ends_the_wait_with_the_task_id(api, recorder) -> None:
    recorder.replies = statuses("pending")
    recorder.default = reply(200, {"state": "renamed by a new API version"})
    raised = api.raises(vozo.APIResponseValidationError, lambda c: c.lipsync.wait("t-paid", **FAST))
    assert raised.task_id == "t-paid"
    assert len(recorder.requests) == 2 + _jobs.GARBLED_TOLERANCE


def test_a_refusal_while_waiting_raises_at_once_with_the_task_id(api, recorder) -> None:
    recorder.replies = [*statuses("pending"), reply(401, {"code": "1302", "message": "API key has been revoked."})]
    raised = api.raises(vozo.AuthenticationError, lambda c: c.lipsync.wait("t-paid", **FAST))
    assert raised.task_id == "t-paid"


def test_create_and_wait_keeps_the_task_id_on_errors(api, recorder, virtual_time) -> None:
    recorder.replies = [reply(200, {"task_id": "t-paid"})]
    recorder.default = reply(200, {"status": "pending"})
    raised = api.raises(
        vozo.JobTimeoutError,
        lambda c: c.lipsync.create_and_wait(
            reference_file_url="https://m.test/a.png", audio_url="https://m.test/a.wav", timeout=30, poll_interval=1
        ),
    )
    assert raised.task_id == "t-paid"


@pytest.mark.parametrize("raised_by_user", [KeyError, KeyboardInterrupt])
def test_an_interrupted_create_and_wait_still_names_the_paid_job(api, recorder, raised_by_user) -> None:
    """on_update's own error, or Ctrl-C while waiting, propagates as it is; its traceback names the job it left."""
    interruption = raised_by_user("the user's")
    recorder.replies = [reply(200, {"task_id": "t-paid"})]
    recorder.default = reply(200, {"status": "pending"})

    def seen(status: object) -> None:
        raise interruption

    raised = api.raises(
        type(interruption),
        lambda c: c.lipsync.create_and_wait(
            reference_file_url="https://m.test/a.png", audio_url="https://m.test/a.wav", on_update=seen, **FAST
        ),
    )
    assert raised is interruption
    assert raised.__notes__ == [
        "vozo: lipsync job t-paid goes on at Vozo; client.lipsync.wait('t-paid') waits for it again"
    ]


def test_a_wait_a_task_group_cancels_names_its_paid_job_in_the_log(caplog) -> None:
    """One create_and_wait failing cancels its siblings in a TaskGroup, which drops their CancelledErrors, notes and
    all: the log is then the only place left that names the jobs still running at Vozo."""
    ids = iter(["t-fails", "t-paid"])

    async def vozo_api(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return reply(200, {"task_id": next(ids)})
        if request.url.path.endswith("t-paid"):
            polled.set()
            return reply(200, {"status": "pending"})
        await polled.wait()  # the sibling is waiting on its job when this one fails: no race with the clock
        return reply(200, {"status": "failed"})

    async def both() -> None:
        client = vozo.AsyncVozo(
            api_key=API_KEY, base_url=BASE_URL, http_client=httpx.AsyncClient(transport=httpx.MockTransport(vozo_api))
        )
        async with client, asyncio.TaskGroup() as group:
            for audio in ("https://m.test/a.wav", "https://m.test/b.wav"):
                group.create_task(
                    client.lipsync.create_and_wait(reference_file_url="https://m.test/a.png", audio_url=audio, **FAST)
                )

    polled = asyncio.Event()
    with pytest.raises(ExceptionGroup) as raised:
        asyncio.run(both())
    assert [type(error) for error in raised.value.exceptions] == [vozo.JobFailedError]  # t-paid's is gone
    assert [record.getMessage() for record in caplog.records if record.levelname == "WARNING"] == [
        "lipsync job t-paid goes on at Vozo; client.lipsync.wait('t-paid') waits for it again (its wait ended with "
        "CancelledError)"
    ]


def test_the_poll_interval_grows_to_its_cap(monkeypatch) -> None:
    poller = _jobs.Poller(kind_named("lipsync"), "t", timeout=10_000, poll_interval=2.0, on_update=None)
    from vozo_api_client.models import JobStatus

    delays = [poller.observe(JobStatus.from_dict({"status": "pending"})) for _ in range(12)]
    assert delays[:4] == [2.0, 3.0, 4.5, 6.75]
    assert delays[-1] == _jobs.MAX_POLL_INTERVAL
    assert delays == sorted(delays)


def test_the_default_deadline_outlasts_vozos_documented_queue_and_processing(api, recorder, virtual_time) -> None:
    # Vozo documents up to 2 hours queued, then 10-20 minutes of processing: a wait without timeout= sees it done.
    queued_until, done_at = 120 * 60, (120 + 20) * 60

    def status(request: httpx.Request) -> httpx.Response:
        now = sum(virtual_time)
        value = "pending" if now < queued_until else "processing" if now < done_at else "done"
        return reply(200, {"status": value, "video_url": "https://cdn.test/o.mp4"})

    recorder.default = status
    assert api.call(lambda c: c.lipsync.wait("t-slow")).status.value == "done"
    assert sum(virtual_time) >= done_at


def test_wait_looks_at_once_but_create_and_wait_first_waits_an_interval(api, recorder, sleeps) -> None:
    # A job someone else started may be done already; one Vozo accepted a moment ago is still queued.
    done = reply(200, {"status": "done", "video_url": "https://cdn.test/out.mp4"})
    recorder.replies = [*statuses("pending"), done, reply(200, {"task_id": "t-new"}), *statuses("pending"), done]
    api.call(lambda c: c.lipsync.wait("t-old", poll_interval=2.0))
    assert sleeps == [2.0]
    sleeps.clear()
    api.call(
        lambda c: c.lipsync.create_and_wait(
            reference_file_url="https://m.test/a.png", audio_url="https://m.test/a.wav", poll_interval=2.0
        )
    )
    assert sleeps == [2.0, 3.0]
    assert [r.method for r in recorder.requests] == ["GET", "GET", "POST", "GET", "GET"]


@pytest.mark.parametrize("resource", ["reusable_lipsync", "translations"])
def test_every_create_and_wait_skips_the_pointless_first_look(api, recorder, sleeps, resource) -> None:
    recorder.replies = [reply(200, {"task_id": "t-new"})]
    recorder.default = reply(200, {"status": "done", "video_url": "https://cdn.test/out.mp4", "result": {}})
    arguments = {
        "reusable_lipsync": {"model_id": "m-1", "audio_url": "https://m.test/a.wav"},
        "translations": {"media_url": "https://m.test/a.mp4", "target_language": "es"},
    }[resource]
    api.call(lambda c: getattr(c, resource).create_and_wait(**arguments, poll_interval=1.5))
    assert sleeps == [1.5]
    assert [r.method for r in recorder.requests] == ["POST", "GET"]


def test_async_create_and_wait_runs_under_trio(recorder) -> None:
    recorder.replies = [reply(200, {"task_id": "t-trio"}), *statuses("pending", "processing")]
    recorder.default = reply(200, {"status": "done", "video_url": "https://cdn.test/out.mp4"})

    async def main() -> str:
        transport = httpx.MockTransport(recorder)
        async with vozo.AsyncVozo(
            api_key=API_KEY, base_url=BASE_URL, http_client=httpx.AsyncClient(transport=transport)
        ) as client:
            done = await client.lipsync.create_and_wait(
                reference_file_url="https://m.test/a.png", audio_url="https://m.test/a.wav", **FAST
            )
        return str(done.video_url)

    assert anyio.run(main, backend="trio") == "https://cdn.test/out.mp4"
    assert [r.url.path for r in recorder.requests] == ["/v1/video_generation"] + ["/v1/video_generation/t-trio"] * 3


@pytest.mark.parametrize(
    "bad", [{"timeout": -5}, {"timeout": 0}, {"timeout": float("nan")}, {"timeout": "60"}, {"poll_interval": -1}]
)
def test_a_wait_that_is_not_positive_is_refused_before_any_request_and_before_a_paid_create(api, recorder, bad) -> None:
    """create_and_wait checks its waiting arguments first: a refusal after the create would leave a paid job."""
    error = api.raises(vozo.InvalidInputError, lambda c: c.lipsync.wait("t1", **bad))
    assert next(iter(bad)) in str(error)
    api.raises(
        vozo.InvalidInputError,
        lambda c: c.lipsync.create_and_wait(
            reference_file_url="https://m.test/a.mp4", audio_url="https://m.test/a.mp3", **bad
        ),
    )
    assert recorder.requests == []


def test_an_async_def_on_update_is_awaited_by_asyncvozo_and_refused_by_vozo(api, recorder, recwarn) -> None:
    """AsyncVozo called an `async def` on_update without awaiting it: the callback never ran, and the only sign was a
    RuntimeWarning. Vozo cannot await it, so it says so instead of dropping it."""
    recorder.replies = statuses("pending", "processing")
    recorder.default = reply(200, {"status": "failed", "code": 20601})
    seen: list[str] = []

    async def on_update(status: object) -> None:
        await asyncio.sleep(0)
        seen.append(status.status.value)  # type: ignore[attr-defined]

    if api.flavour == "async":
        api.raises(vozo.JobFailedError, lambda c: c.lipsync.wait("t1", on_update=on_update, **FAST))
        assert seen == ["pending", "processing", "failed"]  # the failed status's call ran too, before the error
    else:
        raised = api.raises(vozo.InvalidInputError, lambda c: c.lipsync.wait("t1", on_update=on_update, **FAST))
        assert "use AsyncVozo" in str(raised)
        assert recorder.requests == []  # refused before the first look, not after waiting to the end
    assert not [warning for warning in recwarn if "never awaited" in str(warning.message)]


class _AsyncCallable:
    async def __call__(self, status: object) -> None:
        pass


async def _async_on_update(status: object) -> None:
    pass


@pytest.mark.parametrize("on_update", [5, "print"], ids=["int", "str"])
def test_an_on_update_that_could_never_run_is_refused_before_a_paid_create(api, recorder, on_update) -> None:
    """create_and_wait(on_update=5) created (and billed) the job, then failed with a bare TypeError at its first status:
    known before the create, so refused then, with no request sent."""
    _refused_before_any_request(api, recorder, on_update)


@pytest.mark.parametrize("api", ["sync"], indirect=True)  # AsyncVozo awaits them (test above)
@pytest.mark.parametrize("on_update", [_AsyncCallable(), _async_on_update], ids=["async-call", "async-def"])
def test_an_async_on_update_is_refused_by_vozo_before_a_paid_create(api, recorder, on_update) -> None:
    """Vozo's create_and_wait with an `async def` on_update created (and billed) the job, then refused it."""
    _refused_before_any_request(api, recorder, on_update)


def _refused_before_any_request(api: Any, recorder: Any, on_update: object) -> None:
    error = api.raises(
        vozo.InvalidInputError,
        lambda c: c.lipsync.create_and_wait(
            reference_file_url="https://m.test/a.mp4", audio_url="https://m.test/a.mp3", on_update=on_update, **FAST
        ),
    )
    assert "on_update" in str(error)
    api.raises(vozo.InvalidInputError, lambda c: c.lipsync.wait("t1", on_update=on_update, **FAST))
    assert recorder.requests == []


@pytest.mark.parametrize("value", ["cancelled", "expired", "CANCELED", "cancelled_by_user", "timed_out", "Aborted"])
def test_a_status_that_names_an_end_other_than_done_ends_the_wait_as_failed(api, recorder, value) -> None:
    """Vozo adds `cancelled` (or lets jobs expire): the job will never be done, so waiting ends there at once, as at
    failed, rather than at its deadline hours later; before or after `make update-spec` lists the value."""
    recorder.replies = statuses("pending", "processing")
    recorder.default = reply(200, {"status": value})
    raised = api.raises(vozo.JobFailedError, lambda c: c.lipsync.wait("t-9", timeout=5, **FAST))
    assert raised.task_id == "t-9"
    assert raised.status.status.value == value
    assert f"job t-9 ended {value!r}" in str(raised)
    assert len(recorder.requests) == 3


def test_a_status_on_its_way_to_an_end_is_still_in_progress(api, recorder) -> None:
    recorder.replies = statuses("pending", "cancelling", "expiring", "error_recovering", "failed_retrying")
    recorder.default = reply(200, {"status": "done", "video_url": "https://cdn.test/out.mp4"})
    assert api.call(lambda c: c.lipsync.wait("t1", timeout=5, **FAST)).status.value == "done"


def test_fake_vozo_walks_a_kinds_stages_but_not_the_values_that_end_it(monkeypatch) -> None:
    """A spec whose status lists `cancelled` or `expired` before done: FakeVozo's jobs still walk on to done."""

    import vozo_jobs.kinds
    from vozo.testing import FakeVozo

    lipsync = vozo_jobs.kinds.LIPSYNC
    ending = attrs.evolve(lipsync, statuses=("pending", "cancelled", "processing", "expired", "done", "failed"))
    monkeypatch.setattr(vozo_jobs.kinds, "KINDS", tuple(ending if k is lipsync else k for k in vozo_jobs.kinds.KINDS))
    fake = FakeVozo(api_keys=[API_KEY])
    with fake.serve() as url, vozo.Vozo(api_key=API_KEY, base_url=url) as client:
        job = client.lipsync.create(reference_file_url="https://m.test/p.mp4", audio_url="https://m.test/a.mp3")
    assert fake.jobs[job.task_id].stages == ("pending", "processing", "done")
