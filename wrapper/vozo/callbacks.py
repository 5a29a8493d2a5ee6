"""Receiving Vozo's job callbacks.

Vozo POSTs the job's status (the same body as the status endpoint) to ``callback_url`` whenever it changes.
``parse`` checks such a body against the spec and returns the typed status. Vozo documents no signature, so
``add_token`` puts an HMAC token derived from your secret into the callback URL you give Vozo, and
``verify_token`` checks it on receipt in constant time: a request without the right token did not come from a
URL you handed out.
"""

from __future__ import annotations

import hashlib
import hmac
from contextlib import suppress
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from vozo._errors import CallbackError, InvalidInputError
from vozo_jobs.callbacks import parse

__all__ = ["TOKEN_PARAM", "CallbackError", "add_token", "parse", "verify_token"]

TOKEN_PARAM = "vozo_token"  # noqa: S105 - the query parameter's name, not a secret


def _key(secret: object) -> bytes:
    """The secret's bytes; refused when it is empty or no text (a lone surrogate has no UTF-8)."""
    key = None
    if isinstance(secret, bytes | bytearray):
        key = bytes(secret)
    elif isinstance(secret, str):
        with suppress(UnicodeEncodeError):
            key = secret.encode()
    if key is None:
        raise InvalidInputError(
            f"the callback secret must be a str or bytes (text encodable as UTF-8), got {type(secret).__name__}: "
            "pass the secret you keep for your callbacks"
        )
    if not key:
        raise InvalidInputError("the callback secret must not be empty: pass the secret you keep for your callbacks")
    return key


def _token(url_without_token: str, key: bytes) -> str:
    return hmac.new(key, url_without_token.encode(), hashlib.sha256).hexdigest()


def _split_token(url: str) -> tuple[str, str | None]:
    """The URL without its token or fragment (what the token signs), and the token. A fragment never reaches the
    server that receives the callback, so it cannot be part of what is signed."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    tokens = [value for key, value in query if key == TOKEN_PARAM]
    rest = urlunsplit(parts._replace(query=urlencode([(k, v) for k, v in query if k != TOKEN_PARAM]), fragment=""))
    return rest, tokens[0] if len(tokens) == 1 else None


def add_token(callback_url: str, secret: str | bytes) -> str:
    """``callback_url`` with a ``vozo_token`` query parameter: an HMAC-SHA256 of the URL under ``secret``.

    The secret itself never appears in the URL. Give the result to Vozo as ``callback_url``.
    """
    key = _key(secret)
    base, _ = _split_checked(callback_url, "callback_url")
    separator = "&" if urlsplit(base).query else "?"
    fragment = urlsplit(callback_url).fragment
    return f"{base}{separator}{urlencode({TOKEN_PARAM: _token(base, key)})}" + (f"#{fragment}" if fragment else "")


def verify_token(received_url: str, secret: str | bytes, *, expected_url: str | None = None) -> bool:
    """True when ``received_url`` (the full URL the callback hit) carries the token ``add_token`` gave it.

    Behind a proxy that rewrites host or scheme, pass ``expected_url``: the URL you gave ``add_token``.
    Comparison is constant-time.
    """
    if not isinstance(received_url, str):
        raise InvalidInputError(
            f"received_url must be the URL as a string (str(request.url)), got {type(received_url).__name__}"
        )
    key = _key(secret)
    expected_base = _split_checked(expected_url, "expected_url")[0] if expected_url is not None else None
    try:
        base, token = _split_token(received_url)
        if token is None:
            return False
        return hmac.compare_digest(token.encode(), _token(expected_base or base, key).encode())
    except ValueError:  # a URL no client of ours made ("http://[::1/...", a lone surrogate that has no UTF-8): the
        return False  # request is not from Vozo's callback


def _split_checked(url: object, name: str) -> tuple[str, str | None]:
    """``_split_token`` of a URL the caller gave, refused when it is none."""
    try:
        if not isinstance(url, str):
            raise ValueError(f"got {type(url).__name__}")
        # urlsplit drops a newline or tab (the URL signed would not be the one given); no request carries either, nor
        # another control character, nor a lone surrogate (no UTF-8): Vozo could never call such a URL.
        control = next((char for char in url if char < " " or "\x7f" <= char < "\xa0"), None)
        if control is not None:
            raise ValueError(f"got {url!r}: it holds the control character {control!r}")
        if any("\ud800" <= char <= "\udfff" for char in url):
            raise ValueError(f"got {url!r}: it holds a lone surrogate, which is no text")
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:  # Vozo could POST to no such URL
            raise ValueError(f"got {url!r}: not an absolute http(s) URL")
        return _split_token(url)
    except ValueError as exc:
        raise InvalidInputError(f"{name} must be a URL string like https://you.example/vozo-callback ({exc})") from None
