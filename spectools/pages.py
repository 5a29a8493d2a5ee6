"""Vozo doc pages: markdown files that each embed one OpenAPI document in a ````yaml METHOD /path fence."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# Vozo's pages open the fence with four backticks, the language and the operation: ````yaml POST /v1/x
_FENCE = re.compile(
    r"^(?P<ticks>`{3,})yaml[ \t]+(?P<method>[A-Za-z]+)[ \t]+(?P<path>/\S*)[ \t]*\n(?P<body>.*?)^(?P=ticks)[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
_RECONSTRUCTED = re.compile(r"^<!--\s*\nRECONSTRUCTED PAGE:.*?\nStands in for:\s*(?P<url>\S+)", re.DOTALL)


class PageError(ValueError):
    """A doc page that holds no usable OpenAPI fragment."""


@dataclass(frozen=True)
class Page:
    name: str  # file name, used in error messages
    method: str
    path: str
    fragment: dict[str, Any]
    reconstructed_from: str | None  # the URL a reconstructed page stands in for


def parse_page(name: str, text: str) -> Page:
    matches = list(_FENCE.finditer(text))
    if not matches:
        raise PageError(f"{name}: no ````yaml METHOD /path fence found")
    if len(matches) > 1:
        raise PageError(f"{name}: {len(matches)} OpenAPI fences found, expected one per page")
    match = matches[0]
    try:
        fragment = yaml.safe_load(match["body"])
    except yaml.YAMLError as exc:
        raise PageError(f"{name}: the fenced YAML does not parse: {exc}") from exc
    if not isinstance(fragment, dict) or "openapi" not in fragment:
        raise PageError(f"{name}: the fenced YAML is not an OpenAPI document")
    method, path = match["method"].lower(), match["path"]
    if method not in fragment.get("paths", {}).get(path, {}):
        raise PageError(f"{name}: fence names {method.upper()} {path} but the document does not define it")
    reconstructed = _RECONSTRUCTED.match(text)
    return Page(name, method, path, fragment, reconstructed["url"] if reconstructed else None)


def has_fence(text: str) -> bool:
    return _FENCE.search(text) is not None


def load_pages(folder: Path) -> list[Page]:
    """Every page of the folder, sorted by file name so that the merge is deterministic."""
    files = sorted(folder.glob("*.md"))
    if not files:
        raise PageError(f"{folder}: no .md pages")
    return [parse_page(f.name, f.read_text(encoding="utf-8")) for f in files]
