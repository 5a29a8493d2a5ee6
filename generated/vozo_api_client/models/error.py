from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import JSON, UNSET, Unset, checked_field, checked_object

T = TypeVar("T", bound="Error")


@_attrs_define
class Error:
    """
    Attributes:
        code (str):
        message (str):
        server_ts (str | Unset):
    """

    code: str
    message: str
    server_ts: str | Unset = UNSET
    additional_properties: dict[str, JSON] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, JSON]:
        code = self.code

        message = self.message

        server_ts = self.server_ts

        field_dict: dict[str, JSON] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "code": code,
                "message": message,
            }
        )
        if server_ts is not UNSET:
            field_dict["serverTs"] = server_ts

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = checked_object(src_dict, "Error")
        code = checked_field(d, "code", (str,), "Error", required=True)

        message = checked_field(d, "message", (str,), "Error", required=True)

        server_ts = checked_field(d, "serverTs", (str,), "Error", required=False)

        error = cls(
            code=code,
            message=message,
            server_ts=server_ts,
        )

        error.additional_properties = d
        return error

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
