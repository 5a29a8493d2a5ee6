"""``client.lipsync``: lipsynced talking videos from a reference video or photo and an audio track."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from vozo import _files
from vozo._jobs import DEFAULT_POLL_INTERVAL, DEFAULT_WAIT_TIMEOUT, LIPSYNC
from vozo_api_client.api.lipsync import create_lipsync_job, get_lipsync_job
from vozo_api_client.models import Job, JobStatus, Model, ReferenceFileType, VideoGenerationRequest
from vozo_api_client.types import UNSET

if TYPE_CHECKING:
    from vozo._client import AsyncVozo, Vozo


def lipsync_request(
    *,
    reference_file_url: str,
    audio_url: str,
    model: Model | str,
    reference_file_type: ReferenceFileType | str | None,
    callback_url: str | None,
    check_file_types: bool,
) -> VideoGenerationRequest:
    """Check every argument and build the request body; raises InvalidInputError before anything is sent."""
    accepted = _files.VIDEO_TYPES + _files.IMAGE_TYPES
    reference_file_url = _files.check_url(
        "reference_file_url", reference_file_url, accepted, check_file_type=check_file_types
    )
    return VideoGenerationRequest(
        reference_file_url=reference_file_url,
        audio_url=_files.check_url("audio_url", audio_url, _files.AUDIO_TYPES, check_file_type=check_file_types),
        model=_files.model(model),
        reference_file_type=_files.reference_type(
            reference_file_url, reference_file_type, check_file_type=check_file_types
        ),
        callback_url=_files.check_url("callback_url", callback_url, (), check_file_type=False)
        if callback_url
        else UNSET,
    )


class Lipsync:
    def __init__(self, client: Vozo) -> None:
        self._client = client

    def create(
        self,
        *,
        reference_file_url: str,
        audio_url: str,
        model: Model | str = "standard",
        reference_file_type: ReferenceFileType | str | None = None,
        callback_url: str | None = None,
        check_file_types: bool = True,
    ) -> Job:
        """Start a lipsync job (``POST /v1/video_generation``) and return its ``Job`` (``task_id``).

        ``model``: ``"standard"`` (faster) or ``"precision"`` (higher quality), or the API's ``standard_v1`` /
        ``precision_v1``. ``reference_file_type`` is inferred from the URL's extension when not given. File types
        are checked against the ones Vozo documents; pass ``check_file_types=False`` for URLs without extensions.
        Not retried after the request may have reached Vozo: there is no idempotency key, so a retry could
        create and bill a second job. Connection failures before sending are retried.
        """
        body = lipsync_request(
            reference_file_url=reference_file_url,
            audio_url=audio_url,
            model=model,
            reference_file_type=reference_file_type,
            callback_url=callback_url,
            check_file_types=check_file_types,
        )
        job: Job = self._client._request(create_lipsync_job, idempotent=False, body=body)
        return job

    def get(self, task_id: str) -> JobStatus:
        """The job's current status (``GET /v1/video_generation/{task_id}``)."""
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
        """Poll until the job is ``done`` and return that status.

        The interval starts at ``poll_interval`` and grows to 30 s. ``on_update(status)`` is called whenever the
        status changes. Raises ``JobFailedError`` on ``failed`` and ``JobTimeoutError`` after ``timeout``
        seconds (default 3 h: Vozo queues jobs for up to 2 h, then processes them for 10-20 min). A status this
        client does not know yet counts as in progress; its raw value is ``status.status.value``.
        """
        return self._client._wait(self.get, LIPSYNC, _files.task_id(task_id), timeout, poll_interval, on_update)

    def create_and_wait(
        self,
        *,
        reference_file_url: str,
        audio_url: str,
        model: Model | str = "standard",
        reference_file_type: ReferenceFileType | str | None = None,
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
            reference_file_url=reference_file_url,
            audio_url=audio_url,
            model=model,
            reference_file_type=reference_file_type,
            callback_url=callback_url,
            check_file_types=check_file_types,
        )
        return self._client._wait(self.get, LIPSYNC, job.task_id, timeout, poll_interval, on_update, just_created=True)


class AsyncLipsync:
    def __init__(self, client: AsyncVozo) -> None:
        self._client = client

    async def create(
        self,
        *,
        reference_file_url: str,
        audio_url: str,
        model: Model | str = "standard",
        reference_file_type: ReferenceFileType | str | None = None,
        callback_url: str | None = None,
        check_file_types: bool = True,
    ) -> Job:
        """Start a lipsync job; see ``Lipsync.create``."""
        body = lipsync_request(
            reference_file_url=reference_file_url,
            audio_url=audio_url,
            model=model,
            reference_file_type=reference_file_type,
            callback_url=callback_url,
            check_file_types=check_file_types,
        )
        job: Job = await self._client._request(create_lipsync_job, idempotent=False, body=body)
        return job

    async def get(self, task_id: str) -> JobStatus:
        """The job's current status; see ``Lipsync.get``."""
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
        """Poll until the job is ``done``; see ``Lipsync.wait``."""
        return await self._client._wait(self.get, LIPSYNC, _files.task_id(task_id), timeout, poll_interval, on_update)

    async def create_and_wait(
        self,
        *,
        reference_file_url: str,
        audio_url: str,
        model: Model | str = "standard",
        reference_file_type: ReferenceFileType | str | None = None,
        callback_url: str | None = None,
        check_file_types: bool = True,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        on_update: Callable[[JobStatus], object] | None = None,
    ) -> JobStatus:
        """``create`` then ``wait``; see ``Lipsync.create_and_wait``."""
        job = await self.create(
            reference_file_url=reference_file_url,
            audio_url=audio_url,
            model=model,
            reference_file_type=reference_file_type,
            callback_url=callback_url,
            check_file_types=check_file_types,
        )
        return await self._client._wait(
            self.get, LIPSYNC, job.task_id, timeout, poll_interval, on_update, just_created=True
        )
