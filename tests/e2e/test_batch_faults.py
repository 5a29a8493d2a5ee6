"""One row's failure never costs another row its task id.

A hostile server (FakeVozo behind an ASGI layer that misbehaves for chosen rows) holds the answers to creates
while other rows fail: their result links are cut short, point at a closed port or redirect in a loop, or a create
answer carries no usable task id. Every step of these tests waits on events the server or the runner sets, never
on the wall clock: the answers to held creates go out only once the fault under test has happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
import uvicorn
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import Message, Receive, Scope, Send

import vozo
import vozo.batch
from tests.sockets import closed_port
from vozo._cli_common import EXIT_CODES
from vozo.batch import RowState, _journal, _scheduler
from vozo.testing import FakeVozo, ManualClock
from vozo.testing._media import sample_video

from .conftest import KEY
from .test_batch import row_of, write_manifest

VOZO = str(Path(sys.executable).parent / "vozo")
CREATE_PATHS = ("/v1/video_generation", "/v1/reusable_lipsync_model_video_generation", "/v1/media/translate")
HELD = 5  # creates held before the slow rows' jobs say done: the run's 8 job slots, less the 3 slow rows
GATE_TIMEOUT = 60.0  # only a safety net against a hung test: every verdict comes from events, not from this


class HostileServer:
    """FakeVozo, except that chosen rows get unusable create answers or broken result links, and creates are held.

    ``slow``: rows whose creates are answered at once and whose jobs report ``pending`` until ``slow_done`` is set,
    then ``done`` with the given video_url ("": the fake's own, working link). ``slow_done`` is set with
    ``held_enough`` (``hold`` creates of other rows held, the slow rows created) unless ``slow_done_when_held`` is
    False: then only the test sets it.
    ``bad_task_ids``: rows whose create is answered with this task id (no job is created).
    ``gate``: the held answers go out once it is set (the fake created those jobs before: they are billed).
    """

    def __init__(self, fake: FakeVozo, *, hold: int) -> None:
        self.fake = fake
        self.hold = hold
        self.slow: dict[str, str] = {}
        self.bad_task_ids: dict[str, Any] = {}
        self.refused: set[str] = set()  # rows whose create is refused: the key is revoked (401, code 1302)
        self.refusal_sent = threading.Event()  # set as the refusal is sent: the run has not taken it in yet
        self.gate = threading.Event()
        self.held_enough = threading.Event()
        self.slow_done = threading.Event()  # the slow rows' jobs say done from then on
        self.slow_done_when_held = True
        self.slow_polled = threading.Event()  # a slow row's status was asked for: its task id is in the journal
        self.held = 0
        self.slow_status_checks = 0
        self._slow_tasks: dict[str, str] = {}  # task id -> row
        self.url = ""
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.fake(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        task_id = path.rsplit("/", 1)[-1]
        if path == "/loop.mp4":
            await RedirectResponse("/loop.mp4", status_code=302)(scope, receive, send)
        elif path == "/truncated.mp4":
            await _truncated(send)
        elif method == "POST" and path in CREATE_PATHS:
            await self._create(scope, receive, send)
        elif method == "GET" and task_id in self._slow_tasks:
            await self._slow_status(scope, receive, send, self._slow_tasks[task_id])
        else:
            await self.fake(scope, receive, send)

    async def _create(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = await _read(receive)
        row = row_of(json.loads(request))
        if row in self.bad_task_ids:
            await JSONResponse({"task_id": self.bad_task_ids[row]})(scope, receive, send)
            return
        if row in self.refused:
            # Set before the answer leaves: the run may take the refusal in (its last progress report until the
            # held answers go out) before this thread would get to set it after sending.
            self.refusal_sent.set()
            await JSONResponse({"code": "1302", "message": "API key has been revoked."}, 401)(scope, receive, send)
            return
        messages = await _call(self.fake, scope, request)
        if row in self.slow:
            answer = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
            with self._lock:
                self._slow_tasks[json.loads(answer)["task_id"]] = row
                self._check_held_enough()
        elif messages[0]["status"] == 200:  # the job exists at the fake, and is billed: hold its answer
            with self._lock:
                self.held += 1
                self._check_held_enough()
            await anyio.to_thread.run_sync(self.gate.wait, GATE_TIMEOUT)
        for message in messages:
            await send(message)

    def _check_held_enough(self) -> None:
        # The slow rows' creates count too: the run may send them after the held ones, and a stop that comes
        # before they leave rightly cancels them (nothing was sent), which would change what the test counts.
        if self.held >= self.hold and len(self._slow_tasks) >= len(self.slow):
            if self.slow_done_when_held:
                self.slow_done.set()
            self.held_enough.set()

    async def _slow_status(self, scope: Scope, receive: Receive, send: Send, row: str) -> None:
        self.slow_status_checks += 1
        self.slow_polled.set()
        if not self.slow_done.is_set():
            await JSONResponse({"status": "pending"})(scope, receive, send)
        elif self.slow[row]:
            await JSONResponse({"status": "done", "video_url": self.slow[row]})(scope, receive, send)
        else:
            await self.fake(scope, receive, send)


async def _read(receive: Receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


async def _call(app: Any, scope: Scope, request: bytes) -> list[Message]:
    """Run ``app`` on a request already read, and keep its response messages to send later."""
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": request, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


async def _truncated(send: Send) -> None:
    whole = sample_video()
    headers = [(b"content-type", b"video/mp4"), (b"content-length", str(len(whole)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": whole[: len(whole) // 2], "more_body": True})
    raise ConnectionAbortedError("cut short on purpose")  # a started response: the server drops the connection


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="critical", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="hostile-vozo", daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "the hostile server did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    app = HostileServer(FakeVozo(api_keys=[KEY], step_seconds=0.02, max_active_jobs=30), hold=HELD)
    with serve(app) as url:
        app.url = url
        try:
            yield app
        finally:
            app.gate.set()  # whatever happened, let the server's held requests end


@pytest.fixture
def long_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    """Creates in flight at a shutdown get far more time than they need: no verdict depends on the machine's pace."""
    monkeypatch.setattr(_scheduler, "CREATE_GRACE", GATE_TIMEOUT)


async def run_batch(url: str, manifest: Path, out: Path, **options: Any) -> vozo.batch.BatchSummary:
    async with vozo.AsyncVozo(api_key=KEY, base_url=url, max_retries=2) as client:
        # More request slots than job slots: held creates (at most max_active) never leave the polls without one.
        return await vozo.batch.run(client, manifest, out, poll_interval=0.02, max_active=8, concurrency=12, **options)


def assert_every_job_has_its_task_id(fake: FakeVozo, out: Path) -> dict[str, vozo.batch.JournalRow]:
    """Each job the fake created (and billed) is in the journal, on its own row; no row is left half sent."""
    rows = {row.key: row for row in vozo.batch.status(out).rows}
    for created in fake.create_requests:
        row = rows[row_of(created["body"])]
        assert created["task_id"] in (row.task_id, *row.previous_task_ids), (row.key, row.state, row.error)
    assert not [row.key for row in rows.values() if row.state is RowState.SUBMITTING]
    return rows


def test_failed_downloads_and_unusable_task_ids_cost_no_other_row_its_task_id(hostile, tmp_path) -> None:
    app, url = hostile, hostile.url
    bad_task_ids: dict[str, Any] = {"ls-0003": None, "ls-0004": {}, "ls-0005": 7, "ls-0006": "",
                                    "ls-0007": "../v1/x", "ls-0008": "a/b?c#d"}  # fmt: skip  # ids no GET can name
    app.bad_task_ids.update(bad_task_ids)
    manifest, out = write_manifest(tmp_path / "m.csv", 24), tmp_path / "out"
    expected_creates = 24 - len(bad_task_ids)

    def progress(snapshot: vozo.batch.BatchProgress) -> None:
        if snapshot.counts.get(RowState.DOWNLOAD_FAILED, 0) == len(app.slow):
            app.gate.set()  # the held creates are answered only after every broken download has failed

    with closed_port() as port:
        app.slow.update({"ls-0000": f"{url}/truncated.mp4", "ls-0001": f"http://127.0.0.1:{port}/v.mp4",
                         "ls-0002": f"{url}/loop.mp4"})  # fmt: skip
        summary = asyncio.run(run_batch(url, manifest, out, on_progress=progress))
        rows = assert_every_job_has_its_task_id(app.fake, out)
        assert len(app.fake.create_requests) == expected_creates
        for key in app.slow:
            assert rows[key].state is RowState.DOWNLOAD_FAILED, (key, rows[key].state, rows[key].error)
            assert rows[key].task_id is not None
            assert "run the batch again" in (rows[key].error or "")
        for key, value in bad_task_ids.items():
            error = rows[key].error or ""
            assert (rows[key].state, rows[key].task_id) == (RowState.UNCERTAIN, None), (key, rows[key].state)
            if isinstance(value, str):  # a string, but no id a GET can name: the whole answer is shown
                assert json.dumps({"task_id": value}, separators=(",", ":")) in error.replace(" ", ""), error
            else:  # not a string at all: the field and what came are named
                came = {type(None): "null", dict: f"an object: {value}", int: f"a number: {value}"}[type(value)]
                assert f"Job.task_id must be a string, got {came}" in error, error
        assert summary.counts[RowState.COMPLETED] == 24 - len(app.slow) - len(bad_task_ids)
        assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # no partial file left behind

        # Resumed from the command line, the links still broken: the rows are retried and fail again, no crash.
        checks = app.slow_status_checks
        env = {**os.environ, "VOZO_API_KEY": KEY, "VOZO_BASE_URL": url}
        command = [
            VOZO,
            "--max-retries",
            "0",
            "batch",
            "run",
            str(manifest),
            "--out",
            str(out),
            "--poll-interval",
            "0.02",
        ]
        resumed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert resumed.returncode == EXIT_CODES["incomplete"], resumed.stderr
        assert "Traceback" not in resumed.stderr
        assert app.slow_status_checks > checks  # their jobs were asked for fresh links
        assert len(app.fake.create_requests) == expected_creates  # and nothing was submitted again
        assert {r.key for r in vozo.batch.status(out).rows if r.state is RowState.DOWNLOAD_FAILED} == set(app.slow)

    # The links work again: the parked rows complete, still without a second job.
    app.slow.update(dict.fromkeys(app.slow, ""))
    final = asyncio.run(run_batch(url, manifest, out))
    rows = assert_every_job_has_its_task_id(app.fake, out)
    assert len(app.fake.create_requests) == expected_creates
    assert final.counts == {RowState.COMPLETED: expected_creates, RowState.UNCERTAIN: len(bad_task_ids)}
    for key in app.slow:
        assert Path(rows[key].outputs["video"]).read_bytes() == sample_video()


class DisplayBug(Exception):
    pass


STOPS = [
    ("asyncio", "asyncio's task cancelled"),  # Ctrl-C under asyncio.run, as the vozo command runs
    ("asyncio", "cancelled"),
    ("trio", "cancelled"),
    ("asyncio", "a bug in another task"),
    ("trio", "a bug in another task"),
]


@pytest.mark.parametrize(("backend", "stop"), STOPS)
def test_creates_in_flight_land_their_task_id_whatever_stops_the_run(
    hostile, long_grace, tmp_path, stop, backend
) -> None:
    app, url = hostile, hostile.url
    app.slow["ls-0000"] = ""  # polled meanwhile, with a working link once its job says done
    app.hold = 7  # with it, every one of the run's 8 job slots
    # A bug stops the run when ls-0000 is downloaded, so its job says done once the creates are held. A cancel comes
    # from the test's thread, later than held_enough by however long the machine takes: ls-0000 must stay pending
    # until then, or its slot could send a 9th create before the cancel arrives.
    app.slow_done_when_held = stop == "a bug in another task"
    manifest, out = write_manifest(tmp_path / "m.csv", 24), tmp_path / "out"

    def progress(snapshot: vozo.batch.BatchProgress) -> None:
        if stop == "a bug in another task" and snapshot.counts.get(RowState.DOWNLOADING):
            app.gate.set()  # the held answers go out while the runner is already stopping
            raise DisplayBug("a bug in the progress display")

    async def go() -> None:
        if stop == "a bug in another task":
            with pytest.raises(DisplayBug):  # itself, not wrapped in an exception group
                await run_batch(url, manifest, out, on_progress=progress)
            return
        if stop == "asyncio's task cancelled":
            run = asyncio.ensure_future(run_batch(url, manifest, out))
            await anyio.to_thread.run_sync(app.held_enough.wait, GATE_TIMEOUT)
            run.cancel()
            app.gate.set()
            with pytest.raises(asyncio.CancelledError):
                await run
            return
        async with anyio.create_task_group() as group:  # a cancel scope around the run, on either backend
            group.start_soon(functools.partial(run_batch, url, manifest, out))
            await anyio.to_thread.run_sync(app.held_enough.wait, GATE_TIMEOUT)
            group.cancel_scope.cancel()
            app.gate.set()

    anyio.run(go, backend=backend)
    assert app.held_enough.is_set()
    app.slow_done.set()  # for the resumed run
    rows = assert_every_job_has_its_task_id(app.fake, out)
    assert len(app.fake.create_requests) == 8
    assert not [row.key for row in rows.values() if row.state is RowState.UNCERTAIN]

    final = asyncio.run(run_batch(url, manifest, out))  # resumed: every row once, nothing uncertain
    assert final.counts == {RowState.COMPLETED: 24}
    assert sorted(row_of(c["body"]) for c in app.fake.create_requests) == sorted(rows)


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_a_create_that_never_answers_holds_a_shutdown_only_for_the_grace(
    hostile, monkeypatch, tmp_path, backend
) -> None:
    app, url = hostile, hostile.url
    app.slow["ls-0000"] = ""
    app.slow_done_when_held = False  # pending until the run has stopped: its slot never sends an 8th create to hold
    app.hold = 7
    monkeypatch.setattr(_scheduler, "CREATE_GRACE", 0.01)
    manifest, out = write_manifest(tmp_path / "m.csv", 12), tmp_path / "out"

    async def go() -> None:
        async with anyio.create_task_group() as group:  # a cancel scope around the run, on either backend
            group.start_soon(functools.partial(run_batch, url, manifest, out))
            await anyio.to_thread.run_sync(app.held_enough.wait, GATE_TIMEOUT)
            await anyio.to_thread.run_sync(app.slow_polled.wait, GATE_TIMEOUT)  # ls-0000 is not among the unanswered
            group.cancel_scope.cancel()

    anyio.run(go, backend=backend)
    assert not app.gate.is_set()  # the run ended while the creates were still unanswered
    held = {row.key for row in vozo.batch.status(out).rows if row.state is RowState.SUBMITTING}
    assert len(held) == 7
    app.gate.set()
    app.slow_done.set()
    resumed = asyncio.run(run_batch(url, manifest, out))  # those rows are uncertain: never sent twice
    assert {row.key for row in resumed.rows if row.state is RowState.UNCERTAIN} == held
    assert sorted(row_of(c["body"]) for c in app.fake.create_requests) == sorted(r.key for r in resumed.rows)


def test_a_refused_key_stops_submitting_and_the_creates_in_flight_still_land(hostile, tmp_path) -> None:
    app, url = hostile, hostile.url
    app.hold = 7  # rows 0-6 are held at the fake (created, billed), row 7 is refused: the run's 8 job slots
    app.refused.add("ls-0007")
    manifest, out = write_manifest(tmp_path / "m.csv", 24), tmp_path / "out"

    def progress(snapshot: vozo.batch.BatchProgress) -> None:
        if app.refusal_sent.is_set() and snapshot.counts.get(RowState.SUBMITTING) == app.hold:
            app.gate.set()  # the refusal has been taken in (its row is queued again): only now the held answers

    summary = asyncio.run(run_batch(url, manifest, out, on_progress=progress))
    assert summary.stopped is not None
    assert "1302" in summary.stopped
    rows = assert_every_job_has_its_task_id(app.fake, out)
    assert len(app.fake.create_requests) == 7
    assert {key for key, row in rows.items() if row.task_id} == {f"ls-{n:04d}" for n in range(7)}
    assert rows["ls-0007"].state is RowState.QUEUED  # never sent twice, never lost: the next run sends it


EXPIRED_ANSWERS = {
    # as a storage service answers a signed link past its expiry
    "403": ("<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>", 403, "application/xml"),
    # as a CDN answers it with its sign-in page, status 200
    "login-page": ("<html><body>Please sign in</body></html>", 200, "text/html; charset=utf-8"),
}


@pytest.mark.parametrize("answer", EXPIRED_ANSWERS)
def test_an_expired_result_link_is_replaced_by_a_fresh_one_within_the_run(tmp_path, answer: str) -> None:
    fake = FakeVozo(api_keys=[KEY], step_seconds=0.02)
    expired: list[str] = []
    page, status, media_type = EXPIRED_ANSWERS[answer]

    async def links_expire_once(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/media/") and not expired:
            expired.append(scope["path"])
            await Response(page, status, media_type=media_type)(scope, receive, send)
            return
        await fake(scope, receive, send)

    with serve(links_expire_once) as url:
        summary = asyncio.run(run_batch(url, write_manifest(tmp_path / "m.csv", 1), tmp_path / "out"))
    assert expired
    (row,) = summary.rows
    assert row.state is RowState.COMPLETED, row.error  # was download_failed: exit 10, and a second run to finish
    assert Path(row.outputs["video"]).read_bytes() == sample_video()
    assert fake.requests["GET /v1/video_generation/{task_id}"] >= 2  # the status was asked again, for a fresh link


def test_a_status_escaping_a_lone_surrogate_keeps_every_task_id_and_ends_the_run(tmp_path) -> None:
    """A failed status whose err_code held "\\ud800" (valid JSON, no text) reached the journal, which SQLite cannot
    encode: the run died of a raw UnicodeEncodeError. The status is refused as unreadable: each row keeps its task id,
    to be checked again by the next run."""
    from .test_download_faults import RawServer

    created = iter(range(100))
    failed = b'{"status": "failed", "err_code": "2\\ud800", "err_msg": "no faces"}'

    def answer(c: Any) -> None:
        body = b'{"task_id": "t%d"}' % next(created) if c.method == "POST" else failed
        c.head("200 OK", {"Content-Type": "application/json", "Content-Length": str(len(body)), "Connection": "close"})
        c.body(body)

    server = RawServer(answer)
    try:
        summary = asyncio.run(run_batch(server.url, write_manifest(tmp_path / "m.csv", 2), tmp_path / "out"))
    finally:
        server.close()
    assert {row.state for row in summary.rows} == {RowState.SUBMITTED}
    assert sorted(row.task_id or "" for row in summary.rows) == ["t0", "t1"]  # in whichever order they were sent
    assert all("lone surrogate" in (row.error or "") for row in summary.rows)


def test_every_task_id_the_journal_could_not_take_reaches_the_caller(tmp_path, monkeypatch) -> None:
    """The disk refused the journal writes of three creates' task ids (three jobs Vozo created and billed): the
    JournalError named only the first; the other two were forgotten by the journal, the error and the report."""
    real_update = _journal.Journal.update

    def full_disk(journal: Any, key: str, **values: Any) -> None:
        if values.get("state") is RowState.SUBMITTED:
            raise vozo.batch.JournalError("database or disk is full (simulated)")
        real_update(journal, key, **values)

    monkeypatch.setattr(_journal.Journal, "update", full_disk)
    fake = FakeVozo(api_keys=[KEY], clock=ManualClock())
    manifest = write_manifest(tmp_path / "m.csv", 3)
    with fake.serve() as url:
        hold = fake.hold_creates()

        def release_once_all_are_held() -> None:  # every create reached the fake before any answer comes back
            deadline = time.monotonic() + GATE_TIMEOUT
            while len(hold.task_ids) < 3 and time.monotonic() < deadline:
                time.sleep(0.01)
            hold.release()

        threading.Thread(target=release_once_all_are_held, daemon=True).start()

        async def go() -> None:
            async with vozo.AsyncVozo(api_key=KEY, base_url=url) as client:
                await vozo.batch.run(client, manifest, tmp_path / "out", poll_interval=0.01)

        with pytest.raises(vozo.batch.JournalError) as refused:
            anyio.run(go)
    assert len(fake.jobs) == 3
    for task_id in fake.jobs:
        assert task_id in str(refused.value)
    assert refused.value.task_id in fake.jobs
    assert "database or disk is full (simulated)" in str(refused.value)
