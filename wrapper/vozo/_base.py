"""The one core both clients share: auth, error mapping, response checks and logging of every request.

``Vozo`` and ``AsyncVozo`` are thin shells over these functions; they differ only where I/O is sync or async.
"""

from __future__ import annotations

import json
import logging
import time
import zlib
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import httpx

from vozo._arguments import task_id_fault
from vozo._codes import API_ERROR_CODES
from vozo._config import DEFAULT_BASE_URL, APIKey, key_hider, spend_key
from vozo._errors import (
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    InsufficientCreditsError,
    InternalServerError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    excerpt,
    request_id,
)
from vozo._logging import logger
from vozo._retry import JOB_MAY_EXIST, attempt_number, parse_retry_after
from vozo._version import __version__
from vozo_api_client.models import Error, Job

# JSON: what client.request returns, the one alias for any JSON value (the models' unknown fields hold it too).
from vozo_api_client.types import JSON as JSON
from vozo_api_client.types import Response

USER_AGENT = f"vozo-python/{__version__}"

_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitError,
}
_BY_KIND: dict[str, type[APIStatusError]] = {
    "bad_request": BadRequestError,
    "authentication": AuthenticationError,
    "permission": PermissionDeniedError,
    "credits": InsufficientCreditsError,
    "rate_limit": RateLimitError,
    "server": InternalServerError,
}


class BearerAuth(httpx.Auth):
    """Adds the key to each request; its repr never shows it."""

    def __init__(self, api_key: APIKey) -> None:
        self._api_key = api_key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._api_key.reveal()}"
        yield request

    def __repr__(self) -> str:
        return "BearerAuth('****')"


def error_class(status: int, code: str | None) -> type[APIStatusError]:
    """The HTTP status picks the class; Vozo's code decides where the status alone does not (400, or unknown)."""
    by_status = InternalServerError if status >= 500 else _BY_STATUS.get(status)
    entry = API_ERROR_CODES.get(code or "")
    if entry is not None and entry.kind is not None:
        by_code = _BY_KIND[entry.kind]
        if by_status in (None, BadRequestError) or issubclass(by_code, by_status or APIStatusError):
            return by_code
    return by_status or APIStatusError


def read_json(content: bytes | str, **options: Any) -> Any:
    """``json.loads(content, **options)``; a text nested past Python's parser (RecursionError) or escaping a lone
    surrogate is refused as unreadable, a ValueError like any other text that is not JSON."""
    try:
        value = json.loads(content, **options)
    except RecursionError:
        raise ValueError("JSON nested too deeply to read") from None
    # "\ud800" alone is valid JSON, yet names no character: a string holding it cannot be written as UTF-8 (a log,
    # the batch journal, a terminal) and fails wherever it goes. Looked for only when an escape of one is there (or,
    # in text, a character past ASCII: a framework's surrogateescape puts them there as they are).
    if isinstance(content, str):
        suspect = "\\ud" in content or "\\uD" in content or not content.isascii()
    else:
        suspect = b"\\ud" in content or b"\\uD" in content
    if suspect:
        check_text_only(value)
    return value


def check_text_only(value: object) -> None:
    """Raise ValueError when a JSON value holds a lone surrogate (``"\\ud800"``), which no UTF-8 can write."""
    try:
        json.dumps(value, ensure_ascii=False, default=repr, skipkeys=True).encode()
    except UnicodeEncodeError:
        raise ValueError("JSON holds a lone surrogate (\\ud800-\\udfff), which is no text") from None
    except RecursionError:
        raise ValueError("JSON nested too deeply to read") from None


def status_error(response: httpx.Response) -> APIStatusError:
    """A typed exception from an error response (its body already read)."""
    code = message = server_ts = body_excerpt = None
    hide = key_hider(response.request)
    text = hide(response.content.decode("utf-8", errors="replace"))
    try:
        body = read_json(text)
    except ValueError:
        body = None
    if isinstance(body, dict) and {"code", "message"} <= body.keys():
        error = Error.from_dict({**body, "code": hide(str(body["code"])), "message": hide(str(body["message"]))})
        code, message = error.code, error.message
        server_ts = hide(str(error.server_ts)) if error.server_ts else None
    else:  # an HTML page from a proxy, or a body not in Vozo's Error shape: keep an excerpt to debug with
        body_excerpt = excerpt(text)
        if isinstance(body, dict) and "code" in body:
            code = hide(str(body["code"]))
    cls = error_class(response.status_code, code)
    return cls(
        status_code=response.status_code,
        method=response.request.method,
        path=response.request.url.path,
        code=code,
        message=message,
        server_ts=server_ts,
        request_id=hide(echoed_id) if (echoed_id := request_id(response.headers)) else None,
        body_excerpt=body_excerpt,
        retry_after=parse_retry_after(response.headers.get("retry-after")),
    )


# No answer of Vozo's API comes near this: a longer one (an endless body, or a small gzip that inflates) is cut off
# instead of filling memory.
MAX_ANSWER_BYTES = 16 * 1024**2


def answer_deadline(request: httpx.Request) -> float | None:
    """When (``time.monotonic``) the whole request must be over: the sum of its timeout's phases after it started.
    httpx times each wait for data, so a server that trickles its answer never trips one of them; this bounds it (the
    status line and headers at the deadline; the body between the chunks it comes in, so its last read may end up to
    one read timeout later). None without a read timeout. Set as the request leaves (``on_request``)."""
    deadline: float | None = request.extensions.get("vozo_deadline")
    return deadline


def answer_timeout(request: httpx.Request) -> APITimeoutError:
    spend_key(request)  # the error keeps the request
    timeout: Mapping[str, float | None] = request.extensions.get("timeout", {})
    budget = sum(seconds for seconds in timeout.values() if seconds is not None)
    return APITimeoutError(
        f"{request.method} {request.url.path} timed out: the answer was not complete {budget:g}s "
        "after the request started (the sum of the timeout's phases, which bounds a server that sends its answer too "
        "slowly; pass a larger timeout= if this is expected)",
        request=request,
    )


class Answer:
    """An API answer's body as it arrives, refused past ``MAX_ANSWER_BYTES`` or past ``answer_deadline``."""

    def __init__(self, request: httpx.Request) -> None:
        self._request = request
        self._deadline = answer_deadline(request)
        self._chunks: list[bytes] = []
        self._size = 0

    def add(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > MAX_ANSWER_BYTES:
            request = self._request
            raise APIResponseValidationError(
                f"the answer to {request.method} {request.url.path} grew past {MAX_ANSWER_BYTES} bytes (decoded): no "
                f"answer of Vozo's API is that long. Check base_url (or VOZO_BASE_URL), now "
                f"{request.url.scheme}://{request.url.netloc.decode()}: Vozo's API is {DEFAULT_BASE_URL}."
            )
        if self._deadline is not None and time.monotonic() > self._deadline:
            raise answer_timeout(self._request)
        self._chunks.append(chunk)

    @property
    def body(self) -> bytes:
        return b"".join(self._chunks)


# The codings the API client asks for, and the only ones either client reads: Inflater's, a piece at a time. httpx
# would decode any other it knows (br or zstd when their packages are installed; a chain, "gzip, gzip") a whole
# network read at once: a 590-byte answer took 548 MiB.
ACCEPT_ENCODING = "gzip, deflate"
_WBITS = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}


class Inflater:
    """gzip or deflate inflated at most 64 KiB at a time. httpx inflates each network read whole, so a small read of
    a bomb became tens of megabytes (hundreds, from a larger read) before ``Answer`` could cut it off."""

    _PIECE = 64 * 1024

    def __init__(self, request: httpx.Request, wbits: int) -> None:
        self._request = request
        self._wbits = wbits
        self._decoder = zlib.decompressobj(wbits)
        self._started = False

    @classmethod
    def for_answer(cls, response: httpx.Response) -> Inflater | None:
        """One for an answer in gzip or deflate, to read its raw bytes with; None: read its bytes as httpx gives them.
        Any other coding raises ``httpx.DecodingError`` before a byte of the body is read."""
        # get_list, not get: get raises and catches a KeyError for a header that is absent, as it is from most answers
        encoding = ", ".join(response.headers.get_list("content-encoding"))
        if not encoding:  # most answers: one lookup
            return None
        coding = encoding.strip().lower()
        wbits = _WBITS.get(coding)
        if wbits is not None:  # unless read ahead (a mock's content=): httpx has inflated it already
            return None if response.is_stream_consumed else cls(response.request, wbits)
        if coding in ("", "identity"):
            return None
        raise httpx.DecodingError(
            f"it came in Content-Encoding {encoding[:40]!r}, which was not asked for: this client reads gzip and "
            "deflate only",
            request=response.request,
        )

    def feed(self, chunk: bytes | memoryview) -> Iterator[bytes]:
        try:
            while chunk:
                if self._decoder.eof:  # bytes after the end of the stream: gzip's next member, else refused
                    self._next_member()
                if not self._started and self._wbits == zlib.MAX_WBITS and chunk[:1] and chunk[0] & 0x0F != 8:
                    self._decoder = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, as httpx also reads it
                self._started = True
                yield self._decoder.decompress(chunk, self._PIECE)
                # Past the end, zlib keeps the rest as unused_data, yet also hands it back as the unconsumed tail,
                # again at each call: fed that, this loop never ended.
                chunk = self._decoder.unused_data if self._decoder.eof else self._decoder.unconsumed_tail
        except zlib.error as exc:
            raise httpx.DecodingError(str(exc), request=self._request) from None

    def _next_member(self) -> None:
        """A gzip body may hold several members, one after another (RFC 1952, 2.2); a deflate stream has one end."""
        if self._wbits != _WBITS["gzip"]:
            raise httpx.DecodingError("bytes follow the end of the deflate stream", request=self._request)
        self._decoder = zlib.decompressobj(self._wbits)

    def end(self) -> bytes:
        try:
            rest = self._decoder.flush()
        except zlib.error as exc:
            raise httpx.DecodingError(str(exc), request=self._request) from None
        if self._started and not self._decoder.eof:  # zlib hands over what it has, whole or not
            raise httpx.DecodingError("the compressed body was cut short before its end", request=self._request)
        return rest


def on_request(request: httpx.Request) -> None:
    started = request.extensions["vozo_started"] = time.monotonic()
    timeout: Mapping[str, float | None] = request.extensions.get("timeout", {})
    if timeout.get("read") is not None:
        request.extensions["vozo_deadline"] = started + sum(seconds for seconds in timeout.values() if seconds)


def on_response(response: httpx.Response) -> None:
    """Log the exchange, then raise for an error status or a success body that is not JSON.

    Runs inside httpx (as a response hook, body already read), so the generated client never parses an HTML
    error page or an undocumented status.
    """
    request = response.request
    if logger.isEnabledFor(logging.DEBUG):  # the line's values cost more than the call when it is not logged
        logger.debug(
            "%s %s -> %s (attempt %d, %.3fs)",
            request.method,
            request.url.path,
            response.status_code,
            attempt_number.get(),
            time.monotonic() - request.extensions.get("vozo_started", time.monotonic()),
        )
    if response.status_code >= 400:
        raise status_error(response)
    if 300 <= response.status_code < 400:
        raise redirect_error(response)
    if response.content:
        try:
            body = read_json(response.content)
        except ValueError as exc:
            hide = key_hider(request)
            raise APIResponseValidationError(
                f"{response.status_code} from {request.method} {request.url.path} is not JSON ({exc}). Check base_url "
                f"(or VOZO_BASE_URL), now {request.url.scheme}://{request.url.netloc.decode()}: Vozo's API is "
                f"{DEFAULT_BASE_URL}",
                status_code=response.status_code,
                body_excerpt=excerpt(response.content, hide),
            ) from exc
        # The generated client reads the body with response.json() next: decoded once, not twice (a seventh of what
        # this client adds to a call, measured in instructions).
        response.__dict__["json"] = lambda **_: body


def redirect_error(response: httpx.Response) -> APIResponseValidationError:
    """A 3xx from the API: never followed (the key would go along), and most often a wrong base URL."""
    request, hide = response.request, key_hider(response.request)
    location = response.headers.get("location")
    if not location:
        where = "without a Location"
    else:
        try:
            target = request.url.join(location)  # a relative Location names a path on the same host
        except httpx.InvalidURL:
            where = "to a Location that is no valid URL"
        else:  # no query: it may hold tokens
            where = f"to {hide(f'{target.scheme}://{target.netloc.decode()}{target.path}')}"
    return APIResponseValidationError(
        f"{response.status_code} from {request.method} {request.url.path}: the API answered with a redirect {where}, "
        "which this client does not follow (the API key is only sent to the host it was given). Check base_url (or "
        f"VOZO_BASE_URL), now {request.url.scheme}://{request.url.netloc.decode()}: Vozo's API is {DEFAULT_BASE_URL}.",
        status_code=response.status_code,
        body_excerpt=excerpt(response.content, hide) or None,
    )


# Any JSON value, as ``client.request`` takes it: read-only containers, so that a ``dict[str, str]`` or a
# ``list[int]`` fits (``dict`` and ``list`` are invariant: a ``dict[str, str]`` is no ``dict[str, JSON]``).
JSONInput = Mapping[str, "JSONInput"] | Sequence["JSONInput"] | str | int | float | bool | None
AnyResponse = Response[Any]
T = TypeVar("T")


def operation_name(operation: Callable[..., object]) -> str:
    """``get_lipsync_job`` for the generated ``vozo_api_client.api.lipsync.get_lipsync_job.sync_detailed``."""
    return str(getattr(operation, "__module__", "") or "").rsplit(".", 1)[-1] or getattr(operation, "__name__", "?")


def parsed_body(response: AnyResponse, operation: str, expected: type[T], hide: Callable[[str], str]) -> T:
    """The generated response's parsed model, checked to be the one the spec promises for success."""
    if not isinstance(response.parsed, expected):  # a 2xx the spec does not list; the hook raised for errors
        task_id = _named_task_id(response.content, hide) if expected is Job else None
        error = APIResponseValidationError(
            f"{operation}: undocumented answer (status {int(response.status_code)}). Check base_url; if it is "
            "Vozo's API, Vozo changed this answer: update the vozo package"
            + (f". Yet its body names the task id {task_id!r}: check it with get() first" if task_id else ""),
            status_code=int(response.status_code),
            body_excerpt=excerpt(response.content, hide),
        )
        error.task_id = task_id
        raise error
    return response.parsed


def _named_task_id(content: bytes, hide: Callable[[str], str]) -> str | None:
    """The usable task id a create's undocumented answer holds, if any: the job it names may well exist."""
    try:
        body = read_json(content)
    except ValueError:
        return None
    task_id = body.get("task_id") if isinstance(body, dict) else None
    if not isinstance(task_id, str) or task_id_fault(task_id) is not None or hide(task_id) != task_id:
        return None  # no task id, or one holding the key
    return task_id


def checked_path(path: str) -> str:
    """A path under the base URL, never a URL of its own: the key must not go to another host."""
    if not isinstance(path, str) or not path.isprintable():  # urllib drops some control characters, httpx refuses
        raise InvalidInputError(f"path must be a string without control characters, got {path!r}")
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or not path.startswith("/"):
        raise InvalidInputError(f"path must be relative to the API's base URL, like '/v1/...', got {path!r}")
    # "%2e%2e" too: httpx decodes it to ".." before sending, and the server resolves it away.
    if any(unquote(segment) in (".", "..") for segment in parts.path.split("/")):
        raise InvalidInputError(f"path must not hold '.' or '..' segments, got {path!r}")
    if " " in path:  # control characters were refused above
        raise InvalidInputError(f"path must not hold spaces or control characters (percent-encode them), got {path!r}")
    return path


# The methods HTTP defines as idempotent (RFC 9110, 9.2.2). Any other, POST, PATCH or one HTTP does not define (an
# extension such as LOCK), may act again when sent again: create and bill a second job.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
_TOKEN_CHARACTERS = frozenset("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def checked_method(method: str) -> str:
    """An HTTP method name, upper-cased."""
    if not isinstance(method, str) or not method or not _TOKEN_CHARACTERS.issuperset(method):
        raise InvalidInputError(f"method must be an HTTP method name such as 'GET' or 'POST', got {method!r}")
    return method.upper()


def encoded_json(value: JSONInput) -> bytes:
    """``value`` encoded as httpx's ``json=`` would, any Mapping and Sequence ``JSONInput`` takes included (httpx's
    encoder knows only dict, list and tuple); a body that is not JSON is refused before anything is sent."""
    try:
        text = json.dumps(value, default=_plain_container, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
        return text.encode()  # UTF-8, as sent: so no lone surrogate
    except (TypeError, ValueError, RecursionError) as exc:  # UnicodeEncodeError is a ValueError
        problem = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise InvalidInputError(
            f"json= must be a JSON value (dicts, lists, str, int, finite float, bool, None): {problem}"
        ) from None


def _plain_container(value: object) -> object:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray | memoryview):  # bytes are no text
        return list(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def created_task_id(job: Job, operation: str, hide: Callable[[str], str]) -> str:
    """The task id a create's answer carries; an answer without a usable one is an error that says the job may exist
    (nothing is made up, and nothing is sent again)."""
    fault = task_id_fault(job.task_id)
    if fault is None and hide(job.task_id) != job.task_id:  # a server echoing the Authorization header, not Vozo
        fault = f"{hide(job.task_id)!r} holds the API key"  # printed and written to files, it would leak the key
    if fault is not None:
        raise APIResponseValidationError(
            f"the answer to {operation} holds no usable task id (task_id {hide(fault)}). {JOB_MAY_EXIST}",
            status_code=200,
            body_excerpt=excerpt(json.dumps(job.to_dict(), default=repr), hide),
        )
    return job.task_id


def decoded_json(response: httpx.Response) -> JSON:
    """The JSON body of a success (the response hook already raised for errors and non-JSON bodies)."""
    if not response.content:
        return None
    value: JSON = response.json()  # decoded by the hook
    return value
