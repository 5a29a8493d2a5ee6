"""The ``vozo`` logger. ``VOZO_LOG=debug`` (or ``info``) turns it on without touching logging config."""

from __future__ import annotations

import logging
import os

logger = logging.getLogger("vozo")
# A library stays silent unless its user configures logging (or sets VOZO_LOG): without this, Python's last-resort
# handler would print our warnings on stderr (the logging HOWTO's advice for libraries).
logger.addHandler(logging.NullHandler())


def configure_from_env() -> None:
    level = os.environ.get("VOZO_LOG", "").strip().upper()
    if level not in ("DEBUG", "INFO") or getattr(logger, "_vozo_configured", False):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("[%(asctime)s %(name)s %(levelname)s] %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
    logger._vozo_configured = True  # type: ignore[attr-defined]  # once per process, however many clients
