"""What every job resource does, whatever its kind: create from checked arguments, get, wait, create and wait.

The typed ``create`` methods are generated per kind (``vozo_jobs``); they call ``_create`` here, which calls the
client's public ``call`` with the generated endpoint of the kind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar, cast

import anyio

from vozo import _download
from vozo._arguments import async_check_callback, checked_task_id, request_body
from vozo._base import created_task_id, operation_name
from vozo._errors import VozoError
from vozo._jobs import DEFAULT_POLL_INTERVAL, DEFAULT_WAIT_TIMEOUT, DONE, Poller, ends_the_job
from vozo._kinds import JobKind, status_value
from vozo._logging import logger
from vozo_api_client.models import Job

if TYPE_CHECKING:
    from vozo._async._client import AsyncVozo

StatusT = TypeVar("StatusT")


class AsyncJobResource(Generic[StatusT]):
    """``create``/``create_and_wait`` (generated, typed per kind), ``get`` and ``wait``."""

    __module__ = "vozo.types"  # its public home, for help() and reprs, even before vozo.types is imported
    kind: ClassVar[JobKind]

    def __init__(self, client: AsyncVozo) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} POST {self.kind.create_path}>"

    async def get(self, task_id: str) -> StatusT:
        """The job's current status, from the kind's status endpoint."""
        task_id = checked_task_id(task_id)
        status = await self._client.call(self.kind.status.asyncio_detailed, self.kind.status_model, task_id=task_id)
        _download.remember_task_id(status, task_id)
        value = status_value(status)
        if value == DONE or ends_the_job(value):
            self._client.jobs.ended(task_id)
        return cast(StatusT, status)

    async def wait(
        self,
        task_id: str,
        *,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        on_update: Callable[[StatusT], object] | None = None,
    ) -> StatusT:
        """Poll until the job is ``done`` and return that status.

        ``on_update(status)`` is called whenever the status value changes. Raises ``JobFailedError`` on
        ``failed`` (with Vozo's error code and message) or on a value whose words name another end (``cancelled``,
        ``expired``, ...), and ``JobTimeoutError`` after ``timeout`` seconds (default 3 h: Vozo queues jobs for up
        to 2 h, then processes them for 10-20 min); both carry the ``task_id``. Any other status this client does
        not know yet counts as in progress. Outages are waited through until the deadline.
        How often it looks follows the job's phase: from ``poll_interval``, growing x1.5, at most every 2 min while
        queued (nothing can finish there), every 1 min early in processing, and every 25 s once half the
        documented ~10 min of processing may have passed (or when that is unknown).
        """
        self._check_on_update(on_update)
        return await self._poll(checked_task_id(task_id), timeout, poll_interval, on_update, just_created=False)

    def _check_on_update(self, on_update: object) -> None:
        """Refuse an ``on_update`` that could never run (``create_and_wait`` asks before its create)."""
        async_check_callback("on_update", on_update)

    async def _wait_new(
        self,
        task_id: str,
        *,
        timeout: float,
        poll_interval: float,
        on_update: Callable[[StatusT], object] | None,
    ) -> StatusT:
        return await self._poll(task_id, timeout, poll_interval, on_update, just_created=True)

    async def _create(
        self, arguments: Mapping[str, object], *, check_file_types: bool, extra_body: Mapping[str, object] | None
    ) -> Job:
        body = request_body(self.kind, arguments, check_file_types=check_file_types, extra_body=extra_body)
        await self._client.jobs.reserve()
        try:
            job = await self._client.call(self.kind.create.asyncio_detailed, Job, creates_job=True, body=body)
            task_id = created_task_id(job, operation_name(self.kind.create.asyncio_detailed), self._client._hide)
        except BaseException:
            self._client.jobs.give_back()  # no job this client knows of holds the slot
            raise
        self._client.jobs.started(task_id, self.get)
        return job

    async def _poll(
        self,
        task_id: str,
        timeout: float,
        poll_interval: float,
        on_update: Callable[[StatusT], object] | None,
        *,
        just_created: bool,
    ) -> StatusT:
        poller = Poller(
            self.kind, task_id, timeout=timeout, poll_interval=poll_interval, on_update=on_update,
            just_created=just_created, hide=self._client._hide,
        )  # fmt: skip
        try:
            with self._client.jobs.watching(task_id):
                return await self._poll_until_done(poller)
        except VozoError:
            raise  # carries task_id
        except BaseException as exc:  # Ctrl-C, a cancellation, on_update's own error: the paid job must not be lost
            name = self.kind.name
            left = f"{name} job {task_id} goes on at Vozo; client.{name}.wait({task_id!r}) waits for it again"
            exc.add_note(f"vozo: {left}")
            # A task group drops its cancelled children's exceptions, notes and all: the log still names the job.
            logger.warning("%s (its wait ended with %s)", left, type(exc).__name__)
            raise

    async def _poll_until_done(self, poller: Poller[StatusT]) -> StatusT:
        task_id, delay = poller.task_id, poller.first_delay
        while True:
            if delay:
                await anyio.sleep(delay)
            try:
                status = await self.get(task_id)
            except VozoError as exc:
                delay = poller.transient(exc)
                continue
            try:
                next_delay = poller.observe(status)
            finally:  # a coroutine on_update returned has run before the wait ends or goes on, even on failed
                await poller.returned.async_settle()
            if next_delay is None:
                return status
            delay = next_delay
