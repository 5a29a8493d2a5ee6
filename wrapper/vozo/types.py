"""The models users meet, under the names the SDK speaks of, and the resource classes of each job kind.

``client.lipsync`` is a ``Lipsync`` (``AsyncLipsync`` on ``AsyncVozo``), and so on for every job kind of the spec;
``client.jobs`` a ``JobGovernor``.

Models are attrs classes generated from the spec (``vozo_api_client``); unknown fields Vozo adds are kept in
``additional_properties`` (as ``JSON`` values) and unknown enum values become members whose value is the raw string
(compare ``str(member)`` with a value not listed: type checkers hold ``.value`` to the listed ones). A field the
response did not carry is ``UNSET`` (falsy): ``status.video_url or None`` reads it as ``str | None``. So is an optional
field whose JSON type is not the spec's (logged as a warning): no field holds a value its annotation denies.

``JSON`` is what ``client.request`` returns, ``JSONInput`` what it takes as ``json=``.
"""

import vozo_jobs.types
from vozo._async._governor import AsyncJobGovernor as AsyncJobGovernor
from vozo._async._resource import AsyncJobResource as AsyncJobResource
from vozo._base import JSON as JSON
from vozo._base import JSONInput as JSONInput
from vozo._download import DownloadSource as DownloadSource
from vozo._download import ProgressCallback as ProgressCallback
from vozo._sync._governor import JobGovernor as JobGovernor
from vozo._sync._resource import JobResource as JobResource
from vozo_api_client.models import Job as Job
from vozo_api_client.types import UNSET as UNSET
from vozo_api_client.types import Unset as Unset
from vozo_jobs import _async_resources, _sync_resources
from vozo_jobs._async_resources import *  # noqa: F403 - AsyncResources and one resource class per job kind
from vozo_jobs._sync_resources import *  # noqa: F403 - Resources and one resource class per job kind
from vozo_jobs.kinds import AnyStatus as AnyStatus
from vozo_jobs.kinds import KindName as KindName
from vozo_jobs.types import *  # noqa: F403 - the models' public names, generated from the overlay

__all__ = [
    "JSON",
    "UNSET",
    "AnyStatus",
    "AsyncJobGovernor",
    "AsyncJobResource",
    "DownloadSource",
    "JSONInput",
    "Job",
    "JobGovernor",
    "JobResource",
    "KindName",
    "ProgressCallback",
    "Unset",
]
__all__ += vozo_jobs.types.__all__
__all__ += _sync_resources.__all__
__all__ += _async_resources.__all__
