"""Job kinds, read from the spec rather than listed by hand.

A job kind is a POST whose 200 body is a job (an object with ``task_id``) paired with a GET whose 200 body has a
``status`` enum holding ``done`` and ``failed``. The GET is found, in this order, by the create operation's
``x-vozo-status-operation`` (an operationId), at the create path + ``/{task_id}``, or by a link of the create's 200
response (``operationId`` + ``task_id: $response.body#/task_id``). The kind is named by the create operation's
``x-vozo-resource``, else after the snake_case last segment of its path (``POST /v1/media/dub_audio`` -> ``dub_audio``).
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from typing import Any

RESOURCE_KEY = "x-vozo-resource"
STATUS_OPERATION_KEY = "x-vozo-status-operation"
FINAL_STATUSES = ("done", "failed")
ERROR_FIELDS = ("err_code", "err_message")
_REF_PREFIX = "#/components/schemas/"


class JobKindError(ValueError):
    """The spec names job kinds inconsistently (a name used twice, a status operation that is not one)."""


@dataclass(frozen=True)
class JobKind:
    name: str  # the resource name: client.<name>
    create_path: str
    create_operation_id: str | None
    status_path: str
    status_operation_id: str | None
    status_schema: str | None  # component name of the status body, None when it is written inline
    request_schema: str | None  # component name of the create body, None when inline or absent
    statuses: tuple[str, ...]  # the status enum, in the spec's order
    result_url_fields: tuple[str, ...]  # dotted: "video_url", "result.audio_url"
    error_fields: tuple[str, ...]  # those of ERROR_FIELDS the status has


def find_job_kinds(spec: dict[str, Any]) -> list[JobKind]:
    """Every job kind of ``spec``, sorted by name."""
    operations = _operations(spec)
    by_id = {op.get("operationId"): (method, path) for (method, path), op in operations.items() if "operationId" in op}
    kinds: dict[str, JobKind] = {}
    for (method, path), create in operations.items():
        if method != "post" or not _is_job(spec, _body_schema(create.get("responses", {}).get("200"))):
            continue
        status_at = _status_operation(spec, path, create, operations, by_id)
        if status_at is None:
            continue
        kind = _job_kind(spec, path, create, status_at, operations[status_at])
        if kind.name in kinds:
            raise JobKindError(
                f"job kind name {kind.name!r} is used by POST {kinds[kind.name].create_path} and POST {path}: "
                f"give one of them another name with {RESOURCE_KEY} in openapi/overlay.yaml"
            )
        kinds[kind.name] = kind
    return [kinds[name] for name in sorted(kinds)]


def snake_case(segment: str) -> str:
    """``dub-audio``, ``dubAudio``, ``DubAudio`` -> ``dub_audio``."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", segment)
    return re.sub(r"[^0-9a-zA-Z]+", "_", words).strip("_").lower()


def default_name(create_path: str) -> str:
    segments = [s for s in create_path.split("/") if s and not s.startswith("{")]
    return snake_case(segments[-1]) if segments else ""


def _job_kind(
    spec: dict[str, Any], path: str, create: dict[str, Any], status_at: tuple[str, str], status: dict[str, Any]
) -> JobKind:
    name = create.get(RESOURCE_KEY) or default_name(path)
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise JobKindError(f"POST {path}: job kind name {name!r} is not a Python identifier; set {RESOURCE_KEY}")
    status_ref = _body_schema(status.get("responses", {}).get("200")) or {}
    status_schema = _resolve(spec, status_ref)
    request_ref = _body_schema(create.get("requestBody"))
    properties = status_schema.get("properties", {})
    return JobKind(
        name=name,
        create_path=path,
        create_operation_id=create.get("operationId"),
        status_path=status_at[1],
        status_operation_id=status.get("operationId"),
        status_schema=_ref_name(status_ref),
        request_schema=_ref_name(request_ref) if request_ref else None,
        statuses=tuple(str(v) for v in _resolve(spec, properties["status"]).get("enum", [])),
        result_url_fields=_url_fields(spec, status_schema),
        error_fields=tuple(field for field in ERROR_FIELDS if field in properties),
    )


def _status_operation(
    spec: dict[str, Any],
    path: str,
    create: dict[str, Any],
    operations: dict[tuple[str, str], dict[str, Any]],
    by_id: dict[Any, tuple[str, str]],
) -> tuple[str, str] | None:
    named = create.get(STATUS_OPERATION_KEY)
    if named is not None:
        if named not in by_id or not _is_status(spec, operations[by_id[named]]):
            raise JobKindError(
                f"POST {path}: {STATUS_OPERATION_KEY} {named!r} is not a GET whose 200 body has a status enum "
                f"holding {' and '.join(FINAL_STATUSES)}"
            )
        return by_id[named]
    beside = ("get", f"{path.rstrip('/')}/{{task_id}}")
    if beside in operations and _is_status(spec, operations[beside]):
        return beside
    for link in (create.get("responses", {}).get("200", {}).get("links") or {}).values():
        target = by_id.get(link.get("operationId"))
        passes_task_id = link.get("parameters", {}).get("task_id") == "$response.body#/task_id"
        if target and target[0] == "get" and passes_task_id and _is_status(spec, operations[target]):
            return target
    return None


def _operations(spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, path): operation
        for path, item in sorted(spec.get("paths", {}).items())
        for method, operation in item.items()
        if method in ("get", "post") and isinstance(operation, dict)
    }


def _resolve(spec: dict[str, Any], schema: Any) -> dict[str, Any]:
    seen: set[str] = set()
    while isinstance(schema, dict) and "$ref" in schema and schema["$ref"] not in seen:
        seen.add(schema["$ref"])
        node: Any = spec
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        schema = node
    return schema if isinstance(schema, dict) else {}


def _body_schema(container: Any) -> dict[str, Any] | None:
    """The JSON schema of a request body or response, as written (a $ref stays a $ref)."""
    if not isinstance(container, dict):
        return None
    media = container.get("content", {}).get("application/json")
    schema = media.get("schema") if isinstance(media, dict) else None
    return schema if isinstance(schema, dict) else None


def _ref_name(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref", "")
    return ref.removeprefix(_REF_PREFIX) if ref.startswith(_REF_PREFIX) else None


def _is_job(spec: dict[str, Any], schema: dict[str, Any] | None) -> bool:
    return "task_id" in _resolve(spec, schema).get("properties", {})


def _is_status(spec: dict[str, Any], operation: dict[str, Any]) -> bool:
    body = _resolve(spec, _body_schema(operation.get("responses", {}).get("200")))
    enum = _resolve(spec, body.get("properties", {}).get("status")).get("enum", [])
    return all(value in enum for value in FINAL_STATUSES)


def _url_fields(spec: dict[str, Any], status: dict[str, Any]) -> tuple[str, ...]:
    fields = []
    for prefix, schema in (("", status), ("result.", _resolve(spec, status.get("properties", {}).get("result")))):
        for name, prop in schema.get("properties", {}).items():
            if name.endswith("_url") and _resolve(spec, prop).get("type") == "string":
                fields.append(prefix + name)
    return tuple(fields)
