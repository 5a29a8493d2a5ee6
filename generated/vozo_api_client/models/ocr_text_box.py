from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import JSON, UNSET, Unset, checked_field, checked_object

T = TypeVar("T", bound="OcrTextBox")


@_attrs_define
class OcrTextBox:
    """OCR text region in normalized coordinates [0–1], origin at top-left. Only applicable when media_type=video. Mutually
    exclusive with subtitle_url.

        Attributes:
            x (float | Unset):
            y (float | Unset):
            width (float | Unset):
            height (float | Unset):
    """

    x: float | Unset = UNSET
    y: float | Unset = UNSET
    width: float | Unset = UNSET
    height: float | Unset = UNSET
    additional_properties: dict[str, JSON] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, JSON]:
        x = self.x

        y = self.y

        width = self.width

        height = self.height

        field_dict: dict[str, JSON] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if x is not UNSET:
            field_dict["x"] = x
        if y is not UNSET:
            field_dict["y"] = y
        if width is not UNSET:
            field_dict["width"] = width
        if height is not UNSET:
            field_dict["height"] = height

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = checked_object(src_dict, "OcrTextBox")
        x = checked_field(d, "x", (int, float), "OcrTextBox", required=False)

        y = checked_field(d, "y", (int, float), "OcrTextBox", required=False)

        width = checked_field(d, "width", (int, float), "OcrTextBox", required=False)

        height = checked_field(d, "height", (int, float), "OcrTextBox", required=False)

        ocr_text_box = cls(
            x=x,
            y=y,
            width=width,
            height=height,
        )

        ocr_text_box.additional_properties = d
        return ocr_text_box

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
