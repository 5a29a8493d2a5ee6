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


class PageError(ValueError):
    """A doc page that holds no usable OpenAPI fragment."""

    def __init__(self, message: str, *, page: str, line: int | None = None) -> None:
        super().__init__(message)
        self.page = page  # the page's file name
        self.line = line  # 1-based line within the page, when one is to blame


@dataclass(frozen=True)
class Page:
    name: str  # file name, used in error messages
    method: str
    path: str
    fragment: dict[str, Any]


def parse_page(name: str, text: str) -> Page:
    matches = list(_FENCE.finditer(text))
    if not matches:
        raise PageError(f"{name}: no ````yaml METHOD /path fence found", page=name)
    if len(matches) > 1:
        raise PageError(f"{name}: {len(matches)} OpenAPI fences found, expected one per page", page=name)
    match = matches[0]
    fence_line = _line_of(text, match.start())
    try:
        fragment = yaml.safe_load(match["body"])
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = fence_line + 1 + mark.line if mark is not None else fence_line
        raise PageError(f"{name}: the fenced YAML does not parse: {exc}", page=name, line=line) from exc
    if not isinstance(fragment, dict) or "openapi" not in fragment:
        raise PageError(f"{name}: the fenced YAML is not an OpenAPI document", page=name, line=fence_line)
    method, path = match["method"].lower(), match["path"]
    if method not in fragment.get("paths", {}).get(path, {}):
        raise PageError(
            f"{name}: fence names {method.upper()} {path} but the document does not define it",
            page=name,
            line=fence_line,
        )
    return Page(name, method, path, fragment)


def fence_body(text: str) -> tuple[str, int] | None:
    """The fenced OpenAPI document of a page and the 1-based page line its first line is on."""
    match = _FENCE.search(text)
    return (match["body"], _line_of(text, match.start("body"))) if match else None


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def has_fence(text: str) -> bool:
    return _FENCE.search(text) is not None


def load_pages(folder: Path) -> list[Page]:
    """Every page of the folder, sorted by file name so that the merge is deterministic."""
    files = sorted(folder.glob("*.md"))
    if not files:
        raise PageError(f"{folder}: no .md pages", page=str(folder))
    return [parse_page(f.name, f.read_text(encoding="utf-8")) for f in files]
