"""Sockets that tests share across folders."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator


@contextlib.contextmanager
def closed_port() -> Iterator[int]:
    """A port bound on 127.0.0.1 that nothing listens on: every connection to it is refused, for as long as held.

    Never a fixed port: port 9 or 1 may be served on some machine, or answer slowly through a firewall.
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]
