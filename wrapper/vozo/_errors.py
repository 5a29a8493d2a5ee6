"""Exceptions users catch by meaning. Everything the client raises is a ``VozoError``::

VozoError
├── InvalidInputError              an argument refused before any request (also a ValueError)
├── CallbackError                  a callback body or token that does not verify (also a ValueError)
├── MissingExtraError              an optional part imported without its extra (also an ImportError)
├── APIConnectionError             no response: DNS, connect, TLS, reset, protocol
│   ├── APIConnectError            the connection was never made: the request certainly never reached Vozo
│   │   └── APIConnectTimeoutError
│   ├── APITimeoutError            connect, read, write or pool timeout
│   └── CertificateVerifyError     the server's certificate failed verification
├── APIResponseValidationError     a success body that breaks the spec
├── APIStatusError                 Vozo answered with an error status
│   ├── BadRequestError            400
│   ├── AuthenticationError        401, code 1302
│   ├── PermissionDeniedError      403 (InsufficientCreditsError: code 104)
│   ├── NotFoundError              404
│   ├── RateLimitError             429, code 1304 (retryable)
│   └── InternalServerError        5xx, code 1000 (retryable)
├── JobFailedError                 the job ended in ``failed``
├── JobTimeoutError                waiting ran past its deadline
└── DownloadError                  a result download failed; no partial file left
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from vozo._codes import describe

if TYPE_CHECKING:
    import httpx

    # The status of any job kind (a union of the generated status models); users narrow it with isinstance.
    # Only for annotations: vozo_jobs imports this module.
    from vozo_jobs.kinds import AnyStatus

__all__ = [
    "APIConnectError",
    "APIConnectTimeoutError",
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "CallbackError",
    "CertificateVerifyError",
    "DownloadError",
    "InsufficientCreditsError",
    "InternalServerError",
    "InvalidInputError",
    "JobFailedError",
    "JobTimeoutError",
    "MissingExtraError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "VozoError",
]

_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-trace-id", "x-amzn-requestid")
_EXCERPT = 200


class VozoError(Exception):
    """Base class of every error the client raises.

    ``task_id`` is set whenever the error happened after a job was created (while waiting or downloading), so a
    job that was paid for is never lost to an exception.
    """

    task_id: str | None = None

    def __reduce__(self) -> tuple[Callable[..., VozoError], tuple[type[VozoError], tuple[object, ...]], dict[str, Any]]:
        # pickle would call cls(*args), which most subclasses cannot take (keyword arguments; args holds only the
        # message): rebuilt from args and attributes instead, for errors sent across processes (ProcessPoolExecutor,
        # multiprocessing, Celery).
        return (_rebuilt, (type(self), self.args), self.__dict__)


def _rebuilt(cls: type[VozoError], args: tuple[object, ...]) -> VozoError:
    error = cls.__new__(cls)
    error.args = args
    return error


class InvalidInputError(VozoError, ValueError):
    """An argument was refused before any request was sent (unsupported file type, bad language code, ...)."""


class CallbackError(VozoError, ValueError):
    """A callback request that is not a valid Vozo job status, or whose token does not verify."""


class MissingExtraError(VozoError, ImportError):
    """An optional part of the SDK was imported without the extra that installs its libraries.

    The message names the command that fixes it, e.g. ``pip install 'vozo[testing]'``.
    """


class APIConnectionError(VozoError):
    """The request did not get a response: DNS, connect, TLS, reset or protocol failure."""

    def __init__(self, message: str, *, request: httpx.Request | None = None) -> None:
        super().__init__(message)
        self.request = request


class APITimeoutError(APIConnectionError):
    """The request timed out (connect, read, write or pool timeout)."""


class APIConnectError(APIConnectionError):
    """The connection was never established, so the request certainly never reached Vozo (a create is retried)."""


class APIConnectTimeoutError(APIConnectError, APITimeoutError):
    """Timed out before a connection existed (connect or pool timeout): the request never left this machine."""


class CertificateVerifyError(APIConnectionError):
    """The server's TLS certificate failed verification: never retried, since trying again cannot change it."""


class APIResponseValidationError(VozoError):
    """A success response whose body does not match the spec (not JSON, or a required field missing)."""

    def __init__(self, message: str, *, status_code: int | None = None, body_excerpt: str | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body_excerpt = body_excerpt


class APIStatusError(VozoError):
    """Vozo answered with an error status. Carries Vozo's ``code``, ``message`` and ``serverTs`` when present.

    ``retryable`` comes with the class, which the HTTP status picks, or Vozo's code where the status cannot
    say (a 400 with code 1304 is a ``RateLimitError``, retryable; code 104 an ``InsufficientCreditsError``, not).
    """

    retryable: bool = False
    # What to do about it, ending the message; each class says its own.
    _advice_text = "Check the request against Vozo's documentation of this operation and code"

    def __init__(
        self,
        *,
        status_code: int,
        method: str,
        path: str,
        code: str | None = None,
        message: str | None = None,
        server_ts: str | None = None,
        request_id: str | None = None,
        body_excerpt: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.status_code = status_code
        self.method = method
        self.path = path
        self.code = code
        self.message = message
        self.server_ts = server_ts
        self.request_id = request_id
        self.body_excerpt = body_excerpt
        self.retry_after = retry_after
        self.code_description = describe(code)
        super().__init__(self._summary())

    def _summary(self) -> str:
        code, message = _cut(self.code), _cut(self.message)
        text = f"{self.status_code} from {self.method} {self.path}{_vozo_says(code, message, describe(self.code))}"
        if self.request_id:
            text += f" [request id {_cut(self.request_id)}]"
        if self.body_excerpt is not None:
            text += f" - body: {self.body_excerpt!r}"
        return f"{text.rstrip('.')}. {self._advice()}"  # a code's documented meaning may end in its own period

    def _advice(self) -> str:
        return self._advice_text


class BadRequestError(APIStatusError):
    """400: Vozo refused the request (code 5: invalid parameters, 1502: audio cannot be downloaded, ...)."""

    _advice_text = "Vozo refused the request as sent, and created no job: fix what the code names, then send it again"


class AuthenticationError(APIStatusError):
    """401, or code 1302: the API key is missing, invalid or revoked."""

    _advice_text = "Check the API key (api_key= or VOZO_API_KEY): it may be mistyped, or revoked in your Vozo account"


class PermissionDeniedError(APIStatusError):
    """403, or codes 7, 814, 1305, 1503: the account may not make this call."""

    _advice_text = "This key's account may not make this call: check its plan and permissions in your Vozo account"


class InsufficientCreditsError(PermissionDeniedError):
    """Code 104: not enough credits. Not retryable: retrying cannot succeed until credits are added."""

    _advice_text = "Add credits to your Vozo account, then send it again"


class NotFoundError(APIStatusError):
    """404."""

    _advice_text = (
        "Check the task id (as the create call returned it) and base_url: a job made with another key or on another "
        "server is not found"
    )

    def _advice(self) -> str:
        from vozo._config import DEFAULT_BASE_URL  # both modules import this one
        from vozo._kinds import all_kinds

        statuses = ("[^/]+".join(map(re.escape, re.split(r"\{[^/]*\}", kind.status_path))) for kind in all_kinds())
        if self.method == "GET" and any(re.search(f"{pattern}$", self.path) for pattern in statuses):
            return self._advice_text
        # A create, or client.request(): no task id in it, so the operation itself was not found there.
        return (
            f"Nothing answers {self.method} at this path on this server: check base_url (Vozo's API is "
            f"{DEFAULT_BASE_URL}) and the path; if the server is Vozo's, the operation moved: update the vozo package"
        )


class RateLimitError(APIStatusError):
    """429, or code 1304 (too many concurrent jobs for this key, queued ones included). Retryable after a pause."""

    retryable = True
    _advice_text = (
        "Too many jobs or requests at once for this key: wait for some jobs to finish, then try again "
        "(max_active_jobs= keeps a client under the key's cap)"
    )


class InternalServerError(APIStatusError):
    """5xx, or code 1000. Retryable."""

    retryable = True

    def _advice(self) -> str:
        # A job-creating request may have created the job: the retry layer says so instead of "try again".
        return "A failure on Vozo's side" + ("; try again later" if self.method in ("GET", "HEAD") else "")


class JobFailedError(VozoError):
    """The job ended in ``failed``, or in another end that is not ``done`` (``cancelled``, ``expired``). Carries the
    final status and Vozo's error fields when it sent any."""

    def __init__(
        self, task_id: str, status: AnyStatus, *, code: str | None, message: str | None, shown_value: str | None = None
    ) -> None:
        """``shown_value``: the status value as the message shows it (the API key a server echoed masked)."""
        self.task_id = task_id
        self.status: AnyStatus = status
        self.code = code
        self.message = message
        self.code_description = describe(code)
        value = _status_value(status) if shown_value is None else shown_value
        ended = "failed" if value == "failed" else f"ended {value!r}"
        said = f"job {task_id} {ended}{_vozo_says(_cut(code), _cut(message), self.code_description)}".rstrip(".")
        super().__init__(f"{said}. It will not finish: create a new job (after fixing the input, if the code names it)")


class JobTimeoutError(VozoError):
    """Waiting ran past its deadline. The job itself may still finish: wait again with ``task_id``."""

    def __init__(
        self,
        task_id: str,
        timeout: float,
        last_status: AnyStatus | None,
        *,
        failed_check: VozoError | None = None,
        shown_value: str | None = None,
    ) -> None:
        """``failed_check``: the error of the last status check, when it failed (an outage ran into the deadline).
        ``shown_value``: the last status value as the message shows it (the API key a server echoed masked)."""
        self.task_id = task_id
        self.timeout = timeout
        self.last_status: AnyStatus | None = last_status  # None when no status was ever read
        value = _status_value(last_status) if shown_value is None else shown_value
        seen = f"last status: {value}"
        if failed_check is not None:
            code = f", HTTP {failed_check.status_code}" if isinstance(failed_check, APIStatusError) else ""
            seen += f"; the last status check failed: {type(failed_check).__name__}{code}"
        super().__init__(
            f"job {task_id} still not finished after {timeout:g}s ({seen}). It may still finish: wait again with its "
            "task_id (or a larger timeout=); creating it again would pay twice"
        )


class DownloadError(VozoError):
    """A result download failed, whatever the cause: HTTP status, connection, timeout or deadline, redirect loop,
    size limit, or a file that could not be written. No file was left under the target name, nor a temporary one.

    ``retryable`` says whether trying again may help (a truncated body or a 5xx, not a 404 or an expired link).
    ``link_expired``: the link answered as expired links do (401, 403, 404, 410, or a web page instead of the file);
    a fresh status of the job gives a new one. ``task_id`` is the job whose result it was, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        url: str,
        status_code: int | None = None,
        retryable: bool = False,
        link_expired: bool = False,
        task_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.url = url
        self.status_code = status_code
        self.retryable = retryable
        self.link_expired = link_expired
        self.task_id = task_id


def add_advice(error: VozoError, advice: str) -> None:
    """Append ``advice`` to the error's message, once."""
    message = str(error.args[0]) if error.args else ""
    if advice not in message:
        error.args = (f"{message.rstrip('.')}. {advice}" if message else advice, *error.args[1:])


def _cut(text: str | None) -> str | None:
    """What a server sent, shown no longer than an excerpt: a megabyte in a field must not bury the advice (the
    error's attributes keep it whole)."""
    return text if text is None or len(text) <= _EXCERPT else text[:_EXCERPT] + "..."


def _vozo_says(code: str | None, message: str | None, description: str | None = None) -> str:
    """``: code C (message) - documented as: ...``, of what Vozo sent; the meaning its docs give a code is added
    unless the message already says it."""
    text = f": code {code}" if code is not None else ""
    if message:
        text += f" ({message})"
    description = description if description is not None else describe(code)
    if description and description.rstrip(".") != (message or "").rstrip("."):
        text += f" - documented as: {description}"
    return text


def _status_value(status: AnyStatus | None) -> str:
    return str(status.status.value) if status is not None else "none yet"


def request_id(headers: httpx.Headers) -> str | None:
    return next((headers[name] for name in _REQUEST_ID_HEADERS if name in headers), None)


def excerpt(body: bytes | str, hide: Callable[[str], str] = str) -> str:
    """The start of a body (UTF-8, undecodable bytes replaced) to debug with, the API key taken out by ``hide``."""
    text = hide(body if isinstance(body, str) else body.decode("utf-8", errors="replace")).strip()
    return text if len(text) <= _EXCERPT else text[:_EXCERPT] + "..."
