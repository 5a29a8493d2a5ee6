from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import JSON, UNSET, Unset, checked_field, checked_object

T = TypeVar("T", bound="ReusableModelVideoGenerationRequest")


@_attrs_define
class ReusableModelVideoGenerationRequest:
    """
    Attributes:
        model_id (str): ID of the reusable lipsync model
        audio_url (str): Url that our server could download the audio file from to drive the reference. Supported audio
            types: .wav .mp3 .m4a
        callback_url (str | Unset): Url for callback if the job status changes. This URL will receive a request with the
            schema same as response for query job status API when job status changes.
    """

    model_id: str
    audio_url: str
    callback_url: str | Unset = UNSET
    additional_properties: dict[str, JSON] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, JSON]:
        model_id = self.model_id

        audio_url = self.audio_url

        callback_url = self.callback_url

        field_dict: dict[str, JSON] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "model_id": model_id,
                "audio_url": audio_url,
            }
        )
        if callback_url is not UNSET:
            field_dict["callback_url"] = callback_url

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = checked_object(src_dict, "ReusableModelVideoGenerationRequest")
        model_id = checked_field(
            d, "model_id", (str,), "ReusableModelVideoGenerationRequest", required=True
        )

        audio_url = checked_field(
            d, "audio_url", (str,), "ReusableModelVideoGenerationRequest", required=True
        )

        callback_url = checked_field(
            d,
            "callback_url",
            (str,),
            "ReusableModelVideoGenerationRequest",
            required=False,
        )

        reusable_model_video_generation_request = cls(
            model_id=model_id,
            audio_url=audio_url,
            callback_url=callback_url,
        )

        reusable_model_video_generation_request.additional_properties = d
        return reusable_model_video_generation_request

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
