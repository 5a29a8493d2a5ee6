"""The models users meet, under the names the SDK speaks of, and the resource classes of each job kind.

Models are attrs classes generated from the spec (``vozo_api_client``); unknown fields Vozo adds are kept in
``additional_properties`` and unknown enum values become members whose ``.value`` is the raw string. A field the
response did not carry is ``UNSET`` (falsy): ``status.video_url or None`` reads it as ``str | None``.
"""

from vozo._async._resource import AsyncJobResource as AsyncJobResource
from vozo._sync._resource import JobResource as JobResource
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
from vozo_api_client.types import UNSET as UNSET
from vozo_api_client.types import Unset as Unset
from vozo_jobs.kinds import AnyStatus as AnyStatus
from vozo_jobs.kinds import KindName as KindName

__all__ = [
    "UNSET",
    "AnyStatus",
    "AsyncJobResource",
    "Job",
    "JobResource",
    "KindName",
    "LipsyncJobStatus",
    "LipsyncStatus",
    "Model",
    "OcrTextBox",
    "ReferenceFileType",
    "SpeakerNumber",
    "TranslationJobStatus",
    "TranslationResult",
    "TranslationStatus",
    "Unset",
]
