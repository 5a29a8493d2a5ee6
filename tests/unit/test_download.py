from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

import vozo
from vozo_api_client.models import JobStatus, MediaTranslateJobStatus

from .conftest import API_KEY

VIDEO = bytes(range(256)) * 4096  # 1 MiB of non-trivial bytes


def media(content: bytes, *, length: int | None = None, status: int = 200) -> httpx.Response:
    headers = {"Content-Type": "video/mp4", "Content-Length": str(len(content) if length is None else length)}
    return httpx.Response(status, headers=headers, stream=httpx.ByteStream(content))


class Pieces(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that arrives in several network reads."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces

    def __iter__(self) -> Iterator[bytes]:
        yield from self.pieces

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            yield piece


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_download_writes_the_whole_file_without_the_api_key(api, recorder, tmp_path) -> None:
    recorder.default = httpx.Response(200, headers={"Content-Length": str(3 * len(VIDEO))}, stream=Pieces([VIDEO] * 3))
    progress: list[tuple[int, int | None]] = []
    status = JobStatus.from_dict({"status": "done", "video_url": "https://cdn.test/out.mp4?sig=1"})
    path = api.call(
        lambda c: c.download(
            status, tmp_path / "talking.mp4", on_progress=lambda done, total: progress.append((done, total))
        )
    )
    assert path == tmp_path / "talking.mp4"
    assert path.read_bytes() == VIDEO * 3
    assert leftovers(tmp_path) == ["talking.mp4"]
    assert progress[-1] == (3 * len(VIDEO), 3 * len(VIDEO))
    assert [done for done, _ in progress] == [len(VIDEO), 2 * len(VIDEO), 3 * len(VIDEO)]  # streamed, not read whole
    assert "authorization" not in recorder.requests[0].headers


def test_a_truncated_download_leaves_no_file_and_is_retried(api, recorder, tmp_path) -> None:
    recorder.replies = [media(VIDEO[:1000], length=len(VIDEO)), media(VIDEO[:5], length=len(VIDEO))]
    recorder.default = media(VIDEO)
    path = api.call(lambda c: c.download("https://cdn.test/out.mp4", tmp_path / "out.mp4"))
    assert path.read_bytes() == VIDEO
    assert len(recorder.requests) == 3
    assert leftovers(tmp_path) == ["out.mp4"]


def test_a_download_that_keeps_failing_raises_and_leaves_nothing(api, recorder, tmp_path) -> None:
    recorder.default = lambda _: media(VIDEO[:1000], length=len(VIDEO))
    (tmp_path / "out.mp4").write_bytes(b"previous")
    raised = api.raises(
        vozo.DownloadError, lambda c: c.download("https://cdn.test/out.mp4?X-Signature=secret", tmp_path / "out.mp4")
    )
    assert "cut short: 1000 of 1048576 bytes" in str(raised)
    assert "secret" not in str(raised)  # signed links stay out of messages
    assert leftovers(tmp_path) == ["out.mp4"]
    assert (tmp_path / "out.mp4").read_bytes() == b"previous"  # an earlier file is never clobbered by a partial one


def test_an_expired_link_is_not_retried(api, recorder, tmp_path) -> None:
    recorder.default = httpx.Response(403, text="expired")
    raised = api.raises(vozo.DownloadError, lambda c: c.download("https://cdn.test/out.mp4", tmp_path / "out.mp4"))
    assert raised.status_code == 403
    assert len(recorder.requests) == 1
    assert leftovers(tmp_path) == []


def test_a_dropped_connection_mid_body_leaves_nothing(api, recorder, tmp_path) -> None:
    class Dropping(httpx.SyncByteStream, httpx.AsyncByteStream):
        def __iter__(self):
            yield VIDEO
            raise httpx.ReadError("connection reset")

        async def __aiter__(self):
            yield VIDEO
            raise httpx.ReadError("connection reset")

    recorder.default = lambda _: httpx.Response(200, headers={"Content-Length": str(4 * len(VIDEO))}, stream=Dropping())
    raised = api.raises(
        vozo.DownloadError,
        lambda c: c.with_options(max_retries=1).download("https://cdn.test/o.mp4", tmp_path / "o.mp4", task_id="t-9"),
    )
    assert "ReadError: connection reset" in str(raised)
    assert (raised.task_id, raised.retryable) == ("t-9", True)
    assert len(recorder.requests) == 2
    assert leftovers(tmp_path) == []


def test_a_failing_progress_callback_leaves_nothing(api, recorder, tmp_path) -> None:
    recorder.default = media(VIDEO * 2)

    def stop(done: int, total: int | None) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        api.call(lambda c: c.download("https://cdn.test/o.mp4", tmp_path / "o.mp4", on_progress=stop))
    assert leftovers(tmp_path) == []
    assert len(recorder.requests) == 1


def test_translation_results_by_kind_and_into_a_folder(api, recorder, tmp_path) -> None:
    recorder.default = media(b"1\n00:00:00,000 --> 00:00:01,000\nHola\n")
    status = MediaTranslateJobStatus.from_dict(
        {
            "status": "done",
            "result": {"audio_url": "https://cdn.test/k.es.mp3", "subtitle_url": "https://cdn.test/k.es.srt"},
        }
    )
    path = api.call(lambda c: c.download(status, tmp_path, which="subtitle"))
    assert path == tmp_path / "k.es.srt"
    assert recorder.requests[0].url == "https://cdn.test/k.es.srt"
    with pytest.raises(
        vozo.InvalidInputError,
        match=r"has no 'video' result \(its kind has: video, audio, subtitle; present: audio, subtitle",
    ):
        api.call(lambda c: c.download(status, tmp_path))


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (JobStatus.from_dict({"status": "processing"}), "lipsync job has no 'video' result .*present: none yet"),
        ("ftp://cdn.test/a.mp4", "not an http"),
        (42, "takes a URL or a job status"),
    ],
)
def test_nothing_to_download_is_a_clear_error(api, recorder, tmp_path, source, message) -> None:
    with pytest.raises(vozo.InvalidInputError, match=message):
        api.call(lambda c: c.download(source, tmp_path / "x.mp4"))
    assert recorder.requests == []


def test_the_download_client_never_carries_the_key() -> None:
    client = vozo.Vozo(api_key=API_KEY)
    assert client._downloads.auth is None
    assert "authorization" not in client._downloads.headers
    client.close()
