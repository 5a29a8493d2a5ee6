"""``Vozo`` and ``AsyncVozo``: thin sync and async shells over the shared core, mirroring each other line for line."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any, Self

import anyio
import httpx

from vozo import _http
from vozo._base import operation_name, parsed_body
from vozo._config import DEFAULT_MAX_RETRIES, ClientOptions
from vozo._download import (
    CHUNK_SIZE,
    DownloadSource,
    PartialFile,
    ProgressCallback,
    ResultKind,
    check_response,
    result_url,
    target_path,
)
from vozo._errors import VozoError
from vozo._jobs import JobKind, Poller, StatusT
from vozo._logging import configure_from_env
from vozo._retry import Retrying
from vozo.resources import AsyncLipsync, AsyncReusableLipsync, AsyncTranslations, Lipsync, ReusableLipsync, Translations
from vozo_api_client import Client


class _NotGiven:
    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Any = _NotGiven()


def _changes(**settings: Any) -> dict[str, Any]:
    return {key: value for key, value in settings.items() if value is not NOT_GIVEN}


class Vozo:
    """The Vozo API client.

    ``api_key`` defaults to ``$VOZO_API_KEY`` and ``base_url`` to ``$VOZO_BASE_URL`` or https://api.vozo.ai.
    ``timeout`` (seconds or an ``httpx.Timeout``) applies to each request; ``max_retries`` to each call (see
    ``vozo._retry`` for what is retried). ``http_client`` lends its transport (proxies, TLS, limits); it is
    not modified or closed. Use as a context manager, or call ``close()``, to release connections.
    """

    lipsync: Lipsync
    reusable_lipsync: ReusableLipsync
    translations: Translations

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.Client | None = None,
    ) -> None:
        configure_from_env()
        options = ClientOptions.resolve(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries)
        self._setup(options, _http.sync_transport(http_client), _http.sync_request_slots(), owns_transport=True)

    def _setup(
        self,
        options: ClientOptions,
        transport: httpx.BaseTransport,
        request_slots: threading.BoundedSemaphore,
        *,
        owns_transport: bool,
    ) -> None:
        self._options = options
        self._transport = transport
        self._request_slots = request_slots
        self._owns_transport = owns_transport
        self._http = _http.sync_api_client(options, transport)
        self._downloads = _http.sync_download_client(options, transport)
        self._generated = Client(base_url=options.base_url).set_httpx_client(self._http)
        self.lipsync = Lipsync(self)
        self.reusable_lipsync = ReusableLipsync(self)
        self.translations = Translations(self)

    @property
    def base_url(self) -> str:
        return self._options.base_url

    @property
    def max_retries(self) -> int:
        return self._options.max_retries

    @property
    def timeout(self) -> httpx.Timeout:
        return self._options.timeout

    def with_options(
        self,
        *,
        api_key: str = NOT_GIVEN,
        base_url: str = NOT_GIVEN,
        timeout: float | httpx.Timeout = NOT_GIVEN,
        max_retries: int = NOT_GIVEN,
    ) -> Vozo:
        """A copy with some settings changed, sharing this client's connection pool (closing it is a no-op).

        Per-call settings read as ``client.with_options(max_retries=5).lipsync.get(task_id)``.
        """
        copy = object.__new__(Vozo)
        options = self._options.evolve(
            **_changes(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries)
        )
        copy._setup(options, self._transport, self._request_slots, owns_transport=False)
        return copy

    def download(
        self,
        source: DownloadSource,
        path: str | os.PathLike[str],
        *,
        which: ResultKind = "video",
        on_progress: ProgressCallback | None = None,
    ) -> Path:
        """Stream a result to ``path`` in constant memory and return the file's path.

        ``source`` is a URL, a done lipsync status (its ``video_url``) or a done translation status (its
        ``result``'s ``which``: video, audio or subtitle). The bytes go to a temporary file beside the target,
        are checked against Content-Length and renamed into place only when complete: a failure never leaves
        a partial file under ``path``. The API key is never sent with it. ``on_progress(done, total)``.
        """
        url = result_url(source, which)
        target = target_path(path, url)
        for attempt in Retrying(
            f"download of {target.name}", self._options.max_retries, idempotent=True, reads_response=False
        ):
            with attempt, self._downloads.stream("GET", url) as response, PartialFile(target, url) as part:
                total = check_response(response, url)
                for chunk in response.iter_bytes(CHUNK_SIZE):
                    part.write(chunk)
                    if on_progress is not None:
                        on_progress(response.num_bytes_downloaded, total)
                part.commit(response.num_bytes_downloaded, total)
                return target
            time.sleep(attempt.delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _request(self, endpoint: ModuleType, *, idempotent: bool, **kwargs: Any) -> Any:
        """Call a generated endpoint under this client's retry policy; returns its parsed model."""
        operation = operation_name(endpoint)
        for attempt in Retrying(operation, self._options.max_retries, idempotent=idempotent):
            with attempt:
                with self._request_slots:
                    response = endpoint.sync_detailed(client=self._generated, **kwargs)
                return parsed_body(response, operation)
            time.sleep(attempt.delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(
        self,
        get: Callable[[str], StatusT],
        kind: JobKind[StatusT],
        task_id: str,
        timeout: float,
        poll_interval: float,
        on_update: Callable[[StatusT], object] | None,
        *,
        just_created: bool = False,
    ) -> StatusT:
        poller = Poller(
            kind, task_id, timeout=timeout, poll_interval=poll_interval, on_update=on_update, just_created=just_created
        )
        delay = poller.first_delay
        while True:
            if delay:
                time.sleep(delay)
            try:
                status = get(task_id)
            except VozoError as exc:
                delay = poller.transient(exc)
                continue
            next_delay = poller.observe(status)
            if next_delay is None:
                return status
            delay = next_delay

    def close(self) -> None:
        """Release pooled connections (a copy from ``with_options`` leaves them to the original)."""
        if self._owns_transport:
            self._http.close()
            self._downloads.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Vozo(base_url={self.base_url!r}, max_retries={self.max_retries})"


class AsyncVozo:
    """The Vozo API client for asyncio and trio; every method of ``Vozo``, awaited. See ``Vozo``."""

    lipsync: AsyncLipsync
    reusable_lipsync: AsyncReusableLipsync
    translations: AsyncTranslations

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        configure_from_env()
        options = ClientOptions.resolve(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries)
        self._setup(options, _http.async_transport(http_client), _http.async_request_slots(), owns_transport=True)

    def _setup(
        self,
        options: ClientOptions,
        transport: httpx.AsyncBaseTransport,
        request_slots: anyio.Semaphore,
        *,
        owns_transport: bool,
    ) -> None:
        self._options = options
        self._transport = transport
        self._request_slots = request_slots
        self._owns_transport = owns_transport
        self._http = _http.async_api_client(options, transport)
        self._downloads = _http.async_download_client(options, transport)
        self._generated = Client(base_url=options.base_url).set_async_httpx_client(self._http)
        self.lipsync = AsyncLipsync(self)
        self.reusable_lipsync = AsyncReusableLipsync(self)
        self.translations = AsyncTranslations(self)

    @property
    def base_url(self) -> str:
        return self._options.base_url

    @property
    def max_retries(self) -> int:
        return self._options.max_retries

    @property
    def timeout(self) -> httpx.Timeout:
        return self._options.timeout

    def with_options(
        self,
        *,
        api_key: str = NOT_GIVEN,
        base_url: str = NOT_GIVEN,
        timeout: float | httpx.Timeout = NOT_GIVEN,
        max_retries: int = NOT_GIVEN,
    ) -> AsyncVozo:
        """A copy with some settings changed, sharing this client's connection pool; see ``Vozo.with_options``."""
        copy = object.__new__(AsyncVozo)
        options = self._options.evolve(
            **_changes(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries)
        )
        copy._setup(options, self._transport, self._request_slots, owns_transport=False)
        return copy

    async def download(
        self,
        source: DownloadSource,
        path: str | os.PathLike[str],
        *,
        which: ResultKind = "video",
        on_progress: ProgressCallback | None = None,
    ) -> Path:
        """Stream a result to ``path``; see ``Vozo.download``."""
        url = result_url(source, which)
        target = target_path(path, url)
        for attempt in Retrying(
            f"download of {target.name}", self._options.max_retries, idempotent=True, reads_response=False
        ):
            with attempt:
                async with self._downloads.stream("GET", url) as response:
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

    async def _request(self, endpoint: ModuleType, *, idempotent: bool, **kwargs: Any) -> Any:
        """Call a generated endpoint under this client's retry policy; returns its parsed model."""
        operation = operation_name(endpoint)
        for attempt in Retrying(operation, self._options.max_retries, idempotent=idempotent):
            with attempt:
                async with self._request_slots:
                    response = await endpoint.asyncio_detailed(client=self._generated, **kwargs)
                return parsed_body(response, operation)
            await anyio.sleep(attempt.delay)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _wait(
        self,
        get: Callable[[str], Awaitable[StatusT]],
        kind: JobKind[StatusT],
        task_id: str,
        timeout: float,
        poll_interval: float,
        on_update: Callable[[StatusT], object] | None,
        *,
        just_created: bool = False,
    ) -> StatusT:
        poller = Poller(
            kind, task_id, timeout=timeout, poll_interval=poll_interval, on_update=on_update, just_created=just_created
        )
        delay = poller.first_delay
        while True:
            if delay:
                await anyio.sleep(delay)
            try:
                status = await get(task_id)
            except VozoError as exc:
                delay = poller.transient(exc)
                continue
            next_delay = poller.observe(status)
            if next_delay is None:
                return status
            delay = next_delay

    async def close(self) -> None:
        """Release pooled connections (a copy from ``with_options`` leaves them to the original)."""
        if self._owns_transport:
            await self._http.aclose()
            await self._downloads.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"AsyncVozo(base_url={self.base_url!r}, max_retries={self.max_retries})"
