from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.job_status_status import JobStatusStatus
from ..types import JSON, UNSET, Unset, checked_field, checked_object

T = TypeVar("T", bound="JobStatus")


@_attrs_define
class JobStatus:
    """
    Attributes:
        status (JobStatusStatus): Current job status: pending, processing, done, failed
        video_url (str | Unset): When job is finished, the output video could be download using this URL.
    """

    status: JobStatusStatus
    video_url: str | Unset = UNSET
    additional_properties: dict[str, JSON] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, JSON]:
        status = self.status.value

        video_url = self.video_url

        field_dict: dict[str, JSON] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "status": status,
            }
        )
        if video_url is not UNSET:
            field_dict["video_url"] = video_url

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = checked_object(src_dict, "JobStatus")
        status = JobStatusStatus(
            checked_field(d, "status", (str,), "JobStatus", required=True)
        )

        video_url = checked_field(d, "video_url", (str,), "JobStatus", required=False)

        job_status = cls(
            status=status,
            video_url=video_url,
        )

        job_status.additional_properties = d
        return job_status

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> JSON:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: JSON) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
