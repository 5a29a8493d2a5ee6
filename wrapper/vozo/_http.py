"""httpx plumbing both clients share: request and job slots, the environment's proxies and CAs, the answer deadline of
the request in flight. The transports and clients themselves are in _async/_transport.py (the sync ones derived)."""

from __future__ import annotations

import contextlib
import contextvars
import socket
import ssl
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TypeVar

import httpx

from vozo._config import is_loopback
from vozo._errors import InvalidInputError, VozoError

# httpx's pool does work proportional to its queue each time a connection frees up, so thousands of concurrent calls
# (asyncio.gather over many jobs) spend their time in that queue: measured, 1,000 jobs took 10x longer. Calls beyond
# this many wait their turn in a semaphore instead, and each call in flight keeps a pooled connection alive.
MAX_REQUESTS_IN_FLIGHT = 20

if TYPE_CHECKING:  # anyio loads with the async client: a sync user never pays for it
    import anyio
    import httpcore
    from anyio.streams.tls import TLSStream

    AsyncRequestSlots = anyio.Semaphore


def sync_job_slots(limit: int) -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(limit)


def async_job_slots(limit: int) -> anyio.Semaphore:
    import anyio

    return anyio.Semaphore(limit, max_value=limit)


def sync_acquire_within(slots: threading.BoundedSemaphore, seconds: float) -> bool:
    return slots.acquire(timeout=seconds)


async def async_acquire_within(slots: anyio.Semaphore, seconds: float) -> bool:
    import anyio

    with anyio.move_on_after(seconds):
        await slots.acquire()
        return True
    return False


def sync_loop_token() -> object:
    """The sync client runs in no event loop."""
    return None


def async_loop_token() -> object:
    """The running event loop (asyncio or trio): connections and semaphores of an AsyncVozo belong to one. Asked of
    asyncio first: anyio's token asks sniffio which library runs, then asyncio (~14k instructions a call)."""
    asyncio = sys.modules.get("asyncio")  # not loaded: no asyncio loop runs (a trio program need not load it)
    if asyncio is not None:
        try:
            return asyncio.get_running_loop()
        except RuntimeError:  # none in this thread: trio's
            pass
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
POOLED_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# No idle connection is kept, so each request opens its own.
FRESH_CONNECTIONS = httpx.Limits(max_keepalive_connections=0)


CERTIFICATE_VARIABLES = "SSL_CERT_FILE or SSL_CERT_DIR"
PROXY_VARIABLES = "HTTPS_PROXY, HTTP_PROXY or ALL_PROXY"


@contextlib.contextmanager
def read_from_environment(variables: str) -> Iterator[None]:
    """httpx's failure to use a variable (a missing CA file, a proxy URL it cannot parse, SOCKS without its extra) as
    a VozoError naming the variables to fix."""
    try:
        yield
    except (ImportError, ValueError, OSError, httpx.InvalidURL) as exc:
        raise VozoError(f"cannot use {variables} from the environment: {exc} (fix or unset the variable)") from exc


def check_http_client(http_client: object, expected: type[httpx.Client | httpx.AsyncClient]) -> None:
    """A client of the other kind (or no client at all) would fail at the first call, deep inside httpx."""
    if http_client is not None and not isinstance(http_client, expected):
        raise InvalidInputError(
            f"http_client must be an httpx.{expected.__name__}, got {type(http_client).__qualname__}: Vozo takes an "
            "httpx.Client, AsyncVozo an httpx.AsyncClient"
        )
    if http_client is not None and http_client.is_closed:
        raise closed_http_client()


def closed_http_client() -> InvalidInputError:
    """A lent client closed (before the Vozo was made, or since): httpx's own error is a bare RuntimeError."""
    return InvalidInputError(
        "the http_client was closed (a `with httpx.Client()` block it was made in has ended?): pass one that stays "
        "open for as long as this client is used (this client never closes it)"
    )


def refuse_a_key_in_clear_to_a_proxy(
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


# The answer_deadline of the API request the current thread or task is sending (None for downloads and other requests).
answer_due: contextvars.ContextVar[float | None] = contextvars.ContextVar("vozo_answer_due", default=None)


# httpcore asks for 64 KiB a read, more than any API answer needs. A result file is asked for in larger reads, so the
# loop that writes it turns fewer times: measured on a 1 GiB local file, sync 861 -> 1044 MiB/s, async 497 -> 708.
FILE_READ_BYTES = 256 * 1024
# True inside ``downloading()``: the reads of the requests sent then are ``sync_read_file``s (or async).
in_a_download: contextvars.ContextVar[bool] = contextvars.ContextVar("vozo_in_a_download", default=False)


@contextlib.contextmanager
def downloading() -> Iterator[None]:
    """Around a download's requests: their reads take a file's bytes as ``sync_read_file`` does."""
    token = in_a_download.set(True)
    try:
        yield
    finally:
        in_a_download.reset(token)


async def async_read_file(stream: httpcore.AsyncNetworkStream, timeout: float | None) -> bytes:
    """``sync_read_file``, awaited. Over TLS on asyncio, the records anyio has received already are read from the TLS
    object itself (anyio has no read that never waits); under trio a read takes a record."""
    found = _anyio_tls(stream)
    if found is not None:  # an end without close_notify is a failed read, as in sync_read_file (trio's is strict)
        found[0].standard_compatible = True
    try:
        data = await stream.read(FILE_READ_BYTES, timeout)
    except ssl.SSLError as exc:  # a broken record: anyio lets it through as it is, not as a failed read
        raise _read_error(exc) from exc
    finally:
        if found is not None:
            found[0].standard_compatible = False  # as httpcore made it, for what the connection carries next
    return data if found is None or not data else _and_what_has_arrived(data, found[1])


def sync_read_file(stream: httpcore.NetworkStream, timeout: float | None) -> bytes:
    """One read of a file's bytes: up to ``FILE_READ_BYTES``, as far as they have arrived. A TLS read hands over one
    record, 16 KiB, so a file over https turned the download loop 16 times as often as over http: the records that
    have arrived already are taken too, without waiting (measured on 1 GiB from a local https server: about 1.6x the
    throughput, ~250 -> ~410 MiB/s; AsyncVozo on asyncio ~240 -> ~300)."""
    tls = _tls_socket(stream)
    if tls is None:
        return stream.read(FILE_READ_BYTES, timeout)
    # A file without Content-Length ends where the connection does, and over TLS only close_notify says that end is
    # the file's: a reset or a bare close is then a failed read (as curl and the async clients have it), not the end.
    tls.suppress_ragged_eofs = False  # type: ignore[attr-defined]  # an SSLSocket's, not in typeshed
    try:
        data = stream.read(FILE_READ_BYTES, timeout)
        if not data:
            return data
        tls.settimeout(0)  # reads that never wait; httpcore sets its timeout again for its next read or write
        return _and_what_has_arrived(data, tls.recv)
    finally:
        tls.suppress_ragged_eofs = True  # type: ignore[attr-defined]  # as wrap_socket made it, for what follows


_NO_WHOLE_RECORD = (ssl.SSLWantReadError, ssl.SSLWantWriteError)  # what a TLS read that never waits raises then


def _and_what_has_arrived(data: bytes, read_now: Callable[[int], bytes]) -> bytes:
    """``data`` and the records that have arrived after it, up to ``FILE_READ_BYTES``, by ``read_now``, which never
    waits: it raises SSLWantReadError where a whole record is still missing."""
    pieces, size = [data], len(data)
    try:
        while size < FILE_READ_BYTES:
            more = read_now(FILE_READ_BYTES - size)
            if not more:
                break
            pieces.append(more)
            size += len(more)
    except _NO_WHOLE_RECORD:
        pass
    except ssl.SSLEOFError:  # the end, without close_notify: the next read raises it again, should the body need one
        pass
    except OSError as exc:  # a broken record: raised now, as the next read would see a clean end instead
        raise _read_error(exc) from exc
    return b"".join(pieces)


def received_into(sock: socket.socket, buffer: memoryview, timeout: float) -> int:
    """Wait up to ``timeout`` for bytes, then take what else has arrived without waiting (a TLS read hands over one
    16 KiB record), as ``_and_what_has_arrived`` does for a read through httpx, but into ``buffer``; 0 at the
    connection's end. Failures are httpx's, as a read through httpx would raise them."""
    try:
        sock.settimeout(timeout)
        count = sock.recv_into(buffer)
        if count and isinstance(sock, ssl.SSLSocket):
            sock.settimeout(0)
            with contextlib.suppress(*_NO_WHOLE_RECORD):
                while count < len(buffer) and (more := sock.recv_into(buffer[count:])):
                    count += more
    except TimeoutError as exc:
        raise httpx.ReadTimeout(f"no byte came for {timeout:.3g} s") from exc
    except OSError as exc:  # reset, or a broken TLS record
        raise httpx.ReadError(str(exc) or type(exc).__name__) from exc
    return count


def _read_error(exc: OSError) -> Exception:
    """``exc`` as httpcore's failed read, which httpx and a download report as any other."""
    import httpcore  # loaded already, with httpx

    return httpcore.ReadError(str(exc))


def _tls_socket(stream: httpcore.NetworkStream) -> ssl.SSLSocket | None:
    """The TLS socket of httpcore's own sync stream, when it carries HTTP/1.1; else None. An HTTP/2 connection (a lent
    client's) may be written by another thread meanwhile, which a socket that never waits would fail."""
    sock = _socket_of(stream)
    if not isinstance(sock, ssl.SSLSocket) or sock.selected_alpn_protocol() == "h2":
        return None
    return sock


def file_body_socket(response: httpx.Response) -> socket.socket | None:
    """The socket an HTTP/1 response's body can be read from directly (plain or TLS), else None: HTTP/2's frames, or
    a body that comes through a transport of the user's own (a lent client's), which may count or change its bytes."""
    if response.http_version not in ("HTTP/1.1", "HTTP/1.0") or not _httpx_own_body(response.stream):
        return None
    stream = response.extensions.get("network_stream")
    stream = getattr(stream, "wrapped", stream)  # under a DeadlineStream of ours, or not (a lent client's)
    return _socket_of(stream)


def _httpx_own_body(stream: object) -> bool:
    """Whether ``stream`` hands over httpcore's bytes as they are: httpx's own transport's, under the clients' bounds
    (a lent client's ``send`` binds it once more)."""
    try:
        from httpx._client import BoundSyncStream
        from httpx._transports.default import ResponseStream
    except ImportError:  # a later httpx keeps them elsewhere: the body is read through httpx, as before
        return False
    while type(stream) is BoundSyncStream:
        stream = stream._stream
    return type(stream) is ResponseStream


def _socket_of(stream: object) -> socket.socket | None:
    """The socket of httpcore's own sync stream; None for any other. A TLS-in-TLS stream (to an https proxy) keeps the
    proxy's TLS on its socket, which a read of ours would take from under the inner one."""
    try:
        from httpcore._backends.sync import SyncStream
    except ImportError:  # a later httpcore keeps it elsewhere: its reads are taken as they come, as before
        return None
    sock = stream.get_extra_info("socket") if type(stream) is SyncStream else None
    return sock if isinstance(sock, socket.socket) else None


def _anyio_tls(stream: httpcore.AsyncNetworkStream) -> tuple[TLSStream, Callable[[int], bytes]] | None:
    """The anyio TLS stream under httpcore's own async stream (asyncio), and its TLS object's ``read``, which takes
    what anyio has received already and never waits (what is missing raises SSLWantReadError, and anyio's next read
    goes on from there); None for any other stream (trio's keeps state of its own). Looked up once a stream: anyio
    builds every attribute of a stream to answer for one."""
    if stream in _anyio_tls_streams:
        return _anyio_tls_streams[stream]
    try:
        from anyio.streams.tls import TLSAttribute, TLSStream
        from httpcore._backends.anyio import AnyIOStream
    except ImportError:  # a later httpcore keeps it elsewhere: its reads are taken as they come, as before
        return None
    tls = getattr(stream, "_stream", None) if type(stream) is AnyIOStream else None
    found = (tls, tls.extra(TLSAttribute.ssl_object).read) if isinstance(tls, TLSStream) else None  # noqa: S610 - anyio
    _anyio_tls_streams[stream] = found
    return found


_anyio_tls_streams: weakref.WeakKeyDictionary[
    httpcore.AsyncNetworkStream, tuple[TLSStream, Callable[[int], bytes]] | None
] = weakref.WeakKeyDictionary()


def time_left(timeout: float | None) -> float | None:
    """A read's or write's timeout, cut to what is left of the current API request's deadline."""
    due = answer_due.get()
    if due is None:
        return timeout
    left = due - time.monotonic()
    if left <= 0:
        import httpcore

        raise httpcore.ReadTimeout("the answer's deadline has passed")
    return left if timeout is None else min(timeout, left)


_Client = TypeVar("_Client", httpx.Client, httpx.AsyncClient)


def without_keep_alive_header(client: _Client) -> _Client:
    """Drops httpx's default ``Connection: keep-alive``: an HTTP/1.1 connection persists unless a side says
    ``Connection: close``, so the header says nothing, while every header costs each call ~45k instructions of Python
    (httpx, h11 and the cookie jar go through them all): 2.5% of a call."""
    del client.headers["Connection"]
    return client


class _SetCookies(httpx.Cookies):
    """A client's cookies, read from an answer only when it sets any (``Set-Cookie`` or the obsolete
    ``Set-Cookie2``, the only headers the standard library's CookieJar takes cookies from)."""

    def extract_cookies(self, response: httpx.Response) -> None:
        names = response.headers.keys()  # lower-cased; asked without a KeyError, unlike `name in headers`
        if "set-cookie" in names or "set-cookie2" in names:
            super().extract_cookies(response)


def cookies_read_only_when_set(client: _Client) -> _Client:
    """httpx hands every answer to the standard library's CookieJar, which first wraps the request in a urllib one and
    the answer's headers in an email message, only to find no cookie in an API answer: ~160k instructions, a tenth of
    a call. Cookies a server does set are kept and sent back as before. Set where httpx keeps a client's cookies and
    reads them for each answer (its setter would copy them into a plain ``httpx.Cookies``); should a later httpx keep
    them elsewhere, every answer is read for cookies again, as before."""
    client._cookies = _SetCookies(client.cookies)
    return client
