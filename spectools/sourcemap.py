"""Where a node of the merged spec was written: the doc page (its URL), the line within it, the schema path.

Errors found after the merge (an invalid document, a part openapi-python-client rejects) name a path in the merged
spec; the page that defines that operation or component is the one to look at, or to tell Vozo about.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from spectools.pages import fence_body

Segment = str | int
# What openapi-python-client prints about the part of the spec it refused.
_ENDPOINT = re.compile(r"WARNING parsing (?P<method>[A-Z]+) (?P<path>/\S*) within")
_CONTENT_TYPE = re.compile(r"Unsupported content[ _]type (?P<types>.+)$")
_COMPONENT = re.compile(
    r"Unable to (?:parse|process) (?:schema|parameter) "
    r"(?:#?/components/(?P<kind>\w+)/(?P<name>[\w.-]+)|(?P<schema>[\w.-]+):)"
)


@dataclass(frozen=True)
class Location:
    page: str  # the page's URL, or its file when it has none
    line: int  # 1-based, within the page
    path: str  # JSONPath of the node in the merged spec, as openapi/overlay.yaml targets it

    def __str__(self) -> str:
        return f"{self.page} line {self.line}, at {self.path}"


def json_path(segments: Sequence[Segment]) -> str:
    """``('paths', '/v1/x', 'post')`` -> ``$.paths['/v1/x'].post``."""
    out = "$"
    for segment in segments:
        if isinstance(segment, int):
            out += f"[{segment}]"
        elif segment.isidentifier():
            out += f".{segment}"
        else:
            out += "['" + segment.replace("\\", "\\\\").replace("'", "\\'") + "']"
    return out


class SourceMap:
    """Line numbers of every page's OpenAPI document, looked up by a path in the merged spec."""

    def __init__(self, pages: Sequence[tuple[str, str]]) -> None:
        """``pages``: (URL or file, page text) pairs."""
        self._trees: list[tuple[str, int, yaml.Node]] = []
        for where, text in pages:
            found = fence_body(text)
            if found is None:
                continue
            body, first_line = found
            try:
                node = yaml.compose(body, Loader=yaml.SafeLoader)
            except yaml.YAMLError:
                continue  # the page's own PageError says where
            if node is not None:
                self._trees.append((where, first_line, node))

    def locate(self, segments: Sequence[Segment], page: str | None = None) -> Location | None:
        """The page (or the given ``page``) that defines the operation or component holding ``segments``.

        The line is that of the deepest node of ``segments`` the page has. None when no page defines it (the
        overlay added it).
        """
        # The operation (paths, /x, get) or component (components, schemas, X) must be on the page; the shared
        # top level (openapi, info, servers) is on every page, so the first one is as good as any.
        needed = min(3 if segments and segments[0] in ("paths", "components") else 1, len(segments))
        best: tuple[int, str, int] | None = None
        for where, first_line, tree in self._trees:
            if page is not None and where != page:
                continue
            depth, line = _descend(tree, segments)
            if depth >= needed and (best is None or depth > best[0]):
                best = (depth, where, first_line + line)
        return Location(best[1], best[2], json_path(segments)) if best else None


def _descend(node: yaml.Node, segments: Sequence[Segment]) -> tuple[int, int]:
    """How many segments lead to a node of ``node``'s tree, and the 0-based line of the deepest one."""
    depth, line = 0, node.start_mark.line
    for segment in segments:
        found = _child(node, segment)
        if found is None:
            break
        node, line = found
        depth += 1
    return depth, line


def _child(node: yaml.Node, segment: Segment) -> tuple[yaml.Node, int] | None:
    """The child at ``segment`` and the line of its key (of the item, in a list)."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == str(segment):
                return value, key.start_mark.line
    elif isinstance(node, yaml.SequenceNode) and isinstance(segment, int) and 0 <= segment < len(node.value):
        return node.value[segment], node.value[segment].start_mark.line
    return None


def generator_blames(output: str, spec: dict[str, Any]) -> list[tuple[str, ...]]:
    """The spec paths the generator's messages name: an operation (down to a refused content type) or a component."""
    found: list[tuple[str, ...]] = []
    for line in output.splitlines():
        if endpoint := _ENDPOINT.search(line):
            found.append(("paths", endpoint["path"], endpoint["method"].lower()))
        elif (content := _CONTENT_TYPE.search(line)) and found and found[-1][0] == "paths":
            types = {part.strip() for part in content["types"].split(",")}
            found[-1] = _content_path(spec, found[-1], types)
        for component in _COMPONENT.finditer(line):
            found.append(("components", "schemas", component["schema"]) if component["schema"] else
                         ("components", component["kind"], component["name"]))  # fmt: skip
    return list(dict.fromkeys(found))


def _content_path(spec: Any, operation: tuple[str, ...], media_types: set[str]) -> tuple[str, ...]:
    """The request body or response content entry of ``operation`` with one of ``media_types``."""
    node = spec.get("paths", {}).get(operation[1], {}).get(operation[2], {})
    bodies: list[tuple[tuple[str, ...], Any]] = [(("requestBody",), node.get("requestBody") or {})]
    bodies += [(("responses", code), response) for code, response in (node.get("responses") or {}).items()]
    for where, body in bodies:
        for media_type in (body.get("content") or {}) if isinstance(body, dict) else ():
            if media_type in media_types:
                return (*operation, *where, "content", media_type)
    return operation
