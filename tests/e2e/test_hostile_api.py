"""The API client against hostile servers on real sockets, with Vozo, AsyncVozo under asyncio and under trio.

Every failure is a VozoError that says what to do; an answer is bounded in size and in time; a create whose outcome
is unknown is neither retried nor given a made-up task id, and its error says the job may exist. Each server
misbehaves until the client hangs up (or a safety cap far beyond any verdict), so no verdict races the clock.
"""

from __future__ import annotations

import asyncio
import gc
import gzip
import json
import pickle
import time
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import trio

import vozo
import vozo.batch
from tests.sockets import closed_port

from .conftest import KEY
from .test_download_faults import SAFETY, Connection, RawServer

Answer = Callable[[Connection], None]
LIPSYNC = {"reference_file_url": "https://m.example.com/presenter.mp4", "audio_url": "https://m.example.com/voice.mp3"}
JOB_MAY_EXIST = "Vozo may have created (and billed) the job"
DEEP = b"[" * 100_000 + b"]" * 100_000  # past the recursion limit of Python's JSON parser


def answer(status: str, body: bytes = b"", headers: dict[str, str] | None = None) -> Answer:
    def send(c: Connection) -> None:
        base = {"Content-Type": "application/json", "Content-Length": str(len(body)), "Connection": "close"}
        c.head(status, {**base, **(headers or {})})
        c.body(body)

    return send


@pytest.fixture
def serve() -> Iterator[Callable[[Answer], RawServer]]:
    servers: list[RawServer] = []

    def start(send: Answer) -> RawServer:
        servers.append(RawServer(send))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture(params=["sync", "asyncio", "trio"])
def call(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """``call(url, fn, **options)``: ``fn(client)`` with a client of this flavour pointed at ``url``."""

    def run(url: str, fn: Callable[[Any], Any], **options: Any) -> Any:
        options = {"api_key": KEY, "base_url": url, "max_retries": 3, **options}
        if request.param == "sync":
            with vozo.Vozo(**options) as client:
                return fn(client)

        async def go() -> Any:
            async with vozo.AsyncVozo(**options) as client:
                return await fn(client)

        return asyncio.run(go()) if request.param == "asyncio" else trio.run(go)

    run.flavour = request.param  # type: ignore[attr-defined]
    return run


def raises(error: type[vozo.VozoError], call: Callable[..., Any], url: str, fn: Callable[[Any], Any], **options: Any):
    with pytest.raises(error) as info:
        call(url, fn, **options)
    return info.value


def get(c: Any) -> Any:
    return c.lipsync.get("t1")


def create_and_wait(c: Any) -> Any:
    return c.lipsync.create_and_wait(**LIPSYNC, poll_interval=0.01)


# --- bodies no parser should choke on ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "fn", "error"),
    [
        ("200 OK", get, vozo.APIResponseValidationError),
        ("200 OK", lambda c: c.request("GET", "/v1/anything"), vozo.APIResponseValidationError),
        ("500 Internal Server Error", get, vozo.InternalServerError),
        ("401 Unauthorized", get, vozo.AuthenticationError),
    ],
)
def test_a_body_nested_past_the_json_parser_is_read_as_unreadable(serve, call, status, fn, error) -> None:
    server = serve(answer(status, DEEP))
    raised = raises(error, call, server.url, fn, max_retries=0)
    assert raised.body_excerpt.startswith("[[[")  # kept as any unreadable body is, to debug with


FAILED_WITH_A_LONE_SURROGATE = b'{"status": "failed", "err_code": "2\\ud800", "err_msg": "no \\udcff faces"}'
ERROR_WITH_A_LONE_SURROGATE = b'{"code": "5\\ud800", "message": "bad \\udcff input"}'


@pytest.mark.parametrize(
    ("status", "body", "fn", "error"),
    [
        ("200 OK", FAILED_WITH_A_LONE_SURROGATE, get, vozo.APIResponseValidationError),
        ("200 OK", FAILED_WITH_A_LONE_SURROGATE, lambda c: c.lipsync.wait("t1", poll_interval=0.01),
         vozo.APIResponseValidationError),
        ("200 OK", FAILED_WITH_A_LONE_SURROGATE, lambda c: c.request("GET", "/v1/anything"),
         vozo.APIResponseValidationError),
        ("400 Bad Request", ERROR_WITH_A_LONE_SURROGATE, get, vozo.BadRequestError),
    ],
)  # fmt: skip
def test_a_body_escaping_a_lone_surrogate_is_read_as_unreadable(serve, call, status, body, fn, error) -> None:
    # Valid JSON, yet "\ud800" alone names no character: text holding it cannot be written as UTF-8 (a log file, the
    # batch journal, a terminal), so it never reaches an error's fields or a returned value.
    server = serve(answer(status, body))
    raised = raises(error, call, server.url, fn, max_retries=0)
    for value in vars(raised).values():
        if isinstance(value, str):
            value.encode()
    str(raised).encode()
    assert raised.body_excerpt == body.decode()  # kept as any unreadable body is, to debug with


def test_a_body_whose_content_encoding_lies_is_a_validation_error(serve, call) -> None:
    server = serve(answer("200 OK", b'{"status": "done"}', {"Content-Encoding": "gzip"}))
    raised = raises(vozo.APIResponseValidationError, call, server.url, get, max_retries=0)
    assert "could not be decoded" in str(raised)


@pytest.mark.parametrize("location", ["http://[::1", "/v1/a\x01b"])
def test_a_redirect_to_a_location_that_is_no_url_is_a_validation_error(serve, call, location) -> None:
    server = serve(answer("302 Found", headers={"Location": location}))
    raised = raises(vozo.APIResponseValidationError, call, server.url, get)
    assert "a redirect to a Location that is no valid URL, which this client does not follow" in str(raised)
    assert len(server.connections) == 1


def test_a_redirect_to_another_host_takes_neither_the_key_nor_a_request_there(serve, call) -> None:
    elsewhere = serve(answer("200 OK", b'{"status": "done"}'))
    server = serve(answer("307 Temporary Redirect", headers={"Location": f"{elsewhere.url}/v1/video_generation/t1"}))
    raised = raises(vozo.APIResponseValidationError, call, server.url, get)
    assert f"redirect to {elsewhere.url}/v1/video_generation/t1" in str(raised)
    assert elsewhere.connections == []


# --- a create whose outcome is unknown ----------------------------------------------------------------------------

UNUSABLE_TASK_IDS = {
    "missing": {"ok": 1},
    "empty": {"task_id": ""},
    "number": {"task_id": 123},
    "null": {"task_id": None},
    "list": {"task_id": ["t1"]},
    "up": {"task_id": "../../v1/account"},
    "query": {"task_id": "t1?x=1#y"},
    "huge": {"task_id": "t" * 100_000},
    "lone-surrogate": {"task_id": "t\ud800"},  # valid JSON ("t\\ud800"), yet no UTF-8: no URL can hold it
    "echoed-key": {"task_id": KEY},  # a server echoing the Authorization header: printed, journaled, it would leak
    "holding-the-key": {"task_id": f"t-{KEY}-1"},
}


@pytest.mark.parametrize("body", UNUSABLE_TASK_IDS.values(), ids=UNUSABLE_TASK_IDS.keys())
def test_a_create_answered_without_a_usable_task_id_says_the_job_may_exist(serve, call, body) -> None:
    server = serve(answer("200 OK", json.dumps(body).encode()))
    raised = raises(vozo.APIResponseValidationError, call, server.url, create_and_wait, max_active_jobs=2)
    assert JOB_MAY_EXIST in str(raised)
    assert KEY not in str(raised)
    assert KEY not in (raised.body_excerpt or "")
    assert [c.method for c in server.connections] == ["POST"]  # never sent again, and no made-up id polled


@pytest.mark.parametrize(
    ("send", "error"),
    [
        (answer("500 Internal Server Error", b'{"code": "1000", "message": "Internal Server Error."}'),
         vozo.InternalServerError),
        (answer("502 Bad Gateway", b"<html>bad gateway</html>", {"Content-Type": "text/html"}),
         vozo.InternalServerError),
        (answer("200 OK", b"<html>a login page</html>", {"Content-Type": "text/html"}),
         vozo.APIResponseValidationError),
        (answer("200 OK", DEEP), vozo.APIResponseValidationError),
        (answer("200 OK", b"not gzip", {"Content-Encoding": "gzip"}), vozo.APIResponseValidationError),
    ],
    ids=["500", "502-html", "200-html", "200-deep", "200-bad-gzip"],
)  # fmt: skip
def test_a_create_that_may_have_reached_vozo_is_sent_once_and_says_the_job_may_exist(serve, call, send, error) -> None:
    server = serve(send)
    for create in (lambda c: c.lipsync.create(**LIPSYNC), lambda c: c.request("POST", "/v1/video_generation", json={})):
        raised = raises(error, call, server.url, create)
        assert JOB_MAY_EXIST in str(raised)
    assert [c.method for c in server.connections] == ["POST", "POST"]  # once per call: never retried


@pytest.mark.parametrize("status", ["201 Created", "202 Accepted"])
def test_a_create_answered_with_an_undocumented_success_names_the_task_id_it_holds(serve, call, status) -> None:
    # The spec documents 200 alone, so the answer is refused; the job it names was created (and billed), though:
    # its task id was dropped, and the user had to find it in the account, or paid twice by creating again.
    server = serve(answer(status, b'{"task_id": "t-201"}'))
    raised = raises(vozo.APIResponseValidationError, call, server.url, lambda c: c.lipsync.create(**LIPSYNC))
    assert f"undocumented answer (status {status[:3]})" in str(raised)
    assert "its body names the task id 't-201': check it with get() first" in str(raised)
    assert raised.task_id == "t-201"
    assert JOB_MAY_EXIST in str(raised)
    assert [c.method for c in server.connections] == ["POST"]


def test_a_refused_create_says_nothing_of_a_job(serve, call) -> None:
    server = serve(answer("400 Bad Request", b'{"code": "5", "message": "Invalid request parameters."}'))
    raised = raises(vozo.BadRequestError, call, server.url, lambda c: c.lipsync.create(**LIPSYNC))
    assert JOB_MAY_EXIST not in str(raised)
    with closed_port() as port:  # never reached Vozo: retried, and nothing to look for
        raised = raises(vozo.APIConnectError, call, f"http://127.0.0.1:{port}", lambda c: c.lipsync.create(**LIPSYNC))
    assert JOB_MAY_EXIST not in str(raised)
    assert f"Nothing was sent: no connection could be made at http://127.0.0.1:{port}. Check base_url" in str(raised)


# --- answers that never end ---------------------------------------------------------------------------------------


def endless(c: Connection) -> None:
    c.head("200 OK", {"Transfer-Encoding": "chunked"})
    chunk = b"%x\r\n%s\r\n" % (65536, b" " * 65536)
    c.until_client_leaves(lambda: chunk)
    if not c.client_hung_up:
        c.body(b"0\r\n\r\n")  # the safety cap: end the body, so a client without a limit reads it all


def test_an_endless_answer_is_cut_off_at_the_size_limit(serve, call) -> None:
    server = serve(endless)
    raised = raises(vozo.APIResponseValidationError, call, server.url, get, max_retries=0)
    assert f"grew past {vozo._base.MAX_ANSWER_BYTES} bytes" in str(raised)
    server.finish()
    assert server.connections[0].client_hung_up


def test_a_small_gzip_that_inflates_past_the_size_limit_is_cut_off(serve, call) -> None:
    bomb = gzip.compress(b" " * (4 * vozo._base.MAX_ANSWER_BYTES))
    server = serve(answer("200 OK", bomb, {"Content-Encoding": "gzip"}))
    raised = raises(vozo.APIResponseValidationError, call, server.url, get, max_retries=0)
    assert "(decoded)" in str(raised)


PADDED = b'{"status": "done", "pad": "' + b" " * 100_000 + b'"}'  # inflated in several pieces of 64 KiB


@pytest.mark.parametrize(
    ("body", "encoding", "error"),
    [
        (gzip.compress(PADDED[:70_000]) + gzip.compress(PADDED[70_000:]), "gzip", None),  # members: `cat a.gz b.gz`
        (gzip.compress(PADDED) + b"trailing bytes", "gzip", vozo.APIResponseValidationError),
        (zlib.compress(PADDED) + zlib.compress(b"{}"), "deflate", vozo.APIResponseValidationError),
    ],
    ids=["two-gzip-members", "gzip-then-bytes", "deflate-then-bytes"],
)
def test_bytes_after_the_end_of_a_compressed_answer_are_read_not_spun_on(serve, call, body, encoding, error) -> None:
    """zlib hands back what follows a stream's end as its unconsumed tail when output is bounded: fed again, it came
    back again, for ever (a full CPU, and memory growing, until the answer's deadline)."""
    server = serve(answer("200 OK", body, {"Content-Encoding": encoding}))
    options = {"max_retries": 0, "timeout": httpx.Timeout(2.0)}
    if error is None:
        assert call(server.url, get, **options).status.value == "done"
    else:
        assert "could not be decoded" in str(raises(error, call, server.url, get, **options))


def trickled_body(c: Connection) -> None:
    """A byte every 20 ms, well inside the read timeout, of an answer that never ends."""
    c.head("200 OK", {"Content-Type": "application/json", "Content-Length": "1000000"})
    c.until_client_leaves(lambda: b" ", every=0.02)


def trickled_head(c: Connection) -> None:
    c.body(b"HTTP/1.1 200 OK\r\n")
    c.until_client_leaves(lambda: b"X", every=0.02)


TIMEOUT = httpx.Timeout(0.5)  # each wait for data: the trickle never trips it; the whole request: 4 x 0.5 s


def test_an_answer_trickled_in_for_ever_times_out(serve, call) -> None:
    for send in (trickled_body, trickled_head):
        server = serve(send)
        started = time.monotonic()
        raised = raises(vozo.APITimeoutError, call, server.url, get, max_retries=0, timeout=TIMEOUT)
        assert time.monotonic() - started < SAFETY  # the client gave up, not the server
        assert "was not complete 2s after the request started" in str(raised) or "ReadTimeout" in str(raised)
        server.finish()
        assert server.connections[0].client_hung_up


@pytest.mark.parametrize("send", [trickled_body, trickled_head])
def test_an_answer_trickled_in_for_ever_times_out_through_a_users_own_http_client(serve, call, send) -> None:
    """The client's own pools bound each read by the answer's deadline; a user's http_client (its proxies, TLS) is
    held to the same deadline."""
    server = serve(send)
    own = httpx.Client() if call.flavour == "sync" else httpx.AsyncClient()
    started = time.monotonic()
    raised = raises(vozo.APITimeoutError, call, server.url, get, max_retries=0, timeout=TIMEOUT, http_client=own)
    assert time.monotonic() - started < SAFETY  # the client gave up, not the server
    assert "was not complete 2s after the request started" in str(raised)
    server.finish()
    assert server.connections[0].client_hung_up


def test_an_answer_timeout_keeps_its_request_but_not_the_key(serve, call) -> None:
    for send in (trickled_body, trickled_head):
        server = serve(send)
        raised = raises(vozo.APITimeoutError, call, server.url, get, max_retries=0, timeout=httpx.Timeout(0.25))
        assert raised.request is not None
        assert raised.request.headers["Authorization"] == "Bearer ****"
        assert KEY.encode() not in pickle.dumps(raised)  # errors outlive the call: logged, pickled, sent elsewhere
        server.finish()


@pytest.mark.parametrize("send", [trickled_body, trickled_head])
def test_a_create_trickled_in_for_ever_times_out_once_and_says_the_job_may_exist(serve, call, send) -> None:
    server = serve(send)
    raised = raises(vozo.APITimeoutError, call, server.url, lambda c: c.lipsync.create(**LIPSYNC), timeout=TIMEOUT)
    assert JOB_MAY_EXIST in str(raised)
    server.finish()
    assert [c.method for c in server.connections] == ["POST"]


# --- a server that echoes the key ----------------------------------------------------------------------------------


def test_a_key_a_server_echoes_stays_out_of_httpx_and_httpcore_log_lines(serve, call, caplog) -> None:
    body = json.dumps({"status": "done", "video_url": "https://cdn.example.com/talking.mp4"}).encode()
    server = serve(answer(f"200 OK {KEY}", body, {"X-Echo": f"Bearer {KEY}"}))
    caplog.set_level("DEBUG")
    assert call(server.url, get).status.value == "done"
    logged = {record.name for record in caplog.records}
    assert {"httpx", "httpcore.http11"} <= logged  # the lines that quote the reason phrase and the headers
    assert "X-Echo" in caplog.text
    assert KEY not in caplog.text


ENDED_ECHOING_THE_KEY = json.dumps({"status": f"cancelled {KEY}", "err_code": KEY, "err_msg": f"as {KEY}"}).encode()


def test_a_job_that_ends_echoing_the_key_fails_without_it(serve, call, caplog) -> None:
    server = serve(answer("200 OK", ENDED_ECHOING_THE_KEY))
    caplog.set_level("DEBUG")
    raised = raises(vozo.JobFailedError, call, server.url, lambda c: c.lipsync.wait("t1", poll_interval=0.01))
    assert "ended 'cancelled ****'" in str(raised)
    assert KEY not in str(raised)
    assert KEY not in caplog.text


IN_PROGRESS_ECHOING_THE_KEY = json.dumps({"status": f"queued {KEY}"}).encode()


def test_a_wait_that_times_out_on_a_status_echoing_the_key_says_so_without_it(serve, call) -> None:
    """An in-progress status value the client does not know, echoing the key: JobTimeoutError quoted it raw."""
    server = serve(answer("200 OK", IN_PROGRESS_ECHOING_THE_KEY))
    raised = raises(
        vozo.JobTimeoutError, call, server.url, lambda c: c.lipsync.wait("t1", timeout=0.05, poll_interval=0.01)
    )
    assert "(last status: queued ****)" in str(raised)
    assert KEY not in str(raised)


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
@pytest.mark.parametrize("command", [["wait", "t1", "--timeout", "0.05"], ["download", "t1", "{tmp}/out.mp4"]])
def test_the_command_shows_a_status_echoing_the_key_without_it(serve, tmp_path, command, as_json) -> None:
    """`vozo wait` printed the status line and the timeout with the key in them, `vozo download` its refusal."""
    from click.testing import CliRunner

    from vozo._cli import main

    server = serve(answer("200 OK", IN_PROGRESS_ECHOING_THE_KEY))
    env = {"VOZO_API_KEY": KEY, "VOZO_BASE_URL": server.url}
    args = [*(["--json"] if as_json else []), *(arg.format(tmp=tmp_path) for arg in command), "--kind", "lipsync"]
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code != 0
    assert "queued ****" in result.output
    assert KEY not in result.output


def test_a_batch_whose_jobs_end_echoing_the_key_writes_it_nowhere(serve, tmp_path) -> None:
    from .test_batch import write_manifest

    created = iter(range(100))

    def send(c: Connection) -> None:
        body = b'{"task_id": "t%d"}' % next(created) if c.method == "POST" else ENDED_ECHOING_THE_KEY
        answer("200 OK", body)(c)

    server = serve(send)

    async def run() -> vozo.batch.BatchSummary:
        async with vozo.AsyncVozo(api_key=KEY, base_url=server.url) as client:
            return await vozo.batch.run(client, write_manifest(tmp_path / "m.csv", 2), tmp_path / "out")

    summary = asyncio.run(run())
    assert [row.state for row in summary.rows] == [vozo.batch.RowState.FAILED] * 2
    assert all(KEY not in (row.error or "") + (row.error_code or "") for row in summary.rows)
    for path in (tmp_path / "out").iterdir():  # the journal, report.csv and report.json
        assert KEY.encode() not in path.read_bytes(), path.name


def test_a_key_stays_hidden_in_http_logs_while_any_client_holding_it_lives(serve, caplog) -> None:
    server = serve(answer(f"200 OK {KEY}", json.dumps({"status": "done"}).encode()))
    first, second = vozo.Vozo(api_key=KEY, base_url=server.url), vozo.Vozo(api_key=KEY, base_url=server.url)
    first.close()
    del first
    gc.collect()
    caplog.set_level("DEBUG")
    with second:
        second.lipsync.get("t1")
    assert "200 OK" in caplog.text
    assert KEY not in caplog.text


# --- what the vozo command prints of a hostile answer ----------------------------------------------------------------


def _strict_json(line: str) -> Any:
    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(line, parse_constant=refuse, parse_float=lambda text: _finite(float(text)))


def _finite(number: float) -> float:
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(f"{number} is not JSON")
    return number


@pytest.mark.parametrize(
    "body",
    [
        b'{"status": "done", "video_url": "https://m.example.com/o.mp4", "score": NaN, "big": 1e999}',
        b'{"status": "failed", "err_code": -Infinity, "err_message": {"detail": [NaN]}}',
    ],
)
@pytest.mark.parametrize("command", ["status", "wait"])
def test_json_output_stays_json_when_the_api_answers_nan_or_infinity(serve, body, command) -> None:
    """Python's parser reads NaN, Infinity and 1e999 (past a float), which no JSON holds: `vozo --json status` printed
    them back as NaN and Infinity, lines `jq` and every strict parser refuse. They are printed as null, as
    JavaScript's JSON.stringify writes them."""
    from click.testing import CliRunner

    from vozo._cli import main

    server = serve(answer("200 OK", body))
    env = {"VOZO_API_KEY": KEY, "VOZO_BASE_URL": server.url}
    result = CliRunner().invoke(main, ["--json", command, "t1", "--kind", "lipsync"], env=env)
    lines = [_strict_json(line) for line in result.stdout.splitlines()]
    assert lines[-1]["task_id"] == "t1"
    assert "Traceback" not in result.output


@pytest.mark.parametrize("leaf", [b"1", b"NaN"])
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_the_command_shows_a_status_nested_as_deep_as_the_parser_reads(serve, leaf, as_json) -> None:
    """A status the client reads (an unknown field nested 700 deep: the parser takes up to ~1,000) made `vozo status`
    fail with "unexpected RecursionError ... a bug in vozo": the key was taken out of it one recursive call per
    level, two Python frames each."""
    from click.testing import CliRunner

    from vozo._cli import main

    depth = 700
    body = b'{"status": "done", "video_url": "https://m.example.com/o.mp4", "x": ' + b"[" * depth + leaf
    server = serve(answer("200 OK", body + b"]" * depth + b"}"))
    env = {"VOZO_API_KEY": KEY, "VOZO_BASE_URL": server.url}
    result = CliRunner().invoke(main, [*(["--json"] if as_json else []), "status", "t1", "--kind", "lipsync"], env=env)
    assert result.exit_code == 0, result.output
    if as_json:
        shown = _strict_json(result.stdout.splitlines()[-1])
        for _ in range(depth):
            (shown["x"],) = shown["x"]
        assert shown["x"] == (1 if leaf == b"1" else None)
    else:
        assert "t1: done" in result.stdout


def test_a_batch_whose_jobs_end_done_without_a_result_but_echoing_the_key_writes_it_nowhere(serve, tmp_path) -> None:
    """A done status without its result URL failed the row with the whole status in its error: a key the server
    echoed in any field went to the journal, report.json, report.csv and the log."""
    from .test_batch import write_manifest

    created = iter(range(100))
    done = json.dumps({"status": "done", "note": f"Authorization: Bearer {KEY}"}).encode()

    def send(c: Connection) -> None:
        answer("200 OK", b'{"task_id": "t%d"}' % next(created) if c.method == "POST" else done)(c)

    server = serve(send)

    async def run() -> vozo.batch.BatchSummary:
        async with vozo.AsyncVozo(api_key=KEY, base_url=server.url) as client:
            return await vozo.batch.run(client, write_manifest(tmp_path / "m.csv", 2), tmp_path / "out")

    summary = asyncio.run(run())
    assert all("no result URL" in (row.error or "") for row in summary.rows)
    assert all(KEY not in (row.error or "") for row in summary.rows)
    for path in (tmp_path / "out").iterdir():  # the journal, report.csv and report.json
        assert KEY.encode() not in path.read_bytes(), path.name
