from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import JSON, UNSET, Unset, checked_field, checked_object

T = TypeVar("T", bound="SpeakerNumber")


@_attrs_define
class SpeakerNumber:
    """Specify speaker count range or leave empty for auto

    Attributes:
        min_ (int | Unset):
        max_ (int | Unset):
    """

    min_: int | Unset = UNSET
    max_: int | Unset = UNSET
    additional_properties: dict[str, JSON] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, JSON]:
        min_ = self.min_

        max_ = self.max_

        field_dict: dict[str, JSON] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if min_ is not UNSET:
            field_dict["min"] = min_
        if max_ is not UNSET:
            field_dict["max"] = max_

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = checked_object(src_dict, "SpeakerNumber")
        min_ = checked_field(d, "min", (int,), "SpeakerNumber", required=False)

        max_ = checked_field(d, "max", (int,), "SpeakerNumber", required=False)

        speaker_number = cls(
            min_=min_,
            max_=max_,
        )

        speaker_number.additional_properties = d
        return speaker_number

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
