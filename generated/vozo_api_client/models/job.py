from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import JSON, checked_field, checked_object

T = TypeVar("T", bound="Job")


@_attrs_define
class Job:
    """
    Attributes:
        task_id (str): ID of the task
    """

    task_id: str
    additional_properties: dict[str, JSON] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, JSON]:
        task_id = self.task_id

        field_dict: dict[str, JSON] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "task_id": task_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = checked_object(src_dict, "Job")
        task_id = checked_field(d, "task_id", (str,), "Job", required=True)

        job = cls(
            task_id=task_id,
        )

        job.additional_properties = d
        return job

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
