"""``client.translations``: translate & dub jobs for video or audio media.

A job walks queuing -> preprocessing -> transcribing -> translating -> dubbing -> rendering -> done (or failed);
a done job's ``result`` holds ``video_url``, ``audio_url`` and ``subtitle_url`` as the export type gives.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from vozo import _files
from vozo._errors import InvalidInputError
from vozo._jobs import DEFAULT_POLL_INTERVAL, DEFAULT_WAIT_TIMEOUT, TRANSLATION
from vozo_api_client.api.translations import create_translation_job, get_translation_job
from vozo_api_client.models import (
    Job,
    MediaTranslateJobStatus,
    MediaTranslateRequest,
    MediaTranslateRequestExportType,
    MediaTranslateRequestMediaType,
    MediaTranslateRequestSubtitleUsageType,
    OcrTextBox,
    SpeakerNumber,
)
from vozo_api_client.types import UNSET

if TYPE_CHECKING:
    from vozo._client import AsyncVozo, Vozo

OcrBoxInput = OcrTextBox | Mapping[str, float]
SpeakersInput = SpeakerNumber | Mapping[str, int] | tuple[int, int]


def _choice(field: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InvalidInputError(f"{field} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _ocr_box(box: OcrBoxInput) -> OcrTextBox:
    values = box.to_dict() if isinstance(box, OcrTextBox) else dict(box)
    if set(values) != {"x", "y", "width", "height"}:
        raise InvalidInputError(f"ocr_text_box needs exactly x, y, width and height, got {sorted(values)}")
    for key, number in values.items():
        if isinstance(number, bool) or not isinstance(number, (int, float)) or not 0 <= number <= 1:
            raise InvalidInputError(
                f"ocr_text_box.{key} must be a number from 0 to 1 (normalized, origin top-left), got {number!r}"
            )
    return OcrTextBox.from_dict(values)


def _speakers(value: SpeakersInput) -> SpeakerNumber:
    if isinstance(value, tuple):
        values = dict(zip(("min", "max"), value, strict=True))
    else:
        values = value.to_dict() if isinstance(value, SpeakerNumber) else dict(value)
    low, high = values.get("min"), values.get("max")
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in (low, high)) or low > high:  # type: ignore[operator]
        raise InvalidInputError(f"speaker_number needs whole numbers 1 <= min <= max, got {value!r}")
    return SpeakerNumber.from_dict(values)


def translation_request(
    *,
    media_url: str,
    target_language: str,
    source_language: str,
    media_type: str | None,
    export_type: str,
    subtitle_url: str | None,
    subtitle_usage_type: str | None,
    ocr_text_box: OcrBoxInput | None,
    speaker_number: SpeakersInput | None,
    user_prompt: str | None,
    callback_url: str | None,
    check_file_types: bool,
) -> MediaTranslateRequest:
    """Check every argument against what Vozo documents and build the body, before anything is sent."""
    media_types = tuple(MediaTranslateRequestMediaType)
    if media_type is None:  # inferred from the file extension, like the lipsync reference type
        ext = _files.extension(media_url)
        media_type = "video" if ext in _files.VIDEO_TYPES else "audio" if ext in _files.AUDIO_TYPES else None
        if media_type is None:
            raise InvalidInputError(
                f"media_type cannot be inferred from {media_url!r}; pass media_type='video' or 'audio'"
            )
    _choice("media_type", media_type, media_types)
    accepted = _files.VIDEO_TYPES if media_type == "video" else _files.AUDIO_TYPES
    media_url = _files.check_url("media_url", media_url, accepted, check_file_type=check_file_types)
    if not _files.SOURCE_LANGUAGE.match(source_language or ""):
        raise InvalidInputError(f"source_language must be 'auto' or a code like en or en-US, got {source_language!r}")
    if not _files.TARGET_LANGUAGE.match(target_language or ""):
        raise InvalidInputError(f"target_language must be a code like es or zh-CN, got {target_language!r}")
    _choice("export_type", export_type, tuple(MediaTranslateRequestExportType))
    if media_type == "audio" and export_type in ("video", "all"):
        raise InvalidInputError(
            f"export_type={export_type!r} needs video input; for media_type='audio' use 'auto' or 'audio'"
        )
    if subtitle_url and ocr_text_box is not None:
        raise InvalidInputError("subtitle_url and ocr_text_box are mutually exclusive: pass one of them")
    if ocr_text_box is not None and media_type != "video":
        raise InvalidInputError("ocr_text_box only applies when media_type='video'")
    if subtitle_usage_type is not None:
        _choice("subtitle_usage_type", subtitle_usage_type, tuple(MediaTranslateRequestSubtitleUsageType))
    return MediaTranslateRequest(
        media_type=MediaTranslateRequestMediaType(media_type),
        media_url=media_url,
        source_language=source_language,
        target_language=target_language,
        export_type=MediaTranslateRequestExportType(export_type),
        subtitle_url=_files.check_url(
            "subtitle_url", subtitle_url, _files.SUBTITLE_TYPES, check_file_type=check_file_types
        )
        if subtitle_url
        else UNSET,
        subtitle_usage_type=MediaTranslateRequestSubtitleUsageType(subtitle_usage_type)
        if subtitle_usage_type
        else UNSET,
        ocr_text_box=_ocr_box(ocr_text_box) if ocr_text_box is not None else UNSET,
        speaker_number=_speakers(speaker_number) if speaker_number is not None else UNSET,
        user_prompt=user_prompt if user_prompt else UNSET,
        callback_url=_files.check_url("callback_url", callback_url, (), check_file_type=False)
        if callback_url
        else UNSET,
    )


class Translations:
    def __init__(self, client: Vozo) -> None:
        self._client = client

    def create(
        self,
        *,
        media_url: str,
        target_language: str,
        source_language: str = "auto",
        media_type: str | None = None,
        export_type: str = "auto",
        subtitle_url: str | None = None,
        subtitle_usage_type: str | None = None,
        ocr_text_box: OcrBoxInput | None = None,
        speaker_number: SpeakersInput | None = None,
        user_prompt: str | None = None,
        callback_url: str | None = None,
        check_file_types: bool = True,
    ) -> Job:
        """Start a translate & dub job (``POST /v1/media/translate``).

        ``media_type`` is inferred from the URL's extension when not given. ``speaker_number`` takes
        ``(min, max)``, ``{"min": .., "max": ..}`` or a ``SpeakerNumber``; ``ocr_text_box`` a dict of
        normalized x, y, width, height. Not retried after the request may have reached Vozo (no idempotency
        key: a retry could bill twice).
        """
        body = translation_request(
            media_url=media_url,
            target_language=target_language,
            source_language=source_language,
            media_type=media_type,
            export_type=export_type,
            subtitle_url=subtitle_url,
            subtitle_usage_type=subtitle_usage_type,
            ocr_text_box=ocr_text_box,
            speaker_number=speaker_number,
            user_prompt=user_prompt,
            callback_url=callback_url,
            check_file_types=check_file_types,
        )
        job: Job = self._client._request(create_translation_job, idempotent=False, body=body)
        return job

    def get(self, task_id: str) -> MediaTranslateJobStatus:
        """The job's current status (``GET /v1/media/translate/{task_id}``)."""
        status: MediaTranslateJobStatus = self._client._request(
            get_translation_job, idempotent=True, task_id=_files.task_id(task_id)
        )
        return status

    def wait(
        self,
        task_id: str,
        *,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        on_update: Callable[[MediaTranslateJobStatus], object] | None = None,
    ) -> MediaTranslateJobStatus:
        """Poll until ``done``; ``JobFailedError`` carries ``err_code``/``err_message``. See ``Lipsync.wait``."""
        return self._client._wait(self.get, TRANSLATION, _files.task_id(task_id), timeout, poll_interval, on_update)

    def create_and_wait(
        self,
        *,
        media_url: str,
        target_language: str,
        source_language: str = "auto",
        media_type: str | None = None,
        export_type: str = "auto",
        subtitle_url: str | None = None,
        subtitle_usage_type: str | None = None,
        ocr_text_box: OcrBoxInput | None = None,
        speaker_number: SpeakersInput | None = None,
        user_prompt: str | None = None,
        callback_url: str | None = None,
        check_file_types: bool = True,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        on_update: Callable[[MediaTranslateJobStatus], object] | None = None,
    ) -> MediaTranslateJobStatus:
        """``create`` then ``wait``, first looking one interval later (a new job is still queued).

        Any error raised while waiting carries the job's ``task_id``.
        """
        job = self.create(
            media_url=media_url,
            target_language=target_language,
            source_language=source_language,
            media_type=media_type,
            export_type=export_type,
            subtitle_url=subtitle_url,
            subtitle_usage_type=subtitle_usage_type,
            ocr_text_box=ocr_text_box,
            speaker_number=speaker_number,
            user_prompt=user_prompt,
            callback_url=callback_url,
            check_file_types=check_file_types,
        )
        return self._client._wait(
            self.get, TRANSLATION, job.task_id, timeout, poll_interval, on_update, just_created=True
        )


class AsyncTranslations:
    def __init__(self, client: AsyncVozo) -> None:
        self._client = client

    async def create(
        self,
        *,
        media_url: str,
        target_language: str,
        source_language: str = "auto",
        media_type: str | None = None,
        export_type: str = "auto",
        subtitle_url: str | None = None,
        subtitle_usage_type: str | None = None,
        ocr_text_box: OcrBoxInput | None = None,
        speaker_number: SpeakersInput | None = None,
        user_prompt: str | None = None,
        callback_url: str | None = None,
        check_file_types: bool = True,
    ) -> Job:
        """Start a translate & dub job; see ``Translations.create``."""
        body = translation_request(
            media_url=media_url,
            target_language=target_language,
            source_language=source_language,
            media_type=media_type,
            export_type=export_type,
            subtitle_url=subtitle_url,
            subtitle_usage_type=subtitle_usage_type,
            ocr_text_box=ocr_text_box,
            speaker_number=speaker_number,
            user_prompt=user_prompt,
            callback_url=callback_url,
            check_file_types=check_file_types,
        )
        job: Job = await self._client._request(create_translation_job, idempotent=False, body=body)
        return job

    async def get(self, task_id: str) -> MediaTranslateJobStatus:
        """The job's current status; see ``Translations.get``."""
        status: MediaTranslateJobStatus = await self._client._request(
            get_translation_job, idempotent=True, task_id=_files.task_id(task_id)
        )
        return status

    async def wait(
        self,
        task_id: str,
        *,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        on_update: Callable[[MediaTranslateJobStatus], object] | None = None,
    ) -> MediaTranslateJobStatus:
        """Poll until ``done``; see ``Translations.wait``."""
        return await self._client._wait(
            self.get, TRANSLATION, _files.task_id(task_id), timeout, poll_interval, on_update
        )

    async def create_and_wait(
        self,
        *,
        media_url: str,
        target_language: str,
        source_language: str = "auto",
        media_type: str | None = None,
        export_type: str = "auto",
        subtitle_url: str | None = None,
        subtitle_usage_type: str | None = None,
        ocr_text_box: OcrBoxInput | None = None,
        speaker_number: SpeakersInput | None = None,
        user_prompt: str | None = None,
        callback_url: str | None = None,
        check_file_types: bool = True,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        on_update: Callable[[MediaTranslateJobStatus], object] | None = None,
    ) -> MediaTranslateJobStatus:
        """``create`` then ``wait``; see ``Translations.create_and_wait``."""
        job = await self.create(
            media_url=media_url,
            target_language=target_language,
            source_language=source_language,
            media_type=media_type,
            export_type=export_type,
            subtitle_url=subtitle_url,
            subtitle_usage_type=subtitle_usage_type,
            ocr_text_box=ocr_text_box,
            speaker_number=speaker_number,
            user_prompt=user_prompt,
            callback_url=callback_url,
            check_file_types=check_file_types,
        )
        return await self._client._wait(
            self.get, TRANSLATION, job.task_id, timeout, poll_interval, on_update, just_created=True
        )
