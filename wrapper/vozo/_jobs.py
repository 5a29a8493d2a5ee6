"""What waiting for a job means, shared by both clients: the poll schedule, the deadline, terminal states."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar, cast

from vozo._arguments import CallbackReturn
from vozo._errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    InvalidInputError,
    JobFailedError,
    JobTimeoutError,
    VozoError,
)
from vozo._kinds import JobKind, status_value
from vozo._logging import logger

if TYPE_CHECKING:
    from vozo_jobs.kinds import AnyStatus

# Vozo documents queues of 1-120 minutes, then ~10 (standard) or ~20 (precision) minutes of processing.
DEFAULT_WAIT_TIMEOUT = 3 * 60 * 60.0
DEFAULT_POLL_INTERVAL = 2.0
POLL_GROWTH = 1.5  # each look waits this much longer than the last, within the phase caps (Poller)
# The poll schedule (see Poller). While queued nothing can finish, so looks are sparse; but no sparser than a fifth
# of the shortest documented processing, so the start of processing is seen early enough to plan around it.
MAX_POLL_INTERVAL = 120.0
# Values saying the job has not started, in any kind's vocabulary (lipsync `pending`, translation `queuing`). Any
# other in-progress value, including one no kind declares yet, counts as processing: tight polling, never late.
QUEUED_STATUSES = frozenset({"pending", "queuing", "queued"})
SHORTEST_PROCESSING = 10 * 60.0  # standard lipsync; precision takes ~20 minutes
EARLY_PROCESSING_INTERVAL = 60.0  # until half of SHORTEST_PROCESSING may have passed
FINISHING_INTERVAL = 25.0  # from then on, and whenever how long the job has been processing is unknown
_FINISHING_FROM = SHORTEST_PROCESSING / 2
# A status body garbled in transit (a proxy, a cut connection) is polled again, this many times in a row; a status
# that never parses (the API changed shape) still ends the wait quickly.
GARBLED_TOLERANCE = 3

StatusT = TypeVar("StatusT")
DONE, FAILED = "done", "failed"  # the terminal values every job kind's status enum holds (spectools/jobkinds.py)
# Words of a status value that name an end other than done: Vozo cancelled the job, let it expire, gave up on it.
# Such a value (``cancelled``, ``expired``, ``cancelled_by_user``, ``TimedOut``), whether or not the spec lists it
# yet, ends a wait as ``failed`` does, rather than at its deadline hours later: the job will never be done. Whole
# words only, and none of ongoing work: ``cancelling``, ``expiring``, ``error_recovering`` are still in progress.
# spectools/jobkinds.py reports the values a docs update adds with the same words (tests/spec/test_report.py keeps
# the two in step).
ENDED_WORDS = frozenset(
    {"cancelled", "canceled", "expired", "aborted", "rejected", "terminated", "killed", "error", "errored",
     "failure", "timeout", "timedout"}
)  # fmt: skip


def ends_the_job(value: str) -> bool:
    """Whether a status value other than done ends the job: ``failed``, or one whose words say so (ENDED_WORDS)."""
    if value == FAILED:
        return True
    words = [word.lower() for word in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+", value)]
    if any(word.endswith("ing") for word in words):  # error_recovering, failed_retrying: still being worked on
        return False
    return any(word in ENDED_WORDS for word in words) or "".join(words) in ENDED_WORDS


def is_transient(error: VozoError) -> bool:
    """Worth polling again after the request's own retries ran out: an outage, not a refusal."""
    return isinstance(error, APIConnectionError) or (isinstance(error, APIStatusError) and error.retryable)


def check_wait_arguments(timeout: object, poll_interval: object) -> None:
    """Refuse a wait's ``timeout`` or ``poll_interval`` that is not a number of seconds > 0 (NaN included)."""
    for name, value in (("timeout", timeout), ("poll_interval", poll_interval)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise InvalidInputError(f"{name} must be a number of seconds > 0, got {value!r}")


def job_failed_error(kind: JobKind, task_id: str, status: object, hide: Callable[[str], str]) -> JobFailedError:
    """The error of a job that ended in failed (or cancelled, expired, ...): Vozo's error fields, the API key taken
    out should a server echo it."""
    code, message = (None if text is None else hide(text) for text in kind.error(status))
    # status is always one of the kinds' status models; the error carries it typed for users.
    shown = hide(status_value(status))
    return JobFailedError(task_id, cast("AnyStatus", status), code=code, message=message, shown_value=shown)


class Poller(Generic[StatusT]):
    """Tracks one wait: the poll schedule, the deadline, change notifications and the terminal states.

    Any status other than done and failed (including one Vozo adds later) means the job is still in progress,
    except a value whose words name another end (``cancelled``, ``expired``: ``ends_the_job``), which fails it.
    A job created a moment ago is still queued, so its first look waits one interval (``just_created``).

    The schedule follows the job's phase. The interval starts at ``poll_interval`` and grows x1.5 per look,
    capped by what the phase allows:

    - queued (``pending``, ``queuing``): nothing can finish yet, so up to 2 minutes between looks
      (``MAX_POLL_INTERVAL``, the hard cap in every phase): a 1-120 minute queue costs at most ~60 requests, and
      the start of processing is seen within a fifth of the shortest documented processing time.
    - processing (any other value, including ones this client does not know): up to 1 minute between looks
      while under half of the documented ~10 minutes (standard) can have passed, counted from the last look that
      still saw the job queued; then up to 25 s until the end, however long the job runs (~20 minutes precision).
    - a job first seen already processing, or one whose queued values this client does not know: how long it has
      been processing is unknown, so it may finish any moment: up to 25 s.

    So a job is seen done at most 25 s after it finishes unless it beats half the documented time, and a long
    queue costs a request every 2 minutes instead of one per interval. Time in a phase is the sum of the delays
    this poller handed out, so the schedule is pure logic and needs no clock.
    """

    def __init__(
        self,
        kind: JobKind,
        task_id: str,
        *,
        timeout: float,
        poll_interval: float,
        on_update: Callable[[StatusT], object] | None,
        just_created: bool = False,
        hide: Callable[[str], str] = str,
    ) -> None:
        check_wait_arguments(timeout, poll_interval)
        self._hide = hide  # takes the API key out of the error fields a server sent
        self.kind = kind
        self.task_id = task_id
        self.timeout = timeout
        self._deadline = time.monotonic() + timeout
        self._interval = poll_interval
        self._on_update: Callable[[StatusT], object] | None = on_update
        self.returned = CallbackReturn("on_update", task_id=task_id)  # settled by the resource after each look
        self._last: StatusT | None = None
        self._garbled = 0
        self._seen_queued = False
        self._last_delay = 0.0
        self._processing_for: float | None = None  # seconds, at most; None while queued or not yet looked at
        self.first_delay = self._next_delay() if just_created else 0.0

    def observe(self, status: StatusT) -> float | None:
        """Seconds until the next poll, or None when the job is done. Raises on failure or past the deadline."""
        self._garbled = 0
        value = status_value(status)
        if self._last is None or status_value(self._last) != value:
            logger.info("%s job %s: %s", self.kind.name, self.task_id, self._hide(value))
            if self._on_update is not None:
                self.returned.last = self._on_update(status)
        self._last = status
        if value == DONE:
            return None
        if ends_the_job(value):  # failed, or an end such as cancelled or expired: it will never be done
            raise job_failed_error(self.kind, self.task_id, status, self._hide)
        self._enter_phase(value)
        return self._next_delay()

    def transient(self, error: VozoError) -> float:
        """Keep waiting through an outage until the deadline; anything else ends the wait."""
        error.task_id = self.task_id
        if isinstance(error, APIResponseValidationError) and self._garbled < GARBLED_TOLERANCE:
            self._garbled += 1
        elif not is_transient(error):
            raise error
        logger.warning("%s job %s: status check failed (%s); still waiting", self.kind.name, self.task_id, error)
        return self._next_delay(cause=error)

    def _next_delay(self, cause: VozoError | None = None) -> float:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            last = cast("AnyStatus | None", self._last)
            shown = None if last is None else self._hide(status_value(last))  # a server may echo the key there
            raise JobTimeoutError(self.task_id, self.timeout, last, failed_check=cause, shown_value=shown) from cause
        delay = min(self._interval, self._phase_cap(), remaining)
        self._interval = min(self._interval * POLL_GROWTH, MAX_POLL_INTERVAL)
        self._last_delay = delay
        if self._processing_for is not None:
            self._processing_for += delay
        return delay

    def _enter_phase(self, value: str) -> None:
        if value in QUEUED_STATUSES:
            self._seen_queued = True
            self._processing_for = None
        elif self._processing_for is None:
            # Processing started after the previous look; if that look saw the job queued, at most one delay ago.
            self._processing_for = self._last_delay if self._seen_queued else math.inf

    def _phase_cap(self) -> float:
        if self._processing_for is None:
            return MAX_POLL_INTERVAL
        if self._processing_for < _FINISHING_FROM:
            return EARLY_PROCESSING_INTERVAL
        return FINISHING_INTERVAL
