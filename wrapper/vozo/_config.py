"""Client settings: where they come from, and the checks that keep the API key safe."""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import SplitResult, urlsplit

import httpx

from vozo._errors import InvalidInputError, VozoError

DEFAULT_BASE_URL = "https://api.vozo.ai"
# Vozo answers job-creating and status calls quickly; connect fast, allow a slow read under load.
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
DEFAULT_MAX_RETRIES = 2
# The longest timeout taken: far past any request, and well inside what a socket timeout holds (2**63 ns, ~292 years;
# past it each request would fail with an OverflowError). No limit at all is httpx.Timeout(None).
MAX_TIMEOUT = 365 * 24 * 3600.0


class APIKey:
    """Holds the key so that no repr, log line or traceback of locals can show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "APIKey('****')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, APIKey) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class ClientOptions:
    api_key: APIKey = field(repr=False)
    base_url: str
    timeout: httpx.Timeout
    max_retries: int

    @classmethod
    def resolve(
        cls, *, api_key: str | None, base_url: str | None, timeout: float | httpx.Timeout | None, max_retries: int
    ) -> ClientOptions:
        key = api_key if api_key is not None else os.environ.get("VOZO_API_KEY")
        url = base_url or os.environ.get("VOZO_BASE_URL") or DEFAULT_BASE_URL
        return cls(check_api_key(key), check_base_url(url), as_timeout(timeout), check_retries(max_retries))

    def evolve(self, **changes: Any) -> ClientOptions:
        if "api_key" in changes:
            changes["api_key"] = check_api_key(changes["api_key"])
        if "base_url" in changes:
            changes["base_url"] = check_base_url(changes["base_url"])
        if "timeout" in changes:
            changes["timeout"] = as_timeout(changes["timeout"])
        if "max_retries" in changes:
            changes["max_retries"] = check_retries(changes["max_retries"])
        return replace(self, **changes)


def check_api_key(value: object) -> APIKey:
    """The key, trimmed, once it is certain to fit in an HTTP header. No message here ever shows it."""
    if not isinstance(value, str) or not value.strip():
        raise VozoError(
            "No API key: pass api_key=... or set the VOZO_API_KEY environment variable "
            "(create a key in your Vozo account; the API needs a business plan)."
        )
    key = value.strip()
    # A newline would end the header (httpx then quotes it in a protocol error); non-ASCII cannot be encoded in it.
    for position, char in enumerate(key, start=1):
        if not " " <= char <= "~":
            # a control character is named (a stray newline is the usual culprit); any other is part of the key
            is_control = char < " " or char == "\x7f"
            what = f"a control character (U+{ord(char):04X})" if is_control else "a non-ASCII character"
            raise InvalidInputError(
                f"the API key holds {what} at position {position} of {len(key)}: it cannot be sent in a header. "
                "Copy the key again from your Vozo account."
            )
    return APIKey(key)


def as_timeout(value: float | httpx.Timeout | None) -> httpx.Timeout:
    """A timeout from seconds or an ``httpx.Timeout``; zero, negative or NaN would fail every request, so refused."""
    if value is None:
        return DEFAULT_TIMEOUT
    if isinstance(value, httpx.Timeout):
        for phase, seconds in value.as_dict().items():
            if seconds is not None and not _is_seconds(seconds):
                raise InvalidInputError(
                    f"timeout {phase} must be a number of seconds > 0, at most {MAX_TIMEOUT:g} (a year), or None; "
                    f"got {seconds!r}"
                )
        return value
    if not _is_seconds(value):
        raise InvalidInputError(
            f"timeout must be a number of seconds > 0 and at most {MAX_TIMEOUT:g} (a year), or an httpx.Timeout; "
            f"got {value!r}"
        )
    return httpx.Timeout(float(value))


def _is_seconds(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= MAX_TIMEOUT


def check_retries(value: int) -> int:
    if not isinstance(value, int) or value < 0:
        raise InvalidInputError(f"max_retries must be a whole number >= 0, got {value!r}")
    return value


def is_loopback(host: str) -> bool:
    """This machine for certain: ``localhost`` or a loopback address. A name under .localhost is looked up in DNS
    by many resolvers (and some proxies), so it may be anywhere."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _split(url: str) -> SplitResult | None:
    """The URL's parts, or None when its host or port cannot be used (``http://[::1``, a port out of range, a host
    name with an empty label or one over 63 characters, which the lookup would fail on with a UnicodeError)."""
    try:
        parts = urlsplit(url)
        (parts.hostname or "").encode("idna")
        return parts if parts.port != 0 else None  # reading .port raises for one out of range
    except ValueError:  # UnicodeError included
        return None


def check_base_url(url: str) -> str:
    """Refuse a base URL over which the bearer key would travel in clear (plain http off this machine), or to which
    the API's paths cannot be appended."""
    shown = re.sub(r"//[^/?#]*@", "//****@", url)  # no message quotes a password given in the URL
    parts = _split(url)
    if parts is None or parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidInputError(f"base_url must be an http(s) URL with a host (and a valid port), got {shown!r}")
    if "@" in parts.netloc:
        raise InvalidInputError(
            f"base_url must not hold a user name or password, got {shown!r}: the API key is the only credential "
            "sent (pass it as api_key or VOZO_API_KEY)"
        )
    if parts.query or parts.fragment or url.rstrip("/").endswith(("?", "#")):
        raise InvalidInputError(
            f"base_url must not hold a query string or fragment, got {shown!r}: the API's paths are appended to it"
        )
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise InvalidInputError(
            f"refusing base_url {shown!r}: plain http to a non-loopback host would send the API key in clear; use https"
        )
    return url.rstrip("/")


class NotGiven:
    """The default of ``with_options`` arguments: "keep this setting" (``None`` may be a setting of its own)."""

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven()


def changes(**settings: object) -> dict[str, Any]:
    return {key: value for key, value in settings.items() if not isinstance(value, NotGiven)}
