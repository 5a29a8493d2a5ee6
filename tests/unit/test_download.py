from __future__ import annotations

import asyncio
import errno
import gzip
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import vozo
from vozo import _download as download
from vozo_api_client.models import JobStatus, MediaTranslateJobStatus

from .conftest import API_KEY, Pieces, reply, with_peak_memory

VIDEO = bytes(range(256)) * 4096  # 1 MiB of non-trivial bytes


def media(content: bytes, *, length: int | None = None, status: int = 200) -> httpx.Response:
    headers = {"Content-Type": "video/mp4", "Content-Length": str(len(content) if length is None else length)}
    return httpx.Response(status, headers=headers, stream=httpx.ByteStream(content))


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


def test_progress_counts_the_bytes_written_when_the_body_is_compressed(api, recorder, tmp_path) -> None:
    subtitles = b"1\n00:00:00,000 --> 00:00:01,000\nHola\n" * 1000
    compressed = gzip.compress(subtitles)
    headers = {"Content-Encoding": "gzip", "Content-Length": str(len(compressed))}
    recorder.default = httpx.Response(200, headers=headers, stream=Pieces([compressed]))
    progress: list[tuple[int, int | None]] = []
    path = api.call(
        lambda c: c.download("https://cdn.test/k.srt", tmp_path / "k.srt", on_progress=lambda *p: progress.append(p))
    )
    assert path.read_bytes() == subtitles
    assert progress[-1] == (len(subtitles), None)  # not the compressed size: the file's size is unknown


@pytest.mark.parametrize("encoding", ["gzip, gzip", "br", "zstd"])
def test_a_file_in_a_coding_the_client_did_not_ask_for_is_refused_before_it_is_read(
    api, recorder, tmp_path, encoding
) -> None:
    """A download asks for the file as it is; a coding httpx would decode a whole read at once (a chain, br, zstd)
    could fill memory from a few hundred bytes: refused, not retried, nothing left behind."""
    bomb = gzip.compress(gzip.compress(b"\0" * (200 * 1024**2), 9), 9)
    recorder.default = lambda _: httpx.Response(200, headers={"Content-Encoding": encoding}, stream=Pieces([bomb]))
    raised, peak = with_peak_memory(
        lambda: api.raises(vozo.DownloadError, lambda c: c.download("https://cdn.test/out.mp4", tmp_path / "out.mp4"))
    )
    assert f"refused: it came in Content-Encoding {encoding!r}, which was not asked for" in str(raised)
    assert peak < 20 * 1024**2, f"peak {peak / 1024**2:.0f} MiB"
    assert [r.headers["Accept-Encoding"] for r in recorder.requests] == ["identity"]
    assert leftovers(tmp_path) == []


def test_a_gzipped_file_is_inflated_a_piece_at_a_time_and_stopped_at_max_bytes(api, recorder, tmp_path) -> None:
    """A server may gzip a file it was not asked to: written whole, but never inflated a read at a time into memory."""
    bomb = gzip.compress(b"\0" * (200 * 1024**2), 9)
    recorder.default = lambda _: httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=Pieces([bomb]))
    fetch = lambda c: c.download("https://cdn.test/out.bin", tmp_path / "out.bin", max_bytes=50 * 1024**2)  # noqa: E731
    raised, peak = with_peak_memory(lambda: api.raises(vozo.DownloadError, fetch))
    assert "grew past max_bytes=52428800" in str(raised)
    assert peak < 20 * 1024**2, f"peak {peak / 1024**2:.0f} MiB"
    assert leftovers(tmp_path) == []


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
    assert path == tmp_path / "translations.subtitle.srt"  # no task id known: the kind's name
    assert recorder.requests[0].url == "https://cdn.test/k.es.srt"
    with pytest.raises(
        vozo.InvalidInputError,
        match=r"has no 'video' result \(its kind has: video, audio, subtitle; present: audio, subtitle; status: "
        r"done\): Vozo sent no such link for this job: fetch its status again, or download another result",
    ):
        api.call(lambda c: c.download(status, tmp_path, which="video"))
    with pytest.raises(
        vozo.InvalidInputError, match=r"has no 'poster' .*: pass which= one of: video, audio, subtitle$"
    ):
        api.call(lambda c: c.download(status, tmp_path, which="poster"))


def test_a_failed_download_names_its_link_without_the_signature_or_credentials(api, recorder, tmp_path) -> None:
    recorder.default = httpx.Response(403, content=b"denied")
    url = "https://reader:s3cret@cdn.test/talk.mp4?X-Amz-Signature=SIGNED"
    raised = api.raises(vozo.DownloadError, lambda c: c.download(url, tmp_path / "talk.mp4"))
    assert "download of https://…@cdn.test/talk.mp4?… failed: HTTP 403" in str(raised)
    assert "s3cret" not in str(raised)
    assert "SIGNED" not in str(raised)
    assert raised.url == url  # the program that asked has it whole


def test_a_status_downloaded_into_a_folder_is_named_after_its_job_not_after_its_link(api, recorder, tmp_path) -> None:
    """A link's last segment is the server's choice: `.../notes.mp4` named, and replaced, a file of the folder."""
    recorder.default = lambda _: media(VIDEO)
    (tmp_path / "notes.mp4").write_bytes(b"mine")
    lipsync = JobStatus.from_dict({"status": "done", "video_url": "https://cdn.test/notes.mp4"})
    assert api.call(lambda c: c.download(lipsync, tmp_path, task_id="li-7")) == tmp_path / "li-7.mp4"
    translation = MediaTranslateJobStatus.from_dict(
        {"status": "done", "result": {"subtitle_url": "https://cdn.test/notes.sh"}}
    )
    path = api.call(lambda c: c.download(translation, tmp_path, which="subtitle", task_id="../tr-1"))
    assert path == tmp_path / "_tr-1.subtitle.srt"  # the spec's file type, not the link's .sh
    assert (tmp_path / "notes.mp4").read_bytes() == b"mine"
    assert leftovers(tmp_path) == ["_tr-1.subtitle.srt", "li-7.mp4", "notes.mp4"]


@pytest.mark.parametrize("hard_links", [True, False])
def test_a_name_this_sdk_chose_never_replaces_a_file_in_the_folder(
    api, recorder, tmp_path, monkeypatch, hard_links
) -> None:
    recorder.default = lambda _: media(VIDEO)
    if not hard_links:  # FAT, some network file systems
        monkeypatch.setattr(os, "link", lambda *_: (_ for _ in ()).throw(OSError(errno.EPERM, "no links")))
    (tmp_path / "talk.mp4").write_bytes(b"mine")
    (tmp_path / "talk-3.mp4").mkdir()
    (tmp_path / "talk-4.mp4").symlink_to(tmp_path / "nowhere")  # a link leading nowhere is still a name taken
    first = api.call(lambda c: c.download("https://cdn.test/talk.mp4", tmp_path))
    second = api.call(lambda c: c.download("https://cdn.test/talk.mp4", f"{tmp_path}/"))
    assert (first, second) == (tmp_path / "talk-2.mp4", tmp_path / "talk-5.mp4")
    assert first.read_bytes() == second.read_bytes() == VIDEO
    assert (tmp_path / "talk.mp4").read_bytes() == b"mine"
    assert (tmp_path / "talk-4.mp4").is_symlink()
    assert leftovers(tmp_path) == ["talk-2.mp4", "talk-3.mp4", "talk-4.mp4", "talk-5.mp4", "talk.mp4"]
    # a file the caller named is replaced, as asked
    assert api.call(lambda c: c.download("https://cdn.test/talk.mp4", tmp_path / "talk.mp4")) == tmp_path / "talk.mp4"
    assert (tmp_path / "talk.mp4").read_bytes() == VIDEO


@pytest.mark.parametrize("ending", sorted({"/", os.sep}))  # and "\\" on Windows
def test_a_path_ending_in_a_separator_is_a_folder_made_for_the_file_not_the_files_name(
    api, recorder, tmp_path, ending
) -> None:
    """`vozo wait ID --output results/` wrote a file named "results" where the folder did not exist yet."""
    recorder.default = media(VIDEO)
    path = api.call(lambda c: c.download("https://cdn.test/talk.mp4", f"{tmp_path / 'new' / 'results'}{ending}"))
    assert path == tmp_path / "new" / "results" / "talk.mp4"
    assert path.read_bytes() == VIDEO


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            JobStatus.from_dict({"status": "processing"}),
            r"lipsync job has no 'video' result .*present: none yet; status: processing\): wait for the job to finish "
            r"first \(client.lipsync.wait\(task_id\)\)",
        ),
        ("ftp://cdn.test/a.mp4", "not an http"),
        ("http://[::1/a.mp4", "not a valid URL"),  # an unclosed IPv6 address, as a server may send it
        (42, "takes a URL or a job status"),
    ],
)
def test_nothing_to_download_is_a_clear_error(api, recorder, tmp_path, source, message) -> None:
    with pytest.raises(vozo.InvalidInputError, match=message):
        api.call(lambda c: c.download(source, tmp_path / "x.mp4"))
    assert recorder.requests == []


@pytest.mark.parametrize(
    ("status", "which"),
    [({"status": "processing"}, None), ({"status": "done", "video_url": "https://cdn.test/a.mp4"}, "subtitle")],
)
def test_a_status_with_nothing_to_download_is_refused_with_its_task_id(api, recorder, tmp_path, status, which) -> None:
    """The README: every error raised after a job was created carries its task_id; a download refused for its
    arguments (a job not done yet, a result its kind lacks) carried none, though the status or task_id= named it."""
    fetched = JobStatus.from_dict(status)
    download.remember_task_id(fetched, "li-7")  # as client.lipsync.get does
    assert api.raises(vozo.InvalidInputError, lambda c: c.download(fetched, tmp_path, which=which)).task_id == "li-7"
    given = JobStatus.from_dict(status)
    raised = api.raises(vozo.InvalidInputError, lambda c: c.download(given, tmp_path, which=which, task_id="li-8"))
    assert raised.task_id == "li-8"
    assert recorder.requests == []


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("file:///etc/passwd", "not an http"),
        ("ftp://u:secret@cdn.test/a.mp4", "not an http"),
        ("http://[::1/a", "valid"),
    ],
)
def test_a_result_url_the_server_sent_that_is_not_http_is_a_download_error(api, recorder, tmp_path, url, problem):
    """Not the caller's mistake (InvalidInputError, `vozo` exit 2 "usage"): the server's answer named it."""
    status = JobStatus.from_dict({"status": "done", "video_url": url, "task_id": "t-9"})
    raised = api.raises(vozo.DownloadError, lambda c: c.download(status, tmp_path / "x.mp4"))
    assert problem in str(raised)
    assert "secret" not in str(raised)
    assert raised.task_id == "t-9"
    assert recorder.requests == []
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("host", ["a" * 64 + ".test", "cdn..test"])
def test_a_host_name_dns_cannot_take_is_a_download_error(tmp_path, host) -> None:
    """Labels of 64+ characters or empty ones fail in the host name's encoding, before any lookup (no network). The
    sync transport let that UnicodeError through; the async one already reports a connection error."""
    with vozo.Vozo(api_key=API_KEY, max_retries=0) as client, pytest.raises(vozo.DownloadError) as raised:
        client.download(f"https://{host}/a.mp4", tmp_path / "a.mp4", task_id="t-1")
    assert "host name" in str(raised.value)
    assert raised.value.task_id == "t-1"
    assert leftovers(tmp_path) == []


def test_the_download_client_never_carries_the_key() -> None:
    client = vozo.Vozo(api_key=API_KEY)
    assert client._downloads.auth is None
    assert "authorization" not in client._downloads.headers
    client.close()


def partials(folder: Path) -> list[str]:
    return [name for name in leftovers(folder) if re.fullmatch(r"\..+\.vozo-partial-[0-9a-f]{8}", name)]


@pytest.mark.parametrize(("umask", "mode"), [(0o027, 0o640), (0o002, 0o664)])
def test_a_finished_file_has_the_permissions_the_umask_gives(api, recorder, tmp_path, umask, mode) -> None:
    recorder.default = media(VIDEO)
    previous = os.umask(umask)
    try:
        path = api.call(lambda c: c.download("https://cdn.test/o.mp4", tmp_path / "o.mp4"))
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_temporary_files_are_named_as_ours_and_leftovers_are_removed(api, recorder, tmp_path) -> None:
    killed_run = tmp_path / ".old.mp4.vozo-partial-0123abcd"
    killed_run.write_bytes(b"half a video")
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / ".vozo-partial-lookalike").write_text("not a download's: no name before the mark")
    removed: list[list[Path]] = []
    during: list[list[str]] = []

    def look(done: int, total: int | None) -> None:
        removed.append(download.remove_partials(tmp_path))
        during.append(partials(tmp_path))

    recorder.default = httpx.Response(200, headers={"Content-Length": str(2 * len(VIDEO))}, stream=Pieces([VIDEO] * 2))
    path = api.call(lambda c: c.download("https://cdn.test/o.mp4", tmp_path / "o.mp4", on_progress=look))
    assert path.read_bytes() == VIDEO * 2  # the running download's own file was left alone: it holds a lock on it
    assert removed == [[killed_run], []]
    assert [name.startswith(".o.mp4.vozo-partial-") for name in during[0]] == [True]
    assert leftovers(tmp_path) == [".vozo-partial-lookalike", "notes.txt", "o.mp4"]


@pytest.mark.parametrize(
    ("url_path", "name"),
    [
        ("/r/a%00b.mp4", "a_b.mp4"),
        ("/r/%2E%2E", "vozo-result"),
        ("/r/..%2F..%2Fescaped.mp4", "_.._escaped.mp4"),
        ("/r/..%5C..%5Cevil.mp4", "_.._evil.mp4"),
        ("/r/.bashrc", "bashrc"),
        ("/r/CON.mp4", "_CON.mp4"),
        ("/r/COM%C2%B9.mp4", "_COM\u00b9.mp4"),  # COM¹, COM², COM³, LPT¹... are devices too (superscript digits)
        ("/r/lpt%C2%B3.x.srt", "_lpt\u00b3.x.srt"),
        ("/r/" + "é" * 300 + ".mp4", "é" * 58 + ".mp4"),
        ("/r/", "vozo-result"),
    ],
)
def test_a_name_from_the_url_stays_in_the_folder_and_is_one_the_os_takes(
    api, recorder, tmp_path, url_path, name
) -> None:
    recorder.default = media(VIDEO)
    folder = tmp_path / "out"
    folder.mkdir()
    path = api.call(lambda c: c.download(f"https://cdn.test{url_path}", folder))
    assert path == folder / name
    assert leftovers(tmp_path) == ["out"]
    assert leftovers(folder) == [name]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("a\x00b.mp4", "embedded null byte"),
        ("new/a\x00b.mp4", "embedded null byte"),  # refused before the folder is made
        ("missing/..", "names no file"),
        # A name the file system cannot take is named for what it is, not as a folder that could not be made
        ("x" * 300 + ".mp4", "cannot use '"),
    ],
)
def test_a_path_the_os_refuses_is_a_download_error(api, recorder, tmp_path, name, message) -> None:
    recorder.default = media(VIDEO)
    raised = api.raises(
        vozo.DownloadError, lambda c: c.download("https://cdn.test/o.mp4", f"{tmp_path}/{name}", task_id="t-1")
    )
    assert message in str(raised)
    assert raised.task_id == "t-1"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("through_link", [False, True], ids=["fifo", "link-to-fifo"])
def test_a_device_or_pipe_under_the_output_name_is_refused_not_replaced(api, recorder, tmp_path, through_link) -> None:
    """``/dev/null`` or a named pipe is not a file to put a result in: renaming over it would replace the device
    (as root, ``/dev/null`` itself) with a regular file."""
    recorder.default = media(VIDEO)
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    output = pipe
    if through_link:
        output = tmp_path / "link"
        output.symlink_to(pipe)
    raised = api.raises(vozo.DownloadError, lambda c: c.download("https://cdn.test/o.mp4", output, task_id="t-1"))
    assert f"{str(output)!r} is not a regular file" in str(raised)
    assert raised.task_id == "t-1"
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    assert output.exists()
    assert recorder.requests == []
    assert leftovers(tmp_path) == sorted(["pipe", *(["link"] if through_link else [])])


def refuse(monkeypatch: pytest.MonkeyPatch, call: str, code: int) -> None:
    """Make ``os.<call>`` fail with ``code`` on a download's temporary file only (as a full disk does)."""
    real = getattr(os, call)

    def refusing(fd: int, *args: object) -> object:
        if download.PARTIAL_MARK in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(code, os.strerror(code))
        return real(fd, *args)

    monkeypatch.setattr(os, call, refusing)


@pytest.mark.parametrize("call", ["write", "fsync"])  # a full disk may show only when the data is flushed
def test_a_full_disk_is_a_download_error_and_leaves_nothing(api, recorder, tmp_path, monkeypatch, call) -> None:
    recorder.default = lambda _: media(VIDEO)
    (tmp_path / "out.mp4").write_bytes(b"previous")
    refuse(monkeypatch, call, errno.ENOSPC)
    raised = api.raises(vozo.DownloadError, lambda c: c.download("https://cdn.test/o.mp4", tmp_path / "out.mp4"))
    assert "No space left on device (free some disk space, then download again)" in str(raised)
    assert not raised.retryable
    assert len(recorder.requests) == 1
    assert leftovers(tmp_path) == ["out.mp4"]
    assert (tmp_path / "out.mp4").read_bytes() == b"previous"


@pytest.fixture
def unwritable(tmp_path: Path) -> Iterator[Path]:
    """A real folder where creating a file is refused."""
    if os.geteuid() != 0:
        folder = tmp_path / "locked"
        folder.mkdir(mode=0o555)
        yield folder
        folder.chmod(0o755)
    else:  # root ignores permission bits; sysfs refuses new files even to root
        yield Path("/sys/kernel")


def test_a_folder_without_write_permission_is_a_download_error(api, recorder, unwritable) -> None:
    recorder.default = media(VIDEO)
    raised = api.raises(vozo.DownloadError, lambda c: c.download("https://cdn.test/o.mp4", unwritable / "o.mp4"))
    assert "Permission denied (choose a folder you may write to)" in str(raised)
    assert not (unwritable / "o.mp4").exists()
    assert partials(unwritable) == []


def test_a_status_the_client_fetched_gives_a_failed_download_its_task_id(api, recorder, tmp_path) -> None:
    # Vozo's status bodies carry no task id: the client remembers which job it fetched each status for.
    recorder.replies = [reply(200, {"status": "done", "video_url": "https://cdn.test/o.mp4"})]
    recorder.default = httpx.Response(404, text="gone")

    def fetch_then_download(client):
        if isinstance(client, vozo.AsyncVozo):

            async def run():
                return await client.download(await client.lipsync.get("t-fetched"), tmp_path / "o.mp4")

            return run()
        return client.download(client.lipsync.get("t-fetched"), tmp_path / "o.mp4")

    raised = api.raises(vozo.DownloadError, fetch_then_download)
    assert raised.task_id == "t-fetched"
    copy = JobStatus.from_dict({"status": "done", "video_url": "https://cdn.test/o.mp4"})  # built, not fetched
    assert api.raises(vozo.DownloadError, lambda c: c.download(copy, tmp_path / "o.mp4")).task_id is None


def test_a_status_that_names_its_job_gives_the_error_its_task_id(api, recorder, tmp_path) -> None:
    recorder.default = httpx.Response(404, text="gone")
    status = JobStatus.from_dict({"status": "done", "video_url": "https://cdn.test/o.mp4", "task_id": "t-7"})
    raised = api.raises(vozo.DownloadError, lambda c: c.download(status, tmp_path / "o.mp4"))
    assert raised.task_id == "t-7"
    assert "fetch the job's status again for a fresh URL" in str(raised)


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ({"max_bytes": -1}, "max_bytes"),
        ({"deadline": 0}, "deadline"),
        ({"deadline": "600"}, "deadline"),  # a number read from a config file: was a raw TypeError
        ({"deadline": [1]}, "deadline"),
    ],
)
def test_limits_are_checked_before_any_request(api, recorder, tmp_path, limits, message) -> None:
    with pytest.raises(vozo.InvalidInputError, match=message):
        api.call(lambda c: c.download("https://cdn.test/o.mp4", tmp_path / "o.mp4", **limits))
    assert recorder.requests == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"path": b"/tmp/o.mp4"}, r"path must be a str or os.PathLike .*got bytes"),  # os.listdir(b".")'s names
        ({"path": None}, r"path must be a str or os.PathLike .*got NoneType"),  # an unset setting
        ({"path": 5}, r"path must be a str or os.PathLike .*got int"),
        ({"task_id": 5}, r"task_id must be a string .*got int"),  # was: 'int' object is not iterable
    ],
)
def test_a_path_or_task_id_of_the_wrong_type_is_refused_before_any_request(api, recorder, arguments, message) -> None:
    """Each was a bare TypeError from pathlib or the file name's making."""
    given = {"path": "o.mp4", **arguments}
    with pytest.raises(vozo.InvalidInputError, match=message):
        api.call(lambda c: c.download("https://cdn.test/o.mp4", **given))
    assert recorder.requests == []


def test_a_large_download_hands_every_written_byte_to_write_back_once(api, recorder, tmp_path, monkeypatch) -> None:
    # The kernel is asked to write the file out while it arrives, so the closing fsync is short; each range once,
    # in order, with nothing skipped.
    asked: list[tuple[int, int]] = []
    monkeypatch.setattr(download, "_fadvise", lambda fd, offset, length, advice: asked.append((offset, length)))
    recorder.default = httpx.Response(
        200, headers={"Content-Length": str(20 * len(VIDEO))}, stream=Pieces([VIDEO] * 20)
    )
    path = api.call(lambda c: c.download("https://cdn.test/big.mp4", tmp_path / "big.mp4"))
    assert path.read_bytes() == VIDEO * 20
    assert asked == [(0, 8 * len(VIDEO)), (8 * len(VIDEO), 8 * len(VIDEO))]  # 8 MiB at a time; the rest: fsync


def test_a_body_a_mock_transport_read_ahead_is_not_called_cut_short(tmp_path) -> None:
    # httpx.Response(content=...) is read before it is streamed: httpx counts no bytes off the wire.
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=VIDEO, headers={"Content-Type": "video/mp4"})

    lent = httpx.Client(transport=httpx.MockTransport(handler))
    with vozo.Vozo(api_key=API_KEY, base_url="https://api.vozo.test", http_client=lent) as client:
        assert client.download("https://cdn.test/o.mp4", tmp_path / "o.mp4").read_bytes() == VIDEO


def test_a_redirect_from_https_to_plain_http_is_refused_and_leaves_nothing(api, recorder, tmp_path) -> None:
    recorder.replies = [httpx.Response(302, headers={"Location": "http://cdn.test/out.mp4"})]
    recorder.default = httpx.Response(200, content=VIDEO)
    raised = api.raises(vozo.DownloadError, lambda c: c.download("https://cdn.test/out.mp4", tmp_path / "out.mp4"))
    assert "from https to plain http" in str(raised)
    assert not raised.retryable
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("max_bytes", [None, 1024])
def test_a_content_length_too_long_for_int_is_a_download_error(api, recorder, tmp_path, max_bytes) -> None:
    """int() refuses more than 4,300 digits: a Content-Length that long escaped as a raw ValueError."""
    headers = {"Content-Type": "video/mp4", "Content-Length": "9" * 5000}
    recorder.default = httpx.Response(200, headers=headers, stream=httpx.ByteStream(VIDEO))
    raised = api.raises(
        vozo.DownloadError,
        lambda c: c.download("https://cdn.test/o.mp4", tmp_path / "o.mp4", max_bytes=max_bytes, deadline=60),
    )
    assert "Content-Length" in str(raised)
    assert not raised.retryable
    assert leftovers(tmp_path) == []


def test_an_async_def_on_progress_is_awaited_by_asyncvozo_and_refused_by_vozo(api, recorder, tmp_path, recwarn) -> None:
    """AsyncVozo called an `async def` on_progress without awaiting it: it never ran (a RuntimeWarning aside)."""
    recorder.default = httpx.Response(200, headers={"Content-Length": str(2 * len(VIDEO))}, stream=Pieces([VIDEO] * 2))
    progress: list[int] = []

    async def on_progress(done: int, total: int | None) -> None:
        await asyncio.sleep(0)
        progress.append(done)

    download = lambda c: c.download("https://cdn.test/o.mp4", tmp_path / "o.mp4", on_progress=on_progress)  # noqa: E731
    if api.flavour == "async":
        assert api.call(download).read_bytes() == VIDEO * 2
        assert progress == [len(VIDEO), 2 * len(VIDEO)]
    else:
        raised = api.raises(vozo.InvalidInputError, download)
        assert "use AsyncVozo" in str(raised)
        assert leftovers(tmp_path) == []
        assert recorder.requests == []  # refused before the download, not at its first piece
    assert not [warning for warning in recwarn if "never awaited" in str(warning.message)]


@pytest.mark.parametrize("on_progress", [5, "print"], ids=repr)
def test_an_on_progress_that_is_no_function_is_refused_before_downloading(api, recorder, tmp_path, on_progress) -> None:
    """on_progress=5 started the download, then failed with a bare TypeError at its first piece."""
    download = lambda c: c.download("https://cdn.test/o.mp4", tmp_path / "o.mp4", on_progress=on_progress)  # noqa: E731
    raised = api.raises(vozo.InvalidInputError, download)
    assert "on_progress" in str(raised)
    assert recorder.requests == []
    assert leftovers(tmp_path) == []


def test_a_result_link_echoing_the_key_fails_without_it(api, recorder, tmp_path, caplog) -> None:
    """A status whose result URL holds the API key (a server echoing the Authorization header into it): the link is
    never sent the key, but its DownloadError quoted the link, and so did `vozo download`, the batch journal and the
    retry log line."""
    caplog.set_level("INFO", logger="vozo")
    recorder.default = httpx.Response(503)
    status = JobStatus.from_dict({"status": "done", "video_url": f"https://cdn.test/{API_KEY}/o.mp4"})
    raised = api.raises(vozo.DownloadError, lambda c: c.download(status, tmp_path / "o.mp4", task_id="t1"))
    assert "https://cdn.test/****/o.mp4" in str(raised)
    assert API_KEY not in str(raised)
    assert API_KEY not in caplog.text
    assert leftovers(tmp_path) == []


def test_without_which_an_audio_only_translation_downloads_its_audio(api, recorder, tmp_path) -> None:
    """The default was the kind's first result, video: a translation of an MP3 (no video_url) failed to download
    unless which="audio" was passed, after the job was paid for; `vozo translate --media a.mp3 -o out` always did."""
    recorder.default = media(b"RIFF....WAVE")
    status = MediaTranslateJobStatus.from_dict(
        {
            "status": "done",
            "result": {"audio_url": "https://cdn.test/k.es.wav", "subtitle_url": "https://cdn.test/k.srt"},
        }
    )
    path = api.call(lambda c: c.download(status, tmp_path / "k.es.wav"))
    assert recorder.requests[0].url == "https://cdn.test/k.es.wav"
    assert path.read_bytes() == b"RIFF....WAVE"
    recorder.default = media(b"RIFF....WAVE")
    named = api.call(lambda c: c.download(status, f"{tmp_path}/folder/", task_id="tr-1"))
    assert named == tmp_path / "folder" / "tr-1.audio.wav"  # named after the result it is, not tr-1.video.wav
    recorder.requests.clear()
    with_video = MediaTranslateJobStatus.from_dict(
        {"status": "done", "result": {"audio_url": "https://cdn.test/a.wav", "video_url": "https://cdn.test/v.mp4"}}
    )
    recorder.default = media(b"ftyp")
    api.call(lambda c: c.download(with_video, tmp_path / "v.mp4"))
    assert recorder.requests[0].url == "https://cdn.test/v.mp4"  # video first, as the spec orders the results


def test_an_async_download_s_deadline_moves_only_when_its_budget_grows() -> None:
    """Moving a cancel scope's deadline reschedules the event loop's timer: done for every chunk, it cost an async
    download a tenth of its time, though with a Content-Length the budget never changes."""

    async def deadlines(expected: int | None, chunks: int) -> list[float]:
        fetch = download.Download("https://cdn.test/v.mp4", task_id=None, max_bytes=None, deadline=None)
        fetch.expected = expected
        seen = []
        with download.AsyncDeadline(fetch) as due:
            for _ in range(chunks):
                fetch.received += 64 * 1024
                due.renew()
                seen.append(due._scope.deadline)
        return seen

    assert len(set(asyncio.run(deadlines(10**9, 100)))) == 1  # the size is known: the budget is fixed
    grown = asyncio.run(deadlines(None, 100))  # unknown: one more second per 100 kB received
    assert 50 <= len(set(grown)) <= 70  # 6.5 MB: moved once a second of budget, not per chunk
    assert grown == sorted(grown)


def test_a_redirect_through_plain_http_back_to_https_is_refused(api, recorder, tmp_path) -> None:
    # Anyone on the way can rewrite the plain http hop's Location to an https server of theirs: the file that comes
    # back over https would then be theirs.
    recorder.replies = [
        httpx.Response(302, headers={"Location": "http://cdn.test/hop"}),
        httpx.Response(302, headers={"Location": "https://cdn.test/out.mp4"}),
    ]
    recorder.default = httpx.Response(200, content=VIDEO)
    raised = api.raises(vozo.DownloadError, lambda c: c.download("https://cdn.test/out.mp4", tmp_path / "out.mp4"))
    assert "from https to plain http" in str(raised)
    assert not raised.retryable
    assert leftovers(tmp_path) == []


def test_an_async_download_s_default_deadline_never_passes_before_its_budget() -> None:
    """The scope moves once the budget has grown by a second: until then it must not end the download while
    ``Download.left`` says time is left (it did, up to a second early, as the sync client never does)."""
    import anyio

    async def gaps(deadline: float | None) -> list[float]:
        fetch = download.Download("https://cdn.test/v.mp4", task_id=None, max_bytes=None, deadline=deadline)
        seen = []
        with download.AsyncDeadline(fetch) as due:
            for _ in range(100):
                fetch.received += 64 * 1024
                due.renew()
                seen.append(due._scope.deadline - (anyio.current_time() + fetch.left()))
        return seen

    assert min(asyncio.run(gaps(None))) > -0.05  # without the slack: -0.6, a chunk's growth not applied yet
    assert max(abs(gap) for gap in asyncio.run(gaps(30.0))) < 0.05  # a deadline= of the user's is kept exactly
