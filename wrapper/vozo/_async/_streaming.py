"""A result file streamed to disk, with its retries. What a download checks, and each way it fails, is in
vozo/_download.py."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import anyio
import httpx

from vozo._download import (
    DEFAULT_MAX_BYTES,
    AsyncBody,
    AsyncDeadline,
    Download,
    PartialFile,
    ProgressCallback,
)
from vozo._errors import DownloadError
from vozo._http import downloading


async def async_stream(
    client: httpx.AsyncClient,
    url: str,
    path: str | os.PathLike[str],
    *,
    folder_name: str,
    max_retries: int,
    task_id: str | None = None,
    on_progress: ProgressCallback | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    deadline: float | None = None,
    hide: Callable[[str], str] = str,
) -> Path:
    """Download ``url`` to ``path`` (a folder gets ``folder_name``), retrying what may go better. ``hide`` takes the
    API key out of its errors."""
    download = Download(url, task_id=task_id, max_bytes=max_bytes, deadline=deadline, hide=hide)
    target, replace = download.target(path, folder_name)
    for attempt in itertools.count():
        if client.is_closed:  # since the call began (on_progress, another thread): httpx's own error is a RuntimeError
            raise download.error("stopped: its client was closed meanwhile (close a client once its calls returned)")
        try:
            with download.failures(), AsyncDeadline(download) as due, downloading():
                async with client.stream("GET", url, timeout=download.timeout(client.timeout)) as response:
                    download.start(response)
                    with PartialFile(target, download, on_progress, replace=replace) as part:
                        body = AsyncBody(response, download)
                        async for chunk in body:
                            await async_write(part, download.pieces(chunk))
                            due.renew()  # a default deadline grows with the bytes received
                        await async_write(part, download.rest())
                        return await part.async_commit(body.raw_bytes)
            raise download.overdue()  # only reached when an async deadline cancelled the attempt
        except DownloadError as error:
            await anyio.sleep(download.retry_delay(error, attempt, max_retries))
    raise AssertionError("unreachable")  # pragma: no cover


async def async_write(part: PartialFile, pieces: Iterable[bytes | memoryview]) -> None:
    """Write ``pieces`` of the file, settling what on_progress returned after each (``CallbackReturn``)."""
    for piece in pieces:
        part.write(piece)
        await part.returned.async_settle()
