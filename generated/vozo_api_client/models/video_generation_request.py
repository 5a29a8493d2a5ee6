from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.model import Model
from ..models.reference_file_type import ReferenceFileType
from ..types import JSON, UNSET, Unset, checked_field, checked_object

T = TypeVar("T", bound="VideoGenerationRequest")


@_attrs_define
class VideoGenerationRequest:
    """
    Attributes:
        reference_file_url (str): Url that our server could download the reference file. Supported video types: .mp4
            .mov .webm .avi .wmv. Supported image types: .jpg .jpeg .png .webp
        audio_url (str): Url that our server could download the audio file from to drive the reference. Supported audio
            types: .wav .mp3 .m4a
        model (Model):
        reference_file_type (ReferenceFileType):
        callback_url (str | Unset): Url for callback if the job status changes. This URL will receive a request with the
            schema same as response for query job status API when job status changes.
    """

    reference_file_url: str
    audio_url: str
    model: Model
    reference_file_type: ReferenceFileType
    callback_url: str | Unset = UNSET
    additional_properties: dict[str, JSON] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, JSON]:
        reference_file_url = self.reference_file_url

        audio_url = self.audio_url

        model = self.model.value

        reference_file_type = self.reference_file_type.value

        callback_url = self.callback_url

        field_dict: dict[str, JSON] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "reference_file_url": reference_file_url,
                "audio_url": audio_url,
                "model": model,
                "reference_file_type": reference_file_type,
            }
        )
        if callback_url is not UNSET:
            field_dict["callback_url"] = callback_url

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = checked_object(src_dict, "VideoGenerationRequest")
        reference_file_url = checked_field(
            d, "reference_file_url", (str,), "VideoGenerationRequest", required=True
        )

        audio_url = checked_field(
            d, "audio_url", (str,), "VideoGenerationRequest", required=True
        )

        model = Model(
            checked_field(d, "model", (str,), "VideoGenerationRequest", required=True)
        )

        reference_file_type = ReferenceFileType(
            checked_field(
                d,
                "reference_file_type",
                (str,),
                "VideoGenerationRequest",
                required=True,
            )
        )

        callback_url = checked_field(
            d, "callback_url", (str,), "VideoGenerationRequest", required=False
        )

        video_generation_request = cls(
            reference_file_url=reference_file_url,
            audio_url=audio_url,
            model=model,
            reference_file_type=reference_file_type,
            callback_url=callback_url,
        )

        video_generation_request.additional_properties = d
        return video_generation_request

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
