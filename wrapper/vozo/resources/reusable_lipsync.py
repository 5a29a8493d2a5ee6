"""``client.reusable_lipsync``: lipsync jobs that reuse a model made from an earlier precision lipsync job.

Assumption: Vozo documents no status endpoint for these jobs. Their task ids are polled through the lipsync
status endpoint (``GET /v1/video_generation/{task_id}``), which is what ``get`` and ``wait`` do here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from vozo import _files
from vozo._errors import InvalidInputError
from vozo._jobs import DEFAULT_POLL_INTERVAL, DEFAULT_WAIT_TIMEOUT, LIPSYNC
from vozo_api_client.api.lipsync import get_lipsync_job
from vozo_api_client.api.reusable_lipsync import create_reusable_lipsync_job
from vozo_api_client.models import Job, JobStatus, ReusableModelVideoGenerationRequest
from vozo_api_client.types import UNSET

if TYPE_CHECKING:
    from vozo._client import AsyncVozo, Vozo


def reusable_lipsync_request(
    *, model_id: str, audio_url: str, callback_url: str | None, check_file_types: bool
) -> ReusableModelVideoGenerationRequest:
    """Check every argument and build the request body; raises InvalidInputError before anything is sent."""
    if not isinstance(model_id, str) or not model_id.strip():
        raise InvalidInputError(f"model_id must be the non-empty id of a reusable lipsync model, got {model_id!r}")
    return ReusableModelVideoGenerationRequest(
        model_id=model_id.strip(),
        audio_url=_files.check_url("audio_url", audio_url, _files.AUDIO_TYPES, check_file_type=check_file_types),
        callback_url=_files.check_url("callback_url", callback_url, (), check_file_type=False)
        if callback_url
        else UNSET,
    )


class ReusableLipsync:
    def __init__(self, client: Vozo) -> None:
        self._client = client

    def create(
        self, *, model_id: str, audio_url: str, callback_url: str | None = None, check_file_types: bool = True
    ) -> Job:
        """Start a job from a reusable model (``POST /v1/reusable_lipsync_model_video_generation``).

        Not retried after the request may have reached Vozo (no idempotency key: a retry could bill twice).
        """
        body = reusable_lipsync_request(
            model_id=model_id, audio_url=audio_url, callback_url=callback_url, check_file_types=check_file_types
        )
        job: Job = self._client._request(create_reusable_lipsync_job, idempotent=False, body=body)
        return job

    def get(self, task_id: str) -> JobStatus:
        """The job's status, through the lipsync status endpoint (see the module's assumption)."""
        status: JobStatus = self._client._request(get_lipsync_job, idempotent=True, task_id=_files.task_id(task_id))
        return status

    def wait(
        self,
        task_id: str,
        *,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        on_update: Callable[[JobStatus], object] | None = None,
    ) -> JobStatus:
        """Poll until ``done``, like ``Lipsync.wait`` (through the lipsync status endpoint)."""
        return self._client._wait(self.get, LIPSYNC, _files.task_id(task_id), timeout, poll_interval, on_update)

    def create_and_wait(
        self,
        *,
        model_id: str,
        audio_url: str,
        callback_url: str | None = None,
        check_file_types: bool = True,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        on_update: Callable[[JobStatus], object] | None = None,
    ) -> JobStatus:
        """``create`` then ``wait``, first looking one interval later (a new job is still queued).

        Any error raised while waiting carries the job's ``task_id``.
        """
        job = self.create(
            model_id=model_id, audio_url=audio_url, callback_url=callback_url, check_file_types=check_file_types
        )
        return self._client._wait(self.get, LIPSYNC, job.task_id, timeout, poll_interval, on_update, just_created=True)


class AsyncReusableLipsync:
    def __init__(self, client: AsyncVozo) -> None:
        self._client = client

    async def create(
        self, *, model_id: str, audio_url: str, callback_url: str | None = None, check_file_types: bool = True
    ) -> Job:
        """Start a job from a reusable model; see ``ReusableLipsync.create``."""
        body = reusable_lipsync_request(
            model_id=model_id, audio_url=audio_url, callback_url=callback_url, check_file_types=check_file_types
        )
        job: Job = await self._client._request(create_reusable_lipsync_job, idempotent=False, body=body)
        return job

    async def get(self, task_id: str) -> JobStatus:
        """The job's status; see ``ReusableLipsync.get``."""
        status: JobStatus = await self._client._request(
            get_lipsync_job, idempotent=True, task_id=_files.task_id(task_id)
        )
        return status

    async def wait(
        self,
        task_id: str,
        *,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        on_update: Callable[[JobStatus], object] | None = None,
    ) -> JobStatus:
        """Poll until ``done``; see ``ReusableLipsync.wait``."""
        return await self._client._wait(self.get, LIPSYNC, _files.task_id(task_id), timeout, poll_interval, on_update)

    async def create_and_wait(
        self,
        *,
        model_id: str,
        audio_url: str,
        callback_url: str | None = None,
        check_file_types: bool = True,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        on_update: Callable[[JobStatus], object] | None = None,
    ) -> JobStatus:
        """``create`` then ``wait``; see ``ReusableLipsync.create_and_wait``."""
        job = await self.create(
            model_id=model_id, audio_url=audio_url, callback_url=callback_url, check_file_types=check_file_types
        )
        return await self._client._wait(
            self.get, LIPSYNC, job.task_id, timeout, poll_interval, on_update, just_created=True
        )
