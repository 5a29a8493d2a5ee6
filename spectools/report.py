"""A readable API change report between two versions of the merged spec."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


@dataclass(frozen=True)
class Field:
    type: str
    required: bool
    enum: tuple[str, ...]


def _resolve(
    spec: dict[str, Any], schema: dict[str, Any], seen: frozenset[str] = frozenset()
) -> tuple[dict[str, Any], frozenset[str]]:
    while "$ref" in schema:
        ref = schema["$ref"]
        if ref in seen:  # recursive schema: stop here
            return {"type": "object"}, seen
        seen = seen | {ref}
        node: Any = spec
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        schema = {**node, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema, seen


def _type_name(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        return "|".join(str(k) for k in kind)
    if kind:
        return str(kind)
    for combinator in ("oneOf", "anyOf", "allOf"):
        if combinator in schema:
            return combinator
    return "any"


def flatten(
    spec: dict[str, Any], schema: dict[str, Any] | None, prefix: str = "", seen: frozenset[str] = frozenset()
) -> dict[str, Field]:
    """Dotted field name -> Field, for every property reachable from ``schema``."""
    if not schema:
        return {}
    schema, seen = _resolve(spec, schema, seen)
    fields: dict[str, Field] = {}
    required = set(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        resolved, _ = _resolve(spec, prop, seen)
        key = f"{prefix}{name}"
        fields[key] = Field(_type_name(resolved), name in required, tuple(str(v) for v in resolved.get("enum", [])))
        fields.update(flatten(spec, prop, f"{key}.", seen))
    if schema.get("type") == "array" and "items" in schema:
        fields.update(flatten(spec, schema["items"], f"{prefix}[].", seen))
    return fields


def _operations(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f"{method.upper()} {path}": operation
        for path, item in spec.get("paths", {}).items()
        for method, operation in item.items()
        if method in _METHODS
    }


def _json_schema(container: dict[str, Any] | None) -> dict[str, Any] | None:
    content = (container or {}).get("content", {})
    media = content.get("application/json") or next(iter(content.values()), None)
    return (media or {}).get("schema")


def _parts(spec: dict[str, Any], operation: dict[str, Any]) -> dict[str, dict[str, Field]]:
    """Each part of an operation (parameters, request body, each response) flattened into fields."""
    parts: dict[str, dict[str, Field]] = {}
    params: dict[str, Field] = {}
    for param in operation.get("parameters", []):
        param, _ = _resolve(spec, param)
        schema, _ = _resolve(spec, param.get("schema", {}))
        params[f"{param['in']}.{param['name']}"] = Field(
            _type_name(schema), bool(param.get("required")), tuple(str(v) for v in schema.get("enum", []))
        )
    parts["parameters"] = params
    body = operation.get("requestBody")
    if body:
        body, _ = _resolve(spec, body)
        parts["request"] = flatten(spec, _json_schema(body))
    for status, response in operation.get("responses", {}).items():
        response, _ = _resolve(spec, response)
        parts[f"response {status}"] = flatten(spec, _json_schema(response))
    return parts


def _compare_fields(part: str, old: dict[str, Field], new: dict[str, Field]) -> list[str]:
    lines = []
    for name in sorted(new.keys() - old.keys()):
        lines.append(f"{part}: + field `{name}` ({new[name].type}, {'required' if new[name].required else 'optional'})")
    for name in sorted(old.keys() - new.keys()):
        lines.append(f"{part}: - field `{name}`")
    for name in sorted(old.keys() & new.keys()):
        before, after = old[name], new[name]
        if before.type != after.type:
            lines.append(f"{part}: `{name}` retyped {before.type} -> {after.type}")
        if before.required != after.required:
            lines.append(f"{part}: `{name}` {'now required' if after.required else 'no longer required'}")
        added = [v for v in after.enum if v not in before.enum]
        removed = [v for v in before.enum if v not in after.enum]
        if added:
            lines.append(f"{part}: `{name}` enum + {', '.join(added)}")
        if removed:
            lines.append(f"{part}: `{name}` enum - {', '.join(removed)}")
    return lines


def change_report(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """One line per change; an empty list means the two specs describe the same API surface."""
    old_ops, new_ops = _operations(old), _operations(new)
    lines = [f"+ {op} (operation added)" for op in sorted(new_ops.keys() - old_ops.keys())]
    lines += [f"- {op} (operation removed)" for op in sorted(old_ops.keys() - new_ops.keys())]
    for op in sorted(old_ops.keys() & new_ops.keys()):
        old_parts, new_parts = _parts(old, old_ops[op]), _parts(new, new_ops[op])
        changes = [f"{part} added" for part in sorted(new_parts.keys() - old_parts.keys())]
        changes += [f"{part} removed" for part in sorted(old_parts.keys() - new_parts.keys())]
        for part in sorted(old_parts.keys() & new_parts.keys()):
            changes += _compare_fields(part, old_parts[part], new_parts[part])
        if changes:
            lines += [f"~ {op}"] + [f"    {change}" for change in changes]
    return lines


def format_report(lines: list[str]) -> str:
    if not lines:
        return "API change report: no changes to operations or fields."
    return "API change report:\n" + "\n".join(f"  {line}" for line in lines)
