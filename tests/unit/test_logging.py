from __future__ import annotations

import gc
import logging
import subprocess
import sys
import textwrap
import types

import pytest

import vozo
from vozo._config import APIKey
from vozo._logging import hide_in_http_logs

from .conftest import API_KEY, BASE_URL, reply


def test_each_request_is_logged_with_method_path_status_attempt_and_time(api, recorder, caplog) -> None:
    recorder.replies = [reply(503, {"code": "1000", "message": "down"})]
    recorder.default = reply(200, {"status": "done"})
    with caplog.at_level(logging.DEBUG, logger="vozo"):
        api.call(lambda c: c.lipsync.get("t1"))
    lines = [r.getMessage() for r in caplog.records]
    assert any(line.startswith("GET /v1/video_generation/t1 -> 503 (attempt 1, ") for line in lines)
    assert any(
        line.startswith("retrying get_lipsync_job after InternalServerError (attempt 1 failed") for line in lines
    )
    assert any(line.startswith("GET /v1/video_generation/t1 -> 200 (attempt 2, ") for line in lines)
    assert not any(API_KEY in line for line in lines)


def test_vozo_log_debug_turns_logging_on_and_never_prints_the_key() -> None:
    """A whole session in a fresh process at VOZO_LOG=debug: errors, retries, waits; the key is nowhere."""
    script = textwrap.dedent(
        f"""
        import httpx, vozo
        replies = iter([
            httpx.Response(200, json={{"task_id": "t1"}}),
            httpx.Response(503, json={{"code": "1000", "message": "down"}}),
            httpx.Response(200, json={{"status": "processing"}}),
            httpx.Response(200, json={{"status": "done", "video_url": "https://cdn.test/v.mp4"}}),
            httpx.Response(401, json={{"code": "1302", "message": "API key has been revoked."}}),
        ])
        http = httpx.Client(transport=httpx.MockTransport(lambda request: next(replies)))
        client = vozo.Vozo(api_key={API_KEY!r}, base_url="https://api.vozo.test", http_client=http)
        print(repr(client))
        print(client.lipsync.create_and_wait(
            reference_file_url="https://m.test/a.mp4", audio_url="https://m.test/a.mp3", poll_interval=0.01
        ))
        try:
            client.lipsync.get("t1")
        except vozo.AuthenticationError as exc:
            print(repr(exc), exc)
        raise vozo.AuthenticationError(status_code=401, method="GET", path="/x")  # an uncaught traceback too
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={"VOZO_LOG": "debug", "PATH": ""},
        check=False,
    )
    output = result.stdout + result.stderr
    assert "POST /v1/video_generation -> 200 (attempt 1" in result.stderr
    assert "GET /v1/video_generation/t1 -> 503" in result.stderr
    assert "lipsync job t1: done" in result.stderr
    assert "AuthenticationError" in output
    assert API_KEY not in output


@pytest.mark.parametrize(
    ("app_logging", "prefix"),
    [
        ("before", "APP vozo DEBUG "),  # basicConfig, then the client
        ("after", "APP vozo DEBUG "),  # the client, then basicConfig
        ("none", "["),  # no logging config: VOZO_LOG alone prints, in our format
    ],
)
def test_vozo_log_debug_prints_each_line_once_whatever_the_app_configured(app_logging: str, prefix: str) -> None:
    configure = 'logging.basicConfig(level=logging.WARNING, format="APP %(name)s %(levelname)s %(message)s")'
    script = textwrap.dedent(
        f"""
        import logging, httpx, vozo
        if {app_logging!r} == "before":
            {configure}
        done = httpx.MockTransport(lambda request: httpx.Response(200, json={{"status": "done"}}))
        http = httpx.Client(transport=done)
        client = vozo.Vozo(api_key={API_KEY!r}, base_url="https://api.vozo.test", http_client=http)
        if {app_logging!r} == "after":
            {configure}
        client.lipsync.get("t1")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={"VOZO_LOG": "debug", "PATH": ""},
        check=True,
    )
    lines = [line for line in result.stderr.splitlines() if "GET /v1/video_generation/t1 -> 200" in line]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(prefix), result.stderr


# --- httpx's and httpcore's own lines: a server may echo the key into them ------------------------------------------


def _log_as_httpx(caplog: pytest.LogCaptureFixture, message: str, *args: object) -> logging.LogRecord:
    with caplog.at_level(logging.INFO, logger="httpx"):
        logging.getLogger("httpx").info(message, *args)
    return caplog.records[-1]


def test_a_key_stays_out_of_httpx_lines_while_any_client_holds_it(caplog) -> None:
    key = f"{API_KEY}-held-twice"
    first = vozo.Vozo(api_key=key, base_url=BASE_URL)
    second = vozo.Vozo(api_key=key, base_url=BASE_URL)  # an equal key, held by another client
    first.close()
    del first
    gc.collect()
    record = _log_as_httpx(caplog, 'HTTP Request: GET %s "HTTP/1.1 200 OK %s"', BASE_URL, key)
    assert key not in record.getMessage()
    second.close()


def test_a_client_made_in_another_thread_while_httpx_logs_breaks_no_request(caplog) -> None:
    """Another thread may make a client at any instant; here one is made at every line Python runs while httpx logs
    (the lines of logging, of the filter and of whatever it calls)."""
    held = [APIKey(f"{API_KEY}-0")]
    hide_in_http_logs(held[0])

    def make_a_client_at_every_line(frame: types.FrameType, event: str, arg: object) -> object:
        if event == "line" and len(held) < 1000:
            held.append(APIKey(f"{API_KEY}-{len(held)}"))
            hide_in_http_logs(held[-1])
        return make_a_client_at_every_line

    tracing = sys.gettrace()  # coverage's, when it runs
    sys.settrace(make_a_client_at_every_line)
    try:
        record = _log_as_httpx(caplog, "HTTP Request: GET %s", f"{BASE_URL}/?echo={held[0].reveal()}")
    finally:
        sys.settrace(tracing)
    assert len(held) > 1  # clients were made while the line was filtered
    assert held[0].reveal() not in record.getMessage()


def test_an_httpx_line_that_holds_no_key_keeps_its_arguments(caplog) -> None:
    key = APIKey(API_KEY)
    hide_in_http_logs(key)
    record = _log_as_httpx(caplog, "HTTP Request: %s %s", "GET", f"{BASE_URL}/v1/x")
    assert record.args == ("GET", f"{BASE_URL}/v1/x")  # as structured handlers read them
