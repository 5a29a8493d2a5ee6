"""`make reliability`: the fault matrix of FakeVozo times sync/async, the bad-input table and the secrets check.

    python -m bench.reliability [--small]

For each fault, injected either on the job-creating request or on everything after it (polls and download):
the outcome, the faults absorbed by retries, duplicate jobs created (must be 0) and partial files left (must be
0). Every row runs against FakeVozo over a real socket. tests/e2e/test_reliability.py runs the small size inside
`make test` and asserts the promises.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import io
import logging
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import vozo
from vozo import _retry
from vozo.testing import FakeVozo, Faults
from vozo.testing._media import sample_video

KEY = "sk-reliability-0123456789-SECRET"
LIPSYNC = {"reference_file_url": "https://m.test/presenter.mp4", "audio_url": "https://m.test/voice.mp3"}


@dataclass(frozen=True)
class Fault:
    name: str
    faults: Callable[[float], Faults]  # the share of requests hit -> the fake's faults
    timeout: float = 5.0  # the client's request timeout in this row
    phases: tuple[str, ...] = ("create", "after create")


FAULTS = [
    Fault("429, Retry-After in seconds", lambda _: Faults(burst=1, burst_status=429, retry_after="1")),
    Fault("429, Retry-After as HTTP date", lambda _: Faults(burst=1, burst_status=429, retry_after="http-date")),
    Fault("429, no Retry-After", lambda _: Faults(burst=2, burst_status=429, retry_after=None)),
    Fault("500 burst", lambda _: Faults(burst=2, burst_status=500)),
    Fault("502 burst", lambda _: Faults(burst=2, burst_status=502)),
    Fault("503 burst", lambda _: Faults(burst=2, burst_status=503)),
    Fault("HTML error pages (502)", lambda _: Faults(burst=2, burst_status=502, html_errors=True)),
    Fault("reset before handling", lambda share: Faults(reset_before=share, seed=1)),
    Fault("reset after handling", lambda share: Faults(reset_after=share, seed=2)),
    Fault("read timeout", lambda share: Faults(stall=share, seed=3), timeout=0.5),
    Fault("malformed JSON", lambda share: Faults(malformed_json=share, seed=4)),
    Fault("truncated downloads", lambda _: Faults(truncate_downloads=0.5, seed=1), phases=("after create",)),
    # A job's statuses are fixed when it is created: an unknown one is injected then, and met while waiting.
    Fault("unknown status values", lambda _: Faults(unknown_status="gpu_warmup"), phases=("create",)),
]
# On the create request a fault hits for sure (share 1): the question is what the client does with it.
PHASES = {"create": 1.0, "after create": 0.3}


@dataclass
class Outcome:
    fault: str
    phase: str
    flavour: str
    outcome: str  # "ok", or the error raised
    detail: str
    absorbed: int  # faults the fake served in this row (each one a retry, or the error raised)
    jobs: int  # jobs the fake created
    duplicates: int
    partial_files: int


def run_fault(fault: Fault, phase: str, flavour: str) -> Outcome:
    # Jobs move one status per two API requests, not with the wall clock: on a slow machine a job timed in seconds
    # could end before any of the seeded fault draws hit, and the row would prove nothing.
    fake = FakeVozo(api_keys=[KEY], step_seconds=2.0, clock=lambda: float(fake.requests.total()))
    share = PHASES[phase]
    options = {"api_key": KEY, "max_retries": 4, "timeout": fault.timeout}
    with tempfile.TemporaryDirectory() as folder, fake.serve() as url:
        target = Path(folder) / "talking.mp4"

        def arm(now: str) -> None:
            fake.faults = fault.faults(share) if now == phase else Faults()

        outcome, detail = "ok", ""
        try:
            if flavour == "sync":
                with vozo.Vozo(base_url=url, **options) as client:
                    arm("create")
                    job = client.lipsync.create(**LIPSYNC)
                    arm("after create")
                    client.download(client.lipsync.wait(job.task_id, poll_interval=0.01, timeout=30), target)
            else:

                async def flow() -> None:
                    async with vozo.AsyncVozo(base_url=url, **options) as client:
                        arm("create")
                        job = await client.lipsync.create(**LIPSYNC)
                        arm("after create")
                        status = await client.lipsync.wait(job.task_id, poll_interval=0.01, timeout=30)
                        await client.download(status, target)

                asyncio.run(flow())
        except vozo.VozoError as error:
            outcome, detail = type(error).__name__, str(error)[:100]
        whole = target.is_file() and target.read_bytes() == sample_video()
        partial = sum(1 for p in Path(folder).iterdir() if not (p == target and whole))
        return Outcome(
            fault.name,
            phase,
            flavour,
            outcome,
            detail,
            sum(fake.injected.values()),
            len(fake.jobs),
            max(0, len(fake.create_requests) - 1),
            partial,
        )


def fault_matrix(faults: list[Fault] = FAULTS) -> list[Outcome]:
    return [run_fault(f, phase, flavour) for f in faults for phase in f.phases for flavour in ("sync", "async")]


# --- bad input: refused before any request --------------------------------------------------------------------------

BAD_INPUTS: list[tuple[str, Callable[[vozo.Vozo], Any]]] = [
    (
        "reference video of an unsupported type",
        lambda c: c.lipsync.create(reference_file_url="https://m.test/a.gif", audio_url="https://m.test/a.mp3"),
    ),
    (
        "audio of an unsupported type",
        lambda c: c.lipsync.create(reference_file_url="https://m.test/a.mp4", audio_url="https://m.test/a.ogg"),
    ),
    ("unknown model", lambda c: c.lipsync.create(**LIPSYNC, model="ultra")),
    ("reference_file_type not video/image", lambda c: c.lipsync.create(**LIPSYNC, reference_file_type="gif")),
    (
        "URL without extension, type not given",
        lambda c: c.lipsync.create(
            reference_file_url="https://m.test/face", audio_url="https://m.test/a.mp3", check_file_types=False
        ),
    ),
    (
        "not an http(s) URL",
        lambda c: c.lipsync.create(reference_file_url="ftp://m.test/a.mp4", audio_url="https://m.test/a.mp3"),
    ),
    ("callback_url not http(s)", lambda c: c.lipsync.create(**LIPSYNC, callback_url="mailto:me@example.com")),
    ("empty reusable model id", lambda c: c.reusable_lipsync.create(model_id=" ", audio_url="https://m.test/a.mp3")),
    (
        "target language not a code",
        lambda c: c.translations.create(media_url="https://m.test/t.mp4", target_language="Spanish"),
    ),
    (
        "source language not a code",
        lambda c: c.translations.create(
            media_url="https://m.test/t.mp4", target_language="es", source_language="english"
        ),
    ),
    (
        "export_type video for audio media",
        lambda c: c.translations.create(media_url="https://m.test/t.mp3", target_language="es", export_type="video"),
    ),
    (
        "speaker range min > max",
        lambda c: c.translations.create(media_url="https://m.test/t.mp4", target_language="es", speaker_number=(4, 2)),
    ),
    (
        "OCR box not normalized",
        lambda c: c.translations.create(
            media_url="https://m.test/t.mp4",
            target_language="es",
            ocr_text_box={"x": 0.5, "y": 0.5, "width": 1.5, "height": 0.1},
        ),
    ),
    ("empty task id", lambda c: c.lipsync.get("")),
    ("download of a job without a result", lambda c: c.download("file:///etc/passwd", "x.mp4")),
]


def bad_inputs() -> list[tuple[str, str, str, int]]:
    """(case, error raised, its message, requests that left the client), counted by the client's own hook."""
    import httpx

    sent: list[httpx.Request] = []
    rows = []
    http = httpx.Client(event_hooks={"request": [sent.append]})
    with vozo.Vozo(api_key=KEY, base_url="http://127.0.0.1:9", http_client=http, max_retries=0) as client:
        for case, call in BAD_INPUTS:
            before = len(sent)
            rows.append((case, *_attempt(functools.partial(call, client)), len(sent) - before))
    with mock.patch.dict(os.environ):  # a client that cannot be built sends nothing
        os.environ.pop("VOZO_API_KEY", None)
        for case, build in [
            ("plain http to a remote host", lambda: vozo.Vozo(api_key=KEY, base_url="http://api.vozo.ai")),
            ("no API key", lambda: vozo.Vozo(api_key=None)),
        ]:
            rows.append((case, *_attempt(build), 0))
    return rows


def _attempt(call: Callable[[], Any]) -> tuple[str, str]:
    """(the error's class name, its message), or ("nothing raised", "")."""
    try:
        call()
    except Exception as error:  # the table reports whatever happens
        return type(error).__name__, str(error)
    return "nothing raised", ""


# --- secrets ----------------------------------------------------------------------------------------------------------


def secrets_check() -> tuple[bool, int]:
    """A whole session at DEBUG (every logger), errors included; returns (key absent, characters captured)."""
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    fake = FakeVozo(api_keys=[KEY], step_seconds=0.02, faults=Faults(rate_limit=0.3, seed=9))
    try:
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured), fake.serve() as url:
            with tempfile.TemporaryDirectory() as folder, vozo.Vozo(api_key=KEY, base_url=url) as client:
                print(repr(client), repr(client.with_options(max_retries=5)))
                status = client.lipsync.create_and_wait(**LIPSYNC, poll_interval=0.01)
                client.download(status, Path(folder) / "v.mp4")
                for failing in (
                    lambda: client.lipsync.get("unknown"),
                    lambda: client.lipsync.create(**LIPSYNC, model="x"),
                ):
                    try:
                        failing()
                    except vozo.VozoError as error:
                        print(repr(error), str(error), vars(error))
            try:
                vozo.Vozo(api_key=KEY, base_url="http://remote.example.com")
            except vozo.VozoError as error:
                print(repr(error), str(error))
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
    text = captured.getvalue()
    return KEY not in text and KEY[-12:] not in text, len(text)


# --- report -----------------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="one flavour per fault (what make test runs)")
    small = parser.parse_args().small
    _retry.INITIAL_DELAY = 0.05  # the same policy, on a shorter clock: the matrix measures outcomes, not waits
    matrix = fault_matrix()
    if small:
        matrix = [row for row in matrix if row.flavour == ("sync" if hash(row.fault) % 2 else "async")]
    print(
        f"{'fault':<30} {'on':<13} {'client':<6} {'outcome':<27} {'absorbed':>8} {'jobs':>4} {'dup':>3} {'partial':>7}"
    )
    for r in matrix:
        print(f"{r.fault:<30} {r.phase:<13} {r.flavour:<6} {r.outcome:<27} {r.absorbed:>8} {r.jobs:>4} "
              f"{r.duplicates:>3} {r.partial_files:>7}")  # fmt: skip
    print(f"\n{'bad input':<42} {'raised':<20} requests")
    inputs = bad_inputs()
    for case, raised, _message, sent in inputs:
        print(f"{case:<42} {raised:<20} {sent}")
    clean, size = secrets_check()
    print(
        f"\nsecrets: a DEBUG session ({size} characters of logs, reprs and errors) "
        f"{'never shows' if clean else 'SHOWS'} the key"
    )
    broken = [r for r in matrix if r.duplicates or r.partial_files] + [
        i for i in inputs if i[3] or i[1] == "nothing raised"
    ]
    if broken or not clean:
        sys.exit(f"reliability: {len(broken)} broken promise(s)" + ("; the key leaked" if not clean else ""))


if __name__ == "__main__":
    main()
