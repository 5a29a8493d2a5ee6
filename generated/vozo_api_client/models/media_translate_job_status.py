from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.media_translate_job_status_status import MediaTranslateJobStatusStatus
from ..types import JSON, UNSET, Unset, checked_field, checked_object

if TYPE_CHECKING:
    from ..models.media_translate_result import MediaTranslateResult


T = TypeVar("T", bound="MediaTranslateJobStatus")


@_attrs_define
class MediaTranslateJobStatus:
    """
    Attributes:
        status (MediaTranslateJobStatusStatus): Current job status
        err_code (str | Unset): Error code (present when status is failed)
        err_message (str | Unset): Error message (present when status is failed)
        result (MediaTranslateResult | Unset): Result URLs when available
    """

    status: MediaTranslateJobStatusStatus
    err_code: str | Unset = UNSET
    err_message: str | Unset = UNSET
    result: MediaTranslateResult | Unset = UNSET
    additional_properties: dict[str, JSON] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, JSON]:
        status = self.status.value

        err_code = self.err_code

        err_message = self.err_message

        result: dict[str, Any] | Unset = UNSET
        if not isinstance(self.result, Unset):
            result = self.result.to_dict()

        field_dict: dict[str, JSON] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "status": status,
            }
        )
        if err_code is not UNSET:
            field_dict["err_code"] = err_code
        if err_message is not UNSET:
            field_dict["err_message"] = err_message
        if result is not UNSET:
            field_dict["result"] = result

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.media_translate_result import MediaTranslateResult

        d = checked_object(src_dict, "MediaTranslateJobStatus")
        status = MediaTranslateJobStatusStatus(
            checked_field(d, "status", (str,), "MediaTranslateJobStatus", required=True)
        )

        err_code = checked_field(
            d, "err_code", (str,), "MediaTranslateJobStatus", required=False
        )

        err_message = checked_field(
            d, "err_message", (str,), "MediaTranslateJobStatus", required=False
        )

        _result = checked_field(
            d, "result", (dict,), "MediaTranslateJobStatus", required=False
        )
        result: MediaTranslateResult | Unset
        if isinstance(_result, Unset):
            result = UNSET
        else:
            result = MediaTranslateResult.from_dict(_result)

        media_translate_job_status = cls(
            status=status,
            err_code=err_code,
            err_message=err_message,
            result=result,
        )

        media_translate_job_status.additional_properties = d
        return media_translate_job_status

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
