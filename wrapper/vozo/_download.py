"""Result downloads: streamed in constant memory to a temporary file beside the target, renamed when complete."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from types import TracebackType
from urllib.parse import unquote, urlsplit

import anyio
import httpx

from vozo._errors import DownloadError, InvalidInputError
from vozo._kinds import JobKind, kinds_for_status, status_value
from vozo._retry import Retrying
from vozo_jobs.kinds import AnyStatus

CHUNK_SIZE = 1024 * 1024
DownloadSource = str | AnyStatus
ProgressCallback = Callable[[int, int | None], object]  # (bytes so far, total from Content-Length or None)


def result_url(source: DownloadSource, which: str) -> str:
    """The URL to download: given as is, or the ``which`` result of a job status of any kind."""
    if isinstance(source, str):
        url = source
    else:
        kinds = kinds_for_status(source)
        if not kinds:
            raise InvalidInputError(f"download() takes a URL or a job status, got {type(source).__name__}")
        urls = kinds[0].result_urls(source)
        url = urls.get(which, "")
        if not url:
            declared = ", ".join(kinds[0].result_names)
            have = ", ".join(sorted(urls)) or "none yet"
            raise InvalidInputError(
                f"this {kinds[0].name} job has no {which!r} result (its kind has: {declared}; present: {have}; "
                f"status: {status_value(source)})"
            )
    if urlsplit(url).scheme not in ("http", "https"):
        raise InvalidInputError(f"cannot download {url!r}: not an http(s) URL")
    return url


def result_urls(status: AnyStatus, kind: JobKind | None = None) -> dict[str, str]:
    """Every result URL a status offers, under the names its kind declares (nothing else the server sent)."""
    kinds = (kind,) if kind is not None else kinds_for_status(status)
    return kinds[0].result_urls(status) if kinds else {}


async def async_stream(
    client: httpx.AsyncClient, url: str, target: Path, *, max_retries: int, on_progress: ProgressCallback | None
) -> Path:
    for attempt in Retrying(f"download of {target.name}", max_retries, idempotent=True, reads_response=False):
        with attempt:
            async with client.stream("GET", url) as response:
                with PartialFile(target, url) as part:
                    total = check_response(response, url)
                    async for chunk in response.aiter_bytes(CHUNK_SIZE):
                        part.write(chunk)
                        if on_progress is not None:
                            on_progress(response.num_bytes_downloaded, total)
                    await anyio.to_thread.run_sync(part.commit, response.num_bytes_downloaded, total)
                    return target
        await anyio.sleep(attempt.delay)
    raise AssertionError("unreachable")  # pragma: no cover


def sync_stream(
    client: httpx.Client, url: str, target: Path, *, max_retries: int, on_progress: ProgressCallback | None
) -> Path:
    for attempt in Retrying(f"download of {target.name}", max_retries, idempotent=True, reads_response=False):
        with attempt, client.stream("GET", url) as response, PartialFile(target, url) as part:
            total = check_response(response, url)
            for chunk in response.iter_bytes(CHUNK_SIZE):
                part.write(chunk)
                if on_progress is not None:
                    on_progress(response.num_bytes_downloaded, total)
            part.commit(response.num_bytes_downloaded, total)
            return target
        time.sleep(attempt.delay)
    raise AssertionError("unreachable")  # pragma: no cover


def target_path(path: str | os.PathLike[str], url: str) -> Path:
    """The file to write; a folder gets the URL's file name. Parent folders are created."""
    target = Path(path)
    if target.is_dir():
        target = target / (PurePosixPath(unquote(urlsplit(url).path)).name or "vozo-result")
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def check_response(response: httpx.Response, url: str) -> int | None:
    """Raise for an unusable response; return the expected byte count from Content-Length, if any."""
    if response.status_code != 200:
        raise DownloadError(
            f"download of {_redact(url)} failed: HTTP {response.status_code}",
            url=url,
            status_code=response.status_code,
            retryable=response.status_code in (408, 429) or response.status_code >= 500,
        )
    length = response.headers.get("content-length")
    return int(length) if length and length.isdigit() else None


def _redact(url: str) -> str:
    """Result links are often signed: keep their query string out of messages and logs."""
    parts = urlsplit(url)
    return parts._replace(query="…" if parts.query else "").geturl()


class PartialFile:
    """A temporary file in the target's folder; ``commit`` renames it into place, anything else deletes it."""

    def __init__(self, target: Path, url: str) -> None:
        self.target = target
        self.url = url
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
        self.path = Path(name)
        self._file = os.fdopen(fd, "wb")
        self._committed = False

    def write(self, chunk: bytes) -> None:
        self._file.write(chunk)

    def commit(self, received: int, expected: int | None) -> None:
        if expected is not None and received != expected:
            raise DownloadError(
                f"download of {_redact(self.url)} was cut short: {received} of {expected} bytes",
                url=self.url,
                retryable=True,
            )
        self._file.flush()
        os.fsync(self._file.fileno())  # the bytes are on disk before the name says the file is complete
        self._file.close()
        os.replace(self.path, self.target)
        self._committed = True

    def __enter__(self) -> PartialFile:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self._committed:
            self._file.close()
            self.path.unlink(missing_ok=True)
