"""The job governor: at most ``max_active_jobs`` of this client's jobs active on the key at once.

Vozo counts every job of a key, queued ones included, against a cap of 5-10 and refuses more (code 1304). A job
holds a slot from its create until this client sees it end (``wait``, or a ``get`` that reads ``done`` or
``failed``); creates beyond the limit wait for a slot in the client instead of being refused by Vozo.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from time import monotonic

from vozo import _http
from vozo._errors import APIResponseValidationError, NotFoundError, VozoError
from vozo._jobs import DEFAULT_POLL_INTERVAL, MAX_POLL_INTERVAL, POLL_GROWTH, is_transient

# How a job is asked after: its kind's ``get``, which frees the slot when it reads done or failed.
StatusCheck = Callable[[str], Awaitable[object]]


class AsyncJobGovernor:
    """Shared by a client and its ``with_options`` copies. ``limit=None``: no limit (the default)."""

    __module__ = "vozo.types"  # its public home, for help() and reprs, even before vozo.types is imported

    def __init__(self, limit: int | None, *, clock: Callable[[], float] | None = None) -> None:
        """``clock``: seconds, as ``time.monotonic`` counts them (the default); tests give one they move."""
        self._limit = limit
        self._slots = _http.async_job_slots(limit) if limit is not None else None
        self._clock = clock or monotonic
        self._active: dict[str, StatusCheck] = {}
        self._watched: Counter[str] = Counter()  # task id -> waits in progress
        self._watch_lock = threading.Lock()  # the sync client's waits run in threads: a count and its removal as one
        self._creating = 0  # creates holding a slot whose job this governor does not know yet
        self._asking = False
        # task id -> (when it is next due to be asked after, the interval after that): each job's own schedule, so
        # creates waiting from different moments do not each restart it from 2 s. Only jobs no wait watches have one.
        self._next_ask: dict[str, tuple[float, float]] = {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} active={self.active} limit={self._limit}>"

    @property
    def limit(self) -> int | None:
        """``max_active_jobs`` as the client was made with it (read-only: its slots are made for it)."""
        return self._limit

    @property
    def active(self) -> int:
        """How many jobs created through this client it has not yet seen end; always 0 without a limit (the client
        then tracks no job)."""
        return len(self._active)

    async def reserve(self) -> None:
        """Wait for a free slot before a create (returns at once without a limit).

        A job no wait is watching (its wait was cancelled or interrupted, or it was only created) would hold its
        slot for ever: while a create waits, such jobs are asked after, each on its own schedule (as a wait would
        poll it: one interval after its creation or its wait's end, then growing), and the first seen ended frees
        its slot. The create wakes when the earliest of those asks falls due, or a slot frees."""
        if self._slots is None:
            return
        while not await _http.async_acquire_within(self._slots, self._until_next_ask()):
            await self._ask_after_unwatched()
        with self._watch_lock:
            self._creating += 1

    def _until_next_ask(self) -> float:
        """Seconds until an ask may fall due: the earliest one scheduled, and one interval from now while a job
        could gain a schedule meanwhile (a wait that ends, a create in flight that brings its job)."""
        now = self._clock()
        with self._watch_lock:
            could_start = self._creating > 0 or any(self._watched[task_id] for task_id in self._active)
            dues = [due for due, _ in self._next_ask.values()]
        if could_start or not dues:  # no schedule at all: creates in flight hold every slot (one ends soon)
            dues.append(now + DEFAULT_POLL_INTERVAL)
        return max(0.0, min(dues) - now)

    async def _ask_after_unwatched(self) -> None:
        if self._asking:  # another waiting create is asking already
            return
        self._asking = True
        try:
            for task_id, check in self._due_asks():
                if task_id not in self._active:  # seen ended meanwhile
                    continue
                try:
                    await check(task_id)
                except NotFoundError:
                    self.ended(task_id)  # Vozo knows no such job (any more): it holds no slot there either
                except VozoError as exc:
                    if not (is_transient(exc) or isinstance(exc, APIResponseValidationError)):
                        # A refusal (a key revoked, 401/403): the create could not succeed either, and waiting on
                        # would wait for ever in silence. The create fails with it, as a wait would; nothing created.
                        raise
                    # an outage or a garbled body: asked again when its next ask falls due
        finally:
            self._asking = False

    def _due_asks(self) -> list[tuple[str, StatusCheck]]:
        """The unwatched jobs whose ask is due, each rescheduled before any is asked: a create waking meanwhile
        sees their next asks, not these (it would wake again at once, and again, while these are asked)."""
        now = self._clock()
        due: list[tuple[str, StatusCheck]] = []
        with self._watch_lock:
            for task_id, (when, interval) in list(self._next_ask.items()):
                if when <= now:
                    self._next_ask[task_id] = (now + interval, min(interval * POLL_GROWTH, MAX_POLL_INTERVAL))
                    due.append((task_id, self._active[task_id]))
        return due

    def give_back(self) -> None:
        """The create that reserved a slot created no job that this client knows of."""
        if self._slots is not None:
            with self._watch_lock:
                self._creating -= 1
            self._slots.release()

    def started(self, task_id: str, check: StatusCheck) -> None:
        """A create reserved a slot and Vozo answered ``task_id``. An id this client already tracks (Vozo gave an
        identical request its existing job) is one job, ended once: its second slot is free at once."""
        if self._slots is None:
            return
        with self._watch_lock:
            self._creating -= 1
            if task_id in self._active:
                self._slots.release()
            elif not self._watched[task_id]:  # only created: asked after one interval, as a wait first looks
                self._schedule_first_ask(task_id)
            self._active[task_id] = check

    @contextmanager
    def watching(self, task_id: str) -> Iterator[None]:
        """A wait in progress: it will see the job end, so a waiting create need not ask after it."""
        with self._watch_lock:
            self._watched[task_id] += 1
            self._next_ask.pop(task_id, None)  # its wait looks after it
        try:
            yield
        finally:
            with self._watch_lock:
                self._watched[task_id] -= 1
                if not self._watched[task_id]:
                    del self._watched[task_id]
                    if task_id in self._active:  # its wait ended first: asked one interval after its last look
                        self._schedule_first_ask(task_id)

    def _schedule_first_ask(self, task_id: str) -> None:
        self._next_ask[task_id] = (self._clock() + DEFAULT_POLL_INTERVAL, DEFAULT_POLL_INTERVAL * POLL_GROWTH)

    def ended(self, task_id: str) -> None:
        """The job reached done or failed: its slot is free (once, and only for jobs this client created)."""
        if self._slots is None:
            return
        with self._watch_lock:
            if self._active.pop(task_id, None) is None:
                return
            self._next_ask.pop(task_id, None)
        self._slots.release()
