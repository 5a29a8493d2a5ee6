"""The Vozo API client: lipsynced talking videos, reusable lipsync models, translation and dubbing.

from vozo import Vozo

client = Vozo()  # reads VOZO_API_KEY
status = client.lipsync.create_and_wait(
    reference_file_url="https://example.com/presenter.mp4",
    audio_url="https://example.com/voiceover.mp3",
)
client.download(status, "talking.mp4")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from vozo._codes import API_ERROR_CODES, JOB_ERROR_CODES, ErrorCode, describe
from vozo._errors import (
    APIConnectError,
    APIConnectionError,
    APIConnectTimeoutError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    CallbackError,
    CertificateVerifyError,
    DownloadError,
    InsufficientCreditsError,
    InternalServerError,
    InvalidInputError,
    JobFailedError,
    JobTimeoutError,
    MissingExtraError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    VozoError,
)
from vozo._sync._client import Vozo
from vozo._version import __version__

if TYPE_CHECKING:
    from vozo import callbacks, types
    from vozo._async._client import AsyncVozo

# These load on first use (PEP 562): a sync program never loads anyio and the async client, and no program pays for
# the callback parser or the type aliases before it touches them. Name -> (module, attribute or None: the module).
_LAZY: dict[str, tuple[str, str | None]] = {
    "AsyncVozo": ("vozo._async._client", "AsyncVozo"),
    "callbacks": ("vozo.callbacks", None),
    "types": ("vozo.types", None),
}

__all__ = [
    "API_ERROR_CODES",
    "JOB_ERROR_CODES",
    "APIConnectError",
    "APIConnectTimeoutError",
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncVozo",
    "AuthenticationError",
    "BadRequestError",
    "CallbackError",
    "CertificateVerifyError",
    "DownloadError",
    "ErrorCode",
    "InsufficientCreditsError",
    "InternalServerError",
    "InvalidInputError",
    "JobFailedError",
    "JobTimeoutError",
    "MissingExtraError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "Vozo",
    "VozoError",
    "__version__",
    "callbacks",
    "describe",
    "types",
]


def _public(value: object) -> object:
    """Public classes say they live here (help(), reprs, tracebacks), not in the private module that defines them."""
    if isinstance(value, type):
        value.__module__ = "vozo"
    return value


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module 'vozo' has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    module = importlib.import_module(module_name)
    value = _public(module if attribute is None else getattr(module, attribute))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


for _name in __all__:
    if _name not in _LAZY:
        _public(globals()[_name])
del _name
