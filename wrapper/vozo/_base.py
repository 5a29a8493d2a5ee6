"""The one core both clients share: auth, error mapping, response checks and logging of every request.

``Vozo`` and ``AsyncVozo`` are thin shells over these functions; they differ only where I/O is sync or async.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Generator
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from vozo._codes import API_ERROR_CODES
from vozo._config import DEFAULT_BASE_URL, APIKey
from vozo._errors import (
    APIResponseValidationError,
    APIStatusError,
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
from vozo._retry import attempt_number, parse_retry_after
from vozo._version import __version__
from vozo_api_client.models import Error
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


def key_hider(request: httpx.Request) -> Callable[[str], str]:
    """Replaces the key this request carried with ``****``: a server that echoes it must not put it in an error."""
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme != "Bearer" or not key:
        return lambda text: text
    # also as it may read inside a JSON string: '"' and '\\' escaped, and "/" perhaps as "\\/"
    forms = {key, json.dumps(key)[1:-1], json.dumps(key)[1:-1].replace("/", "\\/")}

    def hide(text: str) -> str:
        for form in forms:
            text = text.replace(form, "****")
        return text

    return hide


def status_error(response: httpx.Response) -> APIStatusError:
    """A typed exception from an error response (its body already read)."""
    code = message = server_ts = body_excerpt = None
    hide = key_hider(response.request)
    text = hide(response.content.decode("utf-8", errors="replace"))
    try:
        body = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python's parser goes
        body = None
    if isinstance(body, dict) and {"code", "message"} <= body.keys():
        error = Error.from_dict({**body, "code": hide(str(body["code"])), "message": hide(str(body["message"]))})
        code, message = error.code, error.message
        server_ts = hide(str(error.server_ts)) if error.server_ts else None
    else:  # an HTML page from a proxy, or a body not in Vozo's Error shape: keep an excerpt to debug with
        body_excerpt = excerpt(text.encode())
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
        request_id=request_id(response.headers),
        body_excerpt=body_excerpt,
        retry_after=parse_retry_after(response.headers.get("retry-after")),
    )


def on_request(request: httpx.Request) -> None:
    request.extensions["vozo_started"] = time.monotonic()


def on_response(response: httpx.Response) -> None:
    """Log the exchange, then raise for an error status or a success body that is not JSON.

    Runs inside httpx (as a response hook, body already read), so the generated client never parses an HTML
    error page or an undocumented status.
    """
    request = response.request
    elapsed = time.monotonic() - request.extensions.get("vozo_started", time.monotonic())
    logger.debug(
        "%s %s -> %s (attempt %d, %.3fs)",
        request.method,
        request.url.path,
        response.status_code,
        attempt_number.get(),
        elapsed,
    )
    if response.status_code >= 400:
        raise status_error(response)
    if 300 <= response.status_code < 400:
        raise redirect_error(response)
    if response.content:
        try:
            json.loads(response.content)
        except (ValueError, RecursionError) as exc:  # RecursionError: nested deeper than Python's parser goes
            hide = key_hider(request)
            raise APIResponseValidationError(
                f"{response.status_code} from {request.method} {request.url.path} is not JSON",
                status_code=response.status_code,
                body_excerpt=excerpt(hide(response.content.decode("utf-8", errors="replace")).encode()),
            ) from exc


def redirect_error(response: httpx.Response) -> APIResponseValidationError:
    """A 3xx from the API: never followed (the key would go along), and most often a wrong base URL."""
    request, hide = response.request, key_hider(response.request)
    location = response.headers.get("location")
    if location:
        target = request.url.join(location)  # a relative Location names a path on the same host
        where = f"to {hide(f'{target.scheme}://{target.netloc.decode()}{target.path}')}"  # no query: it may hold tokens
    else:
        where = "without a Location"
    return APIResponseValidationError(
        f"{response.status_code} from {request.method} {request.url.path}: the API answered with a redirect {where}, "
        "which this client does not follow (the API key is only sent to the host it was given). Check base_url (or "
        f"VOZO_BASE_URL), now {request.url.scheme}://{request.url.netloc.decode()}: Vozo's API is {DEFAULT_BASE_URL}.",
        status_code=response.status_code,
        body_excerpt=excerpt(hide(response.content.decode("utf-8", errors="replace")).encode()) or None,
    )


# Any JSON value: what ``client.request`` sends and returns.
JSON = dict[str, "JSON"] | list["JSON"] | str | int | float | bool | None
AnyResponse = Response[Any]
T = TypeVar("T")


def operation_name(operation: Callable[..., object]) -> str:
    """``get_lipsync_job`` for the generated ``vozo_api_client.api.lipsync.get_lipsync_job.sync_detailed``."""
    return str(getattr(operation, "__module__", "") or "").rsplit(".", 1)[-1] or getattr(operation, "__name__", "?")


def parsed_body(response: AnyResponse, operation: str, expected: type[T]) -> T:
    """The generated response's parsed model, checked to be the one the spec promises for success."""
    if not isinstance(response.parsed, expected):  # a 2xx the spec does not list; the hook raised for errors
        raise APIResponseValidationError(
            f"{operation}: undocumented answer (status {int(response.status_code)})",
            status_code=int(response.status_code),
            body_excerpt=excerpt(response.content),
        )
    return response.parsed


def checked_path(path: str) -> str:
    """A path under the base URL, never a URL of its own: the key must not go to another host."""
    parts = urlsplit(path)
    if not isinstance(path, str) or parts.scheme or parts.netloc or not path.startswith("/"):
        raise InvalidInputError(f"path must be relative to the API's base URL, like '/v1/...', got {path!r}")
    if any(segment in (".", "..") for segment in parts.path.split("/")):
        raise InvalidInputError(f"path must not hold '.' or '..' segments, got {path!r}")
    return path


def decoded_json(response: httpx.Response) -> JSON:
    """The JSON body of a success (the response hook already raised for errors and non-JSON bodies)."""
    if not response.content:
        return None
    value: JSON = json.loads(response.content)
    return value
