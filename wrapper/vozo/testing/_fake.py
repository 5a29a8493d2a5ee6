"""``FakeVozo``: every operation of openapi/vozo.yaml, with state, a clock, callbacks and fault injection.

Job kinds get a lifecycle; every other operation of the spec answers its 200 response's example (else a body built
from the response schema), after the same auth, faults and request-body checks.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import itertools
import math
import os
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from functools import partial
from typing import Any, TypedDict

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from vozo._base import JSON, read_json
from vozo._config import is_loopback
from vozo._errors import InvalidInputError, VozoError
from vozo._jobs import DONE, FAILED, ends_the_job
from vozo._kinds import JobKind, all_kinds, kind_named
from vozo.testing import _media, _spec

JobType = str  # a job kind's resource name (``lipsync``, ``translations``, ...)


@dataclass
class Faults:
    """What goes wrong, and how often (shares are probabilities per API request, drawn from ``seed``)."""

    rate_limit: float = 0.0  # answered 429 ...
    retry_after: str | None = "1"  # ... with this Retry-After (delta-seconds, "http-date" for a date, or None)
    burst: int = 0  # the next N API requests are answered with burst_status (429s with retry_after)
    burst_status: int = 503
    slow: float = 0.0  # seconds added before every API response
    stall: float = 0.0  # a share of API requests answered only after 2 s (past a short client read timeout) ...
    stall_until: threading.Event | None = None  # ... or, when given, only once the test sets this event
    reset_before: float = 0.0  # the connection drops before the request is handled (no job created)
    reset_after: float = 0.0  # the connection drops after the request was handled (the job exists)
    malformed_json: float = 0.0  # a 200 answered with broken JSON
    html_errors: bool = False  # error statuses come as an HTML page, as from a proxy
    truncate_downloads: float = 0.0  # a download stops halfway, Content-Length promising the whole file
    unknown_status: str | None = None  # a status this client does not know, inserted before done
    seed: int = 0
    _random: random.Random = field(init=False, repr=False)

    def __setattr__(self, name: str, value: Any) -> None:
        _check_fault(name, value)
        super().__setattr__(name, value)
        if name == "seed":  # at construction and whenever a test sets fake.faults.seed: the draws start again
            super().__setattr__("_random", random.Random(value))  # noqa: S311 - reproducible draws, not crypto

    def roll(self, share: float) -> bool:
        return share > 0 and self._random.random() < share


_SHARES = frozenset({"rate_limit", "stall", "reset_before", "reset_after", "malformed_json", "truncate_downloads"})


def _check_fault(name: str, value: object) -> None:
    """A share outside 0..1 or a negative count would inject something else than the test says, silently."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if name in _SHARES and not (number and 0 <= value <= 1):  # type: ignore[operator]
        raise InvalidInputError(f"Faults.{name} is a share of requests, from 0 to 1, got {value!r}")
    if name in ("slow", "burst") and not (number and 0 <= value < math.inf):  # type: ignore[operator]
        raise InvalidInputError(f"Faults.{name} must be a number >= 0, got {value!r}")


class CreateRequest(TypedDict):
    """A create the fake handled (``FakeVozo.create_requests``)."""

    task_id: str
    type: JobType
    body: dict[str, JSON]


@dataclass
class FakeJob:
    task_id: str
    type: JobType
    api_key: str
    body: dict[str, JSON]  # the create request's JSON body
    created: float
    stages: tuple[str, ...]
    failure: tuple[str, str] | None = None  # (code, message) it ends with instead of done
    notified: int = -1  # index of the last stage sent to callback_url
    base_url: str = ""  # where its create came to, as its callbacks' result links name the fake (as status bodies do)

    @property
    def callback_url(self) -> str | None:
        url = self.body.get("callback_url")
        return url if isinstance(url, str) else None


def _not_made(body: dict[str, JSON]) -> frozenset[str]:
    """Results a job's own request rules out. Vozo's export_type: "audio: output audio", "auto: match input type",
    and an audio input cannot be exported as video: such a job has no video to give (its audio and subtitles stay)."""
    export = body.get("export_type", "auto")
    if export == "audio" or (export == "auto" and body.get("media_type") == "audio"):
        return frozenset({"video"})
    return frozenset()


class ManualClock:
    """A clock that stands still until ``advance`` moves it: jobs change status only when a test says so.

    ``FakeVozo(clock=ManualClock())``, then ``fake.advance(seconds)``: a test's verdict then never depends on how
    fast the machine runs it (a job cannot finish between two calls of a loaded machine, nor stay pending).
    """

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not math.isfinite(seconds):
            # math.inf made every later status a 500 (no stage is infinitely far), retried as Vozo's failure
            raise InvalidInputError(
                f"advance() takes a finite number of seconds (to end every job, advance by step_seconds times its "
                f"statuses), got {seconds!r}"
            )
        if not seconds >= 0:
            raise InvalidInputError(f"a clock only moves forward: advance() takes seconds >= 0, got {seconds!r}")
        with self._lock:
            self.now += seconds


class CreateHold:
    """From ``FakeVozo.hold_creates()``: each create is handled (its job exists, as a job Vozo bills would) but its
    answer waits for ``release()``, as an answer slow to come back. Tests what a client does meanwhile (Ctrl-C, a
    timeout) without racing the clock.

    ``held`` (a ``threading.Event``) is set once a create's answer is held; ``task_ids`` are the jobs held so far.
    As a context manager, leaving it releases every answer.
    """

    def __init__(self) -> None:
        self.held = threading.Event()
        self.task_ids: list[str] = []
        self._released = False
        self._waiting: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
        self._lock = threading.Lock()

    def release(self) -> None:
        """Send the held answers, and hold no further one."""
        with self._lock:
            self._released = True
            waiting, self._waiting = self._waiting, []
        for loop, event in waiting:  # the answers wait on the server's loop, in another thread than the test's
            with contextlib.suppress(RuntimeError):  # that loop has closed: nothing waits any more
                loop.call_soon_threadsafe(event.set)

    def __enter__(self) -> CreateHold:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    async def _until_released(self, task_id: str) -> None:
        answer = asyncio.Event()
        with self._lock:
            if self._released:
                return
            self._waiting.append((asyncio.get_running_loop(), answer))
            self.task_ids.append(task_id)
        self.held.set()
        await answer.wait()


async def _stall(until: threading.Event | None) -> None:
    """2 s, or until the test sets ``until``: a read timeout then fires whatever the machine's load."""
    if until is None:
        await asyncio.sleep(2.0)
        return
    # ASYNC110: a threading.Event, set from the test's thread; polled rather than waited for in a worker thread, so
    # that the server's shutdown can still cancel a stall nobody released.
    while not until.is_set():  # noqa: ASYNC110
        await asyncio.sleep(0.01)


# Set while InProcessTransport runs the app: a dropped connection is raised to it rather than left to a server.
_IN_PROCESS: contextvars.ContextVar[bool] = contextvars.ContextVar("fake_vozo_in_process", default=False)


class _Drop(Exception):
    """Raised inside a started response, so that the server closes the connection without finishing it."""


def _check_settings(keys: set[str], max_active_jobs: object, step_seconds: object) -> None:
    """Settings no client could meet are refused here, not met later as a puzzling 401 or a job that never ends."""
    for number, key in enumerate(sorted(keys, key=repr), start=1):  # never quoted: it may be a real key
        if not isinstance(key, str) or not key or not all("!" <= char <= "~" for char in key):
            raise InvalidInputError(
                f"FakeVozo's keys must be printable ASCII without spaces, as a client sends them in a header: key "
                f"{number} of {len(keys)} is not"
            )
    if isinstance(max_active_jobs, bool) or not isinstance(max_active_jobs, int) or max_active_jobs < 0:
        raise InvalidInputError(
            f"max_active_jobs must be a whole number >= 0 (0: every create refused with 1304), got {max_active_jobs!r}"
        )
    if isinstance(step_seconds, bool) or not isinstance(step_seconds, int | float) or not 0 < step_seconds < math.inf:
        raise InvalidInputError(f"step_seconds must be a number of seconds > 0, got {step_seconds!r}")


def _check_parts(clock: object, faults: object) -> None:
    """A clock or faults the fake cannot use made every answer a 500, which clients retry: refused here instead."""
    # Not called here: a test's clock may read state not made yet. A class (ManualClock itself) makes an instance
    # when called, never a number of seconds.
    if not callable(clock) or isinstance(clock, type):
        raise InvalidInputError(
            "clock must be a function returning seconds, such as time.monotonic or a ManualClock() instance, got "
            f"{getattr(clock, '__qualname__', type(clock).__name__)}"
        )
    if faults is not None and not isinstance(faults, Faults):
        raise InvalidInputError(f"faults must be a Faults(...) or None, got {type(faults).__name__}")


class InProcessTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """FakeVozo in process, for ``httpx.Client`` and ``httpx.AsyncClient`` alike.

    The app is asynchronous (asyncio): a sync client's requests, and an async client's under another event loop
    library (trio), run on an event loop of the transport's own, in a daemon thread (it cannot keep a process from
    exiting), started at the first one and stopped by ``close``."""

    def __init__(self, app: FakeVozo) -> None:
        self._asgi = httpx.ASGITransport(app=app)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not _asyncio_running():  # trio: the app needs asyncio, which it finds on the transport's thread
            import anyio.to_thread

            return await anyio.to_thread.run_sync(self.handle_request, request)
        token = _IN_PROCESS.set(True)
        try:
            return await self._asgi.handle_async_request(request)
        except _Drop:  # a reset or truncation fault
            raise httpx.RemoteProtocolError("FakeVozo dropped the connection before its answer was complete") from None
        finally:
            _IN_PROCESS.reset(token)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()  # a sync body, as a stream the app can read asynchronously

        async def answer() -> httpx.Response:
            response = await self.handle_async_request(request)
            return httpx.Response(response.status_code, headers=response.headers, content=await response.aread())

        # Submitted under the lock that close() stops the loop under: a request is either queued before the stop
        # (then cancelled with the loop's other tasks) or runs on a new loop, never left on a stopped one.
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                threading.Thread(
                    target=_run_until_stopped, args=(self._loop,), name="fake-vozo-in-process", daemon=True
                ).start()
            future = asyncio.run_coroutine_threadsafe(answer(), self._loop)
        try:
            return future.result()
        except concurrent.futures.CancelledError:  # close() stopped the loop under it (another thread's)
            raise httpx.RemoteProtocolError(
                "FakeVozo's in-process transport was closed before its answer was complete"
            ) from None

    def close(self) -> None:
        with self._lock:
            loop, self._loop = self._loop, None
            if loop is not None:
                loop.call_soon_threadsafe(loop.stop)

    async def aclose(self) -> None:
        self.close()  # the thread's loop, if trio's requests started it


def _run_server(server: Any) -> None:
    with contextlib.suppress(SystemExit):  # uvicorn exits its thread when it cannot listen: serve() says so
        server.run()


def _asyncio_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _run_until_stopped(loop: asyncio.AbstractEventLoop) -> None:
    loop.run_forever()
    left = asyncio.all_tasks(loop)  # the app's callback ticker: cancelled, not destroyed pending
    for task in left:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
    loop.close()


class FakeVozo:
    """A stateful local Vozo, and an ASGI application. See the ``vozo.testing`` module for how to use it.

    ``step_seconds``: how long each status lasts, on ``clock`` (``time.monotonic`` unless given; pass a
    ``ManualClock`` and move it with ``advance`` for tests that must not depend on the machine's pace).
    ``max_active_jobs``: per-key limit, queued jobs included, beyond which a create gets 429 with code 1304.
    ``fail_when(job_type, body)``: returns Vozo's ``(code, message)`` for a job that must end in ``failed``.
    Callbacks go only to loopback hosts unless ``external_callbacks`` is set (a test must not reach the world).
    ``spec``: the OpenAPI document served (a mapping or a YAML/JSON file; default the package's ``vozo.yaml``).
    Keys (``api_keys``, ``revoked_keys``) are checked on every operation, jobs' included, as the spec's ``security``
    says (not for ``security: []``), and read where its security scheme puts them (``Authorization: Bearer``, an
    apiKey header, query parameter or cookie).
    """

    def __init__(
        self,
        *,
        api_keys: Iterable[str] = ("test-key",),
        revoked_keys: Iterable[str] = (),
        max_active_jobs: int = 10,
        step_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        faults: Faults | None = None,
        fail_when: Callable[[JobType, dict[str, JSON]], tuple[str, str] | None] | None = None,
        external_callbacks: bool = False,
        spec: Mapping[str, Any] | str | os.PathLike[str] | None = None,
    ) -> None:
        for name, keys in (("api_keys", api_keys), ("revoked_keys", revoked_keys)):
            if isinstance(keys, str | bytes):  # set("test-key") would be its letters, each a key
                raise InvalidInputError(f"{name} takes a list of keys, got one string: pass {name}=[key]")
        self.api_keys = set(api_keys)
        self.revoked_keys = set(revoked_keys)
        _check_settings(self.api_keys | self.revoked_keys, max_active_jobs, step_seconds)
        _check_parts(clock, faults)
        self.max_active_jobs = max_active_jobs
        self.step_seconds = step_seconds
        self.clock = clock
        self.faults = faults or Faults()
        self.fail_when = fail_when
        self.external_callbacks = external_callbacks
        self.jobs: dict[str, FakeJob] = {}
        # Jobs with a callback_url and stages still to send: the ticker looks at these only, not at every job.
        self._to_notify: dict[str, FakeJob] = {}
        self.create_requests: list[CreateRequest] = []  # every create the fake handled, in order
        self.callbacks: list[tuple[str, str, int | str]] = []  # (task_id, status, HTTP status or error)
        self.injected: Counter[str] = Counter()  # faults served, by Faults field name
        self.requests: Counter[str] = Counter()  # API requests received, by "METHOD /path" (task ids as {task_id})
        self._failures: list[tuple[str, str]] = []
        self._hold: CreateHold | None = None
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._ticker: asyncio.Task[None] | None = None
        self.spec = _spec.Spec(_spec.load(spec))
        self._starlette = Starlette(routes=self._routes(), lifespan=self._lifespan)

    def _routes(self) -> list[Route]:
        """A lifecycle for each job kind, a canned answer for every other operation of the spec, the result files.

        Every route is an operation of the spec, whose ``security`` decides whether it needs a key."""
        kinds = all_kinds()
        operations = {(op.method, op.path): op for op in self.spec.operations()}
        by_status_path: dict[str, list[JobKind]] = {}
        used: dict[tuple[str, str], str] = {}  # the job operations, and the kind that names each first
        for kind in kinds:  # kinds may share a status endpoint (reusable-model jobs: the lipsync one)
            by_status_path.setdefault(kind.status_path, []).append(kind)
            used.setdefault(("POST", kind.create_path), kind.name)
            used.setdefault(("GET", kind.status_path), kind.name)
        missing = [
            f"{method} {path} ({name})" for (method, path), name in used.items() if (method, path) not in operations
        ]
        if missing:
            raise InvalidInputError(  # a ValueError too, as it was
                f"FakeVozo(spec=...): the spec lacks operations this SDK's job kinds use: {', '.join(missing)}"
            )
        routes = [self._route(operations["POST", kind.create_path], partial(self._create, kind=kind)) for kind in kinds]
        for path, sharing in by_status_path.items():
            # A status the spec opens to callers without a key is anyone's who knows the task id.
            status, names = operations["GET", path], tuple(kind.name for kind in sharing)
            routes.append(self._route(status, partial(self._status, types=names, owner_only=status.needs_key)))
        others = [op for where, op in operations.items() if where not in used]
        routes += [self._route(op, partial(self._operation, operation=op)) for op in others]
        routes.append(Route("/media/{task_id}/{name}", self._media, methods=["GET"]))
        return routes

    # --- use from tests -------------------------------------------------------------------------------------------

    def fail_next(self, code: str = "20601", message: str = "There are no faces in the picture.") -> None:
        """The next job created ends in ``failed`` with Vozo's job error ``code``."""
        self._failures.append((code, message))

    def hold_creates(self) -> CreateHold:
        """Hold the answers of the creates from now on (each job is created): they go out at the hold's ``release()``.

        ``with fake.hold_creates() as hold:`` ... ``hold.held.wait(10)``: a create reached the fake and its job
        exists; the client still waits for its task id.
        """
        self._hold = CreateHold()
        return self._hold

    def advance(self, seconds: float) -> None:
        """Move a ``ManualClock`` forward: jobs reach the statuses due by then (``advance(step_seconds)``: one)."""
        if not isinstance(self.clock, ManualClock):
            raise InvalidInputError("advance() needs FakeVozo(clock=ManualClock()); this fake runs on another clock")
        self.clock.advance(seconds)

    def transport(self) -> InProcessTransport:
        """For ``httpx.Client(transport=...)`` or ``httpx.AsyncClient(transport=...)``: in-process, no socket
        (callbacks need ``serve``)."""
        return InProcessTransport(self)

    @contextlib.contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Run on a real socket in a background thread; yields the base URL. ``port=0``: a free port."""
        import uvicorn

        if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
            raise InvalidInputError(f"port must be a whole number from 0 to 65535 (0: a free one), got {port!r}")
        config = uvicorn.Config(self, host=host, port=port, log_level="critical", lifespan="on")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=_run_server, args=(server,), name="fake-vozo", daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise VozoError(  # uvicorn's log of why is off
                    f"FakeVozo cannot listen on {host}:{port}: the port may be in use, or {host} not an address of "
                    "this machine (pass port=0 for a free port)"
                )
            time.sleep(0.01)
        bound = server.servers[0].sockets[0].getsockname()[1]
        url_host = f"[{host}]" if ":" in host else host  # an IPv6 address is bracketed in a URL
        try:
            yield f"http://{url_host}:{bound}"
        finally:
            if self._hold is not None:  # a held answer would keep the server from shutting down
                self._hold.release()
            server.should_exit = True
            thread.join(timeout=10)

    def status_of(self, task_id: str) -> dict[str, JSON]:
        """The body the status endpoint would answer for ``task_id`` now (its links at the base URL of its create)."""
        job = self.jobs.get(task_id)
        if job is None:
            raise InvalidInputError(
                f"this FakeVozo has no job {task_id!r}: pass a task id one of its creates returned (fake.jobs holds "
                "them)"
            )
        return self._status_body(job, job.base_url)

    # --- the ASGI app -----------------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """FakeVozo is an ASGI application."""
        if scope["type"] == "http":
            self._ensure_ticker()
        try:
            await self._starlette(scope, receive, send)
        except _Drop:
            if _IN_PROCESS.get():
                raise  # no connection to drop: InProcessTransport raises what a dropped one would
            return  # the response was started and not finished: the connection is dropped mid-way

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> Any:
        self._ensure_ticker()
        yield
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker

    def _ensure_ticker(self) -> None:
        if self._ticker is None or self._ticker.done():
            self._ticker = asyncio.get_running_loop().create_task(self._fire_callbacks_forever())

    # --- faults and auth, around every API request --------------------------------------------------------------------

    async def _api(self, request: Request, operation: _spec.Operation, handle: Callable[[str], Any]) -> Response:
        faults = self.faults
        template = request.url.path.replace(request.path_params.get("task_id", "\0"), "{task_id}")
        self.requests[f"{request.method} {template}"] += 1
        if faults.slow:
            self.injected["slow"] += 1
            await asyncio.sleep(faults.slow)
        if self._inject("stall"):
            await _stall(faults.stall_until)
        key = _presented_key(request, operation.key_places)  # "" is none: `security: []` answers without one
        if operation.needs_key:
            if key not in self.api_keys | self.revoked_keys:
                return self._error(401, "7", "No permission to request.")
            if key in self.revoked_keys:
                return self._error(401, "1302", "API key has been revoked.")
        if faults.burst > 0:
            faults.burst -= 1
            self.injected["burst"] += 1
            if faults.burst_status == 429:
                return self._error(429, "429", "Too many requests.", retry_after=faults.retry_after)
            return self._error(faults.burst_status, "1000", "Internal Server Error.")
        if self._inject("rate_limit"):
            return self._error(429, "429", "Too many requests.", retry_after=faults.retry_after)
        if self._inject("reset_before"):
            return _DroppedResponse(b'{"task_id": "', "application/json")  # nothing was handled
        response: Response = await handle(key)
        if self._inject("reset_after"):
            return _DroppedResponse(bytes(response.body), "application/json")  # handled; the answer is lost
        if response.status_code == 200 and self._inject("malformed_json"):
            return Response(response.body[: len(response.body) // 2], media_type="application/json")
        return response

    def _inject(self, fault: str) -> bool:
        """Draw whether this request gets ``fault`` (a share in Faults), counting those that do."""
        hit = self.faults.roll(getattr(self.faults, fault))
        if hit:
            self.injected[fault] += 1
        return hit

    def _error(self, status: int, code: str, message: str, *, retry_after: str | None = None) -> Response:
        headers = {}
        if retry_after is not None:
            headers["Retry-After"] = (
                formatdate(time.time() + 1, usegmt=True) if retry_after == "http-date" else retry_after
            )
        if self.faults.html_errors and status >= 500:
            page = f"<html><head><title>{status}</title></head><body><h1>{status} {message}</h1></body></html>"
            return Response(page, status_code=status, media_type="text/html", headers=headers)
        body = {"code": code, "message": message, "serverTs": str(int(time.time() * 1000))}
        return JSONResponse(body, status_code=status, headers=headers)

    # --- operations -----------------------------------------------------------------------------------------------

    def _route(self, operation: _spec.Operation, handle: Callable[[Request, str], Awaitable[Response]]) -> Route:
        """``operation``'s route: ``handle(request, key)`` behind the faults and key checks of every API request."""

        async def endpoint(request: Request) -> Response:
            return await self._api(request, operation, lambda key: handle(request, key))

        return Route(operation.path, endpoint, methods=[operation.method])

    async def _operation(self, request: Request, _key: str, operation: _spec.Operation) -> Response:
        """An operation that is not a job: its request body checked, its success response's example answered."""
        if operation.takes_json and (operation.body_required or await request.body()):
            checked = await self._checked_body(request, operation.method, operation.path)
            if isinstance(checked, Response):
                return checked
        if not operation.has_body:
            return Response(status_code=operation.status)
        return JSONResponse(operation.body, status_code=operation.status)

    async def _checked_body(self, request: Request, method: str, path: str) -> Any:
        """The request's JSON body, valid against the spec; else the 400 Vozo answers."""
        if "json" not in request.headers.get("content-type", ""):
            return self._error(400, "5", "Invalid request parameters: the body must be JSON.")
        try:
            body = read_json(await request.body(), parse_constant=_refuse_constant)
        except ValueError:
            return self._error(400, "5", "Invalid request parameters: the body is not valid JSON.")
        problem = self.spec.first_error(method, path, body)
        if problem is not None:
            return self._error(400, "5", f"Invalid request parameters: {problem}")
        return body

    async def _create(self, request: Request, key: str, kind: JobKind) -> Response:
        body = await self._checked_body(request, "POST", kind.create_path)
        if isinstance(body, Response):
            return body
        now = self.clock()
        with self._lock:
            active = sum(1 for job in self.jobs.values() if job.api_key == key and not self._finished(job, now))
            if active >= self.max_active_jobs:
                # Vozo documents no Retry-After for 1304, so none is sent: clients must pace themselves.
                return self._error(429, "1304", "API key has reached the maximum number of concurrent requests.")
            job_type = kind.name
            # The status enum's values in order, done last: whatever stages the spec lists, the fake walks them,
            # but for the ends that are not done (failed, cancelled, expired: a wait would stop there).
            stages = (*(value for value in kind.statuses if value != DONE and not ends_the_job(value)), DONE)
            if self.faults.unknown_status:
                self.injected["unknown_status"] += 1
                stages = (*stages[:-1], self.faults.unknown_status, stages[-1])
            task_id = f"{job_type[:2]}-{next(self._ids):06d}-{uuid.uuid4().hex[:8]}"
            failure = self._failures.pop(0) if self._failures else None
            if failure is None and self.fail_when is not None:
                failure = self.fail_when(job_type, body)
            base_url = str(request.base_url).rstrip("/")
            job = self.jobs[task_id] = FakeJob(task_id, job_type, key, body, now, stages, failure, base_url=base_url)
            if job.callback_url is not None:
                self._to_notify[task_id] = job
            self.create_requests.append({"task_id": task_id, "type": job_type, "body": body})
        if self._hold is not None:
            await self._hold._until_released(task_id)
        answer = self.spec.complete({"task_id": task_id}, self.spec.answer_schema("post", kind.create_path))
        create = self.spec.document.get("paths", {}).get(kind.create_path, {}).get("post", {})
        return JSONResponse(answer, status_code=self.spec.success_code(create))  # 200, or the 202 the spec says

    async def _status(self, request: Request, key: str, types: tuple[JobType, ...], owner_only: bool) -> Response:
        job = self.jobs.get(request.path_params["task_id"])
        if job is None or (owner_only and job.api_key != key) or job.type not in types:
            return self._error(404, "5", "Task not found.")
        return JSONResponse(self._status_body(job, str(request.base_url).rstrip("/")))

    async def _media(self, request: Request) -> Response:
        job, name = self.jobs.get(request.path_params["task_id"]), request.path_params["name"]
        if job is None or self._stage(job, self.clock()) != "done":
            return Response("not found", status_code=404)
        served = _media.result_file(name, str(job.body.get("target_language", "en")))
        if served is None:
            return Response("not found", status_code=404)
        content, media_type = served
        if self._inject("truncate_downloads"):
            return _DroppedResponse(content, media_type)
        return Response(content, media_type=media_type)

    # --- job state --------------------------------------------------------------------------------------------------

    def _index(self, job: FakeJob, now: float) -> int:
        # The epsilon absorbs float sums: six advance(0.05) make 0.30000000000000004 - or 0.29999999999999993.
        return min(int((now - job.created) / self.step_seconds + 1e-9), len(job.stages) - 1)

    def _stage(self, job: FakeJob, now: float, index: int | None = None) -> str:
        index = self._index(job, now) if index is None else index
        if index == len(job.stages) - 1 and job.failure is not None:
            return "failed"
        return job.stages[index]

    def _finished(self, job: FakeJob, now: float) -> bool:
        return self._index(job, now) == len(job.stages) - 1

    def _status_body(self, job: FakeJob, base_url: str, index: int | None = None) -> dict[str, Any]:
        status = self._stage(job, self.clock(), index)
        body: dict[str, Any] = {"status": status}
        media = f"{base_url}/media/{job.task_id}"
        kind = kind_named(job.type)
        if status == FAILED and job.failure is not None:
            code_field, message_field = kind.error_fields
            body[code_field or "err_code"], body[message_field or "err_message"] = job.failure
        elif status == DONE:
            for name, keys in kind.results:  # a small real file of the right type for each result URL field
                if name in _not_made(job.body):
                    continue
                where = body
                for key in keys[:-1]:
                    where = where.setdefault(key, {})
                where[keys[-1]] = f"{media}/{_media.file_name(name, kind.result_suffixes)}"
        return self.spec.complete(body, self.spec.answer_schema("get", kind.status_path))

    # --- callbacks --------------------------------------------------------------------------------------------------

    async def _fire_callbacks_forever(self) -> None:
        async with httpx.AsyncClient(timeout=5) as http:
            while True:
                await self.fire_callbacks(http)
                await asyncio.sleep(min(self.step_seconds / 4, 0.25))

    async def fire_callbacks(self, http: httpx.AsyncClient) -> None:
        """POST each job's status to its callback_url for every stage it reached since the last call, in order."""
        now = self.clock()
        for job in list(self._to_notify.values()):
            url = job.callback_url
            if url is None or self.jobs.get(job.task_id) is not job:  # a test took it out of fake.jobs
                self._to_notify.pop(job.task_id, None)
                continue
            reached = self._index(job, now)
            while job.notified < reached:
                job.notified += 1
                body = self._status_body(job, job.base_url, job.notified)
                if not (self.external_callbacks or is_loopback(httpx.URL(url).host)):
                    self.callbacks.append((job.task_id, body["status"], "refused: not a loopback host"))
                    continue
                try:
                    sent = await http.post(url, json=body)
                    self.callbacks.append((job.task_id, body["status"], sent.status_code))
                except httpx.HTTPError as exc:
                    self.callbacks.append((job.task_id, body["status"], f"{type(exc).__name__}: {exc}"))
            if job.notified == len(job.stages) - 1:  # its last stage is sent: nothing left to send
                self._to_notify.pop(job.task_id, None)


class _DroppedResponse(Response):
    """Starts a 200 whose Content-Length promises the whole body, sends half, then drops the connection.

    (An exception before the response starts would become a clean 500; a started one makes the server close.)
    """

    def __init__(self, content: bytes, media_type: str) -> None:
        super().__init__(content, media_type=media_type)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self.body[: len(self.body) // 2], "more_body": True})
        raise _Drop


def _presented_key(request: Request, places: Iterable[_spec.KeyPlace]) -> str:
    """The key in the first of ``places`` that holds one, "" when none does."""
    sources = {"header": request.headers, "query": request.query_params, "cookie": request.cookies}
    for place in places:
        value = sources[place.where].get(place.name, "")
        if place.scheme is not None:
            scheme, _, value = value.partition(" ")
            value = value if scheme.lower() == place.scheme else ""
        if value.strip():
            return value.strip()
    return ""


def _refuse_constant(name: str) -> Any:
    """NaN and Infinity are not JSON (RFC 8259), though Python's parser takes them: refused as a strict server would."""
    raise ValueError(f"{name} is not JSON")
