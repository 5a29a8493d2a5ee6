"""httpx plumbing for both clients: one connection pool shared by every copy from ``with_options``."""

from __future__ import annotations

import threading

import anyio
import anyio.lowlevel
import httpx

from vozo._base import USER_AGENT, BearerAuth, on_request, on_response
from vozo._config import ClientOptions

# httpx's pool does work proportional to its queue each time a connection frees up, so thousands of concurrent calls
# (asyncio.gather over many jobs) spend their time in that queue: measured, 1,000 jobs took 10x longer. Calls beyond
# this many wait their turn in a semaphore instead, and each call in flight keeps a pooled connection alive.
MAX_REQUESTS_IN_FLIGHT = 20


RequestSlots = threading.BoundedSemaphore
AsyncRequestSlots = anyio.Semaphore


def sync_job_slots(limit: int) -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(limit)


def async_job_slots(limit: int) -> anyio.Semaphore:
    return anyio.Semaphore(limit, max_value=limit)


def sync_loop_token() -> object:
    """The sync client runs in no event loop."""
    return None


def async_loop_token() -> object:
    """The running event loop (asyncio or trio): connections and semaphores of an AsyncVozo belong to one."""
    return anyio.lowlevel.current_token()


def sync_request_slots() -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(MAX_REQUESTS_IN_FLIGHT)


def async_request_slots() -> anyio.Semaphore:
    return anyio.Semaphore(MAX_REQUESTS_IN_FLIGHT)


# A request by any other method may create a paid job: it never rides a pooled connection the server may be closing
# (it would fail with "Server disconnected without sending a response", leaving the caller unsure whether Vozo
# created the job). A fresh connection costs a handshake; an unknown job costs far more.
_POOLED_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# No idle connection is kept, so each request opens its own.
_FRESH_CONNECTIONS = httpx.Limits(max_keepalive_connections=0)


class _ThroughClient(httpx.BaseTransport):
    """Sends through ``httpx.Client``s, built by us from the environment (as a plain ``httpx.Client()`` is: proxy
    and certificate variables honoured) or lent by the user (their proxies, TLS, limits and hooks, not changed or
    closed). Never with their auth (the bearer must reach Vozo unchanged) and never following a redirect (the outer
    client decides that: the API client never does, so the key stays on Vozo's host)."""

    def __init__(self, pooled: httpx.Client, fresh: httpx.Client | None = None, *, owned: bool) -> None:
        self._pooled = pooled
        self._fresh = fresh if fresh is not None else pooled
        self._owned = owned

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        client = self._pooled if request.method in _POOLED_METHODS else self._fresh
        return client.send(request, stream=True, auth=None, follow_redirects=False)

    def close(self) -> None:
        if self._owned:  # a lent client is the user's to close
            self._pooled.close()
            self._fresh.close()


class _AsyncThroughClient(httpx.AsyncBaseTransport):
    """``_ThroughClient`` for ``httpx.AsyncClient``s."""

    def __init__(self, pooled: httpx.AsyncClient, fresh: httpx.AsyncClient | None = None, *, owned: bool) -> None:
        self._pooled = pooled
        self._fresh = fresh if fresh is not None else pooled
        self._owned = owned

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        client = self._pooled if request.method in _POOLED_METHODS else self._fresh
        return await client.send(request, stream=True, auth=None, follow_redirects=False)

    async def aclose(self) -> None:
        if self._owned:
            await self._pooled.aclose()
            await self._fresh.aclose()


def _sync_response_hook(response: httpx.Response) -> None:
    response.read()
    on_response(response)


async def _async_response_hook(response: httpx.Response) -> None:
    await response.aread()
    on_response(response)


def sync_transport(http_client: httpx.Client | None) -> httpx.BaseTransport:
    if http_client is not None:
        return _ThroughClient(http_client, owned=False)
    # No transport= here: httpx then mounts the proxies the environment names, as for any httpx.Client().
    # One TLS context, made as httpx makes it (SSL_CERT_FILE / SSL_CERT_DIR), serves both pools.
    tls = httpx.create_ssl_context()
    return _ThroughClient(httpx.Client(verify=tls), httpx.Client(verify=tls, limits=_FRESH_CONNECTIONS), owned=True)


def async_transport(http_client: httpx.AsyncClient | None) -> httpx.AsyncBaseTransport:
    if http_client is not None:
        return _AsyncThroughClient(http_client, owned=False)
    tls = httpx.create_ssl_context()
    fresh = httpx.AsyncClient(verify=tls, limits=_FRESH_CONNECTIONS)
    return _AsyncThroughClient(httpx.AsyncClient(verify=tls), fresh, owned=True)


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
