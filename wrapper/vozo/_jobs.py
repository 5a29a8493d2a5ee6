"""What waiting for a job means, shared by both clients: the poll schedule, the deadline, terminal states."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar, cast

from vozo._errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
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
MAX_POLL_INTERVAL = 30.0
_GROWTH = 1.5
# A status body garbled in transit (a proxy, a cut connection) is polled again, this many times in a row; a status
# that never parses (the API changed shape) still ends the wait quickly.
GARBLED_TOLERANCE = 3

StatusT = TypeVar("StatusT")
DONE, FAILED = "done", "failed"  # the terminal values every job kind's status enum holds (spectools/jobkinds.py)


def is_transient(error: VozoError) -> bool:
    """Worth polling again after the request's own retries ran out: an outage, not a refusal."""
    return isinstance(error, APIConnectionError) or (isinstance(error, APIStatusError) and error.retryable)


class Poller(Generic[StatusT]):
    """Tracks one wait: a growing interval, the deadline, change notifications and the terminal states.

    Any status other than done and failed (including one Vozo adds later) means the job is still in progress.
    A job created a moment ago is still queued, so its first look waits one interval (``just_created``).
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
    ) -> None:
        if timeout <= 0 or poll_interval <= 0:
            raise ValueError("timeout and poll_interval must be positive")
        self.kind = kind
        self.task_id = task_id
        self.timeout = timeout
        self._deadline = time.monotonic() + timeout
        self._interval = poll_interval
        self._on_update: Callable[[StatusT], object] | None = on_update
        self._last: StatusT | None = None
        self._garbled = 0
        self.first_delay = self._next_delay() if just_created else 0.0

    def observe(self, status: StatusT) -> float | None:
        """Seconds until the next poll, or None when the job is done. Raises on failure or past the deadline."""
        self._garbled = 0
        value = status_value(status)
        if self._last is None or status_value(self._last) != value:
            logger.info("%s job %s: %s", self.kind.name, self.task_id, value)
            if self._on_update is not None:
                self._on_update(status)
        self._last = status
        if value == DONE:
            return None
        if value == FAILED:
            code, message = self.kind.error(status)
            # StatusT is always one of the kinds' status models; the errors carry it typed for users.
            raise JobFailedError(self.task_id, cast("AnyStatus", status), code=code, message=message)
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
            raise JobTimeoutError(self.task_id, self.timeout, cast("AnyStatus | None", self._last)) from cause
        delay = min(self._interval, remaining)
        self._interval = min(self._interval * _GROWTH, MAX_POLL_INTERVAL)
        return delay
