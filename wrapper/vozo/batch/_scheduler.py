"""Running a batch in one process on ``AsyncVozo``: a bounded number of jobs at Vozo, one shared poller with a
backoff per job, parallel streamed downloads, and every transition committed to the journal first.

Vozo caps each API key at a few concurrent jobs, queued ones included (5 or 10 per its docs, error code 1304
beyond); translate & dub is limited independently of lipsync. So each family (lipsync with reusable-model lipsync,
and translation) has its own limit, ``max_active`` at most. A 1304 lowers it to the jobs Vozo accepted and pauses
that family's submissions; a plain 429 (too many requests) only pauses them: a slow-down, never a failed row.
Nothing here holds a thread per job: jobs are rows in the journal, entries in a heap and, only while a request is
in flight, a task.

One row's trouble never costs another row anything: whatever breaks a row's download parks that row
(``download_failed``), a create answered without a usable task id makes its row ``uncertain``, and when the run
stops for any reason (cancelled, Ctrl-C, a bug) the creates already sent get ``CREATE_GRACE`` seconds to land their
task id in the journal before anything is cancelled: a job Vozo created and billed is never lost to another row.

Built on anyio (task group, cancel scopes), like ``AsyncVozo``, so a batch runs under asyncio and trio alike. A
create runs in a shielded cancel scope: a shutdown, or another row's failure, does not cancel it; the shutdown gives
it a deadline instead (CREATE_GRACE). Every other step is cancelled at once (the next run starts it again).

Memory stays bounded by the rows in flight: a row waiting in a queue is its key and kind, a finished row only a
count; a row's fields, poller and last status exist while this run works on it.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import json
import random
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from vozo._arguments import CallbackReturn
from vozo._async._client import AsyncVozo
from vozo._async._resource import AsyncJobResource
from vozo._errors import (
    APIConnectError,
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    DownloadError,
    InvalidInputError,
    JobFailedError,
    JobTimeoutError,
    PermissionDeniedError,
    RateLimitError,
    VozoError,
    excerpt,
)
from vozo._jobs import (
    DEFAULT_POLL_INTERVAL,
    DEFAULT_WAIT_TIMEOUT,
    DONE,
    MAX_POLL_INTERVAL,
    Poller,
    check_wait_arguments,
)
from vozo._kinds import all_kinds, kind_named, status_value
from vozo._logging import logger
from vozo.batch._journal import FINAL_STATES, Journal, JournalError, JournalReplacedError, RowHead, RowState
from vozo.batch._outputs import output_name, result_links
from vozo_api_client.models import Job

DEFAULT_MAX_ACTIVE = 5  # the lowest per-key cap Vozo documents (older lipsync pages say 5, newer ones 10)
DEFAULT_CONCURRENCY = 8  # API requests (creates and status checks) in flight at once
DEFAULT_DOWNLOADS = 4  # result downloads in flight at once
DOWNLOAD_ROUNDS = 3  # a download that keeps failing is left for the next run after this many rounds
CREATE_GRACE = 5.0  # seconds a stopping run gives creates already sent to bring back their task id
CONCURRENCY_LIMIT_CODE = "1304"  # Vozo: the key has reached its maximum number of concurrent jobs
_AT_VOZO = (RowState.SUBMITTED, RowState.DOWNLOADING, RowState.DOWNLOAD_FAILED)  # a task id to follow
_LIMIT_PROBE_AFTER = 30.0  # seconds without a slow-down before a lowered limit grows again
_MAX_PAUSE = 60.0
_UNREACHED_TRIES = 8  # creates that found no server, paused 0.5 s, 1 s, ... 32 s apart: about a minute
ASYNC_ON_PROGRESS = (
    "on_progress must be a plain function: the batch calls it on every change of a row's state, without awaiting, "
    "so an async def one would never run (hand its work to a task or a queue instead)"
)


def check_options(*, max_active: int, concurrency: int, downloads: int, poll_interval: float, timeout: float) -> None:
    """Refuse a run's options before anything is sent: found when the first job is polled, they came too late."""
    if min(max_active, concurrency, downloads) < 1:
        raise InvalidInputError("max_active, concurrency and downloads must be at least 1")
    check_wait_arguments(timeout, poll_interval)


def family(kind: str) -> str:
    """Jobs sharing one concurrency cap (the spec's families: translate & dub is limited apart from lipsync)."""
    return kind_named(kind).family


@dataclass(frozen=True)
class BatchProgress:
    """A snapshot for progress displays."""

    counts: dict[RowState, int]
    total: int
    finished_this_run: int
    elapsed: float
    slowdowns: int  # 1304/429 answers (and unreachable moments) that paused submissions
    paused: str | None = None  # why submissions are paused at this moment (the refusal that paused them), else None

    @property
    def remaining(self) -> int:
        return self.total - sum(n for state, n in self.counts.items() if state in FINAL_STATES)

    @property
    def rate(self) -> float:
        """Rows finished per minute in this run."""
        return self.finished_this_run / self.elapsed * 60 if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds until every row is final at the current rate, or None before any row finished."""
        return self.remaining / self.rate * 60 if self.rate > 0 else None


@dataclass(eq=False)
class _Work:
    """A row this run is working on (submitting, polling, downloading); dropped once the run is done with it."""

    key: str
    kind: str
    state: RowState
    task_id: str | None = None
    status: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    poller: Poller[Any] | None = None
    due: float = 0.0  # when its next step is due (time.monotonic)
    download_rounds: int = 0


class Runner:
    def __init__(
        self,
        client: AsyncVozo,
        journal: Journal,
        out: Path,
        *,
        max_active: int = DEFAULT_MAX_ACTIVE,
        concurrency: int = DEFAULT_CONCURRENCY,
        downloads: int = DEFAULT_DOWNLOADS,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        on_progress: Callable[[BatchProgress], object] | None = None,
    ) -> None:
        check_options(max_active=max_active, concurrency=concurrency, downloads=downloads,
                      poll_interval=poll_interval, timeout=timeout)  # fmt: skip
        self.client = client
        # Refusals (429, 1304) and connect failures are this scheduler's to pace, per family: no client retries.
        self._creator = client.with_options(max_retries=0)
        self.journal = journal
        self.out = out.absolute()  # the journal's file paths must name the same files from wherever a run starts
        self.max_active = max_active
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.on_progress = on_progress
        self._progress_returned = CallbackReturn("on_progress", refusal=ASYNC_ON_PROGRESS)
        self.stopped: str | None = None  # why no more jobs are submitted (the key was refused, Vozo never reached)
        self.stopped_by: VozoError | None = None  # the error that said so
        self._answered = False  # Vozo's API answered a request of this run: a failed connection is then an outage
        self.slowdowns = 0
        self._requests = anyio.Semaphore(concurrency)
        self._downloads = anyio.Semaphore(downloads)
        families = {kind.family for kind in all_kinds()}
        self._limits = dict.fromkeys(families, max_active)
        self._active: dict[str, set[str]] = {name: set() for name in families}
        self._queues: dict[str, deque[tuple[str, str]]] = {name: deque() for name in families}  # (key, kind)
        self._paused_until = dict.fromkeys(families, 0.0)
        self._paused_by: dict[str, str] = {}  # family -> the refusal that paused it last
        self._last_slowdown = dict.fromkeys(families, -_LIMIT_PROBE_AFTER)
        self._pauses = Counter[str]()
        self._due: list[tuple[float, int, _Work]] = []  # the shared poller: (when, tie-break, row)
        self._watches: dict[str, contextlib.ExitStack] = {}  # row key -> its job, watched for the client's governor
        self._order = itertools.count()
        self._steps: anyio.abc.TaskGroup | None = None
        self._in_flight = 0  # steps started and not ended
        self._sending: set[anyio.CancelScope] = set()  # creates that may be in flight: see _shut_down
        self._closing = False
        self._crash: BaseException | None = None
        self._unrecorded: dict[str, str] = {}  # row key -> a task id that came back but could not be journalled
        self._wake = anyio.Event()
        self._started = time.monotonic()
        self._finished = 0
        self._total = 0
        self._counts = Counter[RowState]()
        for head in journal.heads():
            self._total += 1
            self._counts[head.state] += 1
            self._resume(head)

    def _resume(self, head: RowHead) -> None:
        if head.state is RowState.QUEUED:
            self._queues[family(head.kind)].append((head.key, head.kind))
        elif head.state in _AT_VOZO and head.task_id:
            if head.state is RowState.SUBMITTED:
                self._active[family(head.kind)].add(head.key)
            work = _Work(head.key, head.kind, head.state, head.task_id, head.status, dict(head.outputs))
            self._start_polling(work, delay=0.0)  # resumed: ask Vozo where the job is now (and for fresh links)

    # --- the loop -------------------------------------------------------------------------------------------------

    async def run(self) -> None:
        try:
            async with anyio.create_task_group() as steps:
                self._steps = steps
                try:
                    await self._loop()
                finally:
                    self._shut_down()  # then the task group waits for the creates it spared
        finally:
            for watch in self._watches.values():  # no longer polled: a create waiting for a slot asks after them
                watch.close()
            self._watches.clear()
            self._report()
        if self._crash is not None:
            raise self._naming_unrecorded(self._crash)  # alone, not in an exception group: the caller sees what broke

    def _naming_unrecorded(self, crash: BaseException) -> BaseException:
        """The journal error that stopped the run, naming every task id it could not take: the others' creates,
        spared by the shutdown, may have failed on the same full disk, and their jobs exist (paid)."""
        if not isinstance(crash, JournalError) or isinstance(crash, JournalReplacedError) or not self._unrecorded:
            return crash  # a replaced journal's error names every task id the batch sent (Journal.replaced_error)
        ids = ", ".join(f"{key}: {task_id}" for key, task_id in self._unrecorded.items())
        logger.error("batch task ids not in the journal: %s", ids)
        named = JournalError(
            f"{crash} The journal could not take the task ids of {len(self._unrecorded)} job(s) Vozo created (paid "
            f"jobs; the next run leaves their rows uncertain, never submitted again): {ids}. Keep them."
        )
        named.task_id = next(iter(self._unrecorded.values()))
        return named

    async def _loop(self) -> None:
        self._report()
        while True:
            self._start_due_work()
            if self._crash is not None:
                return
            if not self._in_flight and not self._due and not self._can_submit():
                return
            await self._sleep()

    def _shut_down(self) -> None:
        """Stop every step, except creates already sent: they get CREATE_GRACE seconds to land their task id."""
        self._closing = True
        deadline = anyio.current_time() + CREATE_GRACE
        for sending in self._sending:
            sending.deadline = min(sending.deadline, deadline)  # a create with no answer by then stays submitting
        assert self._steps is not None
        self._steps.cancel_scope.cancel()  # a poll or a download: the next run starts it again

    def _can_submit(self) -> bool:
        return self.stopped is None and any(self._queues.values())

    def _start_due_work(self) -> None:
        now = time.monotonic()
        for name, queue in self._queues.items():
            while (
                queue
                and self.stopped is None
                and len(self._active[name]) < self._limits[name]
                and now >= self._paused_until[name]
            ):
                key, kind = queue.popleft()
                self._active[name].add(key)
                self._spawn(self._submit, _Work(key, kind, RowState.QUEUED))
        while self._due and self._due[0][0] <= now:
            self._spawn(self._poll, heapq.heappop(self._due)[2])

    async def _sleep(self) -> None:
        """Until a step ends, the next poll is due, or a paused queue may submit again."""
        now = time.monotonic()
        wake_at = [self._due[0][0]] if self._due else []
        if self.stopped is None:
            wake_at += [
                self._paused_until[name]
                for name, queue in self._queues.items()
                if queue and len(self._active[name]) < self._limits[name]
            ]
        self._wake = anyio.Event()  # no await since _start_due_work, so no wake-up can be missed
        with anyio.move_on_after(max(0.0, min(wake_at) - now) if wake_at else None):
            await self._wake.wait()

    def _spawn(self, step: Callable[..., Awaitable[None]], *args: Any) -> None:
        assert self._steps is not None
        self._in_flight += 1
        self._steps.start_soon(self._guarded, step, *args)

    async def _guarded(self, step: Callable[..., Awaitable[None]], *args: Any) -> None:
        try:
            await step(*args)
        except Exception as exc:  # a bug, not a Vozo error: surface it instead of hanging
            if self._crash is None:
                self._crash = exc
        finally:
            self._in_flight -= 1
            self._wake.set()

    # --- one row's steps ------------------------------------------------------------------------------------------

    async def _submit(self, work: _Work) -> None:
        async with self._requests:
            # Shielded: neither a shutdown nor another row's failure cancels a create; _shut_down sets its deadline.
            with anyio.CancelScope(shield=True) as sending:
                self._sending.add(sending)
                try:
                    if not self._closing:
                        await self._create(work)
                finally:
                    self._sending.discard(sending)

    async def _create(self, work: _Work) -> None:
        fields = await self.journal.in_thread(self.journal.mark_submitting, work.key)  # committed before sending
        if self._closing:  # the run began stopping during that commit: this row was not sent
            await self._requeue(work, "not sent yet: the run stopped")
            return
        self._set_state(work, RowState.SUBMITTING)
        sent = time.monotonic()
        job = await self._send(work, fields)
        if job is None:
            return
        task_id = work.task_id = job.task_id  # usable: create() refuses an answer without one (the row is uncertain)
        self._watch(work)  # at once: no other task runs between the governor learning of the job and this
        self._pauses[family(work.kind)] = 0
        status_path = kind_named(work.kind).status_path
        kinds_sharing_status = [kind.name for kind in all_kinds() if kind.status_path == status_path]
        try:
            holder = await self.journal.in_thread(self.journal.record_task_id, work.key, task_id, kinds_sharing_status)
        except JournalError as exc:
            exc.task_id = task_id  # the job exists: its id must reach the user some way
            self._unrecorded[work.key] = task_id  # named by the error run() raises: only the first crash is raised
            raise
        if holder is not None:  # two rows polling one job would both "complete" with its files: one is forged
            work.task_id = None
            await self._finish(
                work,
                RowState.UNCERTAIN,
                error=f"Vozo answered this row's create with task id {task_id!r}, which row {holder!r} already holds: "
                "this row's own job (if Vozo created and billed one) is unknown; look for it in your Vozo account",
            )
            return
        self._set_state(work, RowState.SUBMITTED)
        # The first look one interval after the job began (as the Poller's), not after the answer and this commit:
        # on short jobs their round trips would push every later look back.
        first = min(self.poll_interval, MAX_POLL_INTERVAL, self.timeout)
        self._start_polling(work, delay=max(0.0, sent + first - time.monotonic()))

    async def _send(self, work: _Work, fields: dict[str, Any]) -> Job | None:
        """The create request; None when its outcome was settled here (refused, failed or uncertain)."""
        try:
            resource = self._resource(work.kind, self._creator)
            create: Callable[..., Awaitable[Job]] = getattr(resource, "create")  # noqa: B009 - each kind's own
            job: Job = await create(**fields)
            self._answered = True
            return job
        except RateLimitError as exc:  # refused, no job created: 1304 too many jobs, or too many requests
            self._answered = True
            await self._slow_down(work, exc, exc.retry_after, lower_limit=exc.code == CONCURRENCY_LIMIT_CODE)
        except APIConnectError as exc:  # never reached Vozo
            await self._slow_down(work, exc, None, lower_limit=False)
            self._give_up_unreached(work, exc)
        except (AuthenticationError, PermissionDeniedError) as exc:  # the key cannot submit at all (104, 1302)
            self._stop(exc, str(exc))
            await self._requeue(work, f"not sent yet: {exc}")
        except InvalidInputError as exc:  # refused before sending
            await self._finish(work, RowState.INVALID, error=str(exc))
        except APIStatusError as exc:  # a 5xx answer: the job may exist; a 4xx refusal: certainly no job
            self._answered = True
            state = RowState.UNCERTAIN if exc.retryable else RowState.FAILED
            await self._finish(work, state, error=str(exc), error_code=exc.code)
        except Exception as exc:  # the request may have arrived, and no task id came back
            await self._finish(work, RowState.UNCERTAIN, error=_described(exc))
        return None

    async def _poll(self, work: _Work) -> None:
        assert work.poller is not None
        asked, status = await self._ask(work)
        if isinstance(status, VozoError):
            await self._poll_failed(work, status)
            return
        value = self.client._hide(status_value(status))  # the key masked, should a server echo it there
        changed, work.status = value != work.status, value
        if changed and value != DONE:  # done is written below, with the row's next state: one commit
            await self._commit(work.key, status=value)
        try:
            delay = work.poller.observe(status)
        except JobFailedError as exc:
            await self._finish(work, RowState.FAILED, error=str(exc), error_code=exc.code)
            return
        except JobTimeoutError as exc:
            await self._park(work, f"{exc}; run the batch again to keep waiting")
            return
        if delay is not None:
            # Counted from when this look was due, so neither the event loop's latency nor each answer's round trip
            # and journal write push every later look back: the Poller's lateness bounds hold, and a batch of short
            # jobs keeps its pace. A look made late (requests queued for their turn) is followed half a delay later.
            self._schedule_at(work, max(work.due + delay, asked + delay / 2))
            return
        self._leave_vozo(work)
        if work.state is not RowState.DOWNLOADING:
            await self._commit(work.key, status=value, state=RowState.DOWNLOADING)
            self._set_state(work, RowState.DOWNLOADING)
        elif changed:
            await self._commit(work.key, status=value)
        self._spawn(self._download, work, status)

    async def _ask(self, work: _Work) -> tuple[float, Any]:
        """When the look was made, and Vozo's status of the row's job or the VozoError that came instead."""
        assert work.task_id is not None
        async with self._requests:
            asked = time.monotonic()
            try:
                status = await self._resource(work.kind).get(work.task_id)
            except VozoError as exc:
                self._answered = self._answered or not isinstance(exc, APIConnectError)
                return asked, exc
            self._answered = True
            return asked, status

    async def _poll_failed(self, work: _Work, exc: VozoError) -> None:
        assert work.poller is not None
        try:
            delay = work.poller.transient(exc)  # an outage: keep polling until the row's deadline
        except JobTimeoutError as timeout:
            await self._park(work, f"{timeout}; run the batch again to keep waiting")
            return
        except VozoError as refused:
            if isinstance(refused, (AuthenticationError, PermissionDeniedError)):
                self._stop(refused, str(refused))
            await self._park(work, f"status check refused: {refused}; run the batch again to retry")
            return
        self._schedule(work, delay)

    async def _download(self, work: _Work, status: Any) -> None:
        async with self._downloads:
            try:
                kind = kind_named(work.kind)
                urls = result_links(kind, status)
                if not urls and kind.results:  # a kind whose status declares no result file is done when done
                    raise InvalidInputError(
                        f"the job is done but its status has no result URL: {_shown(status, self.client._hide)}"
                    )
                # A result downloaded before a crash is not fetched again.
                missing = [(which, url) for which, url in urls.items() if not _on_disk(work.outputs.get(which))]
                for which, url in missing:
                    name = output_name(work.key, work.kind, which, url)
                    target = await self.client.download(url, self.out / name, task_id=work.task_id)
                    work.outputs[which] = str(target)
                    if which != missing[-1][0]:  # the last one is written with the row's completion
                        await self._commit(work.key, outputs=work.outputs)
            except Exception as exc:  # whatever broke this row's download, the other rows go on
                await self._download_failed(work, exc)
                return
        await self._finish(work, RowState.COMPLETED, outputs=work.outputs, error=None, error_code=None)

    async def _download_failed(self, work: _Work, exc: Exception) -> None:
        """Try again with fresh links a few times when it may help; otherwise park the row for the next run."""
        work.download_rounds += 1
        problem = _described(exc)
        logger.warning("batch row %s: download failed: %s", work.key, problem)
        # The next round asks for the job's status again, so it downloads from fresh links: worth it for a link
        # that expired (or was refused as expired links are) as well as for a failure that may pass.
        expired = isinstance(exc, DownloadError) and exc.link_expired
        retryable = isinstance(exc, APIConnectionError) or (isinstance(exc, DownloadError) and exc.retryable)
        if (retryable or expired) and work.download_rounds < DOWNLOAD_ROUNDS:
            await self._commit(work.key, error=f"download failed, will retry: {problem}")
            backoff = min(self.poll_interval * 2**work.download_rounds, MAX_POLL_INTERVAL)
            self._schedule(work, _jitter(backoff))
            return
        error = f"download failed: {problem}; run the batch again to retry"
        await self._commit(work.key, state=RowState.DOWNLOAD_FAILED, error=error)
        self._set_state(work, RowState.DOWNLOAD_FAILED)

    # --- bookkeeping ----------------------------------------------------------------------------------------------

    async def _commit(self, key: str, **values: Any) -> None:
        """One row's transition, committed (off the event loop) before the caller's next step."""
        await self.journal.in_thread(self.journal.update, key, **values)

    def _resource(self, kind: str, client: AsyncVozo | None = None) -> AsyncJobResource[Any]:
        resource: AsyncJobResource[Any] = getattr(client or self.client, kind_named(kind).name)
        return resource

    def _start_polling(self, work: _Work, *, delay: float) -> None:
        assert work.task_id is not None
        kind = kind_named(work.kind)
        work.poller = Poller(
            kind, work.task_id, timeout=self.timeout, poll_interval=self.poll_interval, on_update=None,
            hide=self.client._hide,
        )  # fmt: skip
        self._watch(work)
        self._schedule(work, delay)

    def _watch(self, work: _Work) -> None:
        """The row's job is polled by this run, as a wait polls its job: the client's governor (max_active_jobs)
        leaves it to the run instead of asking after it too whenever a create waits for a slot."""
        if work.task_id is not None and work.key not in self._watches:
            watch = self._watches[work.key] = contextlib.ExitStack()
            watch.enter_context(self.client.jobs.watching(work.task_id))

    def _schedule(self, work: _Work, delay: float) -> None:
        self._schedule_at(work, time.monotonic() + delay)

    def _schedule_at(self, work: _Work, when: float) -> None:
        work.due = when
        heapq.heappush(self._due, (when, next(self._order), work))

    async def _slow_down(self, work: _Work, exc: VozoError, retry_after: float | None, *, lower_limit: bool) -> None:
        """Put the row back at the head of its queue and pause that queue: Retry-After, else a growing backoff."""
        name = family(work.kind)
        now = time.monotonic()
        self._active[name].discard(work.key)
        # Paused before the journal write below: the loop may run meanwhile, and must not send into the refusal.
        if lower_limit:
            self._limits[name] = max(1, len(self._active[name]))
            self._last_slowdown[name] = now
        if now >= self._paused_until[name]:  # else another refusal of the same moment: one slow-down, not several
            self.slowdowns += 1
            self._pauses[name] += 1  # consecutive slow-downs without a job accepted in between
            pause = backoff(self._pauses[name])
            if retry_after is not None and retry_after <= _MAX_PAUSE:  # Vozo said how long: at least that long
                # ... and no shorter than the refusals in a row call for: a `Retry-After: 0` answered to every
                # create had the run send them again at once, hundreds a second, each with a journal write.
                pause = max(retry_after, pause)
            self._paused_until[name] = now + pause
            why = f"{name} submissions paused for {pause:.2g} s, then tried again: {_refusal(exc)}"
            cap = " (every job of this key counts, queued ones and those sent outside this batch)"
            self._paused_by[name] = why + (cap if lower_limit else "")
        await self._requeue(work, f"not sent yet: {exc}")

    def _give_up_unreached(self, work: _Work, exc: APIConnectError) -> None:
        """A run that has not once reached Vozo's API stops submitting after its first minute of tries: a mistyped
        base URL, or a machine offline, kept a cron job trying for ever. Once Vozo has answered, an outage is waited
        through."""
        if not self._answered and self._pauses[family(work.kind)] >= _UNREACHED_TRIES:
            self._stop(exc, f"Vozo's API could not be reached ({_UNREACHED_TRIES} tries, no answer in this run): {exc}")

    def _stop(self, exc: VozoError, why: str) -> None:
        self.stopped, self.stopped_by = why, exc

    async def _requeue(self, work: _Work, reason: str) -> None:
        name = family(work.kind)
        self._active[name].discard(work.key)
        await self._commit(work.key, state=RowState.QUEUED, error=reason)
        self._set_state(work, RowState.QUEUED)
        self._queues[name].appendleft((work.key, work.kind))

    def _leave_vozo(self, work: _Work) -> None:
        """The job no longer counts against the key's cap; a lowered limit grows back once 1304s stop. The loop is
        woken at once: the next row is submitted while this one's step goes on (its commit, its download)."""
        if (watch := self._watches.pop(work.key, None)) is not None:  # polled no more in this run
            watch.close()
        name = family(work.kind)
        if work.key in self._active[name]:
            self._active[name].discard(work.key)
            self._wake.set()
            if time.monotonic() - self._last_slowdown[name] > _LIMIT_PROBE_AFTER:
                self._limits[name] = min(self.max_active, self._limits[name] + 1)

    async def _finish(self, work: _Work, state: RowState, **values: Any) -> None:
        self._leave_vozo(work)
        await self._commit(work.key, state=state, **values)
        self._set_state(work, state)
        self._finished += 1

    async def _park(self, work: _Work, message: str) -> None:
        """Stop working on the row in this run; its state (and task id) stay as they are for the next one."""
        self._leave_vozo(work)
        await self._commit(work.key, error=message)

    def _set_state(self, work: _Work, state: RowState) -> None:
        self._counts[work.state] -= 1
        self._counts[state] += 1
        work.state = state
        self._report()

    def _report(self) -> None:
        """Tell the display; an error of its own stops the run (cleanly, see run) instead of breaking this step."""
        if self.on_progress is None:
            return
        try:
            # called on every change, from steps that cannot await it
            self._progress_returned.last = self.on_progress(self.progress())
            self._progress_returned.sync_settle()
        except Exception as exc:  # raised again by run, once the steps in flight are safe
            if self._crash is None:
                self._crash = exc
            self._wake.set()

    def progress(self) -> BatchProgress:
        now = time.monotonic()
        paused = [self._paused_by[name] for name, until in sorted(self._paused_until.items()) if until > now]
        return BatchProgress(
            counts={state: n for state, n in self._counts.items() if n},
            total=self._total,
            finished_this_run=self._finished,
            elapsed=now - self._started,
            slowdowns=self.slowdowns,
            paused="; ".join(paused) or None,
        )


def _refusal(exc: VozoError) -> str:
    """What Vozo answered, without the advice its message gives a single call: the batch paces itself."""
    if not isinstance(exc, APIStatusError):
        return str(exc)
    code = f": code {exc.code} ({exc.code_description or exc.message})" if exc.code is not None else ""
    return f"{exc.status_code} from {exc.method} {exc.path}{code}"


def _shown(status: Any, hide: Callable[[str], str]) -> str:
    """The start of a status a server sent, to debug with: the key taken out (a server may echo it in any field),
    a megabyte of it cut short."""
    try:
        text = json.dumps(status.to_dict(), default=repr)
    except (ValueError, RecursionError):
        text = f"fields {sorted(status.to_dict())}"
    return excerpt(text, hide)


def _described(exc: Exception) -> str:
    """What went wrong, for the journal: any exception but a VozoError named by type, a server's body included."""
    message = str(exc) if isinstance(exc, VozoError) else f"{type(exc).__name__}: {exc}"
    body = getattr(exc, "body_excerpt", None)
    return f"{message} - body: {body}" if body and body not in message else message


def _on_disk(path: str | None) -> bool:
    return path is not None and Path(path).is_file()


def backoff(slowdowns: int) -> float:
    """The pause after ``slowdowns`` consecutive slow-downs: doubling from 0.5 s up to ``_MAX_PAUSE``, jittered. The
    exponent stops growing once the cap is reached (2**1024 is more than a float holds)."""
    return _jitter(min(_MAX_PAUSE, 0.25 * 2 ** min(slowdowns, 32)))


def _jitter(seconds: float) -> float:
    return random.uniform(seconds / 2, seconds)  # noqa: S311 - spreading retries, not crypto
