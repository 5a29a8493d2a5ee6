"""The generated models users meet, under the names the SDK speaks of.

They are attrs classes from ``vozo_api_client``; unknown fields Vozo adds are kept in ``additional_properties``
and unknown enum values become members whose ``.value`` is the raw string.
"""

from vozo_api_client.models import Job as Job
from vozo_api_client.models import JobStatus as LipsyncJobStatus
from vozo_api_client.models import JobStatusStatus as LipsyncStatus
from vozo_api_client.models import MediaTranslateJobStatus as TranslationJobStatus
from vozo_api_client.models import MediaTranslateJobStatusStatus as TranslationStatus
from vozo_api_client.models import MediaTranslateResult as TranslationResult
from vozo_api_client.models import Model as Model
from vozo_api_client.models import OcrTextBox as OcrTextBox
from vozo_api_client.models import ReferenceFileType as ReferenceFileType
from vozo_api_client.models import SpeakerNumber as SpeakerNumber

__all__ = [
    "Job",
    "LipsyncJobStatus",
    "LipsyncStatus",
    "Model",
    "OcrTextBox",
    "ReferenceFileType",
    "SpeakerNumber",
    "TranslationJobStatus",
    "TranslationResult",
    "TranslationStatus",
]
