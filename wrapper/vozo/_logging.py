"""The ``vozo`` logger. ``VOZO_LOG=debug`` (or ``info``) turns it on without touching logging config.

``VOZO_LOG`` sets the level of the ``vozo`` logger; where its lines go stays the application's choice. When the
application has configured logging (``logging.basicConfig``, a handler on the root logger), every line goes through
that configuration, once, in its format. Only when nothing would print a line does our own stderr handler print it,
so ``VOZO_LOG=debug`` alone is enough in a script that never configures logging.
"""

from __future__ import annotations

import logging
import os
import weakref
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from vozo._config import APIKey

logger = logging.getLogger("vozo")
# A library stays silent unless its user configures logging (or sets VOZO_LOG): without this, Python's last-resort
# handler would print our warnings on stderr (the logging HOWTO's advice for libraries).
logger.addHandler(logging.NullHandler())


class _FallbackHandler(logging.StreamHandler[TextIO]):
    """Prints a record on stderr only when no handler the record propagates to would print it.

    Decided per record, so it stays right when the application configures logging after creating a client.
    """

    def emit(self, record: logging.LogRecord) -> None:
        if not _handled_upstream(record):
            super().emit(record)


def _handled_upstream(record: logging.LogRecord) -> bool:
    """Whether a handler above the ``vozo`` logger, reached by propagation, accepts the record's level."""
    current: logging.Logger | None = logger
    while current is not None and current.propagate:
        current = current.parent
        if current is not None and any(
            record.levelno >= handler.level and not isinstance(handler, logging.NullHandler)
            for handler in current.handlers
        ):
            return True
    return False


def configure_from_env() -> None:
    level = os.environ.get("VOZO_LOG", "").strip().upper()
    if level not in ("DEBUG", "INFO") or getattr(logger, "_vozo_configured", False):
        return
    handler = _FallbackHandler()
    handler.setFormatter(logging.Formatter("[%(asctime)s %(name)s %(levelname)s] %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
    logger._vozo_configured = True  # type: ignore[attr-defined]  # once per process, however many clients


# httpx's INFO line quotes the reason phrase a server sent, httpcore's DEBUG lines its headers: a server that echoes
# the key would put it in them.
_HTTP_LOGGERS = ("httpx", *(f"httpcore.{name}" for name in ("connection", "http11", "http2", "proxy", "socks")))
# The keys of this process's clients, while they live. Keyed by identity: keys equal by value (two clients given one
# key) would share one entry, dropped when the first of them is collected while the other still sends it.
_live_keys: weakref.WeakValueDictionary[int, APIKey] = weakref.WeakValueDictionary()


class _KeyFilter(logging.Filter):
    """Takes the keys of live clients out of httpx's and httpcore's own log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        from vozo._config import secret_hider

        # valuerefs() copies in one step: iterating the mapping itself fails if another thread makes a client meanwhile
        secrets = {key.reveal() for key in (ref() for ref in _live_keys.valuerefs()) if key is not None}
        if not secrets:
            return True
        message = text = record.getMessage()
        for secret in secrets:
            text = secret_hider(secret)(text)
        if text != message:  # a line without a key keeps its arguments, as structured handlers read them
            record.msg, record.args = text, ()
        return True


def hide_in_http_logs(key: APIKey) -> None:
    """Keep ``key`` out of httpx's and httpcore's log lines while a client holds it."""
    if not _live_keys:
        for name in _HTTP_LOGGERS:
            http_logger = logging.getLogger(name)
            if not any(isinstance(existing, _KeyFilter) for existing in http_logger.filters):
                http_logger.addFilter(_KeyFilter())
    _live_keys[id(key)] = key
