"""Vozo's documented error codes, in one table (lipsync, reusable lipsync and translate & dub overview pages).

Codes arrive as strings in the ``code`` field of an error body, or in ``err_code`` of a failed job.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

import attrs

Kind = Literal["bad_request", "authentication", "permission", "credits", "rate_limit", "server"]


@attrs.frozen
class ErrorCode:
    code: str
    description: str
    kind: Kind | None  # for API errors: the exception class it calls for when the HTTP status alone does not say
    retryable: bool


_API = [
    ErrorCode("5", "Invalid request parameters.", "bad_request", False),
    ErrorCode("7", "No permission to request.", "permission", False),
    ErrorCode("104", "Insufficient credits. Not retryable: add credits to the account first.", "credits", False),
    ErrorCode("814", "Your account is not a member and is not allowed to call the API.", "permission", False),
    ErrorCode("1000", "Internal Server Error.", "server", True),
    ErrorCode("1301", "Callback Challenge failed.", "bad_request", False),
    ErrorCode("1302", "API key has been revoked.", "authentication", False),
    ErrorCode("1304", "API key has reached the maximum number of concurrent requests.", "rate_limit", True),
    ErrorCode("1305", "Only business plan is allowed.", "permission", False),
    ErrorCode("1502", "Your audio driver is either invalid or cannot be downloaded.", "bad_request", False),
    ErrorCode("1503", "Your account is not authorized to call the API.", "permission", False),
]
_JOB = [
    ErrorCode("999", "Failed to download the file.", None, False),
    ErrorCode("20403", "Not enough faces.", None, False),
    ErrorCode("20407", "The number of face tracks is too many.", None, False),
    ErrorCode("20408", "The image-to-video facial detection has not been passed.", None, False),
    ErrorCode("20601", "There are no faces in the picture.", None, False),
    ErrorCode("20602", "Unknown image format.", None, False),
    ErrorCode("20611", "Video triggering flow limit.", None, False),
    ErrorCode("20613", "Generate video input sensitive to images.", None, False),
    ErrorCode("10001", "Uploaded file has no video stream.", None, False),
    ErrorCode("10002", "Uploaded video has no audio stream.", None, False),
    ErrorCode("10003", "Transcoding failure (the rest of Vozo's description is not in the stored docs).", None, False),
]

# Read-only: the client reads them too (describe, the error classes), so a user's edit must not change its behaviour.
API_ERROR_CODES: Mapping[str, ErrorCode] = MappingProxyType({entry.code: entry for entry in _API})
JOB_ERROR_CODES: Mapping[str, ErrorCode] = MappingProxyType({entry.code: entry for entry in _JOB})


def describe(code: str | None) -> str | None:
    """The documented meaning of an API or job error code, or None for a code the docs do not list."""
    if code is None:
        return None
    entry = API_ERROR_CODES.get(code) or JOB_ERROR_CODES.get(code)
    return entry.description if entry else None
