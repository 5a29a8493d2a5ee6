"""The models users meet, under the names the SDK speaks of, and the resource classes of each job kind.

``client.lipsync`` is a ``Lipsync`` (``AsyncLipsync`` on ``AsyncVozo``), and so on for every job kind of the spec;
``client.jobs`` a ``JobGovernor``.

Models are attrs classes generated from the spec (``vozo_api_client``); unknown fields Vozo adds are kept in
``additional_properties`` and unknown enum values become members whose ``.value`` is the raw string. A field the
response did not carry is ``UNSET`` (falsy): ``status.video_url or None`` reads it as ``str | None``.
"""

from vozo._async._governor import AsyncJobGovernor as AsyncJobGovernor
from vozo._async._resource import AsyncJobResource as AsyncJobResource
from vozo._download import DownloadSource as DownloadSource
from vozo._download import ProgressCallback as ProgressCallback
from vozo._sync._governor import JobGovernor as JobGovernor
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
from vozo_jobs import _async_resources, _sync_resources
from vozo_jobs._async_resources import *  # noqa: F403 - AsyncResources and one resource class per job kind
from vozo_jobs._sync_resources import *  # noqa: F403 - Resources and one resource class per job kind
from vozo_jobs.kinds import AnyStatus as AnyStatus
from vozo_jobs.kinds import KindName as KindName

__all__ = [
    "UNSET",
    "AnyStatus",
    "AsyncJobGovernor",
    "AsyncJobResource",
    "DownloadSource",
    "Job",
    "JobGovernor",
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
__all__ += _sync_resources.__all__
__all__ += _async_resources.__all__

# The classes defined in private modules say they live here (help(vozo.Vozo), reprs, tracebacks).
for _name in __all__:
    _value = globals()[_name]
    if isinstance(_value, type) and _value.__module__.rpartition(".")[2].startswith("_"):
        _value.__module__ = __name__
del _name, _value
