"""Refresh openapi/upstream/ from Vozo's docs site, the way Vozo publishes it.

The docs index (``llms.txt``) links every page; an API reference page's markdown (its URL with ``.md``) embeds one
OpenAPI document. We keep the default-locale reference pages that carry such a document.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlparse

import httpx

from spectools.pages import has_fence

DEFAULT_SOURCE = "https://www.vozo.ai/docs"
_LINK = re.compile(r"\((?P<url>[^()\s]+)\)|^\s*-?\s*(?P<bare>https?://\S+)\s*$", re.MULTILINE)
_MAX_REDIRECTS = 10
_NAME_MAX = 255  # bytes in one file name on Linux, macOS and Windows file systems
_LOCALE = re.compile(r"^[a-z]{2}(-[a-zA-Z]{2})?$")

Fetch = Callable[[str], str]


class UpdateError(RuntimeError):
    """The docs could not be read, or they hold no API reference page."""


@dataclass(frozen=True)
class FetchedPage:
    name: str  # its file name in openapi/upstream
    url: str  # where it was read, for error messages
    text: str


def http_fetcher(client: httpx.Client) -> Fetch:
    """GETs a page, following redirects only within its own host: another host would write the SDK's spec."""

    def fetch(url: str) -> str:
        current = httpx.URL(url)
        try:
            for _ in range(_MAX_REDIRECTS + 1):
                response = client.get(current, follow_redirects=False)
                if response.next_request is None:
                    response.raise_for_status()
                    return response.text
                current = _same_site(url, current, response.next_request.url)
        except httpx.HTTPError as exc:
            raise UpdateError(f"could not fetch {url}: {exc}") from exc
        raise UpdateError(f"could not fetch {url}: more than {_MAX_REDIRECTS} redirects")

    return fetch


def _same_site(url: str, current: httpx.URL, target: httpx.URL) -> httpx.URL:
    """``target`` when a redirect from ``current`` to it stays on the page's host (http may become https)."""
    upgraded = current.scheme == "http" and target.scheme == "https" and target.port is None
    same_origin = (target.scheme, target.port) == (current.scheme, current.port) or upgraded
    if target.host != current.host or not same_origin:
        raise UpdateError(
            f"could not fetch {url}: it redirects to {target}, another host than the docs site's; nothing was "
            "written (use that site as SOURCE if it is Vozo's)"
        )
    return target


def file_fetcher(url: str) -> str:
    """Reads a file:// URL: a local mirror of the docs site (SOURCE=folder)."""
    path = Path(urlparse(url).path)
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UpdateError(f"could not read {path}: {exc}") from exc
    except UnicodeDecodeError as exc:  # the site serves UTF-8; a mirror saved otherwise would be misread
        raise UpdateError(
            f"{path} is not UTF-8 text (byte {exc.start}): save the mirrored page as UTF-8; nothing was written"
        ) from exc


def _relative(url: str, base: str) -> str | None:
    """The page's path below the docs root, or None when the link leads elsewhere."""
    if url.startswith(base):
        return url[len(base) :]
    path = urlparse(url).path
    return path.split("/docs/", 1)[1] if "/docs/" in path else None  # an absolute link in a mirrored index


def reference_pages(index: str, base: str) -> list[tuple[str, str]]:
    """(relative path, page .md URL) of every default-locale API reference page the index links."""
    found: dict[str, str] = {}
    for match in _LINK.finditer(index):
        url = urljoin(base, match["url"] or match["bare"])
        relative = _relative(url.split("#")[0].split("?")[0], base)
        if relative is None or "api_reference/" not in relative:
            continue
        if _LOCALE.match(relative.split("/", 1)[0]):
            continue  # translations of the default pages
        relative = relative.removesuffix(".md").strip("/")
        found.setdefault(relative, urljoin(base, relative + ".md"))
    return sorted(found.items())


def page_file_name(relative: str) -> str:
    return relative.replace("/", "__") + ".md"


def download_pages(source: str, fetch: Fetch) -> list[FetchedPage]:
    """Every API reference page that embeds an OpenAPI document."""
    base = source.rstrip("/") + "/"
    index = fetch(urljoin(base, "llms.txt"))
    pages: list[FetchedPage] = []
    stored: dict[str, str] = {}  # file name -> the URL stored under it
    for relative, url in reference_pages(index, base):
        text = fetch(url)
        if not has_fence(text):  # overviews and guides have none
            continue
        name = page_file_name(relative)
        if len(name.encode()) > _NAME_MAX:  # the staging copy could not store it (File name too long)
            raise UpdateError(
                f"the page {url} would be stored under a file name too long for openapi/upstream "
                f"({len(name.encode())} bytes, at most {_NAME_MAX}); nothing was written (ask Vozo, or shorten "
                "its path in a local mirror)"
            )
        if name in stored:  # a/b and a__b: one would silently replace the other, and its operations go unreported
            raise UpdateError(
                f"the pages {stored[name]} and {url} would both be stored as openapi/upstream/{name}; nothing was "
                "written (ask Vozo, or rename one page's path in a local mirror)"
            )
        stored[name] = url
        pages.append(FetchedPage(name, url, text))
    if not pages:
        raise UpdateError(f"the index at {base}llms.txt links no API reference page with an OpenAPI document")
    return pages
