"""Apply an OpenAPI Overlay 1.0 document (https://spec.openapis.org/overlay/v1.0.html).

Targets are RFC 9535 JSONPath expressions, evaluated by python-jsonpath in strict (RFC 9535) mode.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import jsonpath

_VERSION = re.compile(r"^1\.0\.\d+$")


class OverlayError(ValueError):
    """An overlay that is malformed, misses its target, or changes what the upstream pages document."""


def apply_overlay(doc: dict[str, Any], overlay: dict[str, Any], *, additive_only: bool = True) -> dict[str, Any]:
    """Return a copy of ``doc`` with every action applied in order.

    With ``additive_only`` (our rule for openapi/overlay.yaml) an action may add keys and array items but never
    remove a node or replace a value the upstream pages set. A target that selects nothing is an error too, so a
    typo or an upstream rename cannot silently drop one of our additions.
    """
    _check_shape(overlay)
    gone = [
        f"  action {index + 1} ({action['target']}) decorates {operation}"
        for index, action in enumerate(overlay["actions"])
        if (operation := operation_gone(action["target"], doc)) is not None
    ]
    if gone:
        raise OverlayError(
            "the overlay decorates operations no page documents any more (Vozo removed or renamed them):\n"
            + "\n".join(gone)
            + "\ndelete those actions from openapi/overlay.yaml (or point them at the operation's new path), then "
            "run the update again"
        )
    result = copy.deepcopy(doc)
    for index, action in enumerate(overlay["actions"]):
        label = f"overlay action {index + 1} ({action.get('description') or action['target']})"
        try:
            matches = list(jsonpath.finditer(action["target"], result, strict=True))
        except jsonpath.JSONPathError as exc:
            raise OverlayError(f"{label}: invalid JSONPath target: {exc}") from exc
        if not matches:
            raise OverlayError(f"{label}: target {action['target']} selects nothing")
        if action.get("remove"):
            if additive_only:
                raise OverlayError(f"{label}: removes a node, but this overlay may only add")
            for match in reversed(matches):  # reversed keeps earlier array indices valid
                parent, key = match.parent.obj if match.parent else None, match.parts[-1] if match.parts else None
                if parent is None:
                    raise OverlayError(f"{label}: cannot remove the document root")
                del parent[key]
            continue
        if "update" in action:
            for match in matches:
                _merge(match.obj, action["update"], label, additive_only, "".join(f"/{p}" for p in match.parts))
    return result


_OPERATION_TARGET = re.compile(
    r"""^\$\.paths\[(?P<quote>['"])(?P<path>.*?)(?P=quote)\]"""
    r"(?:\.(?P<method>get|put|post|delete|options|head|patch|trace))?(?=[.\[]|$)"
)


def operation_gone(target: str, doc: dict[str, Any]) -> str | None:
    """``POST /v1/x`` (or the path alone) when ``target`` addresses one path or operation by name and ``doc`` has
    none there: what a docs update that drops an operation leaves the overlay pointing at."""
    found = _OPERATION_TARGET.match(target)
    if found is None:
        return None
    paths = doc.get("paths") if isinstance(doc.get("paths"), dict) else {}
    item = paths.get(found["path"])
    method = found["method"]
    if item is None:
        return f"{method.upper()} {found['path']}" if method else f"path {found['path']}"
    if method and not (isinstance(item, dict) and method in item):
        return f"{method.upper()} {found['path']}"
    return None


def _check_shape(overlay: dict[str, Any]) -> None:
    if not isinstance(overlay, dict) or not _VERSION.match(str(overlay.get("overlay", ""))):
        raise OverlayError("not an Overlay 1.0 document: 'overlay: 1.0.x' missing")
    info = overlay.get("info")
    if not isinstance(info, dict) or not {"title", "version"} <= info.keys():
        raise OverlayError("overlay 'info' needs 'title' and 'version'")
    actions = overlay.get("actions")
    if not isinstance(actions, list) or not actions:
        raise OverlayError("overlay 'actions' must be a non-empty list")
    for index, action in enumerate(actions):
        if not isinstance(action, dict) or not str(action.get("target", "")).startswith("$"):
            raise OverlayError(f"overlay action {index + 1}: 'target' must be a JSONPath starting with '$'")
        if "update" not in action and not action.get("remove"):
            raise OverlayError(f"overlay action {index + 1}: needs 'update' or 'remove: true'")


def _merge(target: Any, update: Any, label: str, additive_only: bool, where: str) -> None:
    """Overlay merge: objects merge recursively, arrays are appended to, other values replace."""
    if isinstance(target, list):
        target.extend(copy.deepcopy(update) if isinstance(update, list) else [copy.deepcopy(update)])
        return
    if not isinstance(target, dict) or not isinstance(update, dict):
        raise OverlayError(f"{label}: cannot merge {type(update).__name__} into {type(target).__name__} at {where}")
    for key, value in update.items():
        if key not in target:
            target[key] = copy.deepcopy(value)
        elif isinstance(target[key], (dict, list)) and isinstance(value, type(target[key])):
            _merge(target[key], value, label, additive_only, f"{where}/{key}")
        elif target[key] != value:
            if additive_only:
                raise OverlayError(f"{label}: would change {where}/{key} ({target[key]!r} -> {value!r})")
            target[key] = copy.deepcopy(value)
