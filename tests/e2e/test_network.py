"""Real networks, not mocks: a forward proxy (proxy.py, CONNECT), TLS from a throwaway CA trusted only through
SSL_CERT_FILE (trustme), a server that drops stale keep-alive connections, and the words of connection errors."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pickle
import signal
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import h11
import httpx
import pytest
import trustme
import uvicorn

import vozo
from tests.sockets import closed_port
from vozo.testing import FakeVozo

from .conftest import KEY

ROOT = Path(__file__).resolve().parents[2]
ONLY_THE_PROXY_KNOWS = "vozo-api.test"  # resolved by the proxy's plugin only: reaching it proves the proxy carried it
LIPSYNC = {"reference_file_url": "https://m.example.com/presenter.mp4", "audio_url": "https://m.example.com/voice.mp3"}
ENVIRONMENT = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR")
STARTUP = 30.0  # seconds a helper server may take to start on a loaded machine (a readiness wait, never a verdict)


def run(flavour: str, fn: Callable[[Any], Any], **options: Any) -> Any:
    """``fn(client)`` with a fresh Vozo or AsyncVozo; the environment is read when the client is built."""
    options = {"api_key": KEY, **options}
    if flavour == "sync":
        with vozo.Vozo(**options) as client:
            return fn(client)

    async def main() -> Any:
        async with vozo.AsyncVozo(**options) as client:
            return await fn(client)

    return asyncio.run(main())


def create_then_get(client: Any) -> Any:
    """One job-creating POST on a fresh connection and one GET on the pool, sync or async."""
    if isinstance(client, vozo.Vozo):
        return client.lipsync.get(client.lipsync.create(**LIPSYNC).task_id)

    async def both() -> Any:
        return await client.lipsync.get((await client.lipsync.create(**LIPSYNC)).task_id)

    return both()


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture(params=["sync", "async"])
def flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "throwaway-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture(scope="module")
def server_cert(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("server")
    cert = ca.issue_cert("127.0.0.1", ONLY_THE_PROXY_KNOWS, "localhost")
    cert.cert_chain_pems[0].write_to_path(str(folder / "cert.pem"))
    cert.private_key_pem.write_to_path(str(folder / "key.pem"))
    return folder / "cert.pem", folder / "key.pem"


@contextlib.contextmanager
def serve_tls(app: Any, cert: tuple[Path, Path]) -> Iterator[int]:
    """``app`` over https on 127.0.0.1 (port 0); yields the port."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="critical", ssl_certfile=str(cert[0]), ssl_keyfile=str(cert[1])
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the TLS server did not start")
        time.sleep(0.01)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def fake() -> FakeVozo:
    return FakeVozo(api_keys=[KEY])


@pytest.fixture
def tls_port(fake: FakeVozo, server_cert: tuple[Path, Path]) -> Iterator[int]:
    with serve_tls(fake, server_cert) as port:
        yield port


class Proxy:
    """proxy.py in its own process group, with tests/e2e/_proxy_plugin.py: .url, and the requests it forwarded."""

    def __init__(self, folder: Path) -> None:
        self._log = folder / "forwarded.log"
        self._log.touch()
        port_file = folder / "port"
        command = [sys.executable, "-m", "proxy", "--hostname", "127.0.0.1", "--port", "0"]
        command += ["--port-file", str(port_file), "--num-workers", "1", "--num-acceptors", "1"]
        command += ["--plugins", "tests.e2e._proxy_plugin.ResolveTestNamesAndLog", "--log-level", "CRITICAL"]
        environment = {**os.environ, "PYTHONPATH": str(ROOT), "VOZO_TEST_PROXY_LOG": str(self._log)}
        self._process = subprocess.Popen(command, cwd=ROOT, env=environment, start_new_session=True)
        deadline = time.monotonic() + STARTUP
        while not port_file.exists() or not port_file.read_text().strip():
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("proxy.py did not start")
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{port_file.read_text().split()[0]}"

    def forwarded(self) -> list[str]:
        return self._log.read_text().splitlines()

    def stop(self) -> None:
        os.killpg(self._process.pid, signal.SIGTERM)
        self._process.wait(timeout=30)


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    running = Proxy(tmp_path_factory.mktemp("proxy"))
    yield running
    running.stop()


# --- proxies and certificates from the environment, as a plain httpx.Client() reads them ---------------------------


@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "ALL_PROXY", "https_proxy"])
def test_a_proxy_from_the_environment_carries_every_call(
    monkeypatch: pytest.MonkeyPatch, flavour: str, variable: str, proxy: Proxy, ca_file: Path, tls_port: int
) -> None:
    monkeypatch.setenv(variable, proxy.url)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    base_url = f"https://{ONLY_THE_PROXY_KNOWS}:{tls_port}"
    with httpx.Client() as plain:  # the reference: a plain httpx client gets there through the proxy
        assert plain.get(f"{base_url}/v1/video_generation/none").status_code == 401
    before = len(proxy.forwarded())
    status = run(flavour, create_then_get, base_url=base_url)
    assert status.status.value == "pending"
    tunnels = proxy.forwarded()[before:]
    assert set(tunnels) == {f"CONNECT {ONLY_THE_PROXY_KNOWS}:{tls_port}"}


def test_http_proxy_carries_plain_http_to_localhost(
    monkeypatch: pytest.MonkeyPatch, flavour: str, proxy: Proxy, fake: FakeVozo
) -> None:
    with fake.serve() as url:
        port = int(url.rsplit(":", 1)[1])
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        before = len(proxy.forwarded())
        status = run(flavour, create_then_get, base_url=f"http://localhost:{port}")
    assert status.status.value == "pending"
    assert set(proxy.forwarded()[before:]) >= {f"POST localhost:{port}", f"GET localhost:{port}"}


def test_a_lent_client_without_verification_still_goes_through_the_proxy_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, flavour: str, proxy: Proxy, tls_port: int
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    # the lent client's own TLS setting, verification off (the CONNECT tunnel is what the test checks)
    lent = httpx.Client(verify=False) if flavour == "sync" else httpx.AsyncClient(verify=False)  # noqa: S501

    def then_close_the_lent_client(client: Any) -> Any:  # its open connections would hold the server's shutdown
        if isinstance(lent, httpx.Client):
            with lent:
                return create_then_get(client)

        async def both() -> Any:
            async with lent:
                return await create_then_get(client)

        return both()

    before = len(proxy.forwarded())
    base_url = f"https://{ONLY_THE_PROXY_KNOWS}:{tls_port}"
    status = run(flavour, then_close_the_lent_client, base_url=base_url, http_client=lent)
    assert status.status.value == "pending"
    assert set(proxy.forwarded()[before:]) == {f"CONNECT {ONLY_THE_PROXY_KNOWS}:{tls_port}"}


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "ALL_PROXY", "http_proxy"])
@pytest.mark.parametrize("proxy_url", ["http://proxy.vozo.invalid:3128", "https://proxy.vozo.invalid:3128"])
def test_plain_http_to_localhost_never_goes_through_a_proxy_elsewhere(
    monkeypatch: pytest.MonkeyPatch, flavour: str, variable: str, proxy_url: str, fake: FakeVozo
) -> None:
    """The proxy would read the key in clear, and its "localhost" is its own machine, not this one."""
    with fake.serve() as url:
        monkeypatch.setenv(variable, proxy_url)
        with pytest.raises(vozo.InvalidInputError, match="in clear") as info:
            run(flavour, create_then_get, base_url=url, max_retries=2)
        assert not fake.requests  # nor did it go around the proxy it was told to use
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # the cure the error names
        assert run(flavour, create_then_get, base_url=url).status.value == "pending"
    assert "NO_PROXY" in str(info.value)


def test_no_proxy_sends_a_host_around_the_proxy(
    monkeypatch: pytest.MonkeyPatch, flavour: str, proxy: Proxy, ca_file: Path, tls_port: int
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "example.com,127.0.0.1")
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    before = len(proxy.forwarded())
    status = run(flavour, create_then_get, base_url=f"https://127.0.0.1:{tls_port}")
    assert status.status.value == "pending"
    assert proxy.forwarded()[before:] == []


def test_a_proxy_that_is_down_fails_the_call_instead_of_going_around_it(
    monkeypatch: pytest.MonkeyPatch, flavour: str, ca_file: Path, tls_port: int
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    with closed_port() as port:  # held: no other process can take the port meanwhile
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{port}")
        with pytest.raises(vozo.APIConnectionError, match="ConnectError"):
            run(flavour, create_then_get, base_url=f"https://127.0.0.1:{tls_port}", max_retries=0)


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "SSL_CERT_DIR"])
def test_a_certificate_from_a_private_ca_is_trusted_through_the_environment(
    monkeypatch: pytest.MonkeyPatch, flavour: str, variable: str, ca_file: Path, tls_port: int, tmp_path: Path
) -> None:
    if variable == "SSL_CERT_FILE":
        monkeypatch.setenv(variable, str(ca_file))
    else:  # OpenSSL finds a CA in a directory by the hash of its subject name
        hashed = subprocess.run(["openssl", "x509", "-hash", "-noout", "-in", str(ca_file)], capture_output=True)
        (tmp_path / f"{hashed.stdout.decode().strip()}.0").write_bytes(ca_file.read_bytes())
        monkeypatch.setenv(variable, str(tmp_path))
    status = run(flavour, create_then_get, base_url=f"https://127.0.0.1:{tls_port}")
    assert status.status.value == "pending"


# --- a job-creating POST never rides a connection the server may be closing ------------------------------------------


def server_events(connection: socket.socket, protocol: h11.Connection) -> Iterator[Any]:
    """A server-side h11 connection's events, read as they come, until the client closes it."""
    while not isinstance(event := protocol.next_event(), h11.ConnectionClosed):
        if event is h11.NEED_DATA:
            protocol.receive_data(connection.recv(65536))
        else:
            yield event


def answer_json(connection: socket.socket, protocol: h11.Connection, body: bytes) -> None:
    """A 200 carrying ``body`` as JSON; the connection then waits for its next request (keep-alive)."""
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    connection.sendall(protocol.send(h11.Response(status_code=200, headers=headers)))
    connection.sendall(protocol.send(h11.Data(data=body)) + protocol.send(h11.EndOfMessage()))
    protocol.start_next_cycle()


class StaleKeepAliveServer:
    """Answers the first request on each connection and leaves it open, as keep-alive; a later request on the same
    connection is read and the connection closed without an answer, as when the server's keep-alive timeout fires
    just as a client reuses it ("Server disconnected without sending a response"). Plain h11 over sockets."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.answered: list[str] = []
        self.dropped: list[str] = []  # requests that came on a reused connection
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                connection, _ = self._listener.accept()
                threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        protocol = h11.Connection(h11.SERVER)
        answered = False
        with connection, contextlib.suppress(OSError, h11.ProtocolError):
            for event in server_events(connection, protocol):
                if isinstance(event, h11.Request):
                    method = event.method.decode()
                elif isinstance(event, h11.EndOfMessage) and answered:
                    with self._lock:
                        self.dropped.append(method)
                    return  # a plain close once the request is read: the client sees EOF, not a reset
                elif isinstance(event, h11.EndOfMessage):
                    with self._lock:  # noted before the answer leaves: the client may count as soon as it has it
                        self.answered.append(method)
                    answer_json(
                        connection, protocol, b'{"task_id": "t1"}' if method == "POST" else b'{"status": "pending"}'
                    )
                    answered = True

    def close(self) -> None:
        self._listener.close()


def test_creates_never_ride_a_stale_pooled_connection_while_reads_keep_the_pool(flavour: str) -> None:
    server = StaleKeepAliveServer()

    def alternate(client: Any) -> Any:
        if isinstance(client, vozo.Vozo):
            for _ in range(10):
                client.lipsync.get("t1")
                client.lipsync.create(**LIPSYNC)
            return None

        async def both() -> None:
            for _ in range(10):
                await client.lipsync.get("t1")
                await client.lipsync.create(**LIPSYNC)

        return both()

    try:
        run(flavour, alternate, base_url=server.url, max_retries=2)  # raises if any create failed
    finally:
        server.close()
    assert server.answered.count("POST") == 10
    assert "POST" not in server.dropped  # no create ever reached a reused connection
    assert "GET" in server.dropped  # reads did reuse the pool (and were retried, being idempotent)


def test_reads_keep_one_connection_without_a_connection_header(flavour: str) -> None:
    """HTTP/1.1 keeps a connection open unless a side says ``Connection: close``: the client sends no Connection
    header (httpx's default ``keep-alive`` says nothing and costs every call), and its reads still share one."""
    connections: list[list[dict[bytes, bytes]]] = []  # per connection, the headers of each request on it

    def answer_each_request(connection: socket.socket) -> None:
        protocol, requests = h11.Connection(h11.SERVER), []
        connections.append(requests)
        with connection, contextlib.suppress(OSError, h11.ProtocolError):
            for event in server_events(connection, protocol):
                if isinstance(event, h11.Request):
                    requests.append({name.lower(): value for name, value in event.headers})
                elif isinstance(event, h11.EndOfMessage):
                    answer_json(connection, protocol, b'{"status": "pending"}')

    def three_reads(client: Any) -> Any:
        if isinstance(client, vozo.Vozo):
            return [client.lipsync.get("t1") for _ in range(3)]

        async def reads() -> Any:
            return [await client.lipsync.get("t1") for _ in range(3)]

        return reads()

    with serving(answer_each_request) as url:
        assert len(run(flavour, three_reads, base_url=url)) == 3
    assert len(connections) == 1
    assert len(connections[0]) == 3
    assert all(b"connection" not in headers and b"authorization" in headers for headers in connections[0])


# --- a certificate that fails verification -------------------------------------------------------------------------


class CountingTLSServer:
    """Counts the TLS handshakes it is offered. The count is read over the same sequential accept loop, so every
    connection made before the question has been counted when the answer comes."""

    def __init__(self, cert: tuple[Path, Path]) -> None:
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(str(cert[0]), str(cert[1]))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._handshakes = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                connection, _ = self._listener.accept()
                with connection:
                    if connection.recv(1, socket.MSG_PEEK) == b"?":
                        connection.sendall(str(self._handshakes).encode())
                        continue
                    self._handshakes += 1
                    with contextlib.suppress(OSError), self._context.wrap_socket(connection, server_side=True):
                        pass

    def handshakes(self) -> int:
        with socket.create_connection(("127.0.0.1", self.port)) as question:
            question.sendall(b"?")
            return int(question.recv(16))

    def close(self) -> None:
        self._listener.close()


@pytest.mark.parametrize("call", ["get", "create"])
def test_a_certificate_that_fails_verification_fails_at_once_naming_the_cure(
    flavour: str, server_cert: tuple[Path, Path], call: str
) -> None:
    server = CountingTLSServer(server_cert)  # its CA is not trusted: SSL_CERT_FILE is unset
    try:

        def send(client: Any) -> Any:
            if call == "get":
                return client.lipsync.get("t1")
            return client.lipsync.create(**LIPSYNC)

        with pytest.raises(vozo.APIConnectionError) as info:
            run(flavour, send, base_url=f"https://127.0.0.1:{server.port}", max_retries=2)
        assert server.handshakes() == 1  # not retried: no retry can make the certificate valid
    finally:
        server.close()
    message = str(info.value)
    assert "certificate verify failed for 127.0.0.1" in message
    assert "SSL_CERT_FILE" in message


def test_a_download_whose_certificate_fails_verification_is_not_retried_and_names_the_cure(
    flavour: str, server_cert: tuple[Path, Path], tmp_path: Path
) -> None:
    """An API call said so (CertificateVerifyError, not retried); a download was retried max_retries times, then
    raised a retryable DownloadError ending "(try again)", which no retry can make succeed."""
    server = CountingTLSServer(server_cert)  # its CA is not trusted: SSL_CERT_FILE is unset
    try:
        with pytest.raises(vozo.DownloadError) as info:
            run(flavour, lambda c: c.download(f"https://127.0.0.1:{server.port}/v.mp4", tmp_path), max_retries=2)
        assert server.handshakes() == 1
    finally:
        server.close()
    assert not info.value.retryable
    assert "certificate verify failed for 127.0.0.1" in str(info.value)
    assert "SSL_CERT_FILE" in str(info.value)
    assert "try again" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


# --- connection errors say what happened, the same in both flavours -------------------------------------------------


@contextlib.contextmanager
def serving(handle: Callable[[socket.socket], None]) -> Iterator[str]:
    """A raw TCP server on port 0 that hands each connection to ``handle`` in its own thread."""
    listener = socket.create_server(("127.0.0.1", 0))

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                connection, _ = listener.accept()
                threading.Thread(target=handle, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()


def reset_after_reading(connection: socket.socket) -> None:
    """Reads the whole request (so the client is waiting for the answer), then resets the connection."""
    protocol = h11.Connection(h11.SERVER)
    while not isinstance(event := protocol.next_event(), h11.EndOfMessage):
        if event is h11.NEED_DATA:
            protocol.receive_data(connection.recv(65536))
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()


def never_answer(connection: socket.socket) -> None:
    with connection:
        while connection.recv(65536):
            pass


def error_of(flavour: str, base_url: str, fn: Callable[[Any], Any], **options: Any) -> vozo.APIConnectionError:
    with pytest.raises(vozo.APIConnectionError) as info:
        run(flavour, fn, base_url=base_url, max_retries=0, **options)
    return info.value


def test_a_reset_connection_is_named_the_same_in_both_flavours() -> None:
    with serving(reset_after_reading) as url:
        errors = [error_of(flavour, url, lambda c: c.lipsync.create(**LIPSYNC)) for flavour in ("sync", "async")]
    assert str(errors[0]) == str(errors[1])
    assert str(errors[1]).startswith("ReadError (POST /v1/video_generation): ")
    assert "reset" in str(errors[1]).split(": ", 1)[1].lower()


def test_a_timeout_is_named_the_same_in_both_flavours() -> None:
    with serving(never_answer) as url:
        errors = [error_of(flavour, url, lambda c: c.lipsync.get("t1"), timeout=0.2) for flavour in ("sync", "async")]
    assert all(isinstance(error, vozo.APITimeoutError) for error in errors)
    assert str(errors[0]) == str(errors[1])
    assert str(errors[1]) == (
        "ReadTimeout (GET /v1/video_generation/t1): timed out: no response data within 0.2s "
        "(read timeout; pass a larger timeout= if this is expected)"
    )


# --- a server that echoes the key in an answer h11 cannot parse ------------------------------------------------------

ECHOED_KEY = "vz-echoed-0123456789-SECRET"


def echo_the_key(answer: Callable[[bytes], bytes]) -> Callable[[socket.socket], None]:
    """A handler that reads the request head and answers ``answer(its Authorization line)``."""

    def handle(connection: socket.socket) -> None:
        with connection, contextlib.suppress(OSError):
            head = b""
            while b"\r\n\r\n" not in head and (chunk := connection.recv(65536)):
                head += chunk
            authorization = next(line for line in head.split(b"\r\n") if line.lower().startswith(b"authorization:"))
            connection.sendall(answer(authorization))

    return handle


@pytest.mark.parametrize(
    "answer",
    [
        lambda line: b"HTTP/1.1 200 OK\r\n" + line.replace(b":", b"") + b"\r\n\r\n",  # "illegal header line: ..."
        lambda line: b"HTTP/1.1 2x0 " + line + b"\r\n\r\n",  # "illegal status line: ..."
    ],
    ids=["header-line", "status-line"],
)
def test_a_key_echoed_in_a_malformed_answer_is_in_no_message_cause_or_pickle(
    flavour: str, answer: Callable[[bytes], bytes]
) -> None:
    with serving(echo_the_key(answer)) as url:
        error = error_of(flavour, url, lambda c: c.lipsync.get("t1"), api_key=ECHOED_KEY)
    assert "illegal" in str(error)  # h11's words stay, the key does not
    assert "****" in str(error)
    shown = [repr(error), "".join(traceback.format_exception(error))]
    cause: BaseException | None = error
    while cause is not None:  # httpx's error, httpcore's, h11's
        shown.append(repr(cause.args))
        cause = cause.__cause__ or cause.__context__
    assert len(shown) >= 5
    assert not any("SECRET" in text for text in shown)
    assert b"SECRET" not in pickle.dumps(error)


RECORD = 16 * 1024  # the most plaintext one TLS record carries: what one read of a TLS socket hands over


@contextlib.contextmanager
def records_arrived(
    ca: trustme.CA, server_cert: tuple[Path, Path], records: int, *, then_close: bool
) -> Iterator[socket.socket]:
    """A client TLS socket once ``records`` full records from the server wait in its buffer; the server then closes
    without TLS's goodbye (``then_close``), or keeps the connection open."""
    import fcntl
    import termios

    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(*server_cert)
    listener = socket.create_server(("127.0.0.1", 0))
    sent, done = threading.Event(), threading.Event()

    def serve() -> None:
        connection, _ = listener.accept()
        tls = served.wrap_socket(connection, server_side=True)
        tls.sendall(b"v" * records * RECORD)
        if then_close:
            socket.socket(fileno=tls.detach()).close()  # the TCP socket, without TLS's goodbye
        sent.set()
        done.wait(30)

    threading.Thread(target=serve, daemon=True).start()
    client = ssl.create_default_context()
    ca.configure_trust(client)
    sock = client.wrap_socket(socket.create_connection(listener.getsockname()), server_hostname="127.0.0.1")
    try:
        assert sent.wait(30)
        arrived = struct.pack("i", 0)
        for _ in range(3000):  # until all the records are in the socket's buffer (not a verdict: the read is)
            if struct.unpack("i", fcntl.ioctl(sock, termios.FIONREAD, arrived))[0] >= records * RECORD:
                break
            time.sleep(0.01)
        yield sock
    finally:
        done.set()
        sock.close()
        listener.close()


@pytest.mark.skipif(sys.platform == "win32", reason="FIONREAD tells when the records have arrived")
def test_a_file_over_tls_is_read_as_far_as_it_has_arrived_not_a_record_at_a_time(
    ca: trustme.CA, server_cert: tuple[Path, Path]
) -> None:
    """A sync TLS read hands over one record (16 KiB): a file over https turned the download loop 16 times as often as
    over http. While a file is read, one read also takes the records that have arrived already, without waiting."""
    from httpcore._backends.sync import SyncStream

    from vozo._http import downloading
    from vozo._sync._transport import DeadlineStream

    with records_arrived(ca, server_cert, 4, then_close=False) as sock:
        stream = DeadlineStream(SyncStream(sock))  # type: ignore[arg-type]
        assert len(stream.read(64 * 1024, timeout=10)) == RECORD  # an API answer's read: as httpcore asks
        with downloading():
            assert len(stream.read(64 * 1024, timeout=10)) == 3 * RECORD  # a file's: all that has arrived


@pytest.mark.skipif(sys.platform == "win32", reason="FIONREAD tells when the records have arrived")
def test_a_file_s_read_that_meets_an_end_without_close_notify_hands_over_what_came_before_it(
    ca: trustme.CA, server_cert: tuple[Path, Path]
) -> None:
    """Many servers close a connection without TLS's close_notify once a body of known size is sent (Python's
    http.server among them). A read taking the records that had arrived met that end and failed, losing the body's
    last bytes: every https download from such a server failed. The records come first; the read after raises."""
    import httpcore
    from httpcore._backends.sync import SyncStream

    from vozo._http import downloading
    from vozo._sync._transport import DeadlineStream

    with records_arrived(ca, server_cert, 4, then_close=True) as sock, downloading():
        stream = DeadlineStream(SyncStream(sock))  # type: ignore[arg-type]
        assert len(stream.read(64 * 1024, timeout=10)) == 4 * RECORD
        with pytest.raises(httpcore.ReadError, match="EOF"):
            stream.read(64 * 1024, timeout=10)


@pytest.mark.skipif(sys.platform == "win32", reason="FIONREAD tells when the records have arrived")
def test_asyncvozo_on_asyncio_reads_a_file_as_far_as_anyio_has_received_it(
    ca: trustme.CA, server_cert: tuple[Path, Path]
) -> None:
    """The same for AsyncVozo on asyncio: anyio's TLS stream hands over a record a read, though one read of its
    socket takes up to 64 KiB; a file's read takes the records it holds too."""
    import fcntl
    import termios

    import anyio
    from anyio.streams.tls import TLSStream
    from httpcore._backends.anyio import AnyIOStream

    from vozo._async._transport import AsyncDeadlineStream
    from vozo._http import downloading

    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(*server_cert)
    listener = socket.create_server(("127.0.0.1", 0))
    shaken, sent, done = threading.Event(), threading.Event(), threading.Event()

    def serve() -> None:
        connection, _ = listener.accept()
        with served.wrap_socket(connection, server_side=True) as tls:
            shaken.wait(30)  # not while the client's handshake reads: it would take some records with it
            tls.sendall(b"v" * 3 * RECORD)
            sent.set()
            done.wait(30)

    async def first_read() -> int:
        client = ssl.create_default_context()
        ca.configure_trust(client)
        raw = await anyio.connect_tcp(*listener.getsockname())
        tls = await TLSStream.wrap(raw, hostname="127.0.0.1", ssl_context=client)
        shaken.set()
        assert sent.wait(30)
        sock = raw.extra(anyio.abc.SocketAttribute.raw_socket)  # noqa: S610 - anyio's typed attributes, no SQL
        arrived = struct.pack("i", 0)
        for _ in range(3000):  # the loop blocked, so the three records wait in the socket, then come in one go
            if struct.unpack("i", fcntl.ioctl(sock, termios.FIONREAD, arrived))[0] >= 3 * RECORD:
                break
            time.sleep(0.01)  # noqa: ASYNC251 - blocking the loop on purpose: it must not read the socket yet
        with downloading():
            size = len(await AsyncDeadlineStream(AnyIOStream(tls)).read(64 * 1024, timeout=10))  # type: ignore[arg-type]
        await raw.aclose()  # not the TLS stream's close, which would wait for the server's
        return size

    threading.Thread(target=serve, daemon=True).start()
    try:
        assert asyncio.run(first_read()) == 3 * RECORD  # not one record
    finally:
        done.set()
        listener.close()


def test_a_file_over_tls_with_a_broken_record_is_a_download_error_not_a_shorter_file(
    monkeypatch: pytest.MonkeyPatch, flavour: str, ca_file: Path, server_cert: tuple[Path, Path], tmp_path: Path
) -> None:
    """A file without Content-Length ends where the connection does. The read that takes the records that have
    arrived swallowed a record failing its check (bad MAC) and the next read saw a clean end: sync and asyncio
    committed the bytes before it as the whole file."""
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(*server_cert)

    def broken_record(connection: socket.socket) -> None:
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = served.wrap_bio(incoming, outgoing, server_side=True)
        request = b""
        while b"\r\n\r\n" not in request:  # the handshake, then the request
            try:
                request += tls.read(65536)
            except ssl.SSLWantReadError:
                connection.sendall(outgoing.read())
                incoming.write(connection.recv(65536))
        tls.write(b"HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nConnection: close\r\n\r\n" + b"v" * 40 * RECORD)
        wire = bytearray(outgoing.read())
        wire[20 * RECORD] ^= 0x55  # a byte of the twentieth record or so
        connection.sendall(bytes(wire))
        with contextlib.suppress(OSError):
            connection.settimeout(30)
            while connection.recv(65536):  # until the client hangs up
                pass
        connection.close()

    with serving(broken_record) as url:
        url = url.replace("http://", "https://") + "/v.mp4"
        with pytest.raises(vozo.DownloadError, match="bad record mac"):
            run(flavour, lambda c: c.download(url, tmp_path / "v.mp4"), base_url="http://127.0.0.1:1", max_retries=0)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("alpn", "coalesced"), [("http/1.1", True), ("h2", False)])
def test_only_an_http1_connection_s_socket_is_read_without_waiting(
    ca: trustme.CA, server_cert: tuple[Path, Path], alpn: str, coalesced: bool
) -> None:
    """An HTTP/2 connection (a lent client's, http2=True) may be written by another thread while a download reads
    it: a socket switched to never wait would fail that write. Its reads are left as they come."""
    from httpcore._backends.sync import SyncStream

    from vozo._http import _tls_socket

    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(*server_cert)
    served.set_alpn_protocols([alpn])
    listener = socket.create_server(("127.0.0.1", 0))
    done = threading.Event()

    def serve() -> None:
        connection, _ = listener.accept()
        with served.wrap_socket(connection, server_side=True):
            done.wait(30)

    threading.Thread(target=serve, daemon=True).start()
    client = ssl.create_default_context()
    ca.configure_trust(client)
    client.set_alpn_protocols(["h2", "http/1.1"])
    sock = client.wrap_socket(socket.create_connection(listener.getsockname()), server_hostname="127.0.0.1")
    try:
        assert sock.selected_alpn_protocol() == alpn
        assert (_tls_socket(SyncStream(sock)) is sock) is coalesced
    finally:
        done.set()
        sock.close()
        listener.close()


@pytest.mark.parametrize("ending", ["reset", "no-close-notify"])
def test_a_file_over_tls_cut_without_close_notify_is_a_download_error_not_a_shorter_file(
    monkeypatch: pytest.MonkeyPatch,
    flavour: str,
    ca_file: Path,
    server_cert: tuple[Path, Path],
    tmp_path: Path,
    ending: str,
) -> None:
    """A file without Content-Length ends where the connection does, and over TLS only close_notify says that end is
    the file's (curl refuses the rest as an "unexpected eof"). The sync client's TLS socket read a reset or a bare
    close as a clean end, anyio a bare close: the bytes before it were committed as the whole file (h47)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(*server_cert)

    head = "HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nConnection: close\r\n\r\n"
    with serving(answer_over_tls(served, head, b"v" * 4 * RECORD, ending)) as url:
        url = url.replace("http://", "https://") + "/v.mp4"
        with pytest.raises(vozo.DownloadError):
            run(flavour, lambda c: c.download(url, tmp_path / "v.mp4"), base_url="http://127.0.0.1:1", max_retries=0)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("ending", ["whole", "whole, no close_notify", "close_notify", "reset", "no-close-notify"])
@pytest.mark.parametrize("records", [8, 200], ids=["small", "large"])
def test_a_file_over_tls_with_its_size_is_written_whole_or_not_at_all(
    monkeypatch: pytest.MonkeyPatch,
    flavour: str,
    ca_file: Path,
    server_cert: tuple[Path, Path],
    tmp_path: Path,
    ending: str,
    records: int,
) -> None:
    """A sync download reads a large file's body from the TLS socket itself past its first chunk, a small one's
    through httpx: either lands byte for byte, with or without the server's close_notify after it, and one that ends
    early, whichever way, is a DownloadError with nothing on disk."""
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(*server_cert)
    content = os.urandom(records * RECORD)
    sent = content if ending.startswith("whole") else content[: len(content) // 2]

    head = f"HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nContent-Length: {len(content)}\r\n\r\n"
    with serving(answer_over_tls(served, head, sent, ending)) as url:
        url = url.replace("http://", "https://") + "/v.mp4"
        download = lambda c: c.download(url, tmp_path / "v.mp4")  # noqa: E731
        if ending.startswith("whole"):
            assert run(flavour, download, base_url="http://127.0.0.1:1").read_bytes() == content
            return
        with pytest.raises(vozo.DownloadError):
            run(flavour, download, base_url="http://127.0.0.1:1", max_retries=0)
    assert list(tmp_path.iterdir()) == []


def answer_over_tls(served: ssl.SSLContext, head: str, body: bytes, ending: str) -> Callable[[socket.socket], None]:
    """A TLS server's answer to one request: ``head`` and ``body``, then TLS's goodbye (``ending`` "whole" or
    "close_notify"), a reset ("reset"), or a bare close of the TCP socket (any other)."""

    def answer(connection: socket.socket) -> None:
        tls = served.wrap_socket(connection, server_side=True)
        request = b""
        while b"\r\n\r\n" not in request:
            request += tls.recv(65536)
        tls.sendall(head.encode() + body)
        if ending in ("whole", "close_notify"):
            with contextlib.suppress(OSError):
                tls.unwrap().close()
            return
        raw = socket.socket(fileno=tls.detach())  # the TCP socket, without TLS's goodbye
        if ending == "reset":
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        raw.close()

    return answer
