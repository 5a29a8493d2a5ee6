"""Result downloads: streamed in constant memory to a temporary file beside the target, renamed when complete."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Literal
from urllib.parse import unquote, urlsplit

import httpx

from vozo._errors import DownloadError, InvalidInputError
from vozo_api_client.models import JobStatus, MediaTranslateJobStatus, MediaTranslateResult

CHUNK_SIZE = 1024 * 1024
ResultKind = Literal["video", "audio", "subtitle"]
DownloadSource = str | JobStatus | MediaTranslateJobStatus
ProgressCallback = Callable[[int, int | None], object]  # (bytes so far, total from Content-Length or None)


def result_url(source: DownloadSource, which: ResultKind) -> str:
    """The URL to download: given as is, a lipsync status's video_url, or one of a translation's result URLs."""
    if isinstance(source, str):
        url = source
    elif isinstance(source, JobStatus):
        if which != "video":
            raise InvalidInputError(f"a lipsync job has only a video result, not {which!r}")
        url = source.video_url if isinstance(source.video_url, str) else ""
    elif isinstance(source, MediaTranslateJobStatus):
        urls = result_urls(source)
        url = urls.get(which, "")
        if not url:
            have = ", ".join(f"{name}_url" for name in sorted(urls)) or "none"
            raise InvalidInputError(f"this translation job has no {which}_url (result URLs present: {have})")
    else:
        raise InvalidInputError(f"download() takes a URL or a job status, got {type(source).__name__}")
    if not url:
        raise InvalidInputError(f"the job has no {which}_url yet (status: {getattr(source, 'status', '?')})")
    if urlsplit(url).scheme not in ("http", "https"):
        raise InvalidInputError(f"cannot download {url!r}: not an http(s) URL")
    return url


def result_urls(status: JobStatus | MediaTranslateJobStatus) -> dict[str, str]:
    """Every result URL a status offers, by kind: a lipsync video; a translation's video, audio and subtitle."""
    if isinstance(status, JobStatus):
        return {"video": status.video_url} if isinstance(status.video_url, str) and status.video_url else {}
    result = status.result if isinstance(status.result, MediaTranslateResult) else None
    found = result.to_dict() if result else {}  # additional_properties included: a result Vozo adds later
    return {name.removesuffix("_url"): url for name, url in found.items() if name.endswith("_url") and url}


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
