"""Checks on the URLs and values users pass, done before any request so that bad input costs nothing."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from vozo._errors import InvalidInputError
from vozo_api_client.models import Model, ReferenceFileType

# The file types Vozo's pages document for each field.
VIDEO_TYPES = (".mp4", ".mov", ".webm", ".avi", ".wmv")
IMAGE_TYPES = (".jpg", ".jpeg", ".png", ".webp")
AUDIO_TYPES = (".wav", ".mp3", ".m4a")
SUBTITLE_TYPES = (".srt",)

_MODEL_ALIASES = {"standard": Model.STANDARD_V1, "precision": Model.PRECISION_V1}
_VERSIONED_MODEL = re.compile(r"^[a-z]+_v\d+$")  # a model Vozo adds later (precision_v2) passes through
SOURCE_LANGUAGE = re.compile(r"^(auto|[a-z]{2}(-[A-Za-z]{2})?)$")  # patterns from the translate & dub page
TARGET_LANGUAGE = re.compile(r"^[a-z]{2}(-[A-Za-z]{2})?$")


def extension(url: str) -> str:
    """The lower-cased file extension of a URL's path, ignoring query string and fragment ('' when none)."""
    return PurePosixPath(unquote(urlsplit(url).path)).suffix.lower()


def check_url(field: str, url: str, accepted: tuple[str, ...], *, check_file_type: bool = True) -> str:
    if not isinstance(url, str) or not url.strip():
        raise InvalidInputError(f"{field} must be a non-empty URL string, got {url!r}")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInputError(
            f"{field} must be an http(s) URL that Vozo's servers can download, got {url!r} "
            "(a local file must be uploaded somewhere reachable first)"
        )
    if check_file_type and extension(url) not in accepted:
        found = extension(url) or "no extension"
        raise InvalidInputError(
            f"{field} {url!r} has an unsupported file type ({found}); accepted: {' '.join(accepted)}. "
            "For a URL without a file extension, pass check_file_types=False."
        )
    return url.strip()


def reference_type(url: str, given: ReferenceFileType | str | None, *, check_file_type: bool) -> ReferenceFileType:
    """The reference file's type: as given, else inferred from the URL's extension."""
    ext = extension(url)
    if given is None:
        if ext in VIDEO_TYPES:
            return ReferenceFileType.VIDEO
        if ext in IMAGE_TYPES:
            return ReferenceFileType.IMAGE
        raise InvalidInputError(
            f"reference_file_type cannot be inferred from {url!r} ({ext or 'no extension'}); "
            "pass reference_file_type='video' or 'image'"
        )
    if given not in tuple(ReferenceFileType):  # checked first: the generated enum accepts unknown values
        raise InvalidInputError(f"reference_file_type must be 'video' or 'image', got {given!r}")
    kind = ReferenceFileType(given)
    if check_file_type:
        accepted = VIDEO_TYPES if kind is ReferenceFileType.VIDEO else IMAGE_TYPES
        check_url("reference_file_url", url, accepted)
    return kind


def model(value: Model | str) -> Model:
    """'standard'/'precision', the API's names ('standard_v1'), or a generated ``Model`` member."""
    if isinstance(value, str) and value.lower() in _MODEL_ALIASES:
        return _MODEL_ALIASES[value.lower()]
    if isinstance(value, str) and (value in tuple(Model) or _VERSIONED_MODEL.match(value)):
        return Model(value)
    raise InvalidInputError(
        f"model must be 'standard' or 'precision' (or {', '.join(m.value for m in Model)}), got {value!r}"
    )


def task_id(value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"task_id must be a non-empty string, got {value!r}")
    return value.strip()
