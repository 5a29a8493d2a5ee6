from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.media_translate_request_export_type import MediaTranslateRequestExportType
from ..models.media_translate_request_media_type import MediaTranslateRequestMediaType
from ..models.media_translate_request_subtitle_usage_type import (
    MediaTranslateRequestSubtitleUsageType,
)
from ..types import JSON, UNSET, Unset, checked_field, checked_object

if TYPE_CHECKING:
    from ..models.ocr_text_box import OcrTextBox
    from ..models.speaker_number import SpeakerNumber


T = TypeVar("T", bound="MediaTranslateRequest")


@_attrs_define
class MediaTranslateRequest:
    """
    Attributes:
        media_type (MediaTranslateRequestMediaType): Media type of input: video or audio
        media_url (str): Publicly accessible URL of input media (video/audio) for the server to download. Maximum
            supported input duration is 2 hours.
        source_language (str): Source language code. Supports 'auto' or language codes such as en-US.
        target_language (str): Target language code. Locale is optional (e.g., en, en-US, zh, zh-CN). Only the language
            part is validated against the supported list.
        export_type (MediaTranslateRequestExportType): Output type. auto: match input type; video: output video; audio:
            output audio; all: both video and audio. When media_type=audio, export_type cannot be video or all.
        subtitle_url (str | Unset): Publicly accessible URL of subtitle file (SRT only). Server will download and
            validate timestamps (non-overlap, start<=end, within media duration, total <=2h). Mutually exclusive with
            ocr_text_box.
        subtitle_usage_type (MediaTranslateRequestSubtitleUsageType | Unset): Whether the provided subtitle is original
            or final translated
        ocr_text_box (OcrTextBox | Unset): OCR text region in normalized coordinates [0–1], origin at top-left. Only
            applicable when media_type=video. Mutually exclusive with subtitle_url.
        speaker_number (SpeakerNumber | Unset): Specify speaker count range or leave empty for auto
        user_prompt (str | Unset): Optional translation or dubbing prompt to guide style
        callback_url (str | Unset): Webhook callback URL for status changes
    """

    media_type: MediaTranslateRequestMediaType
    media_url: str
    source_language: str
    target_language: str
    export_type: MediaTranslateRequestExportType
    subtitle_url: str | Unset = UNSET
    subtitle_usage_type: MediaTranslateRequestSubtitleUsageType | Unset = UNSET
    ocr_text_box: OcrTextBox | Unset = UNSET
    speaker_number: SpeakerNumber | Unset = UNSET
    user_prompt: str | Unset = UNSET
    callback_url: str | Unset = UNSET
    additional_properties: dict[str, JSON] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, JSON]:
        media_type = self.media_type.value

        media_url = self.media_url

        source_language = self.source_language

        target_language = self.target_language

        export_type = self.export_type.value

        subtitle_url = self.subtitle_url

        subtitle_usage_type: str | Unset = UNSET
        if not isinstance(self.subtitle_usage_type, Unset):
            subtitle_usage_type = self.subtitle_usage_type.value

        ocr_text_box: dict[str, Any] | Unset = UNSET
        if not isinstance(self.ocr_text_box, Unset):
            ocr_text_box = self.ocr_text_box.to_dict()

        speaker_number: dict[str, Any] | Unset = UNSET
        if not isinstance(self.speaker_number, Unset):
            speaker_number = self.speaker_number.to_dict()

        user_prompt = self.user_prompt

        callback_url = self.callback_url

        field_dict: dict[str, JSON] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "media_type": media_type,
                "media_url": media_url,
                "source_language": source_language,
                "target_language": target_language,
                "export_type": export_type,
            }
        )
        if subtitle_url is not UNSET:
            field_dict["subtitle_url"] = subtitle_url
        if subtitle_usage_type is not UNSET:
            field_dict["subtitle_usage_type"] = subtitle_usage_type
        if ocr_text_box is not UNSET:
            field_dict["ocr_text_box"] = ocr_text_box
        if speaker_number is not UNSET:
            field_dict["speaker_number"] = speaker_number
        if user_prompt is not UNSET:
            field_dict["user_prompt"] = user_prompt
        if callback_url is not UNSET:
            field_dict["callback_url"] = callback_url

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.ocr_text_box import OcrTextBox
        from ..models.speaker_number import SpeakerNumber

        d = checked_object(src_dict, "MediaTranslateRequest")
        media_type = MediaTranslateRequestMediaType(
            checked_field(
                d, "media_type", (str,), "MediaTranslateRequest", required=True
            )
        )

        media_url = checked_field(
            d, "media_url", (str,), "MediaTranslateRequest", required=True
        )

        source_language = checked_field(
            d, "source_language", (str,), "MediaTranslateRequest", required=True
        )

        target_language = checked_field(
            d, "target_language", (str,), "MediaTranslateRequest", required=True
        )

        export_type = MediaTranslateRequestExportType(
            checked_field(
                d, "export_type", (str,), "MediaTranslateRequest", required=True
            )
        )

        subtitle_url = checked_field(
            d, "subtitle_url", (str,), "MediaTranslateRequest", required=False
        )

        _subtitle_usage_type = checked_field(
            d, "subtitle_usage_type", (str,), "MediaTranslateRequest", required=False
        )
        subtitle_usage_type: MediaTranslateRequestSubtitleUsageType | Unset
        if isinstance(_subtitle_usage_type, Unset):
            subtitle_usage_type = UNSET
        else:
            subtitle_usage_type = MediaTranslateRequestSubtitleUsageType(
                _subtitle_usage_type
            )

        _ocr_text_box = checked_field(
            d, "ocr_text_box", (dict,), "MediaTranslateRequest", required=False
        )
        ocr_text_box: OcrTextBox | Unset
        if isinstance(_ocr_text_box, Unset):
            ocr_text_box = UNSET
        else:
            ocr_text_box = OcrTextBox.from_dict(_ocr_text_box)

        _speaker_number = checked_field(
            d, "speaker_number", (dict,), "MediaTranslateRequest", required=False
        )
        speaker_number: SpeakerNumber | Unset
        if isinstance(_speaker_number, Unset):
            speaker_number = UNSET
        else:
            speaker_number = SpeakerNumber.from_dict(_speaker_number)

        user_prompt = checked_field(
            d, "user_prompt", (str,), "MediaTranslateRequest", required=False
        )

        callback_url = checked_field(
            d, "callback_url", (str,), "MediaTranslateRequest", required=False
        )

        media_translate_request = cls(
            media_type=media_type,
            media_url=media_url,
            source_language=source_language,
            target_language=target_language,
            export_type=export_type,
            subtitle_url=subtitle_url,
            subtitle_usage_type=subtitle_usage_type,
            ocr_text_box=ocr_text_box,
            speaker_number=speaker_number,
            user_prompt=user_prompt,
            callback_url=callback_url,
        )

        media_translate_request.additional_properties = d
        return media_translate_request

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
