"""Contains all the data models used in inputs/outputs"""

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
from .reusable_model_video_generation_request import ReusableModelVideoGenerationRequest
from .speaker_number import SpeakerNumber
from .video_generation_request import VideoGenerationRequest

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
