"""The client class, written once: scripts/unasync.py derives the sync client (wrapper/vozo/_sync) from it."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn, Self, TypeVar

import anyio
import httpx

from vozo import _download, _http
from vozo._arguments import async_check_callback
from vozo._async import _transport
from vozo._async._governor import AsyncJobGovernor
from vozo._async._streaming import async_stream
from vozo._base import (
    IDEMPOTENT_METHODS,
    JSON,
    AnyResponse,
    JSONInput,
    checked_method,
    checked_path,
    decoded_json,
    encoded_json,
    operation_name,
    parsed_body,
)
from vozo._config import (
    DEFAULT_MAX_RETRIES,
    NOT_GIVEN,
    ClientOptions,
    NotGiven,
    changes,
    check_max_active_jobs,
    secret_hider,
)
from vozo._download import DownloadSource, ProgressCallback
from vozo._errors import VozoError
from vozo._logging import configure_from_env, hide_in_http_logs
from vozo._retry import Retrying
from vozo_api_client import Client
from vozo_jobs._async_resources import AsyncResources

T = TypeVar("T")


class AsyncClientState:
    """What a client shares with its ``with_options`` copies: connections, the request queue, the job governor."""

    def __init__(
        self, transport: httpx.AsyncBaseTransport, request_slots: _http.AsyncRequestSlots, jobs: AsyncJobGovernor
    ) -> None:
        self.transport = transport
        self.request_slots = request_slots
        self.jobs = jobs
        self.closed = False
        self._loop: object = None

    def check_usable(self, loop: object) -> None:
        if self.closed:
            raise VozoError("this client was closed: create a new one, or use it inside a `with` block")
        if self._loop is None:
            self._loop = loop
        elif loop != self._loop:  # connections and queues belong to the event loop that first used them
            raise VozoError(
                "this AsyncVozo was first used in another event loop (each asyncio.run starts a new one): create "
                "one client per event loop, inside it"
            )


class AsyncVozo(AsyncResources):
    """The Vozo API client. Its asyncio and trio twin takes the same arguments and awaits every method.

    ``api_key`` defaults to ``$VOZO_API_KEY`` and ``base_url`` to ``$VOZO_BASE_URL`` or https://api.vozo.ai.
    ``timeout`` (seconds or an ``httpx.Timeout``) applies to each request: to each wait for data, and an answer still
    arriving after the sum of its phases is cut off. ``max_retries`` applies to each call: reads are retried on
    outages, and a job-creating request only when Vozo certainly created nothing. ``http_client`` lends its
    transport (proxies, TLS, limits); it is not closed, and its own requests go as before. Each job kind of the API
    is a resource: ``client.lipsync``, ``client.reusable_lipsync``, ``client.translations``. ``max_active_jobs``
    (default None: no limit) keeps at most that many of this client's jobs active on the key, queueing further
    creates in the client (see ``client.jobs``); set it to your key's cap (5 or 10) when you run many jobs at once.
    Use as a context manager, or call ``close()``, to release connections.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_active_jobs: int | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        configure_from_env()
        options = ClientOptions.resolve(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries)
        governor = AsyncJobGovernor(check_max_active_jobs(max_active_jobs))
        state = AsyncClientState(_transport.async_transport(http_client), _http.async_request_slots(), governor)
        self._setup(options, state, owns_transport=True)

    def _setup(self, options: ClientOptions, state: AsyncClientState, *, owns_transport: bool) -> None:
        self._options = options
        self._state = state
        self._owns_transport = owns_transport
        self._hide = secret_hider(options.api_key.reveal())  # for what a server sends back: it may echo the key
        hide_in_http_logs(options.api_key)
        self._http = _transport.async_api_client(options, state.transport)
        self._downloads = _transport.async_download_client(options, state.transport)
        self._generated = Client(base_url=options.base_url).set_async_httpx_client(self._http)
        self.jobs = state.jobs
        self._attach_resources(self)

    @property
    def base_url(self) -> str:
        """Where API calls go (``https://api.vozo.ai`` unless set)."""
        return self._options.base_url

    @property
    def max_retries(self) -> int:
        """Retries per call (see the class docstring for which failures are retried)."""
        return self._options.max_retries

    @property
    def timeout(self) -> httpx.Timeout:
        """The timeout of each request."""
        return self._options.timeout

    def with_options(
        self,
        *,
        api_key: str | NotGiven = NOT_GIVEN,
        base_url: str | NotGiven = NOT_GIVEN,
        timeout: float | httpx.Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> Self:
        """A copy with some settings changed, sharing this client's connection pool (closing it is a no-op).

        The copy is of this client's class, with the attributes a subclass set.

        Per-call settings read as ``client.with_options(max_retries=5).lipsync.get(task_id)``.
        """
        copy = type(self).__new__(type(self))
        copy.__dict__.update(self.__dict__)  # what a subclass's __init__ set; _setup replaces the client's own
        options = self._options.evolve(
            **changes(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries)
        )
        copy._setup(options, self._state, owns_transport=False)
        return copy

    async def call(
        self,
        operation: Callable[..., Awaitable[AnyResponse]],
        expected: type[T],
        /,
        *,
        creates_job: bool = False,
        **arguments: Any,
    ) -> T:
        """Call a generated endpoint (``vozo_api_client.api...asyncio_detailed``) under this client's policy.

        Returns its parsed ``expected`` model; errors are typed (``APIStatusError`` subclasses, ...). With
        ``creates_job`` the call is retried only when Vozo certainly created nothing.
        """
        name = operation_name(operation)
        self._state.check_usable(_http.async_loop_token())
        for attempt in Retrying(name, self._options.max_retries, idempotent=not creates_job, hide=self._hide):
            with attempt:
                async with self._state.request_slots:
                    response = await operation(client=self._generated, **arguments)
                return parsed_body(response, name, expected, self._hide)
            await anyio.sleep(attempt.delay)
        raise AssertionError("unreachable")  # pragma: no cover

    async def request(self, method: str, path: str, *, json: JSONInput = None) -> JSON:
        """Call an API operation this SDK does not know yet; returns the decoded JSON body.

        ``path`` is relative to ``base_url`` (``/v1/...``). Same key, retries, typed errors and logging as every
        call; a method HTTP does not call idempotent (``POST``, ``PATCH``, or any but ``GET``, ``HEAD``, ``OPTIONS``,
        ``TRACE``, ``PUT``, ``DELETE``) is treated as creating a job, retried only when Vozo certainly created nothing.
        """
        method, path = checked_method(method), checked_path(path)
        body = None if json is None else encoded_json(json)
        headers = None if body is None else {"Content-Type": "application/json"}
        self._state.check_usable(_http.async_loop_token())
        idempotent = method in IDEMPOTENT_METHODS
        for attempt in Retrying(f"{method} {path}", self._options.max_retries, idempotent=idempotent, hide=self._hide):
            with attempt:
                async with self._state.request_slots:
                    response = await self._http.request(method, path, content=body, headers=headers)
                return decoded_json(response)
            await anyio.sleep(attempt.delay)
        raise AssertionError("unreachable")  # pragma: no cover

    async def download(
        self,
        source: DownloadSource,
        path: str | os.PathLike[str],
        *,
        which: str | None = None,
        on_progress: ProgressCallback | None = None,
        max_bytes: int | None = _download.DEFAULT_MAX_BYTES,
        deadline: float | None = None,
        task_id: str | None = None,
    ) -> Path:
        """Stream a result to ``path`` in constant memory and return the file's path.

        ``source`` is a URL or a done job status of any kind; ``which`` names one of its result files (``video``,
        ``audio``, ``subtitle``: the kind's ``*_url`` fields), by default the first one the status holds. A folder
        as ``path`` (or a path ending in ``/``, made if need be) gets a name of this SDK's making, which never
        replaces a file there (``-2``, ``-3``... is added): a status's result is named after its task id (``li-1.mp4``;
        ``tr-1.subtitle.srt`` for a kind with several results), a URL's after its last segment, made safe. The bytes
        go to a temporary file beside the target (``.NAME.vozo-partial-XXXXXXXX``), are checked against
        Content-Length and renamed into place only when complete: a failure never leaves a partial file under
        ``path``, nor the temporary one. The API key is never sent with it. ``on_progress(done, total)``.

        Every failure is a ``DownloadError`` carrying ``task_id`` (pass the job's). ``max_bytes`` refuses a longer
        body (None: no limit). ``deadline`` is the seconds the whole download may take, retries included; by
        default ten minutes plus one second per 100 kB of the file.
        """
        async_check_callback("on_progress", on_progress)
        _download.check_arguments(path, task_id)
        self._state.check_usable(_http.async_loop_token())
        task_id = task_id or _download.task_id_of(source)
        url = _download.result_url(source, which, task_id)
        return await async_stream(
            self._downloads,
            url,
            path,
            folder_name=_download.folder_file_name(source, which, url, task_id),
            max_retries=self._options.max_retries,
            task_id=task_id,
            on_progress=on_progress,
            max_bytes=max_bytes,
            deadline=deadline,
            hide=self._hide,
        )

    async def close(self) -> None:
        """Release pooled connections (a copy from ``with_options`` leaves them to the original, which closes them
        for every copy)."""
        if self._owns_transport and not self._state.closed:
            self._state.closed = True
            await self._http.aclose()
            await self._downloads.aclose()

    async def __aenter__(self) -> Self:
        if self._state.closed:  # as httpx refuses to reopen a client: its pool is gone
            raise VozoError("this client was closed and cannot be reopened: create a new one inside the `with` block")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, max_retries={self.max_retries})"

    def __reduce__(self) -> NoReturn:
        # Its connections, job slots and event loop cannot be copied, nor sent to another process.
        raise VozoError(
            f"a {type(self).__name__} cannot be pickled or copied: create one in each process, share one within it, "
            "and use with_options() for other settings"
        )
