"""Runs each wrapper test through Vozo and AsyncVozo alike, over an in-process httpx MockTransport."""

from __future__ import annotations

import asyncio
import inspect
import json
import tracemalloc
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, TypeVar

import anyio
import httpx
import pytest

import vozo
from vozo import _jobs, _retry

API_KEY = "vz-test-key-0123456789-SECRET"
BASE_URL = "https://api.vozo.test"

Handler = Callable[[httpx.Request], httpx.Response]


@dataclass
class Recorder:
    """The handler's view: every request it got, and a queue of canned responses (or exceptions)."""

    replies: list[httpx.Response | Exception | Handler] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    default: httpx.Response | Handler | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        reply = self.replies.pop(0) if self.replies else self.default
        if reply is None:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        if isinstance(reply, Exception):
            raise reply
        return reply(request) if callable(reply) else reply

    def json_bodies(self) -> list[Any]:
        return [json.loads(r.content) for r in self.requests if r.content]


T = TypeVar("T")


def with_peak_memory(run: Callable[[], T]) -> tuple[T, int]:
    """``run()``'s result, and the most memory Python held for it at once while it ran (bytes, tracemalloc)."""
    tracemalloc.start()
    try:
        return run(), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


class Pieces(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that arrives in several network reads (MockTransport's content= would be read whole first)."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces

    def __iter__(self) -> Iterator[bytes]:
        yield from self.pieces

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            yield piece


def reply(
    status: int = 200, body: Any = None, *, headers: dict[str, str] | None = None, raw: bytes | None = None
) -> httpx.Response:
    content = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
    base = {"Content-Type": "application/json"} if raw is None else {}
    return httpx.Response(status, content=content, headers={**base, **(headers or {})})


class Harness:
    """A client of one flavour plus ``call(fn)``: ``fn(client)`` may return a value or an awaitable."""

    def __init__(self, flavour: str, recorder: Recorder, runner: asyncio.Runner) -> None:
        self.flavour = flavour
        self.recorder = recorder
        self._runner = runner
        self.client: Any = self.make()

    def make(self, **options: Any) -> Any:
        options = {"api_key": API_KEY, "base_url": BASE_URL, **options}
        transport = httpx.MockTransport(self.recorder)
        if self.flavour == "sync":
            return vozo.Vozo(http_client=httpx.Client(transport=transport), **options)
        return vozo.AsyncVozo(http_client=httpx.AsyncClient(transport=transport), **options)

    def call(self, fn: Callable[[Any], Any]) -> Any:
        result = fn(self.client)
        if inspect.isawaitable(result):
            return self._runner.run(_await(result))
        return result

    def raises(self, error: type[BaseException], fn: Callable[[Any], Any]) -> Any:
        with pytest.raises(error) as info:
            self.call(fn)
        return info.value


async def _await(awaitable: Any) -> Any:
    return await awaitable


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest, recorder: Recorder) -> Iterator[Harness]:
    with asyncio.Runner() as runner:
        yield Harness(request.param, recorder, runner)


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoff keeps its shape (exponential, jittered) at a millisecond scale."""
    monkeypatch.setattr(_retry, "INITIAL_DELAY", 0.001)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Records every sleep of both clients instead of sleeping."""
    recorded: list[float] = []

    async def fake_async_sleep(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr("time.sleep", recorded.append)
    monkeypatch.setattr(anyio, "sleep", fake_async_sleep)
    return recorded


@pytest.fixture
def virtual_time(monkeypatch: pytest.MonkeyPatch, sleeps: list[float]) -> list[float]:
    """Waiting on a clock that moves only by the sleeps the clients ask for: deadlines pass at once, whatever the
    machine's load. Returns the sleeps (their sum is the time that passed)."""
    monkeypatch.setattr(_jobs, "time", SimpleNamespace(monotonic=lambda: sum(sleeps)))
    return sleeps


def nested(depth: int) -> list[object]:
    """A JSON value nested ``depth`` lists deep."""
    value: list[object] = []
    for _ in range(depth):
        value = [value]
    return value
