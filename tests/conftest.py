"""Fixtures shared by every test folder: Prism mock servers (static and --dynamic) over openapi/vozo.yaml."""

from __future__ import annotations

import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.prism import ROOT, SPEC, Prism


def pytest_configure(config: pytest.Config) -> None:
    # A shell without job control starts background commands with SIGINT ignored, and an ignored signal stays
    # ignored across exec: every `vozo` the Ctrl-C tests start would then ignore their Ctrl-C and the tests would
    # hang. A handled signal is reset to the default on exec, so handling it here gives each child the default.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _serve(tmp_path_factory: pytest.TempPathFactory, *, dynamic: bool) -> Iterator[Prism]:
    log = tmp_path_factory.mktemp("prism") / ("prism-dynamic.log" if dynamic else "prism.log")
    with Prism(SPEC, log, dynamic=dynamic) as server:
        yield server
        if not server.alive():
            pytest.fail(f"Prism died during the run:\n{server.tail()}")


@pytest.fixture(scope="session")
def prism(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prism]:
    """Prism answering with the spec's examples."""
    yield from _serve(tmp_path_factory, dynamic=False)


@pytest.fixture(scope="session")
def prism_dynamic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prism]:
    """Prism answering with random data generated from the response schemas."""
    yield from _serve(tmp_path_factory, dynamic=True)


@pytest.fixture(scope="session")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache (MYPY_CACHE_DIR) for the mypy runs the tests start on checkouts and their copies.

    A cold mypy spends most of its time on typeshed and the libraries, which every such run shares. Sharing the cache
    changes no verdict: mypy takes a cached module only when its file's hash matches, and rechecks what depends on a
    changed one. Seeded from this checkout's cache (`make lint` leaves one) when there is one.
    """
    cache = tmp_path_factory.mktemp("mypy-cache")
    if (ROOT / ".mypy_cache").is_dir():
        shutil.copytree(ROOT / ".mypy_cache", cache, dirs_exist_ok=True)
    return cache


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failing test that used Prism shows the tail of Prism's log."""
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for name in ("prism", "prism_dynamic"):
            server = getattr(item, "funcargs", {}).get(name)
            if isinstance(server, Prism):
                report.sections.append((f"{name} log (tail)", server.tail()))
