"""Contains some shared types for properties"""

import json
import logging
from collections.abc import Mapping, MutableMapping
from http import HTTPStatus
from typing import IO, Any, BinaryIO, Generic, Literal, TypeVar

from attrs import define


class Unset:
    """A field the response did not carry (None would be a value). Falsy; its repr is UNSET."""

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "UNSET"

    def __reduce__(self) -> str:
        # The one UNSET, also after pickle or deepcopy: models test `is not UNSET` (a copy would be sent as a value).
        return "UNSET"


UNSET: Unset = Unset()

# The types that `httpx.Client(files=)` can accept, copied from that library.
FileContent = IO[bytes] | bytes | str
FileTypes = (
    # (filename, file (or bytes), content_type)
    tuple[str | None, FileContent, str | None]
    # (filename, file (or bytes), content_type, headers)
    | tuple[str | None, FileContent, str | None, Mapping[str, str]]
)
RequestFiles = list[tuple[str, FileTypes]]


@define
class File:
    """Contains information for file uploads"""

    payload: BinaryIO
    file_name: str | None = None
    mime_type: str | None = None

    def to_tuple(self) -> FileTypes:
        """Return a tuple representation that httpx will accept for multipart/form-data"""
        return self.file_name, self.payload, self.mime_type


T = TypeVar("T")

# Any JSON value: what a field no schema declares holds (a model's ``additional_properties``).
JSON = dict[str, "JSON"] | list["JSON"] | str | int | float | bool | None


@define
class Response(Generic[T]):
    """A response from an endpoint"""

    status_code: HTTPStatus
    content: bytes
    headers: MutableMapping[str, str]
    parsed: T | None


_JSON_NAMES: dict[type, str] = {
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
    dict: "an object",
    list: "an array",
    type(None): "null",
}


def _json_name(value: object) -> str:
    return next(
        (name for kind, name in _JSON_NAMES.items() if type(value) is kind),
        type(value).__name__,
    )


def _fits(value: object, types: tuple[type, ...] | None) -> bool:
    # bool is an int to isinstance, but JSON true is no number
    return types is None or (
        isinstance(value, types) and (bool in types or type(value) is not bool)
    )


def checked_object(value: object, model: str) -> dict[str, Any]:
    """A copy of the JSON object a model is read from; any other JSON value (an array, a string) raises TypeError,
    which the client reports as an answer not matching the spec."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{model} must be an object, got {_json_name(value)}")
    return dict(value)


def checked_field(
    data: dict[str, Any],
    name: str,
    types: tuple[type, ...] | None,
    model: str,
    *,
    required: bool,
    items: tuple[type, ...] | None = None,
) -> Any:
    """Take field ``name`` out of an answer's ``data``, checked against the JSON types the spec declares for it
    (``types``, and ``items`` for an array's items; None: any), so no model holds a value its annotation denies.

    A required field of another type raises TypeError (the client reports the answer as not matching the spec). An
    optional one is read as absent, with a warning naming the field (never its value, which a server wrote): Vozo may
    retype a field, and that must not break a client generated before.
    """
    value = data.pop(name) if required else data.pop(name, UNSET)
    if value is UNSET:
        return value
    if not _fits(value, types):
        return _mistyped(f"{model}.{name}", types, value, required)
    if items is not None and isinstance(value, list):
        wrong = next(
            (index for index, item in enumerate(value) if not _fits(item, items)), None
        )
        if wrong is not None:
            return _mistyped(f"{model}.{name}[{wrong}]", items, value[wrong], required)
    return value


_WARNED: set[tuple[str, str]] = (
    set()
)  # (field, JSON type that came) already warned about in this process


def _mistyped(
    field: str, types: tuple[type, ...] | None, value: object, required: bool
) -> Unset:
    wanted = " or ".join(dict.fromkeys(_JSON_NAMES[kind] for kind in types or ()))
    if required:  # what came, as JSON (the client takes the key out of the message)
        shown = (
            "" if value is None else json.dumps(value, ensure_ascii=False, default=repr)
        )
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        raise TypeError(
            f"{field} must be {wanted}, got {_json_name(value)}{': ' if shown else ''}{shown}"
        )
    if (
        field,
        _json_name(value),
    ) not in _WARNED:  # once: a wait reads the same answer at every poll
        _WARNED.add((field, _json_name(value)))
        logging.getLogger("vozo").warning(
            "%s must be %s, got %s: read as absent (Vozo may have changed this field: update the vozo package)",
            field,
            wanted,
            _json_name(value),
        )
    return UNSET


__all__ = [
    "JSON",
    "UNSET",
    "File",
    "FileTypes",
    "RequestFiles",
    "Response",
    "Unset",
    "checked_field",
    "checked_object",
]
