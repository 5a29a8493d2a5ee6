"""The Vozo API client: lipsynced talking videos, reusable lipsync models, translation and dubbing.

from vozo import Vozo

client = Vozo()  # reads VOZO_API_KEY
status = client.lipsync.create_and_wait(
    reference_file_url="https://example.com/presenter.mp4",
    audio_url="https://example.com/voiceover.mp3",
)
client.download(status, "talking.mp4")
"""

from vozo import callbacks, types
from vozo._async._client import AsyncVozo
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

# Public classes say they live here (help(), reprs, tracebacks), not in the private module that defines them.
for _name in __all__:
    _value = globals()[_name]
    if isinstance(_value, type):
        _value.__module__ = "vozo"
del _name, _value
