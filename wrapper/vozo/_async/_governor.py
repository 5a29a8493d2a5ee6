"""The job governor: at most ``max_active_jobs`` of this client's jobs active on the key at once.

Vozo counts every job of a key, queued ones included, against a cap of 5-10 and refuses more (code 1304). A job
holds a slot from its create until this client sees it end (``wait``, or a ``get`` that reads ``done`` or
``failed``); creates beyond the limit wait for a slot in the client instead of being refused by Vozo.
"""

from __future__ import annotations

from vozo import _http


class AsyncJobGovernor:
    """Shared by a client and its ``with_options`` copies. ``limit=None``: no limit (the default)."""

    __module__ = "vozo.types"  # its public home, for help() and reprs, even before vozo.types is imported

    def __init__(self, limit: int | None) -> None:
        self._limit = limit
        self._slots = _http.async_job_slots(limit) if limit is not None else None
        self._active: set[str] = set()

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
        """Wait for a free slot before a create (returns at once without a limit)."""
        if self._slots is not None:
            await self._slots.acquire()

    def give_back(self) -> None:
        """The create that reserved a slot created no job that this client knows of."""
        if self._slots is not None:
            self._slots.release()

    def started(self, task_id: str) -> None:
        """A create reserved a slot and Vozo answered ``task_id``. An id this client already tracks (Vozo gave an
        identical request its existing job) is one job, ended once: its second slot is free at once."""
        if self._slots is None:
            return
        if task_id in self._active:
            self._slots.release()
        self._active.add(task_id)

    def ended(self, task_id: str) -> None:
        """The job reached done or failed: its slot is free (once, and only for jobs this client created)."""
        if self._slots is not None and task_id in self._active:
            self._active.discard(task_id)
            self._slots.release()
