"""Result downloads: streamed in constant memory to a temporary file beside the target, renamed when complete.

Every failure is a ``DownloadError`` (HTTP status, connection, timeout, redirect loop, size limit, deadline, a file
the OS refuses to write) and leaves neither a file under the target name nor its temporary file. The loop that streams
a file through these is ``vozo._async._streaming`` (its sync twin derived).
"""

from __future__ import annotations

import errno
import os
import socket
import sys
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from vozo import _retry
from vozo._arguments import CallbackReturn, check_path
from vozo._base import Inflater
from vozo._errors import DownloadError, InvalidInputError
from vozo._http import FILE_READ_BYTES, file_body_socket, received_into
from vozo._kinds import JobKind, kinds_for_status, status_value
from vozo._logging import logger
from vozo_jobs.kinds import AnyStatus

DownloadSource = str | AnyStatus
ProgressCallback = Callable[[int, int | None], object]  # (bytes written so far, the file's size or None)

# Far above any result of Vozo's longest input (2 hours), yet it stops an endless body before it fills a disk.
DEFAULT_MAX_BYTES = 64 * 1024**3
# Without deadline=, a download may take ten minutes plus one second per 100 kB of its size (Content-Length, or the
# bytes received so far when the server sends none): 1 GB gets about three hours, a trickling server ten minutes.
DEADLINE_GRACE = 600.0
DEADLINE_MIN_RATE = 100_000  # bytes per second
_WRITE_BACK_EVERY = 8 * 1024**2
_fadvise = getattr(os, "posix_fadvise", None)
_DONTNEED = getattr(os, "POSIX_FADV_DONTNEED", 0)
EXPIRED_LINK_STATUSES = frozenset({401, 403, 404, 410})  # what a result link answers once it has expired
_EXPIRED_ADVICE = " (the link may have expired: fetch the job's status again for a fresh URL)"
_PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml"})
KNOWN_SUFFIXES = frozenset(
    {".mp4", ".mov", ".webm", ".mkv", ".mp3", ".wav", ".m4a", ".aac", ".flac", ".ogg", ".srt", ".vtt", ".ass",
     ".json", ".txt", ".csv", ".png", ".jpg", ".jpeg", ".webp", ".gif", ".zip"}
)  # fmt: skip
FALLBACK_SUFFIX = ".bin"  # a result whose file type nothing in the spec tells
PARTIAL_MARK = ".vozo-partial-"  # in every temporary file's name: `remove_partials` finds leftovers by it
_MAX_NAME_BYTES = 120  # a URL-derived name, kept well under every file system's 255-byte limit with room for the mark
# Names Windows gives to devices, whatever their extension: CON.mp4 is the console, not a file in the folder. The
# ports' numbers include the superscript digits ¹ ² ³ (COM¹), which str.isalnum() lets through into a name.
_PORT_NUMBERS = "0123456789\u00b9\u00b2\u00b3"
_WINDOWS_DEVICES = frozenset(
    ["CON", "PRN", "AUX", "NUL", *(f"{port}{n}" for port in ("COM", "LPT") for n in _PORT_NUMBERS)]
)
_OS_ADVICE = {
    errno.ENOSPC: "free some disk space, then download again",
    errno.EACCES: "choose a folder you may write to",
    errno.EPERM: "choose a folder you may write to",
    errno.EROFS: "the file system is read-only: choose another folder",
    errno.ENAMETOOLONG: "choose a shorter file name",
}

if sys.platform != "win32":

    def _lock(fd: int) -> bool:
        """Hold an exclusive lock on a temporary file; False when another download holds it."""
        import fcntl  # here: `import vozo` need not pay for it

        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

else:  # Windows refuses to delete an open file: that protects a temporary file in use without a lock

    def _lock(fd: int) -> bool:
        return True


def result_url(source: DownloadSource, which: str | None, task_id: str | None = None) -> str:
    """The URL to download: given as is, or the ``which`` result of a job status of any kind (None: the first result
    file the status holds, as the spec orders them: ``video`` for lipsync and translations, else ``audio``, ...).

    A status with none to give is refused with ``task_id``, its job's: every error after a create carries it."""
    try:
        return _result_url(source, which)
    except (InvalidInputError, DownloadError) as error:
        if not isinstance(source, str):
            error.task_id = task_id or error.task_id
        raise


def _result_url(source: DownloadSource, which: str | None) -> str:
    if isinstance(source, str):
        url = source
    else:
        kinds = kinds_for_status(source)
        if not kinds:
            raise InvalidInputError(f"download() takes a URL or a job status, got {type(source).__name__}")
        if not kinds[0].result_names:
            raise InvalidInputError(
                f"a {kinds[0].name} job has no result file to download: the spec declares no result link in its "
                "status (a *_url field outside lists): what the job made is in the status itself"
            )
        urls = kinds[0].result_urls(source)
        which = which or default_result(kinds[0], source)
        url = urls.get(which, "")
        if not url:
            declared = ", ".join(kinds[0].result_names)
            have = ", ".join(sorted(urls)) or "none yet"
            state = status_value(source)
            if state != "done":
                advice = f"wait for the job to finish first (client.{kinds[0].name}.wait(task_id))"
            elif which not in kinds[0].result_names:
                advice = f"pass which= one of: {declared}"
            else:
                advice = "Vozo sent no such link for this job: fetch its status again, or download another result"
            raise InvalidInputError(
                f"this {kinds[0].name} job has no {which!r} result (its kind has: {declared}; present: {have}; "
                f"status: {state}): {advice}"
            )
    try:
        scheme = urlsplit(url).scheme
    except ValueError as exc:  # "http://[::1/...": an unclosed IPv6 address
        problem = f"not a valid URL ({exc})"
    else:
        problem = "" if scheme in ("http", "https") else "not an http(s) URL"
    if not problem:
        return url
    if isinstance(source, str):  # the caller's own argument
        raise InvalidInputError(f"cannot download {url!r}: {problem}")
    # The server's answer named it: a download failure (never a local file), not a mistake of the caller's.
    raise DownloadError(
        f"download of {_redact(url)} refused: the job status's {which} link is {problem}, so nothing was downloaded; "
        "fetch the job's status again later, and check base_url if it is not Vozo's API",
        url=url,
        task_id=task_id_of(source),
    )


def _failed_host(exc: httpx.HTTPError) -> str | None:
    """The host of the request that failed (a redirect's target, maybe), when httpx knows it."""
    try:
        return exc.request.url.host
    except RuntimeError:  # httpx raises when the exception was made without a request
        return None


# Vozo's status bodies carry no task id, yet a failed download must name the job: each status a client fetched is
# remembered here with its task id, weakly (an entry goes with its status). Keyed by id(): the models are unhashable.
_FETCHED: dict[int, tuple[weakref.ref[Any], str]] = {}


def check_arguments(path: object, task_id: object) -> None:
    """Refuse a ``path`` or ``task_id`` of a type no download can use, before anything is sent (each was a bare
    TypeError from pathlib or the file name's making)."""
    check_path("path", path)
    if task_id is not None and not isinstance(task_id, str):
        raise InvalidInputError(f"task_id must be a string (the job's task id) or None, got {type(task_id).__name__}")


def remember_task_id(status: object, task_id: str) -> None:
    """Note that ``status`` was fetched for ``task_id``, so that downloading from it names the job."""
    key = id(status)
    _FETCHED[key] = (weakref.ref(status, lambda _: _FETCHED.pop(key, None)), task_id)


def task_id_of(source: DownloadSource) -> str | None:
    """The job a status belongs to: the one a client fetched it for, or a ``task_id`` field it carries."""
    fetched = _FETCHED.get(id(source))
    if fetched is not None and fetched[0]() is source:
        return fetched[1]
    properties = getattr(source, "additional_properties", {})
    task_id = properties.get("task_id") if isinstance(properties, dict) else None
    return task_id if isinstance(task_id, str) and task_id else None


def safe_name(url: str) -> str:
    """A file name from the URL's last path segment that stays in its folder and that every OS accepts.

    The URL comes from a server: separators (``/``, ``\\``, ``%2F``), NUL and other control characters, leading
    dots (``..``, hidden files), Windows device names and over-long names never reach the file system.
    """
    name = _cleaned(unquote(urlsplit(url).path.rsplit("/", 1)[-1]))
    suffix = PurePosixPath(name).suffix[:16]
    stem = name[: len(name) - len(PurePosixPath(name).suffix)] if suffix else name
    return _fitted(stem, suffix, "vozo-result")


def default_result(kind: JobKind, status: Any) -> str:
    """The result a download without ``which`` takes: the first the status holds, in the spec's order (video, else
    audio: an audio-only translation's audio), else the kind's first (for the error saying it is missing)."""
    urls = kind.result_urls(status)
    return next((name for name in kind.result_names if urls.get(name)), kind.result_names[0])


def folder_file_name(source: DownloadSource, which: str | None, url: str, task_id: str | None) -> str:
    """The name a download into a folder gets. A status's: its job's task id (else its kind's name), its result's
    name where the kind has several, and a known extension of that result's file type, as ``vozo batch`` names
    files: a link's last segment could name any file already in the folder. A URL's (the caller's own): its last
    segment, made safe."""
    if isinstance(source, str):
        return safe_name(url)
    kind = kinds_for_status(source)[0]
    which = which or default_result(kind, source)
    stem = _cleaned(task_id or "") or kind.name
    if len(kind.result_names) > 1:
        stem = f"{stem}.{_cleaned(which)}"
    return _fitted(stem, result_suffix(kind, which, url), kind.name)


def result_suffix(kind: JobKind, which: str, url: str) -> str:
    """The link's extension when it is a plain, known one; else the one the spec tells for the result; else .bin."""
    suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
    if suffix not in KNOWN_SUFFIXES:
        declared = kind.result_suffixes.get(which, "")
        suffix = declared if declared in KNOWN_SUFFIXES else FALLBACK_SUFFIX
    return suffix


def _cleaned(text: str) -> str:
    """``text`` without separators, control characters or leading and trailing dots."""
    return "".join(char if char.isalnum() or char in "-_.+" else "_" for char in text).strip(".")


def _fitted(stem: str, suffix: str, fallback: str) -> str:
    """``stem + suffix``, cut to a length every file system takes, and never a Windows device's name."""
    stem = stem.encode()[: _MAX_NAME_BYTES - len(suffix.encode())].decode(errors="ignore") or fallback
    return (f"_{stem}" if names_a_device(stem) else stem) + suffix


def names_a_device(name: str) -> bool:
    """Whether Windows reads the file name ``name`` (with or without extensions) as a device."""
    return name.split(".", 1)[0].upper() in _WINDOWS_DEVICES


def _redact(url: str) -> str:
    """Result links are often signed: keep their query string, and any user name and password, out of messages and
    logs."""
    try:
        parts = urlsplit(url)
    except ValueError:  # "http://[::1/...": no telling its host from its credentials, so none of it is shown
        return "a link that is not a valid URL"
    _, at, host = parts.netloc.rpartition("@")
    return parts._replace(netloc=f"…@{host}" if at else host, query="…" if parts.query else "").geturl()


class Download:
    """One download's limits and progress, and the ``DownloadError`` for each way it can fail."""

    def __init__(
        self,
        url: str,
        *,
        task_id: str | None,
        max_bytes: int | None,
        deadline: float | None,
        hide: Callable[[str], str] = str,
    ) -> None:
        if max_bytes is not None and (not isinstance(max_bytes, int) or max_bytes < 0):
            raise InvalidInputError(f"max_bytes must be a whole number >= 0 or None, got {max_bytes!r}")
        if deadline is not None and not (isinstance(deadline, int | float) and deadline > 0):
            raise InvalidInputError(f"deadline must be a number of seconds > 0 or None, got {deadline!r}")
        self.url = url
        self.task_id = task_id
        self.hide = hide  # takes the API key out of messages: a server may echo it into a result link
        self.max_bytes = max_bytes
        self.deadline = deadline
        self.started = time.monotonic()
        self.expected: int | None = None  # Content-Length of the current attempt
        self.total: int | None = None  # the file's size, when Content-Length gives it (no Content-Encoding)
        self.received = 0  # bytes written by the current attempt
        self.media = False  # the current attempt's Content-Type is video, audio or image
        self.inflater: Inflater | None = None  # the current attempt's, when a server gzipped the file anyway
        self.reads_end_at_deadline = False  # the current attempt's read timeout is the time left (``timeout``)

    def error(
        self, problem: str, *, retryable: bool = False, status_code: int | None = None, link_expired: bool = False
    ) -> DownloadError:
        return DownloadError(
            self.hide(f"download of {_redact(self.url)} {problem}"),
            url=self.url,
            status_code=status_code,
            retryable=retryable,
            link_expired=link_expired,
            task_id=self.task_id,
        )

    def target(self, path: str | os.PathLike[str], name: str) -> tuple[Path, bool]:
        """The file to write, and whether it may replace a file there. A folder (one that exists, or any path ending
        in a separator: ``out/``) gets ``name``, which never replaces a file. Parent folders are created."""
        target = Path(path)
        replace = True
        with self.file_errors(target, "use"):
            if "\x00" in os.fspath(target):  # as the OS would refuse it, but before any folder is made for it
                raise ValueError("embedded null byte")
            if target.is_dir() or os.fspath(path).endswith(("/", os.sep)):
                target, replace = target / name, False
            if target.name in ("", ".", ".."):
                raise self.error(f"failed: {str(target)!r} names no file (give a file or folder path)")
            if replace and target.exists() and not target.is_file():  # a rename would replace the device or pipe
                raise self.error(
                    f"failed: {str(target)!r} is not a regular file (a device, pipe or socket): give a file or folder "
                    "path"
                )
        with self.file_errors(target, "create the folder of"):
            target.parent.mkdir(parents=True, exist_ok=True)
        return target, replace

    @contextmanager
    def file_errors(self, path: Path, doing: str) -> Iterator[None]:
        """Turn what the OS refuses (no space, no permission, a name it cannot take) into a ``DownloadError``."""
        try:
            yield
        except OSError as exc:
            raise self.os_error(exc, path, doing) from exc
        except ValueError as exc:  # a NUL in the path: the OS cannot even be asked
            raise self.error(f"failed: cannot {doing} {str(path)!r}: {exc} (choose another file name)") from exc

    def os_error(self, exc: OSError, path: Path, doing: str) -> DownloadError:
        advice = _OS_ADVICE.get(exc.errno or 0, "check the path, then download again")
        return self.error(f"failed: cannot {doing} {str(path)!r}: {exc.strerror or exc} ({advice})")

    @contextmanager
    def failures(self) -> Iterator[None]:
        """Turn httpx's failures into ``DownloadError``, retryable when a new attempt may go better."""
        try:
            yield
        except httpx.TooManyRedirects as exc:
            problem = "failed: it redirects in a loop (fetch the job's status again for a fresh URL)"
            raise self.error(problem) from exc
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise self.error(f"failed: it leads to a URL that cannot be downloaded ({exc})") from exc
        except UnicodeError as exc:  # from the sync lookup: an empty label, or one over 63 characters
            raise self.error(f"failed: its host name is not one DNS can look up ({exc})") from exc
        except httpx.HTTPError as exc:  # refused, reset, timed out, cut short, undecodable
            certificate = _retry.certificate_failure(exc)
            if certificate is not None:  # not retryable: no new attempt can make the certificate valid
                host = _failed_host(exc) or urlsplit(self.url).hostname or "the server"
                problem = f"failed: certificate verify failed for {host} ({certificate.verify_message})"
                raise self.error(f"{problem}. {_retry.CERTIFICATE_ADVICE}") from exc
            # that wait was the time left (unless a default deadline grew with the bytes meanwhile)
            if isinstance(exc, httpx.ReadTimeout) and self.reads_end_at_deadline and self.left() <= 0:
                raise self.overdue() from exc
            reason = str(exc) or "the connection was lost"
            raise self.error(f"failed: {type(exc).__name__}: {reason} (try again)", retryable=True) from exc

    def budget(self) -> float:
        """Seconds the whole download may take, all attempts included: without ``deadline=``, it grows with the size."""
        if self.deadline is not None:
            return self.deadline
        return DEADLINE_GRACE + max(self.expected or 0, self.received) / DEADLINE_MIN_RATE

    def left(self) -> float:
        """Seconds left before the deadline."""
        return self.budget() - (time.monotonic() - self.started)

    def overdue(self) -> DownloadError:
        budget = f"deadline={self.deadline:g}s" if self.deadline is not None else "its default deadline"
        return self.error(f"did not finish within {budget} (pass a larger deadline=, or try again later)")

    def timeout(self, configured: httpx.Timeout) -> httpx.Timeout:
        """The client's timeouts, none longer than the time left."""
        left = self.left()
        if left <= 0:
            raise self.overdue()

        def cap(seconds: float | None) -> float:
            return left if seconds is None else min(seconds, left)

        read, write, pool = cap(configured.read), cap(configured.write), cap(configured.pool)
        self.reads_end_at_deadline = configured.read is None or configured.read >= left
        return httpx.Timeout(connect=cap(configured.connect), read=read, write=write, pool=pool)

    def start(self, response: httpx.Response) -> None:
        """Refuse an unusable response before reading its body."""
        self.received = 0
        # Every hop, not just the last: a plain http hop's Location can be rewritten on the way to an https server
        # that serves another file.
        hops = (*response.history, response)
        if urlsplit(self.url).scheme == "https" and any(hop.url.scheme != "https" for hop in hops):
            raise self.error(
                "refused: a redirect led it from https to plain http, where anyone on the way could change the file "
                "(ask Vozo's support if its links keep doing this)"
            )
        if response.status_code != 200:
            retryable = response.status_code in (408, 429) or response.status_code >= 500
            expired = response.status_code in EXPIRED_LINK_STATUSES
            problem = f"failed: HTTP {response.status_code}" + (_EXPIRED_ADVICE if expired else "")
            raise self.error(problem, retryable=retryable, status_code=response.status_code, link_expired=expired)
        if response.headers.get("content-type", "").split(";")[0].strip().lower() in _PAGE_TYPES:
            # no result of Vozo's is a web page: an expired or refused link that a CDN answers with a login page
            problem = f"failed: it answered with a web page, not the file{_EXPIRED_ADVICE}"
            raise self.error(problem, status_code=response.status_code, link_expired=True)
        # Media files are never empty; subtitles of a silent video may well be.
        self.media = response.headers.get("content-type", "").lower().startswith(("video/", "audio/", "image/"))
        length = response.headers.get("content-length", "")
        # ASCII only: str.isdigit() takes "²", which int() refuses. No file has a size of more than 20 digits, and
        # int() refuses more than 4,300 of them: such a Content-Length is a lie, not a size.
        if length.isascii() and length.isdigit() and len(length.lstrip("0")) > 20:
            raise self.error(
                f"refused: it announced a Content-Length of {len(length)} digits, larger than any file (check the "
                "link, or download it again later)"
            )
        self.expected = int(length) if length.isascii() and length.isdigit() else None
        try:
            self.inflater = Inflater.for_answer(response)
        except httpx.DecodingError as exc:
            raise self.error(f"refused: {exc}") from None
        encoded = response.headers.get("content-encoding", "identity").lower() not in ("", "identity")
        self.total = None if encoded else self.expected
        if self.max_bytes is not None and self.expected is not None and self.expected > self.max_bytes:
            raise self.error(f"refused: {self.expected} bytes announced, over max_bytes={self.max_bytes}")

    def pieces(self, chunk: bytes | memoryview) -> Iterable[bytes | memoryview]:
        """The file's bytes in a chunk read from the network: inflated a piece at a time when it is encoded, so a small
        chunk never becomes a huge one (``take`` stops it past ``max_bytes``)."""
        return (chunk,) if self.inflater is None else self.inflater.feed(chunk)

    def rest(self) -> Iterable[bytes]:
        """What an encoded file holds past its last chunk."""
        tail = b"" if self.inflater is None else self.inflater.end()
        return (tail,) if tail else ()

    def take(self, size: int) -> None:
        """Account for ``size`` more bytes before they are written; stop at once past a limit."""
        if self.max_bytes is not None and self.received + size > self.max_bytes:
            raise self.error(f"stopped: the body grew past max_bytes={self.max_bytes}")
        if self.left() <= 0:
            raise self.overdue()
        self.received += size

    def retry_delay(self, error: DownloadError, attempt: int, max_retries: int) -> float:
        """Seconds to wait before the next attempt; raises ``error`` when there will be none."""
        delay = _retry.retry_delay(error, attempt, max_retries, idempotent=True)
        if delay is None:
            raise error
        if delay >= self.left():
            raise self.overdue() from error
        logger.info("retrying download of %s after: %s (waiting %.2fs)", self.hide(_redact(self.url)), error, delay)
        return delay


class AsyncDeadline:
    """An async download's deadline as an anyio cancel scope, which also cuts a wait for the next byte short.
    ``renew`` moves it as the body comes: a default deadline grows with the bytes received (``Download.left``)."""

    def __init__(self, download: Download) -> None:
        import anyio

        self._download = download
        self._budget = download.budget()
        # The budget may grow by up to a second before the scope moves (``renew``): it is set that much later, so
        # the download ends late by less than a second rather than early. A ``deadline=`` never grows: kept exactly.
        self._slack = 0.0 if download.deadline is not None else 1.0
        self._scope = anyio.CancelScope(deadline=self._due())

    def __enter__(self) -> AsyncDeadline:
        self._scope.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        return bool(self._scope.__exit__(exc_type, exc, tb))

    def renew(self) -> None:
        """Called for each chunk: the scope is moved only when the budget grew by a second (moving it reschedules
        the event loop's timer, which cost an async download a tenth of its time)."""
        budget = self._download.budget()
        if budget >= self._budget + 1:
            self._budget = budget
            self._scope.deadline = self._due()

    def _due(self) -> float:
        import anyio

        return anyio.current_time() + self._download.left() + self._slack


class Deadline:
    """A sync download's deadline needs no scope: each read waits at most the time left (``Download.timeout``), and
    ``Download.take`` stops the download once it has passed."""

    def __init__(self, download: Download) -> None:
        pass

    def __enter__(self) -> Deadline:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def renew(self) -> None:
        pass


class AsyncBody:
    """An async download's body, chunk by chunk: decoded by httpx, or raw when ``Download.inflater`` inflates it."""

    def __init__(self, response: httpx.Response, download: Download) -> None:
        self._response = response
        self._download = download

    def __aiter__(self) -> AsyncIterator[bytes]:
        response = self._response
        return response.aiter_bytes() if self._download.inflater is None else response.aiter_raw()

    @property
    def raw_bytes(self) -> int:
        """The bytes received, as Content-Length counts them."""
        return self._response.num_bytes_downloaded


class Body:
    """A sync download's body, chunk by chunk. Past its first chunk, a file of known size that comes as it is, over
    HTTP/1 on a socket of httpcore's own, is read from that socket into one reused buffer: h11 and httpcore copy each
    byte of a body four times, 0.3-0.5 s of CPU a GiB where curl took 0.65 s for the whole download (measured on a
    local 1 GiB file: user CPU 0.5-0.7 -> 0.2 s). h11 never sees that body end, so httpcore closes the connection
    after, rather than reuse it. Async clients read through httpx: asyncio's transport reads the socket itself."""

    def __init__(self, response: httpx.Response, download: Download) -> None:
        self._response = response
        self._download = download
        self._read_directly = 0

    def __iter__(self) -> Iterator[bytes | memoryview]:
        response, size = self._response, self._download.total
        sock = file_body_socket(response) if size is not None and _comes_as_is(response) else None
        for chunk in response.iter_bytes() if self._download.inflater is None else response.iter_raw():
            yield chunk
            # h11 hands over all it holds of a body in one chunk: the rest has not been read from the socket yet
            if sock is not None and size is not None and size - response.num_bytes_downloaded >= _READ_DIRECTLY_FROM:
                yield from self._from(sock, size - response.num_bytes_downloaded)
                return

    @property
    def raw_bytes(self) -> int:
        """The bytes received, as Content-Length counts them."""
        return self._response.num_bytes_downloaded + self._read_directly

    def _from(self, sock: socket.socket, size: int) -> Iterator[memoryview]:
        """The body's next ``size`` bytes, read from ``sock``: each wait bounded by the read timeout and the deadline.
        It stops early where the connection ends: ``PartialFile.sync_commit`` then tells the file was cut short."""
        buffer = memoryview(bytearray(FILE_READ_BYTES))
        read_timeout = self._response.request.extensions.get("timeout", {}).get("read")
        while self._read_directly < size:
            wait = self._download.left()
            if wait <= 0:
                raise self._download.overdue()
            try:
                count = received_into(sock, buffer[: size - self._read_directly], min(wait, read_timeout or wait))
            except httpx.ReadTimeout as exc:
                if read_timeout is None or wait <= read_timeout:  # the deadline ended that wait, not the read timeout
                    raise self._download.overdue() from exc
                raise
            if not count:
                return
            self._read_directly += count
            yield buffer[:count]


_READ_DIRECTLY_FROM = 4 * FILE_READ_BYTES  # below, h11 reads the rest, and the connection can serve the next file


def _comes_as_is(response: httpx.Response) -> bool:
    """Whether the body's bytes on the wire are the file's: no transfer coding (chunked, which h11 prefers to a
    Content-Length sent with it). A content coding is no concern here: it leaves ``Download.total`` None."""
    return "transfer-encoding" not in response.headers


class PartialFile:
    """A temporary file beside the target, named with ``PARTIAL_MARK`` and locked while written.

    ``commit`` renames it into place; leaving the ``with`` block any other way deletes it. It is created with the
    permissions the user's umask gives, as any file their programs write, so the finished file has them too.
    """

    def __init__(
        self, target: Path, download: Download, on_progress: ProgressCallback | None, *, replace: bool
    ) -> None:
        self.target = target
        self._replace = replace
        self._download = download
        self._on_progress = on_progress
        self.returned = CallbackReturn("on_progress")  # settled by the download loop after each piece
        self._committed = False
        self._written_back = 0  # bytes handed to ``_write_back`` so far
        with download.file_errors(target.parent, "create a file in"):
            self._fd, self.path = _create_partial(target)
        self._open = True

    def write(self, piece: bytes | memoryview) -> None:
        self._download.take(len(piece))
        try:  # no context manager here: this runs once per network chunk (~64 KiB)
            view = memoryview(piece)
            while view:
                view = view[os.write(self._fd, view) :]
            if self._download.received - self._written_back >= _WRITE_BACK_EVERY:
                self._write_back()
        except OSError as exc:
            raise self._download.os_error(exc, self.path, "write") from exc
        if self._on_progress is not None:
            self.returned.last = self._on_progress(self._download.received, self._download.total)

    def _write_back(self) -> None:
        """Ask the kernel to start writing what came so far to disk now, so the fsync in ``commit`` finds little
        left to do (measured here: a 1 GiB fsync went from ~1.1 s to ~0.2-0.8 s) and the page cache is not filled
        with a file nobody reads back. Linux starts write-back for POSIX_FADV_DONTNEED; elsewhere it is skipped."""
        if _fadvise is not None:
            _fadvise(self._fd, self._written_back, self._download.received - self._written_back, _DONTNEED)
        self._written_back = self._download.received

    async def async_commit(self, raw_bytes: int) -> Path:
        """``sync_commit`` in a worker thread: its fsync may take seconds, which the event loop must not wait out."""
        import anyio.to_thread  # loaded with async use only: a sync user never pays for it

        return await anyio.to_thread.run_sync(self.sync_commit, raw_bytes)

    def sync_commit(self, raw_bytes: int) -> Path:
        """Put the file in place once the body is whole (``raw_bytes`` as received, against Content-Length), and
        return where: ``target``, or, when it may not replace a file and one is there, the first free name beside it
        (``STEM-2.EXT``, ``STEM-3.EXT``...)."""
        expected = self._download.expected
        # No raw bytes, yet bytes written: httpx read the body before streaming it (a Response(content=...) from a
        # MockTransport), so the wire count stays 0: count what was written instead of calling it cut short.
        raw_bytes = raw_bytes or self._download.received
        if expected is not None and raw_bytes != expected:
            raise self._download.error(f"was cut short: {raw_bytes} of {expected} bytes", retryable=True)
        if not self._download.received and self._download.media:  # no video or audio is empty: a CDN hiccup
            raise self._download.error("failed: the server sent an empty file (try again)", retryable=True)
        with self._download.file_errors(self.target, "write"):
            os.fsync(self._fd)  # the bytes are on disk before the name says the file is complete
            if sys.platform == "win32":
                self._close()  # Windows renames no open file
            # Elsewhere still locked: `remove_partials` cannot take it meanwhile.
            if self._replace:
                os.replace(self.path, self.target)
            placed = self.target if self._replace else _place(self.path, self.target)
            self._committed = True
            self._close()
        return placed

    def _close(self) -> None:
        if self._open:
            self._open = False
            os.close(self._fd)

    def __enter__(self) -> PartialFile:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self._committed:
            with suppress(OSError):  # nothing more can be done about it, and the error being raised says more
                self.path.unlink(missing_ok=True)
        with suppress(OSError):
            self._close()


def _place(source: Path, target: Path) -> Path:
    """Move ``source`` to ``target``, or to the first of ``STEM-2.EXT``, ``STEM-3.EXT``... that no file holds. A hard
    link claims a name atomically, where a rename would replace a file made in the meantime; a file system without
    hard links gets a check, then the rename."""
    stem, suffix = target.stem, target.suffix
    for number in range(1, 1000):
        candidate = target if number == 1 else target.with_name(f"{stem}-{number}{suffix}")
        try:
            os.link(source, candidate)
        except FileExistsError:
            continue
        except OSError:
            if os.path.lexists(candidate):  # a link too, even one leading nowhere
                continue
            os.replace(source, candidate)
            return candidate
        source.unlink()
        return candidate
    raise FileExistsError(errno.EEXIST, "no free file name beside it", str(target))


def _create_partial(target: Path) -> tuple[int, Path]:
    """Open a new temporary file beside ``target`` and lock it; the umask applies as to any new file."""
    prefix = target.name.encode()[:_MAX_NAME_BYTES].decode(errors="ignore")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        path = target.with_name(f".{prefix}{PARTIAL_MARK}{os.urandom(4).hex()}")
        try:
            fd = os.open(path, flags, 0o666)
        except FileExistsError:
            continue
        if _lock(fd):
            return fd, path
        os.close(fd)  # `remove_partials` took it in the instant before the lock, and deletes it
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(target.parent))


def remove_partials(directory: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporary files that killed downloads left in ``directory``; return the ones removed.

    Only files named as ours are touched, and never one that a running download still holds. Files that cannot be
    removed are left alone: they are hidden and harmless.
    """
    removed = []
    for path in sorted(Path(directory).glob(f".*{PARTIAL_MARK}*")):
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))  # a link named like ours is not ours
        except OSError:
            continue
        try:
            if _lock(fd):
                path.unlink()
                removed.append(path)
        except OSError:
            continue
        finally:
            os.close(fd)
    return removed
