"""The httpx clients and transports a client sends through, written once: scripts/unasync.py derives the sync ones.

Every API request is held to its answer's deadline (``answer_deadline``): each read and write of it is given at most
the time left, so a server trickling its status line, headers or body cannot hold a call past it. That bound lives in
the httpcore pools' network backend (``AsyncDeadlineBackend``): per read, it costs a fraction of a timer per
request, and a blocking read, which nothing can cancel, needs it anyway.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import httpx

from vozo._base import (
    ACCEPT_ENCODING,
    USER_AGENT,
    Answer,
    BearerAuth,
    Inflater,
    answer_deadline,
    answer_timeout,
    on_request,
    on_response,
)
from vozo._config import ClientOptions
from vozo._http import (
    CERTIFICATE_VARIABLES,
    FRESH_CONNECTIONS,
    POOLED_METHODS,
    PROXY_VARIABLES,
    answer_due,
    async_read_file,
    check_http_client,
    closed_http_client,
    cookies_read_only_when_set,
    in_a_download,
    read_from_environment,
    refuse_a_key_in_clear_to_a_proxy,
    time_left,
    without_keep_alive_header,
)

if TYPE_CHECKING:
    import httpcore  # loaded by httpx's transports, when a client is made; importing it here would load anyio


class AsyncEnvironmentTransport(httpx.AsyncBaseTransport):
    """The transports a plain ``httpx.AsyncClient()`` builds: the proxies HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and
    NO_PROXY name, TLS trusting SSL_CERT_FILE / SSL_CERT_DIR. (Passing our own ``transport=`` would turn those proxies
    off.) Reads share one pool; every other request gets a fresh connection."""

    def __init__(self) -> None:
        with read_from_environment(CERTIFICATE_VARIABLES):
            tls = httpx.create_ssl_context()  # one context, made as httpx makes it, for both pools
        with read_from_environment(PROXY_VARIABLES):
            self._pooled = httpx.AsyncClient(verify=tls)
            self._fresh = httpx.AsyncClient(verify=tls, limits=FRESH_CONNECTIONS)
        for client in (self._pooled, self._fresh):
            bound_reads_by_answer_deadlines(client)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        client = self._pooled if request.method in POOLED_METHODS else self._fresh
        # httpx's own routing (its proxy mounts or its direct transport), without a second send()'s per-call cost
        route = client._transport_for_url(request.url)
        refuse_a_key_in_clear_to_a_proxy(request, route)
        return await within_answer_deadline(request, route.handle_async_request)

    async def aclose(self) -> None:
        await self._pooled.aclose()
        await self._fresh.aclose()


class AsyncThroughClient(httpx.AsyncBaseTransport):
    """Sends through a user's ``httpx.AsyncClient`` (its proxies, TLS, limits and hooks). Never with its auth (the
    bearer must reach Vozo unchanged) and never following a redirect (the outer client decides: the API client never
    does, so the key stays on Vozo's host)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client
        # Its connections made from now on bound each wait by the answer's deadline of our requests alone: the user's
        # own requests carry none, and keep their timeouts as they are. (A transport of the user's own making, not
        # httpx's, keeps only its timeouts.)
        bound_reads_by_answer_deadlines(client)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._client.is_closed:
            raise closed_http_client()
        refuse_a_key_in_clear_to_a_proxy(request, self._client._transport_for_url(request.url))
        return await within_answer_deadline(request, self._send)

    async def _send(self, request: httpx.Request) -> httpx.Response:
        return await self._client.send(request, stream=True, auth=None, follow_redirects=False)

    async def aclose(self) -> None:
        pass  # the user's client is the user's to close


async def within_answer_deadline(
    request: httpx.Request, send: Callable[[httpx.Request], Awaitable[httpx.Response]]
) -> httpx.Response:
    """``send(request)``, each read and write of it given at most the time left before its answer's deadline (see
    ``AsyncDeadlineStream``). A download has no such deadline."""
    deadline = answer_deadline(request)
    if deadline is None:
        return await send(request)
    token = answer_due.set(deadline)
    try:
        return await send(request)
    except httpx.TimeoutException:
        if time.monotonic() >= deadline:
            raise answer_timeout(request) from None
        raise
    finally:
        answer_due.reset(token)


def bound_reads_by_answer_deadlines(client: httpx.AsyncClient) -> None:
    """Give every httpcore pool of ``client`` (direct and each proxy's) the ``AsyncDeadlineBackend``. httpx offers
    no way to pass httpcore a network backend, so it is set where httpcore keeps it and reads it for each new
    connection. Should a later httpx or httpcore keep it elsewhere, nothing breaks, but a trickled status line or
    headers are again bounded by the read timeout alone (tests/e2e/test_hostile_api.py then fails)."""
    import httpcore  # loaded already: httpx made the client's transports with it

    for transport in (client._transport, *client._mounts.values()):
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        # Not twice: a user's http_client may be lent to several clients.
        if isinstance(backend, httpcore.AsyncNetworkBackend) and not isinstance(backend, AsyncDeadlineBackend):
            pool._network_backend = AsyncDeadlineBackend(backend)  # type: ignore[union-attr]


class AsyncDeadlineStream:
    """An ``httpcore.AsyncNetworkStream`` whose every wait ends by the deadline of the API request it carries (see
    ``time_left``)."""

    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self.wrapped = stream  # public: a sync download reads a file's body from its socket (``Body``)
        # Called as they are, once or twice per request: bound here, not through a method of ours
        self.aclose = stream.aclose
        self.get_extra_info = stream.get_extra_info

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if in_a_download.get():
            return await async_read_file(self.wrapped, time_left(timeout))
        return await self.wrapped.read(max_bytes, time_left(timeout))

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if buffer:  # h11 hands over an empty body and end of a GET too, which httpcore's streams return from at once
            await self.wrapped.write(buffer, time_left(timeout))

    async def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        tls = await self.wrapped.start_tls(ssl_context, server_hostname, time_left(timeout))
        return AsyncDeadlineStream(tls)  # type: ignore[return-value]


class AsyncDeadlineBackend:
    """An ``httpcore.AsyncNetworkBackend`` whose connections are ``AsyncDeadlineStream``s."""

    def __init__(self, backend: httpcore.AsyncNetworkBackend) -> None:
        self._backend = backend

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
        return AsyncDeadlineStream(stream)  # type: ignore[return-value]

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._backend.connect_unix_socket(path, timeout, socket_options)
        return AsyncDeadlineStream(stream)  # type: ignore[return-value]

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


def async_transport(http_client: httpx.AsyncClient | None) -> httpx.AsyncBaseTransport:
    check_http_client(http_client, httpx.AsyncClient)
    return AsyncThroughClient(http_client) if http_client is not None else AsyncEnvironmentTransport()


async def async_request_hook(request: httpx.Request) -> None:
    on_request(request)


async def async_response_hook(response: httpx.Response) -> None:
    answer, inflater = Answer(response.request), Inflater.for_answer(response)
    if inflater is None:
        async for chunk in response.aiter_bytes():
            answer.add(chunk)
    else:  # inflated a piece at a time, each checked against the answer's bounds
        async for chunk in response.aiter_raw():
            for piece in inflater.feed(chunk):
                answer.add(piece)
        answer.add(inflater.end())
    response._content = answer.body  # what response.read() keeps, read within the answer's bounds
    on_response(response)


def async_api_client(options: ClientOptions, transport: httpx.AsyncBaseTransport) -> httpx.AsyncClient:
    """Talks to Vozo: carries the key, maps errors, logs. Never follows redirects (the key stays on Vozo's host)."""
    client = httpx.AsyncClient(
        base_url=options.base_url,
        auth=BearerAuth(options.api_key),
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING},  # not br or zstd: see Inflater
        timeout=options.timeout,
        transport=transport,
        event_hooks={"request": [async_request_hook], "response": [async_response_hook]},
    )
    return cookies_read_only_when_set(without_keep_alive_header(client))


def async_download_client(options: ClientOptions, transport: httpx.AsyncBaseTransport) -> httpx.AsyncClient:
    """Fetches result files from wherever Vozo hosts them: no API key, redirects followed."""
    return httpx.AsyncClient(
        # Media files are compressed already: asked as they are, they come with their size (a progress total).
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
        timeout=options.timeout,
        transport=transport,
        follow_redirects=True,
    )
