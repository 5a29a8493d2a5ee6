"""A readable API change report between two versions of the merged spec."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from spectools.jobkinds import JobKind, find_job_kinds, not_job_kinds, stale_hints

_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
# Validation keywords whose change the report shows (a new pattern can refuse what a client sends today).
_CONSTRAINTS = (
    "format", "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "minLength", "maxLength", "minItems", "maxItems",
)  # fmt: skip
# Keys that describe a schema without changing its shape, ignored when looking for a renamed schema.
_PROSE = ("description", "title", "example", "examples")


def shown(values: Iterable[str]) -> str:
    """Enum values for a report line, comma-separated: quoted where plain text would mislead (an empty value, a
    comma, spaces at an end, a line break or another character that does not print, a quote to start with)."""
    plain = [
        value
        if value and value.isprintable() and value == value.strip() and "," not in value and value[0] not in "'\""
        else repr(value)
        for value in values
    ]
    return ", ".join(plain)


@dataclass(frozen=True)
class Field:
    type: str
    required: bool
    enum: tuple[str, ...]
    constraints: tuple[tuple[str, str], ...] = ()  # (keyword, value) of _CONSTRAINTS, in that order

    def describe(self) -> str:
        details = [self.type, "required" if self.required else "optional"]
        if self.enum:
            details.append(f"one of: {shown(self.enum)}")
        details += [f"{key} {value}" for key, value in self.constraints]
        return ", ".join(details)


def _field(spec: dict[str, Any], schema: dict[str, Any], required: bool) -> Field:
    constraints = tuple((key, str(schema[key])) for key in _CONSTRAINTS if key in schema)
    return Field(_type_name(spec, schema), required, tuple(str(v) for v in schema.get("enum", [])), constraints)


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


def _type_name(spec: dict[str, Any], schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if kind == "array" and isinstance(schema.get("items"), dict):
        return f"array[{_type_name(spec, _resolve(spec, schema['items'])[0])}]"
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
        fields[key] = _field(spec, resolved, name in required)
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
        params[f"{param['in']}.{param['name']}"] = _field(spec, schema, bool(param.get("required")))
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
        lines.append(f"{part}: + field `{name}` ({new[name].describe()})")
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
            lines.append(f"{part}: `{name}` enum + {shown(added)}")
        if removed:
            lines.append(f"{part}: `{name}` enum - {shown(removed)}")
        lines += [f"{part}: `{name}` {change}" for change in _constraint_changes(before, after)]
    return lines


def _constraint_changes(before: Field, after: Field) -> list[str]:
    old, new = dict(before.constraints), dict(after.constraints)
    changes = []
    for key in _CONSTRAINTS:
        if key in old and key in new and old[key] != new[key]:
            changes.append(f"{key} {old[key]} -> {new[key]}")
        elif key in new and key not in old:
            changes.append(f"+ {key} {new[key]}")
        elif key in old and key not in new:
            changes.append(f"- {key} {old[key]}")
    return changes


def _job_kind_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    before = {kind.create_path: kind for kind in find_job_kinds(old)}
    after = {kind.create_path: kind for kind in find_job_kinds(new)}
    lines = [_describe_kind("+", after[path]) for path in sorted(after.keys() - before.keys())]
    lines += [f"- job kind `{before[path].name}` (POST {path})" for path in sorted(before.keys() - after.keys())]
    for path in sorted(before.keys() & after.keys()):
        if before[path].name != after[path].name:
            lines.append(f"~ job kind POST {path} renamed `{before[path].name}` -> `{after[path].name}`")
        if before[path].result_url_fields != after[path].result_url_fields:
            # A result file retyped or moved away: download(), `vozo <kind> -o` and batch outputs follow the spec.
            was, now = (", ".join(kind.result_url_fields) or "none" for kind in (before[path], after[path]))
            gone = "" if after[path].results else " (download() of its status has no file to fetch)"
            lines.append(f"~ job kind `{after[path].name}`: result files {was} -> {now}{gone}")
    for path in sorted(after):
        ends = [value for value in after[path].other_ends if path not in before or value not in before[path].other_ends]
        if ends:
            listed = ", ".join(f"`{value}`" for value in ends)
            name = after[path].name
            lines.append(
                f"! job kind `{name}`: status {listed} ends the job: wait() raises JobFailedError, as at failed"
            )
    known = not_job_kinds(old)
    lines += [f"! POST {path} is not a job kind: {why}" for path, why in sorted(not_job_kinds(new).items())
              if known.get(path) != why]  # fmt: skip
    return lines + [f"! overlay: {line}" for line in stale_hints(new)]


def _describe_kind(sign: str, kind: JobKind) -> str:
    files = ", ".join(kind.result_url_fields) or "none"
    return (
        f"{sign} job kind `{kind.name}` (client.{kind.name}): POST {kind.create_path}, "
        f"status GET {kind.status_path}, result files: {files}"
    )


def _shape(spec: dict[str, Any], schema: Any, seen: frozenset[str] = frozenset()) -> Any:
    """A schema with its $refs written out and its prose left out: two names for one shape compare equal."""
    if isinstance(schema, list):
        return [_shape(spec, item, seen) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        if schema["$ref"] in seen:
            return {"$recursive": True}
        resolved, _ = _resolve(spec, {"$ref": schema["$ref"]})
        return _shape(spec, {**resolved, **{k: v for k, v in schema.items() if k != "$ref"}}, seen | {schema["$ref"]})
    return {key: _shape(spec, value, seen) for key, value in schema.items() if key not in _PROSE}


def _schema_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Schemas added, removed, or renamed (gone under one name, back with the same shape under another)."""
    before = old.get("components", {}).get("schemas", {})
    after = new.get("components", {}).get("schemas", {})
    added = sorted(after.keys() - before.keys())
    shapes = {name: _shape(new, after[name]) for name in added}
    lines = []
    for name in sorted(before.keys() - after.keys()):
        same = [other for other in added if shapes[other] == _shape(old, before[name])]
        if len(same) == 1:
            lines.append(f"~ schema `{name}` renamed `{same[0]}` (same shape)")
            added.remove(same[0])
        else:
            lines.append(f"- schema `{name}`")
    return [f"+ schema `{name}`" for name in added] + lines


def change_report(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """One line per change; an empty list means the two specs describe the same API surface."""
    old_ops, new_ops = _operations(old), _operations(new)
    lines = _job_kind_changes(old, new)
    for op in sorted(new_ops.keys() - old_ops.keys()):
        # What a caller sends and gets back; the error responses are the same everywhere and only add noise.
        parts = {k: v for k, v in _parts(new, new_ops[op]).items() if k in ("parameters", "request", "response 200")}
        lines += [f"+ {op} (operation added)"]
        lines += [f"    {change}" for part, fields in parts.items() for change in _compare_fields(part, {}, fields)]
    lines += [f"- {op} (operation removed)" for op in sorted(old_ops.keys() - new_ops.keys())]
    for op in sorted(old_ops.keys() & new_ops.keys()):
        old_parts, new_parts = _parts(old, old_ops[op]), _parts(new, new_ops[op])
        changes = [f"{part} added" for part in sorted(new_parts.keys() - old_parts.keys())]
        changes += [f"{part} removed" for part in sorted(old_parts.keys() - new_parts.keys())]
        for part in sorted(old_parts.keys() & new_parts.keys()):
            changes += _compare_fields(part, old_parts[part], new_parts[part])
        if changes:
            lines += [f"~ {op}"] + [f"    {change}" for change in changes]
    return lines + _schema_changes(old, new)


def format_report(lines: list[str]) -> str:
    if not lines:
        return "API change report: no changes to operations or fields."
    return "API change report:\n" + "\n".join(f"  {line}" for line in lines)
