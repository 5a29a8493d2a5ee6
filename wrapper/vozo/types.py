"""The models users meet, under the names the SDK speaks of, and the resource classes of each job kind.

Models are attrs classes generated from the spec (``vozo_api_client``); unknown fields Vozo adds are kept in
``additional_properties`` and unknown enum values become members whose ``.value`` is the raw string. A field the
response did not carry is ``UNSET`` (falsy): ``status.video_url or None`` reads it as ``str | None``.
"""

import vozo_jobs.types
from vozo._async._resource import AsyncJobResource as AsyncJobResource
from vozo._sync._resource import JobResource as JobResource
from vozo_api_client.models import Job as Job
from vozo_api_client.types import UNSET as UNSET
from vozo_api_client.types import Unset as Unset
from vozo_jobs.kinds import AnyStatus as AnyStatus
from vozo_jobs.kinds import KindName as KindName
from vozo_jobs.types import *  # noqa: F403 - the models' public names, generated from the overlay

__all__ = ["UNSET", "AnyStatus", "AsyncJobResource", "Job", "JobResource", "KindName", "Unset"]
__all__ += vozo_jobs.types.__all__
