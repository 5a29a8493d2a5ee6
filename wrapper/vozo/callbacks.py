"""Receiving Vozo's job callbacks.

Vozo POSTs the job's status (the same body as the status endpoint) to ``callback_url`` whenever it changes.
``parse`` checks such a body against the spec and returns the typed status. Vozo documents no signature, so
``add_token`` puts an HMAC token derived from your secret into the callback URL you give Vozo, and
``verify_token`` checks it on receipt in constant time: a request without the right token did not come from a
URL you handed out.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from vozo._errors import VozoError
from vozo_api_client.models import JobStatus, JobStatusStatus, MediaTranslateJobStatus, MediaTranslateJobStatusStatus

__all__ = ["TOKEN_PARAM", "CallbackError", "add_token", "parse", "verify_token"]

TOKEN_PARAM = "vozo_token"  # noqa: S105 - the query parameter's name, not a secret
JobKind = Literal["lipsync", "translation"]

# Field name -> JSON type the spec documents, per status schema (required fields first).
_LIPSYNC_FIELDS: dict[str, type] = {"status": str, "video_url": str}
_TRANSLATION_FIELDS: dict[str, type] = {"status": str, "err_code": str, "err_message": str, "result": dict}
_RESULT_FIELDS: dict[str, type] = {"video_url": str, "audio_url": str, "subtitle_url": str}
_TRANSLATION_ONLY = {s.value for s in MediaTranslateJobStatusStatus} - {s.value for s in JobStatusStatus}


class CallbackError(VozoError, ValueError):
    """A callback request that is not a valid Vozo job status, or whose token does not verify."""


def parse(
    body: bytes | str | Mapping[str, Any], headers: Mapping[str, str] | None = None, *, kind: JobKind | None = None
) -> JobStatus | MediaTranslateJobStatus:
    """The typed status from a callback body; raises ``CallbackError`` for a body the spec does not allow.

    ``kind`` says which job the callback URL belongs to; without it, a body with translation-only fields or
    statuses is a translation status, anything else a lipsync status.
    """
    if headers is not None:
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "application/json")
        if "json" not in content_type.lower():
            raise CallbackError(f"callback Content-Type is {content_type!r}, expected JSON")
    data = _json(body)
    if kind is None:
        translation = data.get("status") in _TRANSLATION_ONLY or bool(
            {"err_code", "err_message", "result"} & data.keys()
        )
        kind = "translation" if translation else "lipsync"
    if kind == "lipsync":
        _check(data, _LIPSYNC_FIELDS, "callback")
        return JobStatus.from_dict(data)
    _check(data, _TRANSLATION_FIELDS, "callback")
    if "result" in data:
        _check(data["result"], _RESULT_FIELDS, "callback result", required=False)
    return MediaTranslateJobStatus.from_dict(data)


def _json(body: bytes | str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(body, Mapping):
        return dict(body)
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CallbackError(f"callback body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise CallbackError(f"callback body must be a JSON object, got {type(data).__name__}")
    return data


def _check(data: Any, fields: dict[str, type], where: str, *, required: bool = True) -> None:
    if not isinstance(data, dict):
        raise CallbackError(f"{where} must be a JSON object")
    if required and not isinstance(data.get("status"), str):
        raise CallbackError(f"{where} has no string 'status' (got {data.get('status')!r})")
    for name, expected in fields.items():
        if name in data and not isinstance(data[name], expected):
            raise CallbackError(
                f"{where} field {name!r} must be a {expected.__name__}, got {type(data[name]).__name__}"
            )


def _token(url_without_token: str, secret: str | bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    if not key:
        raise ValueError("the callback secret must not be empty")
    return hmac.new(key, url_without_token.encode(), hashlib.sha256).hexdigest()


def _split_token(url: str) -> tuple[str, str | None]:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    tokens = [value for key, value in query if key == TOKEN_PARAM]
    rest = urlunsplit(parts._replace(query=urlencode([(k, v) for k, v in query if k != TOKEN_PARAM])))
    return rest, tokens[0] if len(tokens) == 1 else None


def add_token(callback_url: str, secret: str | bytes) -> str:
    """``callback_url`` with a ``vozo_token`` query parameter: an HMAC-SHA256 of the URL under ``secret``.

    The secret itself never appears in the URL. Give the result to Vozo as ``callback_url``.
    """
    base, _ = _split_token(callback_url)
    separator = "&" if urlsplit(base).query else "?"
    return f"{base}{separator}{urlencode({TOKEN_PARAM: _token(base, secret)})}"


def verify_token(received_url: str, secret: str | bytes, *, expected_url: str | None = None) -> bool:
    """True when ``received_url`` (the full URL the callback hit) carries the token ``add_token`` gave it.

    Behind a proxy that rewrites host or scheme, pass ``expected_url``: the URL you gave ``add_token``.
    Comparison is constant-time.
    """
    base, token = _split_token(received_url)
    if token is None:
        return False
    expected = _token(_split_token(expected_url)[0] if expected_url else base, secret)
    return hmac.compare_digest(token.encode(), expected.encode())
