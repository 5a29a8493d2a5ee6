"""FakeVozo fires callbacks; a local receiver verifies their token and parses them with vozo.callbacks."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator

import pytest

from vozo import callbacks
from vozo.types import LipsyncJobStatus, TranslationJobStatus

from .conftest import FAST_WAIT

SECRET = "callback-secret"


class Receiver(http.server.ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.received: list[tuple[bool, object]] = []  # (token verified, parsed status)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks/vozo"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        url = f"http://{self.headers['Host']}{self.path}"
        verified = callbacks.verify_token(url, SECRET)
        self.server.received.append((verified, callbacks.parse(body, dict(self.headers)) if verified else None))
        self.send_response(200 if verified else 403)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def wait_for(condition, safety_net: float = 60.0) -> None:
    """Until ``condition`` holds; the safety net only ends a hung test (5 s was a verdict on a loaded machine)."""
    deadline = time.monotonic() + safety_net
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_every_lipsync_status_change_reaches_the_receiver(live, receiver) -> None:
    callback_url = callbacks.add_token(receiver.url + "?job=1", SECRET)
    live.call(
        lambda c: c.lipsync.create_and_wait(
            reference_file_url="https://m.example.com/p.png",
            audio_url="https://m.example.com/a.wav",
            callback_url=callback_url,
            **FAST_WAIT,
        )
    )
    wait_for(lambda: len(receiver.received) == 3)
    assert all(verified for verified, _ in receiver.received)
    statuses = [status for _, status in receiver.received]
    assert all(isinstance(s, LipsyncJobStatus) for s in statuses)
    assert [s.status.value for s in statuses] == ["pending", "processing", "done"]


def test_a_done_callback_links_its_result_as_the_status_endpoint_does(live, receiver, tmp_path) -> None:
    """The done callback's video_url was relative (/media/li-1/video.mp4), where the status endpoint's is absolute:
    downloading the result a callback announced, as an app does, failed with 'not an http(s) URL'."""
    callback_url = callbacks.add_token(receiver.url, SECRET)
    done = live.call(
        lambda c: c.lipsync.create_and_wait(
            reference_file_url="https://m.example.com/p.png",
            audio_url="https://m.example.com/a.wav",
            callback_url=callback_url,
            **FAST_WAIT,
        )
    )
    wait_for(lambda: len(receiver.received) == 3)
    announced = receiver.received[-1][1]
    assert isinstance(announced, LipsyncJobStatus)
    assert announced.video_url == done.video_url
    assert live.call(lambda c: c.download(announced, tmp_path / "talk.mp4")).stat().st_size > 0


def test_translation_callbacks_come_in_stage_order(live, receiver) -> None:
    callback_url = callbacks.add_token(receiver.url, SECRET)
    live.call(
        lambda c: c.translations.create_and_wait(
            media_url="https://m.example.com/k.mp3", target_language="fr", callback_url=callback_url, poll_interval=0.01
        )
    )
    wait_for(lambda: len(receiver.received) == 7)
    assert [s.status.value for _, s in receiver.received] == [
        "queuing",
        "preprocessing",
        "transcribing",
        "translating",
        "dubbing",
        "rendering",
        "done",
    ]
    assert isinstance(receiver.received[-1][1], TranslationJobStatus)


def test_a_callback_without_the_right_token_is_refused(live, receiver) -> None:
    forged = receiver.url + "?vozo_token=" + "0" * 64
    live.call(
        lambda c: c.lipsync.create(
            reference_file_url="https://m.example.com/p.png",
            audio_url="https://m.example.com/a.wav",
            callback_url=forged,
        )
    )
    wait_for(lambda: len(live.fake.callbacks) >= 1)
    wait_for(lambda: len(receiver.received) >= 1)
    assert receiver.received[0] == (False, None)
    assert live.fake.callbacks[0][2] == 403


def test_the_fake_never_calls_back_outside_this_machine(live) -> None:
    live.call(
        lambda c: c.lipsync.create(
            reference_file_url="https://m.example.com/p.png",
            audio_url="https://m.example.com/a.wav",
            callback_url="https://hooks.example.com/vozo",
        )
    )
    wait_for(lambda: len(live.fake.callbacks) >= 1)
    assert live.fake.callbacks[0][2] == "refused: not a loopback host"
