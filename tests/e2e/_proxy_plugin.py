"""A proxy.py plugin for tests/e2e/test_network.py, loaded by the proxy's own process (``--plugins``).

It resolves names under ``.test`` (and localhost) to 127.0.0.1, as a corporate proxy resolves names only its
network knows: a client that reaches such a name went through the proxy. Each request it forwards
(``CONNECT host:port`` for https, ``GET host:port`` for plain http) is appended to the file that
``VOZO_TEST_PROXY_LOG`` names.
"""

from __future__ import annotations

import os

from proxy.http.parser import HttpParser
from proxy.http.proxy import HttpProxyBasePlugin


class ResolveTestNamesAndLog(HttpProxyBasePlugin):  # type: ignore[misc]
    def resolve_dns(self, host: str, port: int) -> tuple[str | None, None]:
        return ("127.0.0.1" if host.endswith(".test") or host == "localhost" else None), None

    def before_upstream_connection(self, request: HttpParser) -> HttpParser:
        method = (request.method or b"").decode()
        host = (request.host or b"").decode()
        with open(os.environ["VOZO_TEST_PROXY_LOG"], "a", encoding="utf-8") as log:
            log.write(f"{method} {host}:{request.port}\n")
        return request
