"""Merge one-endpoint OpenAPI fragments into a single document."""

from __future__ import annotations

import copy
from typing import Any

from spectools.pages import Page
from spectools.sourcemap import json_path

# Top-level sections that every page repeats and that must agree.
_SHARED_TOP_LEVEL = ("openapi", "info", "servers", "security")


class MergeConflictError(ValueError):
    """Two pages define the same thing differently."""

    def __init__(self, message: str, *, path: tuple[str, ...], pages: tuple[str, str]) -> None:
        super().__init__(message)
        self.path = path  # where in the merged spec
        self.pages = pages  # the two page files


def _first_difference(key: tuple[str, ...], first: Any, second: Any, pages: tuple[str, str]) -> str:
    """Where two definitions first part (depth first, in the first's key order), and how."""
    path: list[str | int] = list(key)
    while True:
        if isinstance(first, dict) and isinstance(second, dict):
            for name in [*first, *(k for k in second if k not in first)]:
                if name not in second or name not in first:
                    owner = pages[0] if name in first else pages[1]
                    return f"first differing at {json_path((*path, name))} (only in {owner})"
                if first[name] != second[name]:
                    path.append(name)
                    first, second = first[name], second[name]
                    break
            else:  # equal after all (keys in another order): nothing nearer to name
                return f"first differing at {json_path(path)}"
        elif isinstance(first, list) and isinstance(second, list) and len(first) == len(second):
            index = next(i for i, (a, b) in enumerate(zip(first, second, strict=True)) if a != b)
            path.append(index)
            first, second = first[index], second[index]
        else:
            return f"first differing at {json_path(path)} ({_short(first)} and {_short(second)})"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def merge_pages(pages: list[Page]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    origin: dict[tuple[str, ...], str] = {}  # where each merged item came from, for conflict messages

    def claim(key: tuple[str, ...], value: Any, page: Page, target: dict[str, Any], label: str) -> None:
        name = key[-1]
        if name not in target:
            target[name] = copy.deepcopy(value)
            origin[key] = page.name
        elif target[name] != value:
            raise MergeConflictError(
                f"{label} is defined differently in {origin[key]} and {page.name}, "
                f"{_first_difference(key, target[name], value, (origin[key], page.name))}",
                path=key,
                pages=(origin[key], page.name),
            )

    for page in pages:
        fragment = page.fragment
        for section in _SHARED_TOP_LEVEL:
            if section in fragment:
                claim((section,), fragment[section], page, merged, f"top-level '{section}'")
        for path, item in fragment.get("paths", {}).items():
            path_item = merged.setdefault("paths", {}).setdefault(path, {})
            for method, operation in item.items():
                claim(("paths", path, method), operation, page, path_item, f"operation {method.upper()} {path}")
        for kind, entries in fragment.get("components", {}).items():
            bucket = merged.setdefault("components", {}).setdefault(kind, {})
            for name, definition in entries.items():
                claim(("components", kind, name), definition, page, bucket, f"component {kind}/{name}")

    return ordered(merged)


def ordered(doc: dict[str, Any]) -> dict[str, Any]:
    """Conventional key order at the top, sorted paths and components: same pages, same bytes."""
    order = ("openapi", "info", "servers", "security", "tags", "paths", "components")
    out = {key: doc[key] for key in order if key in doc}
    out.update({key: doc[key] for key in doc if key not in out})
    if "paths" in out:
        out["paths"] = {path: out["paths"][path] for path in sorted(out["paths"])}
    if "components" in out:
        out["components"] = {
            kind: {name: entries[name] for name in sorted(entries)}
            for kind, entries in sorted(out["components"].items())
        }
    return out
