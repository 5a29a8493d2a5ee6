"""Contains all the data models used in inputs/outputs.

Each model's module is imported on first use (PEP 562), so ``import vozo`` pays only for the models it touches;
type checkers see ordinary imports.
"""

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .error import Error
    from .job import Job
    from .job_status import JobStatus
    from .job_status_status import JobStatusStatus
    from .media_translate_job_status import MediaTranslateJobStatus
    from .media_translate_job_status_status import MediaTranslateJobStatusStatus
    from .media_translate_request import MediaTranslateRequest
    from .media_translate_request_export_type import MediaTranslateRequestExportType
    from .media_translate_request_media_type import MediaTranslateRequestMediaType
    from .media_translate_request_subtitle_usage_type import (
        MediaTranslateRequestSubtitleUsageType,
    )
    from .media_translate_result import MediaTranslateResult
    from .model import Model
    from .ocr_text_box import OcrTextBox
    from .reference_file_type import ReferenceFileType
    from .reusable_model_video_generation_request import (
        ReusableModelVideoGenerationRequest,
    )
    from .speaker_number import SpeakerNumber
    from .video_generation_request import VideoGenerationRequest

_MODULES = {
    "Error": ".error",
    "Job": ".job",
    "JobStatus": ".job_status",
    "JobStatusStatus": ".job_status_status",
    "MediaTranslateJobStatus": ".media_translate_job_status",
    "MediaTranslateJobStatusStatus": ".media_translate_job_status_status",
    "MediaTranslateRequest": ".media_translate_request",
    "MediaTranslateRequestExportType": ".media_translate_request_export_type",
    "MediaTranslateRequestMediaType": ".media_translate_request_media_type",
    "MediaTranslateRequestSubtitleUsageType": ".media_translate_request_subtitle_usage_type",
    "MediaTranslateResult": ".media_translate_result",
    "Model": ".model",
    "OcrTextBox": ".ocr_text_box",
    "ReferenceFileType": ".reference_file_type",
    "ReusableModelVideoGenerationRequest": ".reusable_model_video_generation_request",
    "SpeakerNumber": ".speaker_number",
    "VideoGenerationRequest": ".video_generation_request",
}

__all__ = (
    "Error",
    "Job",
    "JobStatus",
    "JobStatusStatus",
    "MediaTranslateJobStatus",
    "MediaTranslateJobStatusStatus",
    "MediaTranslateRequest",
    "MediaTranslateRequestExportType",
    "MediaTranslateRequestMediaType",
    "MediaTranslateRequestSubtitleUsageType",
    "MediaTranslateResult",
    "Model",
    "OcrTextBox",
    "ReferenceFileType",
    "ReusableModelVideoGenerationRequest",
    "SpeakerNumber",
    "VideoGenerationRequest",
)


def __getattr__(name: str) -> object:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_MODULES))
