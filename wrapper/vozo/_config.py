"""Client settings: where they come from, and the checks that keep the API key safe."""

from __future__ import annotations

import ipaddress
import json
import os
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, quote_plus

import attrs
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

    __slots__ = ("__weakref__", "_value")  # weakly held by the log filter that hides live keys

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


def key_hider(request: httpx.Request) -> Callable[[str], str]:
    """Replaces the key this request carried with ``****``: a server that echoes it must not put it in an error."""
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    return secret_hider(key if scheme == "Bearer" else "")


def spend_key(request: httpx.Request) -> None:
    """Replaces the key in a failed request's header with ``****``: the request outlives the call in its error (and
    in tracebacks and pickles). It is spent: a retry builds a new one."""
    if "Authorization" in request.headers:
        request.headers["Authorization"] = key_hider(request)(request.headers["Authorization"])


# A key shorter than this is a placeholder of a test ("k", "test"), no real key: hidden only where no letter touches
# it, so that it does not garble every word holding its letters ("tas****_id" for "k"), yet is hidden after a digit
# or a symbol ("Bearer%20test").
_SHORT_KEY = 8


def secret_hider(secret: str) -> Callable[[str], str]:
    """Replaces ``secret`` with ``****`` in a text a server sent, also as it may read inside a JSON string."""
    if not secret:
        return lambda text: text
    # '"' and '\\' escaped, and "/" perhaps as "\\/"
    forms = {secret, json.dumps(secret)[1:-1], json.dumps(secret)[1:-1].replace("/", "\\/")}
    # and percent-encoded, as a server or proxy that quotes the request's URL or form writes a key's symbols
    forms |= {quote(secret, safe=""), quote(secret), quote_plus(secret)}
    if len(secret) < _SHORT_KEY:
        alone = "|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True))
        pattern = re.compile(f"(?<![A-Za-z])(?:{alone})(?![A-Za-z])")
        return lambda text: pattern.sub("****", text)

    def hide(text: str) -> str:
        for form in forms:
            text = text.replace(form, "****")
        return text

    return hide


def hide_in_json(data: Any, hide: Callable[[str], str]) -> Any:
    """Decoded JSON with ``hide`` applied to each string in it, keys included: masking the text it was written as
    could break its syntax (a key holding a quote or a brace)."""
    return map_json(
        data, lambda value: hide(value) if isinstance(value, str) else value, key=lambda name: hide(str(name))
    )


def map_json(data: Any, leaf: Callable[[Any], Any], *, key: Callable[[Any], Any] = lambda name: name) -> Any:
    """Decoded JSON rebuilt with ``leaf`` applied to each value that is no dict or list (a tuple reads as a list)
    and ``key`` to each key. Without recursion: a server's answer nests as deep as the parser reads (~1,000 levels),
    past what Python's recursion limit leaves a recursive walk of it (two frames a level)."""
    root: list[Any] = [None]
    pending: list[tuple[Any, Any, Any]] = [(data, root, 0)]  # a value, and the container and slot its copy goes to
    while pending:
        value, parent, slot = pending.pop()
        if isinstance(value, dict):
            copy: dict[Any, Any] = {}
            for name, item in value.items():
                new_name = key(name)
                copy[new_name] = None  # placed now, so the copy keeps the keys' order
                pending.append((item, copy, new_name))
            parent[slot] = copy
        elif isinstance(value, list | tuple):
            parent[slot] = items = [None] * len(value)
            pending.extend((item, items, index) for index, item in enumerate(value))
        else:
            parent[slot] = leaf(value)
    return root[0]


@attrs.frozen(eq=False)
class ClientOptions:
    api_key: APIKey = attrs.field(repr=False)
    base_url: str
    timeout: httpx.Timeout
    max_retries: int

    @classmethod
    def resolve(
        cls, *, api_key: str | None, base_url: str | None, timeout: float | httpx.Timeout | None, max_retries: int
    ) -> ClientOptions:
        key = api_key if api_key is not None else os.environ.get("VOZO_API_KEY")
        url = base_url or os.environ.get("VOZO_BASE_URL", "").strip() or DEFAULT_BASE_URL
        checked_key = check_api_key(key)
        return cls(checked_key, _checked_base_url(url, checked_key), as_timeout(timeout), check_retries(max_retries))

    def evolve(self, **changes: Any) -> ClientOptions:
        if "api_key" in changes:
            changes["api_key"] = check_api_key(changes["api_key"])
        if "base_url" in changes:
            changes["base_url"] = _checked_base_url(changes["base_url"], changes.get("api_key", self.api_key))
        if "timeout" in changes:
            changes["timeout"] = as_timeout(changes["timeout"])
        if "max_retries" in changes:
            changes["max_retries"] = check_retries(changes["max_retries"])
        return attrs.evolve(self, **changes)


def check_api_key(value: object) -> APIKey:
    """The key, trimmed, once it is certain to fit in an HTTP header. No message here ever shows it."""
    if value is not None and not isinstance(value, str):  # never shown: bytes may hold the key itself
        raise InvalidInputError(f"api_key must be a string, got {type(value).__name__}")
    if not isinstance(value, str) or not value.strip():
        raise VozoError(
            "No API key: pass api_key=... or set the VOZO_API_KEY environment variable "
            "(create a key in your Vozo account; the API needs a business plan)."
        )
    key = value.strip()
    if key.partition(" ")[0].lower() == "bearer":  # the header's scheme, copied with the key from a curl example
        raise InvalidInputError("pass the API key without 'Bearer ' in front of it: the client adds it to the header")
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


def _is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)  # True is an int to Python, not a count


def check_retries(value: int) -> int:
    if not _is_whole(value) or value < 0:
        raise InvalidInputError(f"max_retries must be a whole number >= 0, got {value!r}")
    return value


def check_max_active_jobs(value: int | None) -> int | None:
    if value is not None and (not _is_whole(value) or value < 1):
        raise InvalidInputError(f"max_active_jobs must be a whole number >= 1 or None, got {value!r}")
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


def check_base_url(url: object) -> str:
    """The base URL, trimmed, as httpx will parse it when it sends the key there. Refused when httpx could not send
    to it as written, or when the bearer key would travel in clear (plain http off this machine)."""
    text = url.strip() if isinstance(url, str) else ""  # a stray space or newline from an environment variable
    shown = _without_secrets(url) if isinstance(url, str) else url
    parsed = _parsed_url(text)
    if parsed is None or parsed.scheme not in ("https", "http") or not parsed.host:
        raise InvalidInputError(
            f"base_url must be an http(s) URL with a host, like {DEFAULT_BASE_URL} (no spaces or control characters, "
            f"a port from 1 to 65535), got {shown!r}"
        )
    if parsed.userinfo:  # not shown: it may hold a password
        raise InvalidInputError("base_url must not hold a user name or password (before '@'): the API key is the login")
    if parsed.query or parsed.fragment or text.rstrip("/").endswith(("?", "#")):
        raise InvalidInputError(
            f"base_url must not hold a query string or fragment, got {shown!r}: the API's paths are appended to it"
        )
    if parsed.scheme == "http" and not is_loopback(parsed.host):
        raise InvalidInputError(
            f"refusing base_url {shown!r}: plain http to a non-loopback host would send the API key in clear; use https"
        )
    version = _paths_first_segment()
    if version is not None and parsed.path.strip("/") == version:  # as other APIs' base URLs end (".../v1")
        instead = text.rstrip("/")[: -len(version)].rstrip("/")
        raise InvalidInputError(
            f"base_url must not end in /{version}, got {shown!r}: the API's paths start with it (/{version}/...), so "
            f"every call would go to /{version}/{version}/... and find nothing; use {instead!r}"
        )
    return text.rstrip("/")


def _paths_first_segment() -> str | None:
    """The first segment every job operation's path of the spec starts with (``v1``), or None."""
    from vozo._kinds import all_kinds  # the spec's job kinds import this module's package: read late

    paths = [path for kind in all_kinds() for path in (kind.create_path, kind.status_path)]
    segments = {path.strip("/").split("/")[0] for path in paths}
    return segments.pop() if len(segments) == 1 else None


def _checked_base_url(url: object, api_key: APIKey) -> str:
    """``check_base_url``, whose refusal never quotes the key (pasted into the wrong setting, or into the URL)."""
    try:
        return check_base_url(url)
    except InvalidInputError as exc:
        raise InvalidInputError(secret_hider(api_key.reveal())(str(exc))) from None


def _without_secrets(url: str) -> str:
    """``url`` as a message may quote it: a user and password (before an '@') and a query string (``?api_key=``)
    are masked, even in a URL too broken to parse."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        scheme, rest = "", url
    authority, tail = re.match(r"([^/?#]*)(.*)", rest, re.S).groups()  # type: ignore[union-attr]  # always matches
    if "@" in authority:
        authority = "****@" + authority.rpartition("@")[2]
    path, query_mark, _ = tail.partition("?")
    return f"{scheme}{separator}{authority}{path}{'?****' if query_mark else ''}"


def _parsed_url(text: str) -> httpx.URL | None:
    """``text`` parsed by httpx (the parser that sends the request, so no two parsers disagree on the host), or None
    when it holds whitespace or a control character (httpx would percent-encode or refuse it) or a bad port."""
    if any(char.isspace() or not char.isprintable() for char in text):
        return None
    try:
        parsed = httpx.URL(text)
        parsed.host.encode("idna")  # an empty label, or one over 63 characters: the lookup would fail on it
    except (httpx.InvalidURL, UnicodeError):
        return None
    return parsed if parsed.port is None or 0 < parsed.port < 65536 else None


class NotGiven:
    """The default of ``with_options`` arguments: "keep this setting" (``None`` may be a setting of its own)."""

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven()


def changes(**settings: object) -> dict[str, Any]:
    return {key: value for key, value in settings.items() if not isinstance(value, NotGiven)}
