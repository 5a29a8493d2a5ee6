"""httpx plumbing for both clients: one connection pool shared by every copy from ``with_options``."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import httpx

from vozo._base import USER_AGENT, BearerAuth, on_request, on_response
from vozo._config import ClientOptions
from vozo._errors import APIResponseValidationError

# httpx's pool does work proportional to its queue each time a connection frees up, so thousands of concurrent calls
# (asyncio.gather over many jobs) spend their time in that queue: measured, 1,000 jobs took 10x longer. Calls beyond
# this many wait their turn in a semaphore instead, and each call in flight keeps a pooled connection alive.
MAX_REQUESTS_IN_FLIGHT = 20

RequestSlots = threading.BoundedSemaphore
if TYPE_CHECKING:  # anyio loads with the async client: a sync user never pays for it
    import anyio

    AsyncRequestSlots = anyio.Semaphore


def sync_job_slots(limit: int) -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(limit)


def async_job_slots(limit: int) -> anyio.Semaphore:
    import anyio

    return anyio.Semaphore(limit, max_value=limit)


def sync_loop_token() -> object:
    """The sync client runs in no event loop."""
    return None


def async_loop_token() -> object:
    """The running event loop (asyncio or trio): connections and semaphores of an AsyncVozo belong to one."""
    import anyio.lowlevel

    return anyio.lowlevel.current_token()


def sync_request_slots() -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(MAX_REQUESTS_IN_FLIGHT)


def async_request_slots() -> anyio.Semaphore:
    import anyio

    # fast_acquire: a free slot is taken without a turn of the event loop (measured: 8.9 -> 1.6 us per call); the
    # request that follows yields to the loop anyway.
    return anyio.Semaphore(MAX_REQUESTS_IN_FLIGHT, fast_acquire=True)


# A request by any other method may create a paid job: it never rides a pooled connection the server may be closing
# (it would fail with "Server disconnected without sending a response", leaving the caller unsure whether Vozo
# created the job). A fresh connection costs a handshake; an unknown job costs far more.
_POOLED_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# No idle connection is kept, so each request opens its own.
_FRESH_CONNECTIONS = httpx.Limits(max_keepalive_connections=0)


class _EnvironmentTransport(httpx.BaseTransport):
    """The transports a plain ``httpx.Client()`` builds: the proxies HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and NO_PROXY
    name, TLS trusting SSL_CERT_FILE / SSL_CERT_DIR. (Passing our own ``transport=`` would turn those proxies off.)
    Reads share one pool; every other request gets a fresh connection."""

    def __init__(self) -> None:
        tls = httpx.create_ssl_context()  # one context, made as httpx makes it, for both pools
        self._pooled = httpx.Client(verify=tls)
        self._fresh = httpx.Client(verify=tls, limits=_FRESH_CONNECTIONS)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        client = self._pooled if request.method in _POOLED_METHODS else self._fresh
        # httpx's own routing (its proxy mounts or its direct transport), without a second send()'s per-call cost
        return client._transport_for_url(request.url).handle_request(request)

    def close(self) -> None:
        self._pooled.close()
        self._fresh.close()


class _AsyncEnvironmentTransport(httpx.AsyncBaseTransport):
    """``_EnvironmentTransport`` for asyncio and trio."""

    def __init__(self) -> None:
        tls = httpx.create_ssl_context()
        self._pooled = httpx.AsyncClient(verify=tls)
        self._fresh = httpx.AsyncClient(verify=tls, limits=_FRESH_CONNECTIONS)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        client = self._pooled if request.method in _POOLED_METHODS else self._fresh
        return await client._transport_for_url(request.url).handle_async_request(request)

    async def aclose(self) -> None:
        await self._pooled.aclose()
        await self._fresh.aclose()


class _ThroughClient(httpx.BaseTransport):
    """Sends through a user's ``httpx.Client`` (its proxies, TLS, limits and hooks) without changing it. Never with
    its auth (the bearer must reach Vozo unchanged) and never following a redirect (the outer client decides: the
    API client never does, so the key stays on Vozo's host)."""

    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._client.send(request, stream=True, auth=None, follow_redirects=False)

    def close(self) -> None:
        pass  # the user's client is the user's to close


class _AsyncThroughClient(httpx.AsyncBaseTransport):
    """Sends through a user's ``httpx.AsyncClient``; see ``_ThroughClient``."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._client.send(request, stream=True, auth=None, follow_redirects=False)

    async def aclose(self) -> None:
        pass  # the user's client is the user's to close


# Vozo's answers are a few hundred bytes; one this long comes from a wrong base_url or a broken server, and reading it
# whole (an endless stream) would take every byte of memory.
MAX_ANSWER_BYTES = 16 * 1024**2


class _CappedAnswer(httpx.SyncByteStream, httpx.AsyncByteStream):
    """An API answer's body as received, ended with an error past ``MAX_ANSWER_BYTES``."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self._stream = response.stream
        self._received = 0

    def _count(self, chunk: bytes) -> bytes:
        self._received += len(chunk)
        if self._received > MAX_ANSWER_BYTES:
            request = self._response.request
            raise APIResponseValidationError(
                f"{self._response.status_code} from {request.method} {request.url.path}: the answer runs past "
                f"{MAX_ANSWER_BYTES // 1024**2} MiB, far longer than any Vozo sends (check base_url)",
                status_code=self._response.status_code,
            )
        return chunk

    def __iter__(self) -> Iterator[bytes]:
        assert isinstance(self._stream, httpx.SyncByteStream)
        for chunk in self._stream:
            yield self._count(chunk)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        assert isinstance(self._stream, httpx.AsyncByteStream)
        async for chunk in self._stream:
            yield self._count(chunk)

    def close(self) -> None:
        assert isinstance(self._stream, httpx.SyncByteStream)
        self._stream.close()

    async def aclose(self) -> None:
        assert isinstance(self._stream, httpx.AsyncByteStream)
        await self._stream.aclose()


def _sync_response_hook(response: httpx.Response) -> None:
    response.stream = _CappedAnswer(response)
    response.read()
    on_response(response)


async def _async_response_hook(response: httpx.Response) -> None:
    response.stream = _CappedAnswer(response)
    await response.aread()
    on_response(response)


def sync_transport(http_client: httpx.Client | None) -> httpx.BaseTransport:
    return _ThroughClient(http_client) if http_client is not None else _EnvironmentTransport()


def async_transport(http_client: httpx.AsyncClient | None) -> httpx.AsyncBaseTransport:
    return _AsyncThroughClient(http_client) if http_client is not None else _AsyncEnvironmentTransport()


def sync_api_client(options: ClientOptions, transport: httpx.BaseTransport) -> httpx.Client:
    """Talks to Vozo: carries the key, maps errors, logs. Never follows redirects (the key stays on Vozo's host)."""
    return httpx.Client(
        base_url=options.base_url,
        auth=BearerAuth(options.api_key),
        headers={"User-Agent": USER_AGENT},
        timeout=options.timeout,
        transport=transport,
        event_hooks={"request": [on_request], "response": [_sync_response_hook]},
    )


def async_api_client(options: ClientOptions, transport: httpx.AsyncBaseTransport) -> httpx.AsyncClient:
    """Talks to Vozo: carries the key, maps errors, logs. Never follows redirects (the key stays on Vozo's host)."""

    async def on_async_request(request: httpx.Request) -> None:
        on_request(request)

    return httpx.AsyncClient(
        base_url=options.base_url,
        auth=BearerAuth(options.api_key),
        headers={"User-Agent": USER_AGENT},
        timeout=options.timeout,
        transport=transport,
        event_hooks={"request": [on_async_request], "response": [_async_response_hook]},
    )


def sync_download_client(options: ClientOptions, transport: httpx.BaseTransport) -> httpx.Client:
    """Fetches result files from wherever Vozo hosts them: no API key, redirects followed."""
    return httpx.Client(
        headers={"User-Agent": USER_AGENT}, timeout=options.timeout, transport=transport, follow_redirects=True
    )


def async_download_client(options: ClientOptions, transport: httpx.AsyncBaseTransport) -> httpx.AsyncClient:
    """Fetches result files from wherever Vozo hosts them: no API key, redirects followed."""
    return httpx.AsyncClient(
        headers={"User-Agent": USER_AGENT}, timeout=options.timeout, transport=transport, follow_redirects=True
    )
