"""Vozo doc pages: markdown files that each embed one OpenAPI document in a ````yaml (or json) METHOD /path fence."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# Vozo's pages open the fence with four backticks, the language and the operation: ````yaml POST /v1/x. A document
# fenced as JSON (````json POST /v1/x) reads the same: JSON is YAML, and the YAML parser names the line it stops at.
_LANGUAGE = r"(?:yaml|yml|json)"
_FENCE = re.compile(
    rf"^(?P<ticks>`{{3,}}){_LANGUAGE}[ \t]+(?P<method>[A-Za-z]+)[ \t]+(?P<path>/\S*)[ \t]*\n(?P<body>.*?)"
    r"^(?P=ticks)[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
_OPENING = re.compile(rf"^`{{3,}}(?P<language>{_LANGUAGE})[ \t]+[A-Za-z]+[ \t]+/", re.MULTILINE)
# A json fence is an OpenAPI one only when its document opens with the "openapi" key (a guide's request sample is not).
_JSON_OPENAPI = re.compile(r'[^\n]*\n\s*\{\s*"openapi"\s*:')


class _PageLoader(yaml.SafeLoader):
    """Safe YAML that refuses what Vozo's pages never hold and would only hide or blow up something: a key written
    twice in one mapping (YAML keeps the last, silently), and anchors/aliases (shared nodes that can multiply a
    small page into an exponential tree)."""

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.MarkedYAMLError(
                problem=f"an alias (*{event.anchor}): pages hold no anchors or aliases", problem_mark=event.start_mark
            )
        return super().compose_node(parent, index)  # type: ignore[no-any-return]

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, (str, int, float, bool)) and key in seen:
                raise yaml.MarkedYAMLError(
                    problem=f"key {key!r} is written twice in one mapping", problem_mark=key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


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
    text = text.replace("\r\n", "\n")
    matches = list(_FENCE.finditer(text))
    if not matches:
        opened = _OPENING.search(text)
        if opened:
            line = _line_of(text, opened.start())
            raise PageError(f"{name}: the ````yaml fence opened on line {line} is never closed", page=name, line=line)
        raise PageError(f"{name}: no ````yaml METHOD /path fence found", page=name)
    if len(matches) > 1:
        line = _line_of(text, matches[1].start())
        raise PageError(
            f"{name}: {len(matches)} OpenAPI fences found, expected one per page (another opens on line {line})",
            page=name,
            line=line,
        )
    match = matches[0]
    fence_line = _line_of(text, match.start())
    fragment = _load(name, match["body"], fence_line)
    if not isinstance(fragment, dict) or "openapi" not in fragment:
        raise PageError(f"{name}: the fenced YAML is not an OpenAPI document", page=name, line=fence_line)
    _check_shape(name, fragment, match["body"], fence_line)
    method, path = match["method"].lower(), match["path"]
    if method not in fragment.get("paths", {}).get(path, {}):
        raise PageError(
            f"{name}: fence names {method.upper()} {path} but the document does not define it",
            page=name,
            line=fence_line,
        )
    return Page(name, method, path, fragment)


def _load(name: str, body: str, fence_line: int) -> Any:
    try:
        return yaml.load(body, Loader=_PageLoader)  # noqa: S506 - a SafeLoader, stricter still
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = fence_line + 1 + mark.line if mark is not None else fence_line
        raise PageError(f"{name}: the fenced YAML does not parse: {exc}", page=name, line=line) from exc
    except RecursionError:
        raise PageError(f"{name}: the fenced YAML nests too deeply to read", page=name, line=fence_line) from None


def _check_shape(name: str, fragment: dict[str, Any], body: str, fence_line: int) -> None:
    """The sections the merge reads are mappings of mappings (``paths``, each path item, ``components``, each kind
    of component); anything else is refused here, naming the section and its line, instead of failing inside the
    merge."""
    sections: list[tuple[tuple[str, ...], Any]] = [(("paths",), fragment.get("paths", {}))]
    sections += [(("paths", path), item) for path, item in _items(fragment.get("paths"))]
    sections += [(("components",), fragment.get("components", {}))]
    sections += [(("components", kind), entries) for kind, entries in _items(fragment.get("components"))]
    for keys, value in sections:
        if not isinstance(value, dict):
            line = fence_line + 1 + _key_line(yaml.compose(body, Loader=_PageLoader), keys)
            where = ".".join(keys)
            raise PageError(f"{name}: `{where}` is a {type(value).__name__}, not a mapping", page=name, line=line)


def _key_line(node: yaml.Node | None, keys: tuple[str, ...]) -> int:
    """The 0-based line of the last of ``keys`` that the document has, descending from ``node``."""
    line = 0
    for key in keys:
        if not isinstance(node, yaml.MappingNode):
            break
        found = next(((k, v) for k, v in node.value if k.value == key), None)
        if found is None:
            break
        line, node = found[0].start_mark.line, found[1]
    return line


def _items(value: Any) -> list[tuple[Any, Any]]:
    return list(value.items()) if isinstance(value, dict) else []


def fence_body(text: str) -> tuple[str, int] | None:
    """The fenced OpenAPI document of a page and the 1-based page line its first line is on."""
    match = _FENCE.search(text)
    return (match["body"], _line_of(text, match.start("body"))) if match else None


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def has_fence(text: str) -> bool:
    """Whether the page opens an OpenAPI fence (closed or not: parse_page refuses one never closed, naming its line,
    where leaving the page out would drop its operations from the spec without a word)."""
    text = text.replace("\r\n", "\n")
    return any(
        opened["language"] != "json" or _JSON_OPENAPI.match(text, opened.start()) is not None
        for opened in _OPENING.finditer(text)
    )


def load_pages(folder: Path) -> list[Page]:
    """Every page of the folder, sorted by file name so that the merge is deterministic."""
    files = sorted(folder.glob("*.md"))
    if not files:
        raise PageError(f"{folder}: no .md pages", page=str(folder))
    return [parse_page(f.name, f.read_text(encoding="utf-8")) for f in files]
