from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import JSON, UNSET, Unset, checked_field, checked_object

T = TypeVar("T", bound="MediaTranslateResult")


@_attrs_define
class MediaTranslateResult:
    """Result URLs when available

    Attributes:
        video_url (str | Unset):
        audio_url (str | Unset):
        subtitle_url (str | Unset):
    """

    video_url: str | Unset = UNSET
    audio_url: str | Unset = UNSET
    subtitle_url: str | Unset = UNSET
    additional_properties: dict[str, JSON] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, JSON]:
        video_url = self.video_url

        audio_url = self.audio_url

        subtitle_url = self.subtitle_url

        field_dict: dict[str, JSON] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if video_url is not UNSET:
            field_dict["video_url"] = video_url
        if audio_url is not UNSET:
            field_dict["audio_url"] = audio_url
        if subtitle_url is not UNSET:
            field_dict["subtitle_url"] = subtitle_url

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = checked_object(src_dict, "MediaTranslateResult")
        video_url = checked_field(
            d, "video_url", (str,), "MediaTranslateResult", required=False
        )

        audio_url = checked_field(
            d, "audio_url", (str,), "MediaTranslateResult", required=False
        )

        subtitle_url = checked_field(
            d, "subtitle_url", (str,), "MediaTranslateResult", required=False
        )

        media_translate_result = cls(
            video_url=video_url,
            audio_url=audio_url,
            subtitle_url=subtitle_url,
        )

        media_translate_result.additional_properties = d
        return media_translate_result

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
