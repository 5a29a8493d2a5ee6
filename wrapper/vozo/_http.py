"""httpx plumbing for both clients: one connection pool shared by every copy from ``with_options``."""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from vozo._base import USER_AGENT, Answer, BearerAuth, answer_deadline, answer_timeout, on_request, on_response
from vozo._config import ClientOptions, is_loopback
from vozo._errors import InvalidInputError, VozoError

# httpx's pool does work proportional to its queue each time a connection frees up, so thousands of concurrent calls
# (asyncio.gather over many jobs) spend their time in that queue: measured, 1,000 jobs took 10x longer. Calls beyond
# this many wait their turn in a semaphore instead, and each call in flight keeps a pooled connection alive.
MAX_REQUESTS_IN_FLIGHT = 20

if TYPE_CHECKING:  # anyio loads with the async client: a sync user never pays for it
    import anyio
    import httpcore  # loaded by httpx's transports, when a client is made; importing it here would load anyio

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


class RequestSlots:
    """The sync client's requests in flight, across threads: a queue of tokens, taken and given back. SimpleQueue is
    written in C, so a free slot costs a sixth of a ``threading.BoundedSemaphore``'s (0.3 against 1.7 us a call)."""

    def __init__(self, count: int) -> None:
        import queue  # here, not at import: ~1 ms, a twentieth of what `import vozo` adds to httpx's own

        self._tokens: queue.SimpleQueue[None] = queue.SimpleQueue()
        for _ in range(count):
            self._tokens.put(None)

    def __enter__(self) -> None:
        self._tokens.get()  # blocks while every slot is taken; Ctrl-C still interrupts it

    def __exit__(self, *exc_info: object) -> None:
        self._tokens.put(None)


def sync_request_slots() -> RequestSlots:
    return RequestSlots(MAX_REQUESTS_IN_FLIGHT)


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


_CERTIFICATE_VARIABLES = "SSL_CERT_FILE or SSL_CERT_DIR"
_PROXY_VARIABLES = "HTTPS_PROXY, HTTP_PROXY or ALL_PROXY"


@contextlib.contextmanager
def _read_from_environment(variables: str) -> Iterator[None]:
    """httpx's failure to use a variable (a missing CA file, a proxy URL it cannot parse, SOCKS without its extra) as
    a VozoError naming the variables to fix."""
    try:
        yield
    except (ImportError, ValueError, OSError, httpx.InvalidURL) as exc:
        raise VozoError(f"cannot use {variables} from the environment: {exc} (fix or unset the variable)") from exc


def _refuse_a_key_in_clear_to_a_proxy(
    request: httpx.Request, route: httpx.BaseTransport | httpx.AsyncBaseTransport
) -> None:
    """Plain http carries the key only to this machine (check_base_url), so never through a proxy elsewhere: the proxy
    would read the key, and its "localhost" is its own machine. ``route``, the transport a client picks for the URL
    (a proxy from the environment or its own settings), keeps the proxy's URL in its httpcore pool, HTTP or SOCKS
    alike."""
    proxy = getattr(getattr(route, "_pool", None), "_proxy_url", None)
    if proxy is None:  # looked at first: it costs a tenth of the header lookup (no proxy is the common case)
        return
    host = proxy.host.decode("ascii")
    if request.url.scheme == "http" and "Authorization" in request.headers and not is_loopback(host):
        raise InvalidInputError(
            f"refusing to send the API key in clear to the proxy {host} (from HTTP_PROXY or "
            f"ALL_PROXY, or http_client's proxy): set NO_PROXY={request.url.host} to reach this machine directly"
        )


# The answer_deadline of the API request the current thread is sending (None for downloads and other requests).
_answer_due: contextvars.ContextVar[float | None] = contextvars.ContextVar("vozo_answer_due", default=None)


class _EnvironmentTransport(httpx.BaseTransport):
    """The transports a plain ``httpx.Client()`` builds: the proxies HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and NO_PROXY
    name, TLS trusting SSL_CERT_FILE / SSL_CERT_DIR. (Passing our own ``transport=`` would turn those proxies off.)
    Reads share one pool; every other request gets a fresh connection."""

    def __init__(self) -> None:
        with _read_from_environment(_CERTIFICATE_VARIABLES):
            tls = httpx.create_ssl_context()  # one context, made as httpx makes it, for both pools
        with _read_from_environment(_PROXY_VARIABLES):
            self._pooled = httpx.Client(verify=tls)
            self._fresh = httpx.Client(verify=tls, limits=_FRESH_CONNECTIONS)
        for client in (self._pooled, self._fresh):
            _bound_reads_by_answer_deadlines(client)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        client = self._pooled if request.method in _POOLED_METHODS else self._fresh
        # httpx's own routing (its proxy mounts or its direct transport), without a second send()'s per-call cost
        route = client._transport_for_url(request.url)
        _refuse_a_key_in_clear_to_a_proxy(request, route)
        return _within_answer_deadline(request, route.handle_request)

    def close(self) -> None:
        self._pooled.close()
        self._fresh.close()


class _AsyncEnvironmentTransport(httpx.AsyncBaseTransport):
    """``_EnvironmentTransport`` for asyncio and trio."""

    def __init__(self) -> None:
        with _read_from_environment(_CERTIFICATE_VARIABLES):
            tls = httpx.create_ssl_context()
        with _read_from_environment(_PROXY_VARIABLES):
            self._pooled = httpx.AsyncClient(verify=tls)
            self._fresh = httpx.AsyncClient(verify=tls, limits=_FRESH_CONNECTIONS)
        for client in (self._pooled, self._fresh):
            _bound_reads_by_answer_deadlines(client)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        client = self._pooled if request.method in _POOLED_METHODS else self._fresh
        route = client._transport_for_url(request.url)
        _refuse_a_key_in_clear_to_a_proxy(request, route)
        return await _async_within_answer_deadline(request, route.handle_async_request)

    async def aclose(self) -> None:
        await self._pooled.aclose()
        await self._fresh.aclose()


class _ThroughClient(httpx.BaseTransport):
    """Sends through a user's ``httpx.Client`` (its proxies, TLS, limits and hooks) without changing it. Never with
    its auth (the bearer must reach Vozo unchanged) and never following a redirect (the outer client decides: the
    API client never does, so the key stays on Vozo's host)."""

    def __init__(self, client: httpx.Client) -> None:
        self._client = client
        # Its connections made from now on bound each wait by the answer's deadline of our requests alone (the
        # user's own requests carry none, and keep their timeouts as they are).
        _bound_reads_by_answer_deadlines(client)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        _refuse_a_key_in_clear_to_a_proxy(request, self._client._transport_for_url(request.url))
        return _within_answer_deadline(request, self._send)

    def _send(self, request: httpx.Request) -> httpx.Response:
        return self._client.send(request, stream=True, auth=None, follow_redirects=False)

    def close(self) -> None:
        pass  # the user's client is the user's to close


class _AsyncThroughClient(httpx.AsyncBaseTransport):
    """Sends through a user's ``httpx.AsyncClient``; see ``_ThroughClient``."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        _refuse_a_key_in_clear_to_a_proxy(request, self._client._transport_for_url(request.url))
        return await self._client.send(request, stream=True, auth=None, follow_redirects=False)

    async def aclose(self) -> None:
        pass  # the user's client is the user's to close


def _within_answer_deadline(request: httpx.Request, send: Callable[[httpx.Request], httpx.Response]) -> httpx.Response:
    """``send(request)``, each read and write of it given at most the time left before its answer's deadline (a
    blocking read cannot be cancelled: see ``_DeadlineStream``). A download has no such deadline."""
    deadline = answer_deadline(request)
    if deadline is None:
        return send(request)
    token = _answer_due.set(deadline)
    try:
        return send(request)
    except httpx.TimeoutException:
        if time.monotonic() >= deadline:
            raise answer_timeout(request) from None
        raise
    finally:
        _answer_due.reset(token)


async def _async_within_answer_deadline(
    request: httpx.Request, send: Callable[[httpx.Request], Awaitable[httpx.Response]]
) -> httpx.Response:
    """``_within_answer_deadline`` for asyncio and trio: a fraction of the cost of a timer per request, which only
    a user's own http_client still needs (``_AsyncAnswerDeadline``: its pools may be any transport's)."""
    deadline = answer_deadline(request)
    if deadline is None:
        return await send(request)
    token = _answer_due.set(deadline)
    try:
        return await send(request)
    except httpx.TimeoutException:
        if time.monotonic() >= deadline:
            raise answer_timeout(request) from None
        raise
    finally:
        _answer_due.reset(token)


def _time_left(timeout: float | None) -> float | None:
    """A read's or write's timeout, cut to what is left of the current API request's deadline."""
    due = _answer_due.get()
    if due is None:
        return timeout
    left = due - time.monotonic()
    if left <= 0:
        import httpcore

        raise httpcore.ReadTimeout("the answer's deadline has passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream:
    """An ``httpcore.NetworkStream`` whose every wait ends by the deadline of the API request it carries (see
    ``_time_left``)."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream
        # Called as they are, once or twice per request: bound here, not through a method of ours
        self.close = stream.close
        self.get_extra_info = stream.get_extra_info

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _time_left(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _time_left(timeout))

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, _time_left(timeout)))  # type: ignore[return-value]


class _DeadlineBackend:
    """An ``httpcore.NetworkBackend`` whose connections are ``_DeadlineStream``s."""

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(self._backend.connect_tcp(host, port, timeout, local_address, socket_options))  # type: ignore[return-value]

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(self._backend.connect_unix_socket(path, timeout, socket_options))  # type: ignore[return-value]

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def _bound_reads_by_answer_deadlines(client: httpx.Client | httpx.AsyncClient) -> None:
    """Give every httpcore pool of ``client`` (direct and each proxy's) the ``_DeadlineBackend``. httpx offers no
    way to pass httpcore a network backend, so it is set where httpcore keeps it and reads it for each new
    connection. Should a later httpx or httpcore keep it elsewhere, nothing breaks, but a trickled status line or
    headers are again bounded by the read timeout alone (tests/e2e/test_hostile_api.py then fails)."""
    import httpcore  # loaded already: httpx made the client's transports with it

    for transport in (client._transport, *client._mounts.values()):
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if isinstance(backend, (_DeadlineBackend, _AsyncDeadlineBackend)):
            continue  # a user's http_client shared by several Vozo clients
        if isinstance(backend, httpcore.NetworkBackend):
            pool._network_backend = _DeadlineBackend(backend)  # type: ignore[union-attr]
        elif isinstance(backend, httpcore.AsyncNetworkBackend):
            pool._network_backend = _AsyncDeadlineBackend(backend)  # type: ignore[union-attr]


class _AsyncDeadlineStream:
    """``_DeadlineStream`` for asyncio and trio."""

    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self._stream = stream
        self.aclose = stream.aclose
        self.get_extra_info = stream.get_extra_info

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._stream.read(max_bytes, _time_left(timeout))

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._stream.write(buffer, _time_left(timeout))

    async def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        tls = await self._stream.start_tls(ssl_context, server_hostname, _time_left(timeout))
        return _AsyncDeadlineStream(tls)  # type: ignore[return-value]


class _AsyncDeadlineBackend:
    """``_DeadlineBackend`` for asyncio and trio."""

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
        return _AsyncDeadlineStream(stream)  # type: ignore[return-value]

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._backend.connect_unix_socket(path, timeout, socket_options)
        return _AsyncDeadlineStream(stream)  # type: ignore[return-value]

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


class _AsyncAnswerDeadline(httpx.AsyncBaseTransport):
    """Ends an API request whose answer has not begun by its ``answer_deadline``: a server trickling its status line
    and headers trips no httpx timeout. (The body is held to the deadline as the response hook reads it.) For a
    user's own http_client, which may send through any transport: the client's own pools bound each read instead
    (``_async_within_answer_deadline``), at a fraction of a timer's cost per request."""

    def __init__(self, transport: httpx.AsyncBaseTransport) -> None:
        self._transport = transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        import asyncio

        deadline = answer_deadline(request)
        if deadline is None:
            return await self._transport.handle_async_request(request)
        if _runs_in_asyncio():  # asyncio's own timeout costs half of an anyio cancel scope (10 against 20 us)
            scope = asyncio.timeout(deadline - time.monotonic())
            try:
                async with scope:
                    return await self._transport.handle_async_request(request)
            except TimeoutError:
                if scope.expired():
                    raise answer_timeout(request) from None
                raise
        import anyio

        with anyio.move_on_after(deadline - time.monotonic()):
            return await self._transport.handle_async_request(request)
        raise answer_timeout(request)

    async def aclose(self) -> None:
        await self._transport.aclose()


def _runs_in_asyncio() -> bool:
    import asyncio

    try:
        asyncio.get_running_loop()  # none under trio
    except RuntimeError:
        return False
    return True


def _sync_response_hook(response: httpx.Response) -> None:
    answer = Answer(response.request)
    for chunk in response.iter_bytes():
        answer.add(chunk)
    response._content = answer.body  # what response.read() keeps, read within the answer's bounds
    on_response(response)


async def _async_response_hook(response: httpx.Response) -> None:
    answer = Answer(response.request)
    async for chunk in response.aiter_bytes():
        answer.add(chunk)
    response._content = answer.body
    on_response(response)


def sync_transport(http_client: httpx.Client | None) -> httpx.BaseTransport:
    return _ThroughClient(http_client) if http_client is not None else _EnvironmentTransport()


def async_transport(http_client: httpx.AsyncClient | None) -> httpx.AsyncBaseTransport:
    if http_client is None:
        return _AsyncEnvironmentTransport()  # bounds each read and write by the answer's deadline itself
    return _AsyncAnswerDeadline(_AsyncThroughClient(http_client))


def sync_api_client(options: ClientOptions, transport: httpx.BaseTransport) -> httpx.Client:
    """Talks to Vozo: carries the key, maps errors, logs. Never follows redirects (the key stays on Vozo's host)."""
    client = httpx.Client(
        base_url=options.base_url,
        auth=BearerAuth(options.api_key),
        headers={"User-Agent": USER_AGENT},
        timeout=options.timeout,
        transport=transport,
        event_hooks={"request": [on_request], "response": [_sync_response_hook]},
    )
    return _without_keep_alive_header(client)


def async_api_client(options: ClientOptions, transport: httpx.AsyncBaseTransport) -> httpx.AsyncClient:
    """Talks to Vozo: carries the key, maps errors, logs. Never follows redirects (the key stays on Vozo's host)."""

    async def on_async_request(request: httpx.Request) -> None:
        on_request(request)

    client = httpx.AsyncClient(
        base_url=options.base_url,
        auth=BearerAuth(options.api_key),
        headers={"User-Agent": USER_AGENT},
        timeout=options.timeout,
        transport=transport,
        event_hooks={"request": [on_async_request], "response": [_async_response_hook]},
    )
    return _without_keep_alive_header(client)


_Client = TypeVar("_Client", httpx.Client, httpx.AsyncClient)


def _without_keep_alive_header(client: _Client) -> _Client:
    """Drops httpx's default ``Connection: keep-alive``: an HTTP/1.1 connection persists unless a side says
    ``Connection: close``, so the header says nothing, while every header costs each call ~45k instructions of Python
    (httpx, h11 and the cookie jar go through them all): 2.5% of a call."""
    del client.headers["Connection"]
    return client


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
