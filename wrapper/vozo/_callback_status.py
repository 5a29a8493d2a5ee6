"""Reading a callback body as the status of a job kind, checked the way the spec describes that status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from vozo._base import check_text_only, read_json
from vozo._errors import CallbackError, InvalidInputError
from vozo._kinds import JobKind, all_kinds, kind_named

CallbackBody = bytes | str | Mapping[str, Any]


def parse_status(body: CallbackBody, headers: Mapping[str, str] | None, kind: str | None) -> Any:
    if headers is not None:
        if not callable(getattr(headers, "items", None)):  # any framework's headers mapping has items()
            raise CallbackError(
                f"callback headers must be a mapping of header names to values, got {type(headers).__name__}"
            )
        given = {_header_text(name, "names").lower(): value for name, value in headers.items()}
        content_type = _header_text(given.get("content-type", "application/json"), "values")
        if "json" not in content_type.lower():
            raise CallbackError(f"callback Content-Type is {content_type!r}, expected JSON")
    data = _json(body)
    if not isinstance(data.get("status"), str):
        raise CallbackError(f"callback has no string 'status' (got {type(data.get('status')).__name__})")
    chosen = _named(kind) if kind is not None else _fitting(data)
    try:
        return chosen.status_model.from_dict(data)
    except RecursionError:
        raise CallbackError("callback body is nested too deeply to be a Vozo status: refuse the request") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CallbackError(f"callback is not a {chosen.name} job status: {type(exc).__name__}: {exc}") from None


def _header_text(value: object, what: str) -> str:
    """A header name or value as text: frameworks hand them over as str, some as bytes (HTTP's are latin-1)."""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if not isinstance(value, str):
        raise CallbackError(f"callback header {what} must be text or bytes, got {type(value).__name__}")
    return value


def _named(kind: str) -> JobKind:
    try:
        return kind_named(kind)
    except InvalidInputError as exc:
        raise CallbackError(str(exc)) from None


def _json(body: CallbackBody) -> dict[str, Any]:
    if isinstance(body, Mapping):  # decoded by a framework: perhaps from "\ud800", which read_json refuses
        try:
            check_text_only(body)
        except ValueError as exc:
            raise CallbackError(f"callback body is not JSON this client can read ({exc}): refuse the request") from None
        return dict(body)
    if not isinstance(body, bytes | bytearray | str):  # json.loads would raise a bare TypeError
        raise CallbackError(f"callback body must be bytes, str or a mapping, got {type(body).__name__}")
    if isinstance(body, str):  # json.loads skips a UTF-8 BOM in bytes; text a framework decoded as UTF-8 keeps it
        body = body.removeprefix("\ufeff")
    try:
        data = read_json(body)
    except ValueError as exc:  # a UnicodeDecodeError too
        raise CallbackError(f"callback body is not JSON this client can read ({exc}): refuse the request") from None
    if not isinstance(data, dict):
        raise CallbackError(f"callback body must be a JSON object, got {type(data).__name__}")
    return data


def _declared(kind: JobKind) -> set[str]:
    return {field.name for field in attrs.fields(kind.status_model) if field.name != "additional_properties"}


def _fitting(data: dict[str, Any]) -> JobKind:
    """The kind whose status values and fields fit the body best (one per status model: kinds may share one)."""
    models: dict[type[Any], JobKind] = {}
    for kind in all_kinds():
        models.setdefault(kind.status_model, kind)

    def score(kind: JobKind) -> tuple[bool, int, int]:
        declared = _declared(kind)
        return (data["status"] in kind.statuses, len(set(data) & declared), -len(set(data) - declared))

    scores = {kind.name: score(kind) for kind in models.values()}
    best = max(scores.values())
    fitting = [kind for kind in models.values() if scores[kind.name] == best]
    if len(fitting) > 1:  # a guess would hand back another kind's model, whose fields read otherwise
        names = ", ".join(kind.name for kind in fitting)
        raise CallbackError(
            f"callback body fits the status of several job kinds ({names}): pass kind= (the kind of the job whose "
            "callback_url this is) to parse it"
        )
    return fitting[0]
