"""FakeVozo on a real socket (uvicorn in a thread), and the wrapper of either flavour pointed at it."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import vozo
from vozo import _retry
from vozo.testing import FakeVozo, Faults

KEY = "e2e-key"
STEP = 0.05
FAST_WAIT = {"poll_interval": 0.01}


class Live:
    """The fake, its URL, and ``call(fn)`` running ``fn(client)`` with Vozo or AsyncVozo."""

    def __init__(self, fake: FakeVozo, url: str, flavour: str, runner: asyncio.Runner) -> None:
        self.fake = fake
        self.url = url
        self.flavour = flavour
        self._runner = runner

    def call(self, fn: Callable[[Any], Any], **options: Any) -> Any:
        options = {"api_key": KEY, "base_url": self.url, **options}
        if self.flavour == "sync":
            with vozo.Vozo(**options) as client:
                return fn(client)

        async def run() -> Any:
            async with vozo.AsyncVozo(**options) as client:
                result = fn(client)
                return await result if inspect.isawaitable(result) else result

        return self._runner.run(run())

    def raises(self, error: type[BaseException], fn: Callable[[Any], Any], **options: Any) -> Any:
        with pytest.raises(error) as info:
            self.call(fn, **options)
        return info.value


@pytest.fixture
def fake() -> FakeVozo:
    return FakeVozo(api_keys=[KEY], revoked_keys=["revoked-key"], step_seconds=STEP, faults=Faults(seed=7))


@pytest.fixture(params=["sync", "async"])
def live(request: pytest.FixtureRequest, fake: FakeVozo) -> Iterator[Live]:
    with fake.serve() as url, asyncio.Runner() as runner:
        yield Live(fake, url, request.param, runner)


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_retry, "INITIAL_DELAY", 0.005)
