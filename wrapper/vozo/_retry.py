"""When to retry, and how long to wait: one policy for every request, sync or async.

Shells drive it the same way, differing only in how they sleep::

    for attempt in Retrying("get_lipsync_job", max_retries, idempotent=True):
        with attempt:
            return send()
        time.sleep(attempt.delay)        # or: await anyio.sleep(attempt.delay)
"""

from __future__ import annotations

import contextvars
import itertools
import os
import random
import ssl
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType

import httpx

from vozo._config import key_hider, spend_key
from vozo._errors import (
    APIConnectError,
    APIConnectionError,
    APIConnectTimeoutError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    CertificateVerifyError,
    DownloadError,
    InvalidInputError,
    RateLimitError,
    VozoError,
    add_advice,
)
from vozo._logging import logger

INITIAL_DELAY = 0.5
MAX_DELAY = 8.0
MAX_RETRY_AFTER = 60.0  # a longer Retry-After is not honoured: we fall back to our own backoff

# Which attempt of a logical call the current request is (read by the request log line).
attempt_number: contextvars.ContextVar[int] = contextvars.ContextVar("vozo_attempt", default=1)


# What each httpx timeout waited for; the seconds come from the request's own timeout settings.
_TIMEOUT_PHASES: dict[type[httpx.TimeoutException], tuple[str, str]] = {
    httpx.ConnectTimeout: ("connect", "no connection"),
    httpx.ReadTimeout: ("read", "no response data"),
    httpx.WriteTimeout: ("write", "the request could not be sent"),
    httpx.PoolTimeout: ("pool", "no free connection in the pool"),
}


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date. None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, OverflowError):  # OverflowError: a zone offset too large for a C int
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, seconds)


def backoff(attempt: int) -> float:
    """Exponential backoff with full jitter (attempt 0 is the first retry)."""
    # The exponent is bounded: 2**1024 overflows a float, and the cap is reached long before anyway.
    return random.uniform(0, min(MAX_DELAY, INITIAL_DELAY * 2 ** min(attempt, 64)))  # noqa: S311 - jitter, not crypto


def retry_delay(error: VozoError, attempt: int, max_retries: int, *, idempotent: bool) -> float | None:
    """Seconds to wait before retrying after ``error``, or None to raise it.

    A request that is not idempotent (creating a paid job) is retried only when Vozo certainly created nothing: the
    connection was never made, or Vozo refused it (429, or code 1304: too many jobs on the key). Vozo documents no
    idempotency key, so a retry after anything else could create and bill a second job.
    """
    if attempt >= max_retries or isinstance(error, CertificateVerifyError):
        return None
    if isinstance(error, APIConnectError):
        return backoff(attempt)
    if isinstance(error, RateLimitError):  # a refusal: no job was created, whatever the request was
        if error.retry_after is not None and error.retry_after <= MAX_RETRY_AFTER:
            return error.retry_after
        return backoff(attempt)
    if not idempotent:
        return None
    if isinstance(error, APIStatusError):
        if not (error.retryable or error.status_code == 408):
            return None
        if error.retry_after is not None and error.retry_after <= MAX_RETRY_AFTER:
            return error.retry_after
        return backoff(attempt)
    if isinstance(error, APIConnectionError) or (isinstance(error, DownloadError) and error.retryable):
        return backoff(attempt)
    return None


def job_may_exist(error: VozoError) -> bool:
    """After a job-creating request failed this way, Vozo may have created the job: the request may have reached it
    and no refusal came back (a 4xx or 429 is one; a connection never made certainly sent nothing)."""
    if isinstance(error, APIConnectError | CertificateVerifyError | InvalidInputError):  # refused before it left
        return False
    if isinstance(error, APIStatusError):
        return error.retryable and not isinstance(error, RateLimitError)
    return True


# What cures a certificate that fails verification (no retry can): said by API calls and downloads alike.
CERTIFICATE_ADVICE = (
    "If a proxy or a private CA signs it, set SSL_CERT_FILE (or SSL_CERT_DIR) to that CA's certificates"
)

JOB_MAY_EXIST = (
    "Vozo may have created (and billed) the job: look for it in your Vozo account before sending it again, "
    "since a second request could create a second job"
)


def connection_error(exc: httpx.TransportError) -> APIConnectionError:
    """The typed error for an httpx transport failure, telling apart failures before anything was sent."""
    try:
        request: httpx.Request | None = exc.request
    except RuntimeError:  # httpx raises when the exception was made without a request
        request = None
    if request is not None:
        _hide_key(exc, request)
    where = f" ({request.method} {request.url.path})" if request is not None else ""
    text = f"{type(exc).__name__}{where}: {_what_happened(exc, request)}"
    certificate = certificate_failure(exc)
    if certificate is not None:
        host = request.url.host if request is not None else "the server"
        error: APIConnectionError = CertificateVerifyError(
            f"{type(exc).__name__}{where}: certificate verify failed for {host} ({certificate.verify_message}). "
            f"{CERTIFICATE_ADVICE}.",
            request=request,
        )
    elif isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout)):
        error = APIConnectTimeoutError(text, request=request)
    elif isinstance(exc, httpx.ConnectError):
        error = APIConnectError(f"{text}. {_unreachable(request)}", request=request)
    elif isinstance(exc, httpx.TimeoutException):
        error = APITimeoutError(text, request=request)
    else:
        error = APIConnectionError(text, request=request)
    error.__cause__ = exc
    return error


def _connection_broke(attempts: int) -> str:
    tries = f" ({attempts} attempts)" if attempts > 1 else ""
    return (
        f"The connection broke before the answer was complete{tries}: try again later; if it keeps happening, check "
        "the network and any proxy between this machine and Vozo"
    )


def _unreachable(request: httpx.Request | None) -> str:
    at = f" at {request.url.scheme}://{request.url.netloc.decode('ascii', 'replace')}" if request is not None else ""
    return (
        f"Nothing was sent: no connection could be made{at}. Check base_url (or VOZO_BASE_URL), this machine's "
        "network, and the proxy HTTPS_PROXY or ALL_PROXY names, if any"
    )


def _hide_key(exc: httpx.TransportError, request: httpx.Request) -> None:
    """Takes the key out of the failed request and out of every message of the failure, which outlive the call in
    errors, tracebacks and pickles: h11 quotes the bytes it cannot parse, so a server that echoes the key puts it
    there."""
    hide = key_hider(request)
    for cause in _causes(exc):
        cause.args = tuple(hide(arg) if isinstance(arg, str) else arg for arg in cause.args)
    spend_key(request)


_GENERATED = f"{os.sep}vozo_api_client{os.sep}"
_PARSING = {"_parse_response", "_build_response", "from_dict"}


def _raised_parsing(exc: BaseException) -> bool:
    """Raised while the generated client read a response body (and not, say, by a bug of ours in between)."""
    frame = exc.__traceback__
    while frame is not None:
        code = frame.tb_frame.f_code
        if code.co_name in _PARSING and _GENERATED in code.co_filename:
            return True
        frame = frame.tb_next
    return False


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def certificate_failure(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    return next((cause for cause in _causes(exc) if isinstance(cause, ssl.SSLCertVerificationError)), None)


def _what_happened(exc: httpx.TransportError, request: httpx.Request | None) -> str:
    """Words for the failure, the same whichever I/O library raised it (asyncio's often say nothing at all)."""
    for kind, (phase, waited_for) in _TIMEOUT_PHASES.items():
        if isinstance(exc, kind):
            seconds = (request.extensions.get("timeout") or {}).get(phase) if request is not None else None
            within = f" within {seconds:g}s" if isinstance(seconds, int | float) else ""
            return f"timed out: {waited_for}{within} ({phase} timeout; pass a larger timeout= if this is expected)"
    causes = list(_causes(exc))
    said = next((str(cause) for cause in causes if str(cause)), None)
    if said is not None:
        return said
    return "the connection failed without a message (" + " <- ".join(type(cause).__name__ for cause in causes) + ")"


class Attempt:
    """One try. As a context manager it turns failures into typed errors and either re-raises or sets ``delay``."""

    def __init__(self, retrying: Retrying, index: int) -> None:
        self._retrying = retrying
        self.index = index
        self.delay = 0.0

    def __enter__(self) -> Attempt:
        self._token = attempt_number.set(self.index + 1)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        attempt_number.reset(self._token)
        if exc is None:
            return False
        error = self._retrying.classify(exc)
        if error is None:
            return False  # not ours to handle (KeyboardInterrupt, a bug in a user callback, ...)
        delay = retry_delay(error, self.index, self._retrying.max_retries, idempotent=self._retrying.idempotent)
        if delay is None:
            if not self._retrying.idempotent and job_may_exist(error):
                add_advice(error, JOB_MAY_EXIST)
            elif type(error) is APIConnectionError:  # its subclasses say what to do; this one only what happened
                add_advice(error, _connection_broke(self.index + 1))
            if error is exc:
                return False
            raise error
        logger.info(
            "retrying %s after %s (attempt %d failed; waiting %.2fs)",
            self._retrying.operation,
            type(error).__name__,
            self.index + 1,
            delay,
        )
        self.delay = delay
        return True


class Retrying:
    """The attempts of one logical call: the first try, then up to ``max_retries`` retries."""

    def __init__(
        self,
        operation: str,
        max_retries: int,
        *,
        idempotent: bool,
        reads_response: bool = True,
        hide: Callable[[str], str] = str,
    ) -> None:
        self.operation = operation
        self.max_retries = max_retries
        self.idempotent = idempotent
        self._reads_response = reads_response
        self._hide = hide  # takes the API key out of what a server sent

    def __iter__(self) -> Iterator[Attempt]:
        return (Attempt(self, index) for index in itertools.count())

    def _hide_in_causes(self, exc: BaseException) -> None:
        """Takes the key out of the messages of ``exc`` and of what it is chained to: they quote what the server sent,
        and a printed or logged traceback shows them all."""
        for cause in _causes(exc):
            cause.args = tuple(self._hide(arg) if isinstance(arg, str) else arg for arg in cause.args)

    def classify(self, exc: BaseException) -> VozoError | None:
        if isinstance(exc, VozoError):
            return exc
        if isinstance(exc, httpx.TransportError):
            return connection_error(exc)
        if isinstance(exc, httpx.DecodingError):
            self._hide_in_causes(exc)
            error = APIResponseValidationError(
                f"the response to {self.operation} could not be decoded ({self._hide(str(exc))}): its body is not in "
                "the Content-Encoding it names. Check base_url, and any proxy between this machine and Vozo"
            )
            error.__cause__ = exc
            return error
        if self._reads_response and isinstance(exc, (KeyError, TypeError, ValueError)) and _raised_parsing(exc):
            # the generated model could not read a JSON success body: a required field missing or mistyped
            # The generated models raise KeyError(name) for a required field that is missing.
            self._hide_in_causes(exc)  # the model's message quotes the body: it stays chained to the error
            problem = f"the required field {exc.args[0]!r} is missing" if isinstance(exc, KeyError) and exc.args else ""
            error = APIResponseValidationError(
                f"the response to {self.operation} does not match the spec: "
                f"{self._hide(problem or f'{type(exc).__name__}: {exc}')}. Check base_url; if it is Vozo's API, Vozo "
                "changed this answer: update the vozo package"
            )
            error.__cause__ = exc
            return error
        return None
