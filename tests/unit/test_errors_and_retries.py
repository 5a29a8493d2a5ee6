from __future__ import annotations

import collections
import gzip
import json
import types
import zlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

import vozo
from vozo import _retry

from .conftest import API_KEY, Pieces, nested, reply, with_peak_memory

ERROR_BODY = {"code": "5", "message": "Invalid request parameters.", "serverTs": "1732460000000"}
CREATE = {"reference_file_url": "https://m.test/a.mp4", "audio_url": "https://m.test/a.mp3"}


@pytest.mark.parametrize(
    ("status", "error", "advice"),
    [
        (400, vozo.BadRequestError, "created no job: fix what the code names, then send it again"),
        (401, vozo.AuthenticationError, "Check the API key (api_key= or VOZO_API_KEY)"),
        (403, vozo.PermissionDeniedError, "check its plan and permissions in your Vozo account"),
        (404, vozo.NotFoundError, "Check the task id (as the create call returned it) and base_url"),
        (409, vozo.APIStatusError, "Check the request against Vozo's documentation"),
        (429, vozo.RateLimitError, "wait for some jobs to finish, then try again"),
        (500, vozo.InternalServerError, "A failure on Vozo's side; try again later"),
        (502, vozo.InternalServerError, "A failure on Vozo's side; try again later"),
        (503, vozo.InternalServerError, "A failure on Vozo's side; try again later"),
    ],
)
def test_each_status_raises_its_class_with_vozos_fields_and_what_to_do(api, recorder, status, error, advice) -> None:
    recorder.default = reply(
        status, {"code": "77", "message": "nope", "serverTs": "1732460000000"}, headers={"X-Request-Id": "req-9"}
    )
    raised = api.raises(error, lambda c: c.with_options(max_retries=0).lipsync.get("t1"))
    assert type(raised) is error
    assert (raised.status_code, raised.code, raised.message, raised.server_ts, raised.request_id) == (
        status,
        "77",
        "nope",
        "1732460000000",
        "req-9",
    )
    assert raised.method == "GET"
    assert raised.path == "/v1/video_generation/t1"
    assert f"{status} from GET /v1/video_generation/t1: code 77 (nope)" in str(raised)
    assert advice in str(raised).rsplit(" - body: ", 1)[-1]  # what to do comes last


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.lipsync.create(**CREATE),
        lambda c: c.request("GET", "/v1/account/credits"),
        lambda c: c.request("POST", "/v1/media/voice_clone", json={}),
    ],
)
def test_a_404_with_no_task_id_in_the_path_names_the_operation_not_a_task_id(api, recorder, call) -> None:
    """Every 404 said "check the task id", a create's and an unknown path's too, where no task id was sent."""
    recorder.default = reply(404, raw=b"Not Found", headers={"Content-Type": "text/plain"})
    raised = api.raises(vozo.NotFoundError, lambda c: call(c.with_options(max_retries=0)))
    assert "task id" not in str(raised)
    assert str(raised).endswith(
        f"Nothing answers {raised.method} at this path on this server: check base_url (Vozo's API is "
        "https://api.vozo.ai) and the path; if the server is Vozo's, the operation moved: update the vozo package"
    )
    status = api.raises(vozo.NotFoundError, lambda c: c.request("GET", "/v1/video_generation/t-9"))
    assert "Check the task id" in str(status)  # a status path: its task id is what may be wrong


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_small_compressed_answer_that_inflates_past_the_limit_is_cut_off_without_filling_memory(
    api, recorder, encoding
) -> None:
    """httpx inflates each network read whole: a 200 KB read of a bomb became 200 MB in memory before the answer's
    16 MiB limit could refuse it. Inflated a piece at a time, the peak stays near the limit."""
    inflated = b" " * (200 * 1024**2)
    bomb = gzip.compress(inflated, 9) if encoding == "gzip" else zlib.compress(inflated, 9)
    recorder.default = lambda _: httpx.Response(200, headers={"Content-Encoding": encoding}, stream=Pieces([bomb]))
    raised, peak = with_peak_memory(
        lambda: api.raises(vozo.APIResponseValidationError, lambda c: c.with_options(max_retries=0).lipsync.get("t"))
    )
    assert "grew past 16777216 bytes (decoded)" in str(raised)
    assert peak < 60 * 1024**2, f"peak {peak / 1024**2:.0f} MiB"


def gzipped_twice(size: int) -> bytes:
    return gzip.compress(gzip.compress(b" " * size, 9), 9)


@pytest.mark.parametrize("encoding", ["gzip, gzip", "br", "zstd", "compress"])
def test_an_answer_in_a_coding_the_client_did_not_ask_for_is_refused_before_it_is_read(api, recorder, encoding) -> None:
    """httpx decodes a chain ("gzip, gzip"), and br or zstd where their packages are installed, a whole network read at
    once: a 590-byte answer in "gzip, gzip" took 548 MiB. The client asks for gzip and deflate, and reads only those."""
    body = Pieces([gzipped_twice(200 * 1024**2)])
    recorder.default = lambda _: httpx.Response(200, headers={"Content-Encoding": encoding}, stream=body)
    raised, peak = with_peak_memory(
        lambda: api.raises(vozo.APIResponseValidationError, lambda c: c.with_options(max_retries=0).lipsync.get("t"))
    )
    assert f"Content-Encoding {encoding!r}, which was not asked for" in str(raised)
    assert peak < 20 * 1024**2, f"peak {peak / 1024**2:.0f} MiB"
    assert recorder.requests[0].headers["Accept-Encoding"] == "gzip, deflate"
    assert len(recorder.requests) == 1


def test_an_html_error_page_keeps_a_short_excerpt(api, recorder) -> None:
    page = b"<html><body><h1>502 Bad Gateway</h1>" + b"x" * 500 + b"</body></html>"
    recorder.default = reply(502, raw=page, headers={"Content-Type": "text/html"})
    raised = api.raises(vozo.InternalServerError, lambda c: c.with_options(max_retries=0).lipsync.get("t1"))
    assert raised.code is None
    assert raised.body_excerpt.startswith("<html><body><h1>502 Bad Gateway</h1>")
    assert len(raised.body_excerpt) <= 203


@pytest.mark.parametrize(
    ("code", "error", "retryable"),
    [
        ("1304", vozo.RateLimitError, True),
        ("104", vozo.InsufficientCreditsError, False),
        ("1302", vozo.AuthenticationError, False),
        ("1305", vozo.PermissionDeniedError, False),
        ("1000", vozo.InternalServerError, True),
        ("5", vozo.BadRequestError, False),
    ],
)
def test_vozos_code_picks_the_class_a_400_cannot(api, recorder, code, error, retryable) -> None:
    recorder.default = reply(400, {"code": code, "message": "m"})
    raised = api.raises(error, lambda c: c.with_options(max_retries=0).lipsync.create(**CREATE))
    assert type(raised) is error
    assert raised.retryable is retryable
    assert raised.code_description == vozo.describe(code)
    assert raised.code_description in str(raised)
    assert ".." not in str(raised)  # the documented meaning's own period, then the advice
    # What to do follows; a create that may have reached Vozo (1000) is never told to "try again later".
    assert "try again later" not in str(raised)
    if code == "104":
        assert str(raised).endswith("Add credits to your Vozo account, then send it again")


def test_a_numeric_code_is_read_as_the_documented_string(api, recorder) -> None:
    recorder.default = reply(400, {"code": 1304, "message": "busy"})
    raised = api.raises(vozo.RateLimitError, lambda c: c.with_options(max_retries=0).lipsync.get("t"))
    assert raised.code == "1304"


def test_a_get_is_retried_on_5xx_then_succeeds(api, recorder) -> None:
    recorder.replies = [reply(503, ERROR_BODY), reply(500, ERROR_BODY)]
    recorder.default = reply(200, {"status": "processing"})
    status = api.call(lambda c: c.lipsync.get("t1"))
    assert status.status.value == "processing"
    assert len(recorder.requests) == 3


def test_max_retries_bounds_the_attempts(api, recorder) -> None:
    recorder.default = reply(503, ERROR_BODY)
    api.raises(vozo.InternalServerError, lambda c: c.lipsync.get("t1"))
    assert len(recorder.requests) == 3  # 1 + max_retries=2
    recorder.requests.clear()
    api.raises(vozo.InternalServerError, lambda c: c.with_options(max_retries=5).lipsync.get("t1"))
    assert len(recorder.requests) == 6


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_client_errors_are_not_retried(api, recorder, status) -> None:
    recorder.default = reply(status, ERROR_BODY)
    api.raises(vozo.APIStatusError, lambda c: c.lipsync.get("t1"))
    assert len(recorder.requests) == 1


def test_408_is_retried(api, recorder) -> None:
    recorder.replies = [reply(408, ERROR_BODY)]
    recorder.default = reply(200, {"status": "done"})
    api.call(lambda c: c.lipsync.get("t"))
    assert len(recorder.requests) == 2


@pytest.mark.parametrize(
    "failure",
    [
        lambda _: reply(500, ERROR_BODY),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("reset"),
    ],
)
def test_a_job_creating_post_is_not_retried_once_it_may_have_reached_vozo(api, recorder, failure) -> None:
    recorder.replies = [failure]
    api.raises(vozo.VozoError, lambda c: c.lipsync.create(**CREATE))
    assert len(recorder.requests) == 1


@pytest.mark.parametrize(
    "refusal",
    [
        lambda _: reply(429, {"code": "1304", "message": "too many jobs"}),  # the key's cap, queued jobs included
        lambda _: reply(400, {"code": "1304", "message": "too many jobs"}),  # the same code under a 400
        lambda _: reply(429, {"code": "429", "message": "slow down"}, headers={"Retry-After": "0"}),
    ],
)
def test_a_refused_create_is_retried_since_vozo_created_nothing(api, recorder, refusal) -> None:
    recorder.replies = [refusal]
    recorder.default = reply(200, {"task_id": "t-1"})
    assert api.call(lambda c: c.lipsync.create(**CREATE)).task_id == "t-1"
    assert len(recorder.requests) == 2


def test_refused_creates_are_retried_only_up_to_max_retries(api, recorder) -> None:
    recorder.default = reply(429, {"code": "1304", "message": "too many jobs"})
    assert api.raises(vozo.RateLimitError, lambda c: c.lipsync.create(**CREATE)).code == "1304"
    assert len(recorder.requests) == 1 + api.client.max_retries


def test_a_job_creating_post_is_retried_when_it_never_left(api, recorder) -> None:
    recorder.replies = [httpx.ConnectError("refused"), httpx.ConnectTimeout("no route")]
    recorder.default = reply(200, {"task_id": "t-1"})
    assert api.call(lambda c: c.lipsync.create(**CREATE)).task_id == "t-1"
    assert len(recorder.requests) == 3


def test_transport_failures_become_typed_errors(api, recorder) -> None:
    recorder.default = httpx.ReadTimeout("slow")
    raised = api.raises(vozo.APITimeoutError, lambda c: c.lipsync.get("t1"))
    assert isinstance(raised.__cause__, httpx.ReadTimeout)
    assert "GET /v1/video_generation/t1" in str(raised)
    assert len(recorder.requests) == 3
    recorder.default = httpx.ConnectError("refused")
    refused = api.raises(vozo.APIConnectError, lambda c: c.lipsync.get("t1"))
    assert isinstance(refused.__cause__, httpx.ConnectError)
    assert "refused" in str(refused)
    assert len(recorder.requests) == 6  # retried too: three more attempts


def test_retry_after_in_seconds_is_honoured(api, recorder, sleeps) -> None:
    recorder.replies = [reply(429, {"code": "1304", "message": "busy"}, headers={"Retry-After": "7"})]
    recorder.default = reply(200, {"status": "done"})
    api.call(lambda c: c.lipsync.get("t1"))
    assert sleeps == [7.0]


def test_retry_after_as_an_http_date_is_honoured(api, recorder, sleeps) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    recorder.replies = [reply(503, ERROR_BODY, headers={"Retry-After": when})]
    recorder.default = reply(200, {"status": "done"})
    api.call(lambda c: c.lipsync.get("t1"))
    assert len(sleeps) == 1
    assert 17 <= sleeps[0] <= 20


def test_a_retry_after_beyond_the_cap_falls_back_to_backoff(api, recorder, sleeps) -> None:
    recorder.replies = [reply(429, ERROR_BODY, headers={"Retry-After": "3600"})]
    recorder.default = reply(200, {"status": "done"})
    api.call(lambda c: c.lipsync.get("t1"))
    assert 0 <= sleeps[0] <= _retry.MAX_DELAY


def test_an_unreadable_http_date_in_retry_after_is_ignored_not_raised(api, recorder, sleeps) -> None:
    """A date whose zone offset overflows a C int made email.utils raise OverflowError, which escaped raw."""
    odd = "Mon, 01 Jan 2026 00:00:00 +99999999999999999999"
    recorder.replies = [reply(503, ERROR_BODY, headers={"Retry-After": odd})]
    recorder.default = reply(200, {"status": "done"})
    api.call(lambda c: c.lipsync.get("t1"))
    assert 0 <= sleeps[0] <= _retry.MAX_DELAY  # our own backoff, as for any unreadable value


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ({"code": "5", "message": "m" * 1_000_000}, {}),
        ({"code": "5" * 1_000_000, "message": "bad"}, {}),
        ({"code": "5", "message": "bad"}, {"X-Request-Id": "r" * 60_000}),
    ],
)
def test_a_huge_code_message_or_request_id_does_not_bury_the_advice(api, recorder, body, headers) -> None:
    """A server sending a megabyte in its error's message made a megabyte-long exception message (and log line);
    the fields keep what came, the message shows its start."""
    recorder.default = reply(400, body, headers=headers)
    error = api.raises(vozo.BadRequestError, lambda c: c.lipsync.get("t1"))
    assert len(str(error)) < 2000
    assert str(error).endswith("then send it again")
    assert (error.code, error.message) == (body["code"], body["message"])


def test_backoff_is_exponential_with_full_jitter(monkeypatch) -> None:
    monkeypatch.setattr(_retry, "INITIAL_DELAY", 0.5)
    for attempt, ceiling in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (10, _retry.MAX_DELAY)]:
        delays = [_retry.backoff(attempt) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling / 2  # jitter spans the whole range, not a fixed step


def test_backoff_stays_capped_however_many_retries_were_allowed() -> None:
    """--max-retries 5000 against a host that is down: the 1,024th retry must wait, not overflow a float."""
    assert 0 <= _retry.backoff(5000) <= _retry.MAX_DELAY


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("12", 12.0),
        ("0", 0.0),
        ("-5", 0.0),
        ("soon", None),
        (None, None),
        ("Mon, 01 Jan 2026 00:00:00 +9" + "9" * 20, None),
    ],
)
def test_parse_retry_after(header, seconds) -> None:
    assert _retry.parse_retry_after(header) == seconds


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"<html>oops</html>", "is not JSON"),
        (b'{"video_url": "https://x/v.mp4"}', "does not match the spec: the required field 'status' is missing"),
        (b'[{"status": "done"}]', "does not match the spec: TypeError: JobStatus must be an object, got an array"),
        (b'"done"', "does not match the spec: TypeError: JobStatus must be an object, got a string"),
    ],
)
def test_a_success_body_that_breaks_the_spec_is_a_typed_error(api, recorder, raw, message) -> None:
    recorder.default = reply(200, raw=raw)
    raised = api.raises(vozo.APIResponseValidationError, lambda c: c.lipsync.get("t1"))
    assert message in str(raised)
    assert len(recorder.requests) == 1


DEEP = b"[" * 100_000 + b"]" * 100_000  # JSON, nested past what Python's parser can recurse into


def test_a_body_nested_too_deep_to_parse_is_not_json_to_the_client(api, recorder) -> None:
    recorder.default = reply(200, raw=DEEP)
    raised = api.raises(vozo.APIResponseValidationError, lambda c: c.lipsync.get("t1"))
    assert "200 from GET /v1/video_generation/t1 is not JSON" in str(raised)


def test_an_error_body_nested_too_deep_to_parse_is_kept_as_an_excerpt(api, recorder) -> None:
    recorder.default = reply(400, raw=DEEP)
    raised = api.raises(vozo.BadRequestError, lambda c: c.lipsync.get("t1"))
    assert raised.code is None
    assert (raised.body_excerpt or "").startswith("[[[")


class Endless(httpx.SyncByteStream, httpx.AsyncByteStream):
    """An answer that never ends (a wrong base_url pointing at a stream); counts what it had to send."""

    def __init__(self) -> None:
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        while True:
            self.sent += 1
            yield b" " * 65536

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self:
            yield chunk


@pytest.mark.parametrize("status", [200, 500])
def test_an_answer_far_longer_than_any_vozo_sends_is_cut_off_not_read_into_memory(api, recorder, status) -> None:
    body = Endless()
    recorder.default = httpx.Response(status, headers={"Content-Type": "application/json"}, stream=body)
    raised = api.raises(vozo.APIResponseValidationError, lambda c: c.with_options(max_retries=0).lipsync.get("t1"))
    assert f"the answer to GET /v1/video_generation/t1 grew past {16 * 1024**2} bytes" in str(raised)
    assert body.sent * 65536 <= 17 * 1024**2


def test_an_undocumented_success_status_is_a_typed_error(api, recorder) -> None:
    recorder.default = reply(202, {"task_id": "t"})
    assert "undocumented answer (status 202). Check base_url" in str(
        api.raises(vozo.APIResponseValidationError, lambda c: c.lipsync.get("t1"))
    )


@pytest.mark.parametrize(
    ("location", "named"),
    [
        ("https://www.vozo.test/login?next=%2Fv1&token=secret#top", "to https://www.vozo.test/login"),
        ("/v2/video_generation/t1?sig=secret", "to https://api.vozo.test/v2/video_generation/t1"),
        (None, "without a Location"),
    ],
)
def test_a_redirect_says_it_is_not_followed_where_it_pointed_and_what_to_check(api, recorder, location, named) -> None:
    recorder.default = reply(302, headers={"Location": location} if location else {}, raw=b"")
    raised = api.raises(vozo.APIResponseValidationError, lambda c: c.lipsync.get("t1"))
    message = str(raised)
    assert message.startswith("302 from GET /v1/video_generation/t1: the API answered with a redirect " + named + ",")
    assert "does not follow" in message
    assert "Check base_url (or VOZO_BASE_URL), now https://api.vozo.test" in message
    assert "secret" not in message  # a query string may hold a token
    assert "?" not in message
    assert raised.status_code == 302
    assert len(recorder.requests) == 1  # neither followed nor retried


def test_a_redirect_with_a_body_is_still_a_redirect(api, recorder) -> None:
    recorder.default = reply(301, raw=b"<html>Moved</html>", headers={"Location": "http://api.vozo.test/v1"})
    raised = api.raises(vozo.APIResponseValidationError, lambda c: c.lipsync.create(**CREATE))
    assert "redirect to http://api.vozo.test/v1," in str(raised)
    assert raised.body_excerpt == "<html>Moved</html>"


def test_no_exception_shows_the_key(api, recorder) -> None:
    recorder.default = reply(401, {"code": "1302", "message": "API key has been revoked."})
    raised = api.raises(vozo.AuthenticationError, lambda c: c.lipsync.get("t1"))
    assert API_KEY not in str(raised)
    assert API_KEY not in repr(raised)
    assert API_KEY not in repr(vars(raised))


@pytest.mark.parametrize("code", sorted(vozo.API_ERROR_CODES))
def test_the_code_table_and_the_classes_agree_on_retrying(code) -> None:
    from vozo._base import error_class

    assert error_class(400, code).retryable is vozo.API_ERROR_CODES[code].retryable


def test_a_body_the_models_cannot_read_is_a_validation_error(api, recorder) -> None:
    recorder.default = reply(200, {"status": ["not", "a", "string"]})
    error = api.raises(vozo.APIResponseValidationError, lambda c: c.lipsync.get("t1"))
    assert "does not match the spec" in str(error)


def test_a_bug_inside_an_attempt_is_not_taken_for_a_spec_mismatch(api, recorder, monkeypatch) -> None:
    """A KeyError of our own (here: in the response hook) surfaces as itself, is not retried nor renamed."""
    recorder.default = reply(200, {"status": "done"})

    def broken(response: httpx.Response) -> None:
        raise KeyError("a bug of ours")

    monkeypatch.setattr("vozo._base.on_response", broken)
    monkeypatch.setattr("vozo._async._transport.on_response", broken)
    monkeypatch.setattr("vozo._sync._transport.on_response", broken)
    with pytest.raises(KeyError, match="a bug of ours"):
        api.call(lambda c: c.lipsync.get("t1"))
    assert len(recorder.requests) == 1


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"method": "GET", "path": "/v1/x", "json": {"at": {1, 2}}}, "json= must be a JSON value"),
        ({"method": "POST", "path": "/v1/x", "json": {"ratio": float("nan")}}, "json= must be a JSON value"),
        ({"method": "POST", "path": "/v1/x", "json": {"name": "caf\udce9"}}, "json= must be a JSON value"),
        ({"method": "POST", "path": "/v1/x", "json": nested(5000)}, "nested too deeply"),
        ({"method": 5, "path": "/v1/x"}, "method must be an HTTP method name"),
        ({"method": "GE T", "path": "/v1/x"}, "method must be an HTTP method name"),
        ({"method": "", "path": "/v1/x"}, "method must be an HTTP method name"),
        ({"method": "G\u00c9T", "path": "/v1/x"}, "method must be an HTTP method name"),
        ({"method": "GET", "path": 5}, "path must be a string"),
        ({"method": "GET", "path": "/v1/a\nb"}, "control characters"),
        ({"method": "GET", "path": "/v1/a b"}, "spaces"),
    ],
)
def test_request_refuses_what_it_cannot_send_before_sending_anything(api, recorder, arguments, message) -> None:
    raised = api.raises(vozo.InvalidInputError, lambda c: c.request(**arguments))
    assert message in str(raised)
    assert recorder.requests == []


@pytest.mark.parametrize(
    "body",
    [
        types.MappingProxyType({"name": "a", "ids": (1, 2)}),
        collections.UserDict({"name": "a", "ids": collections.UserList([1, 2])}),
        {"name": "a", "ids": range(1, 3)},
    ],
)
def test_request_sends_any_mapping_and_sequence_its_json_type_takes(api, recorder, body) -> None:
    """``json=`` is typed ``JSONInput`` (any Mapping, any Sequence): what mypy lets through is sent, as JSON."""
    recorder.default = reply(200, {})
    api.call(lambda c: c.request("POST", "/v1/x", json=body))
    (sent,) = recorder.requests
    assert sent.headers["Content-Type"] == "application/json"
    assert json.loads(sent.content) == {"name": "a", "ids": [1, 2]}


@pytest.mark.parametrize(
    ("method", "sent"),
    [("PATCH", 1), ("post", 1), ("LOCK", 1), ("X-Create", 1), ("PUT", 3), ("DELETE", 3), ("GET", 3), ("options", 3)],
)
def test_request_retries_a_5xx_only_for_a_method_http_calls_idempotent(api, recorder, method, sent) -> None:
    recorder.default = reply(500, ERROR_BODY)
    raised = api.raises(vozo.InternalServerError, lambda c: c.request(method, "/v1/x", json={}))
    assert len(recorder.requests) == sent
    assert ("Vozo may have created (and billed) the job" in str(raised)) is (sent == 1)


def _one_of_each_error() -> list[vozo.VozoError]:
    status = vozo.types.LipsyncJobStatus.from_dict({"status": "failed", "err_code": "1502", "err_message": "no audio"})
    request = httpx.Request("GET", "https://api.vozo.test/v1/video_generation/t1")
    fields = {"status_code": 400, "method": "POST", "path": "/v1/video_generation", "code": "5", "message": "bad"}
    errors: list[vozo.VozoError] = [
        vozo.VozoError("closed"),
        vozo.InvalidInputError("no"),
        vozo.CallbackError("forged"),
        vozo.MissingExtraError("pip install 'vozo[testing]'"),
        vozo.APIResponseValidationError("garbled", status_code=200, body_excerpt="{"),
        vozo.JobFailedError("t1", status, code="1502", message="no audio"),
        vozo.JobTimeoutError("t1", 60.0, status),
        vozo.DownloadError("cut", url="https://cdn.test/a.mp4", status_code=503, retryable=True, task_id="t1"),
    ]
    for cls in (vozo.APIConnectionError, vozo.APIConnectError, vozo.APITimeoutError, vozo.APIConnectTimeoutError):
        errors.append(cls("reset", request=request))
    errors.append(vozo.CertificateVerifyError("self-signed"))
    for cls in (vozo.APIStatusError, vozo.BadRequestError, vozo.AuthenticationError, vozo.PermissionDeniedError):
        errors.append(cls(**fields))
    for cls in (vozo.InsufficientCreditsError, vozo.NotFoundError, vozo.RateLimitError, vozo.InternalServerError):
        errors.append(cls(**fields, retry_after=3.0, request_id="req-1"))
    return errors


def test_every_error_survives_pickling_as_a_process_pool_sends_it() -> None:
    """ProcessPoolExecutor, multiprocessing and Celery pickle a worker's exception: pickle calls cls(*args), which
    keyword-only constructors refused (TypeError at unpickling, in the parent)."""
    import pickle

    errors = _one_of_each_error()
    assert {type(error).__name__ for error in errors} == set(vozo._errors.__all__)  # a new class needs a case here
    for error in errors:
        error.task_id = error.task_id or "t9"
        copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - bytes this test just made
        assert type(copy) is type(error)
        assert (str(copy), copy.args, copy.task_id) == (str(error), error.args, error.task_id)
        assert {k: v for k, v in vars(copy).items() if k not in ("status", "last_status", "request")} == {
            k: v for k, v in vars(error).items() if k not in ("status", "last_status", "request")
        }
    failed = pickle.loads(pickle.dumps(errors[5]))  # noqa: S301 - bytes this test just made
    assert isinstance(failed, vozo.JobFailedError)
    assert failed.status.to_dict() == {"status": "failed", "err_code": "1502", "err_message": "no audio"}


def test_the_code_tables_are_read_only_since_the_client_reads_them_too() -> None:
    with pytest.raises(TypeError):
        vozo.API_ERROR_CODES["1304"] = vozo.API_ERROR_CODES["5"]  # type: ignore[index]
    with pytest.raises(TypeError):
        del vozo.JOB_ERROR_CODES["999"]  # type: ignore[attr-defined]
    assert vozo.describe("1304") == "API key has reached the maximum number of concurrent requests."


@pytest.mark.parametrize("failure", [httpx.RemoteProtocolError("peer closed connection"), httpx.ReadError("reset")])
def test_a_read_whose_connection_broke_on_every_attempt_says_what_to_do(api, recorder, failure) -> None:
    """A status read whose connection dropped mid-answer, retried out, said only what happened ("peer closed
    connection"), where every other error ends with what to do."""
    recorder.default = failure
    raised = api.raises(vozo.APIConnectionError, lambda c: c.lipsync.get("t1"))
    assert type(raised) is vozo.APIConnectionError
    assert len(recorder.requests) == 3
    assert str(raised).endswith(
        "The connection broke before the answer was complete (3 attempts): try again later; if it keeps happening, "
        "check the network and any proxy between this machine and Vozo"
    )
    create = api.raises(vozo.APIConnectionError, lambda c: c.lipsync.create(**CREATE))
    assert "try again later" not in str(create)  # a create may have reached Vozo: look for the job instead
    assert str(create).endswith(_retry.JOB_MAY_EXIST)
