"""Job kinds, found in the merged spec: what every job-shaped part of the SDK is generated from.

The rule: a POST whose 2xx body is the ``Job`` schema (``task_id``), plus a GET at the same path + ``/{task_id}``
whose 200 body has a ``status`` enum holding ``done`` and ``failed``, form one job kind. Its result files are the
``*_url`` string (or nullable string) fields of that status and of the objects in it, at any depth (not in lists:
a list names no one file); its error fields are ``err_code`` and ``err_message`` where the status has them.
The overlay adds what the rule cannot see, as ``x-vozo-*`` keys on the create operation: ``x-vozo-resource``,
``x-vozo-status-operation``, ``x-vozo-family``, ``x-vozo-aliases``, and ``x-vozo-fields``, hints for request
fields by name (``accepts``: file types, ``aliases``: friendly values, ``default``, ``infer-from``,
``cli-aliases``, ``type-name``); a field Vozo removes, or a value its hint no longer fits, just loses the hint
(``stale_hints`` tells the change report). ``x-vozo-result-types`` maps a result name to its file type (a name of
the root's ``x-vozo-file-types``, or an extension such as ``.vtt``) where the spec's words do not tell it
(``result_suffixes``). ``x-vozo-type-names`` (``status``, ``status-value``, ``result``) and a field's
``type-name`` are the names ``vozo.types`` gives the generated models: found by where they sit, so a schema Vozo
renames keeps its public name. A kind the overlay does not name gets the snake_case last segment of its create
path; a name that is no identifier, or one the SDK already uses (``RESERVED_NAMES``), is refused.
A status operation elsewhere is found by ``x-vozo-status-operation`` (an operationId), else at the create path +
``/{task_id}``, else through a link of the create's 2xx response that passes its ``task_id``.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from typing import Any

from spectools.sourcemap import json_path

TERMINAL = ("done", "failed")
# Words of a status value that name an end other than done (``cancelled``, ``expired``, ``cancelled_by_user``): the
# wrapper ends a wait there as at failed (vozo._jobs.ENDED_WORDS, the same words: tests/spec/test_report.py), and the
# report names the values a docs update adds. Whole words, none of ongoing work: ``cancelling`` and
# ``error_recovering`` are in progress.
ENDED_WORDS = frozenset(
    {"cancelled", "canceled", "expired", "aborted", "rejected", "terminated", "killed", "error", "errored",
     "failure", "timeout", "timedout"}
)  # fmt: skip
JOB_SCHEMA = "Job"  # what every create answers: the wrapper parses it as vozo_api_client.models.Job
# Extensions a result's own words may name (``srt_url``, "a WebVTT file"): plain ones only, they end file names.
RESULT_EXTENSIONS = frozenset(
    {"mp4", "mov", "webm", "mkv", "avi", "wav", "mp3", "m4a", "aac", "flac", "ogg", "srt", "vtt", "json",
     "txt", "csv", "png", "jpg", "jpeg", "webp", "gif", "zip"}
)  # fmt: skip
_EXTENSION_WORDS = {"webvtt": "vtt"}
# Words naming a kind of file, by the x-vozo-file-types name it stands for ...
_TYPE_WORDS = {"video": "video", "audio": "audio", "subtitle": "subtitle", "subtitles": "subtitle",
               "caption": "subtitle", "captions": "subtitle", "image": "image", "thumbnail": "image"}  # fmt: skip
# ... and the extension of each when the spec lists none for it.
_TYPE_DEFAULTS = {"video": ".mp4", "audio": ".wav", "subtitle": ".srt", "image": ".png"}
_MAX_DEPTH = 20  # of $refs followed and objects walked: a schema that refers to itself ends somewhere
# Names a job kind cannot take, because the SDK already uses them where kinds are named (tests/spec/test_names.py
# keeps these in step with the wrapper): each attribute of the clients (a resource is ``client.<name>``, held in
# ``client._<name>``), each command of the ``vozo`` CLI (``vozo <name>``) and each name of the generated
# ``vozo_jobs.kinds`` module (the kind's constant is its name in capitals).
RESERVED_NAMES = frozenset(
    {"api_key", "attach_resources", "base_url", "call", "close", "download", "downloads", "generated", "hide", "http",
     "jobs", "max_retries", "options", "owns_transport", "request", "setup", "state", "timeout", "with_options",
     "batch", "mock_server", "status", "wait", "kinds", "file_types"}
)  # fmt: skip


class JobKindError(ValueError):
    """The spec or overlay describes a job kind inconsistently (a name clash, a status operation not found)."""

    def __init__(self, message: str, *, path: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.path = path  # the operation or schema to blame, in the merged spec (its page names the line)


@dataclass(frozen=True)
class RequestField:
    name: str
    schema: dict[str, Any]  # resolved: $ref replaced by the component it points at
    required: bool
    description: str
    accepts: tuple[str, ...] = ()  # file type names (x-vozo-accepts), for URL fields
    value_aliases: dict[str, str] = field(default_factory=dict)  # friendly value -> API value
    default: Any = None  # x-vozo-default: what the SDK sends when the caller says nothing
    infer_from: str | None = None  # x-vozo-infer-from: the URL field whose file type decides this field
    cli_aliases: tuple[str, ...] = ()
    ref: str | None = None  # the component schema the field points at, if any
    type_name: str | None = None  # x-vozo-fields type-name: its model's name in vozo.types

    @property
    def enum(self) -> tuple[str, ...]:
        return tuple(str(value) for value in self.schema.get("enum", ()))

    @property
    def optional_in_sdk(self) -> bool:
        return not self.required or self.default is not None or self.infer_from is not None


@dataclass(frozen=True)
class JobKind:
    name: str  # the resource attribute: client.<name>
    family: str  # kinds that share one concurrency limit on Vozo's side
    aliases: tuple[str, ...]  # other names accepted for it (batch `kind` column, CLI)
    summary: str
    description: str
    create_path: str
    create_operation: str  # operationId, or "" when the spec gives none
    request_schema: str
    status_path: str
    status_operation: str
    status_schema: str
    statuses: tuple[str, ...]  # the status enum, in the spec's order
    results: tuple[tuple[str, tuple[str, ...]], ...]  # (result name, path of keys to its URL in the status)
    error_fields: tuple[str | None, str | None]
    fields: tuple[RequestField, ...]
    type_names: dict[str, str] = field(default_factory=dict)  # x-vozo-type-names: status, status-value, result
    result_suffixes: dict[str, str] = field(default_factory=dict)  # result name -> its file's extension (".srt")
    result_ref: str | None = None  # the component schema of the status's ``result`` object, if any

    @property
    def cli_name(self) -> str:
        return self.name.replace("_", "-")

    @property
    def other_ends(self) -> tuple[str, ...]:
        """Status values besides done and failed whose words name an end (ENDED_WORDS): waits end there, failed."""
        return tuple(value for value in self.statuses if value not in TERMINAL and names_an_end(value))

    @property
    def result_url_fields(self) -> tuple[str, ...]:
        """Dotted: ``video_url``, ``result.audio_url``."""
        return tuple(".".join(keys) for _, keys in self.results)


def names_an_end(value: str) -> bool:
    """Whether a status value's words (snake, kebab, camel or upper case) name an end other than done."""
    words = [word.lower() for word in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+", value)]
    if any(word.endswith("ing") for word in words):  # error_recovering, failed_retrying: still being worked on
        return False
    return any(word in ENDED_WORDS for word in words) or "".join(words) in ENDED_WORDS


def default_name(path: str) -> str:
    """The snake_case last segment of a create path that is not a parameter (``/v1/media/dubAudio``: dub_audio)."""
    segments = [segment for segment in path.split("/") if segment and not segment.startswith("{")]
    return snake_case(segments[-1]) if segments else ""


def snake_case(text: str) -> str:
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    return re.sub(r"[^0-9a-zA-Z]+", "_", text).strip("_").lower()


def resolve(spec: dict[str, Any], schema: Any, depth: int = 0) -> dict[str, Any]:
    """``schema`` with a top-level ``$ref`` (to a component) followed; deeper refs are left for the caller."""
    while isinstance(schema, dict) and "$ref" in schema and depth < 20:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec.get("components", {}).get("schemas", {}).get(name, {})
        depth += 1
    return schema if isinstance(schema, dict) else {}


def object_schema(spec: dict[str, Any], schema: Any, depth: int = 0) -> dict[str, Any]:
    """``schema`` resolved, with the ``properties`` and ``required`` of its ``allOf`` parts merged in (as the
    generated model merges them): a request or status written as ``allOf: [Base, {...}]`` has all their fields."""
    schema = resolve(spec, schema)
    parts = schema.get("allOf")
    if not isinstance(parts, list) or depth >= _MAX_DEPTH:
        return schema
    properties: dict[str, Any] = {}
    required: list[Any] = []
    for part in [*parts, schema]:
        part = schema if part is schema else object_schema(spec, part, depth + 1)
        properties.update(part.get("properties") or {})
        required += part.get("required") or []
    merged = {key: value for key, value in schema.items() if key != "allOf"}
    return {"type": "object", **merged, "properties": properties, "required": list(dict.fromkeys(required))}


# A status's error fields, however the docs spell them (err_code, error_code, errorCode; err_message, err_msg, ...):
# compared lower case without ``_`` and ``-``. The SDK reads them for JobFailedError; FakeVozo writes its failures
# there. (Bare ``code``/``message`` are read at run time whatever the spec says: vozo._kinds.JobKind.error.)
_ERROR_CODE_NAMES = ("errcode", "errorcode")
_ERROR_MESSAGE_NAMES = ("errmessage", "errormessage", "errmsg", "errormsg")


def _error_field(properties: dict[str, Any], names: tuple[str, ...]) -> str | None:
    """The status field holding Vozo's error code (or message), by the first of ``names`` it is spelled as."""
    spelled = {str(name).lower().replace("_", "").replace("-", ""): str(name) for name in reversed(list(properties))}
    return next((spelled[name] for name in names if name in spelled), None)


def ref_name(schema: Any) -> str | None:
    if isinstance(schema, dict) and "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    return None


def success_code(operation: dict[str, Any]) -> str:
    """The response an operation answers on success: 200, else its first 2xx (a create documented as `202 Job
    queued`); FakeVozo answers the same one (vozo/testing/_spec.py)."""
    responses = operation.get("responses")
    codes = sorted(str(code) for code in responses if str(code).startswith("2")) if isinstance(responses, dict) else []
    return "200" if "200" in codes or not codes else codes[0]


def _json_body(operation: dict[str, Any], where: str) -> Any:
    if where == "request":
        return operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    response = operation.get("responses", {}).get(success_code(operation), {})
    return response.get("content", {}).get("application/json", {}).get("schema")


def _operations(spec: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """operationId -> (method, path, operation)."""
    found = {}
    for path, item in spec.get("paths", {}).items():
        for method, operation in item.items():
            if isinstance(operation, dict) and operation.get("operationId"):
                found[operation["operationId"]] = (method, path, operation)
    return found


def _status_enum(spec: dict[str, Any], status_schema: dict[str, Any]) -> tuple[str, ...]:
    status = resolve(spec, status_schema.get("properties", {}).get("status"))
    return tuple(str(value) for value in status.get("enum", ()))


def _is_job(spec: dict[str, Any], schema: Any) -> bool:
    """The ``Job`` schema, or any object like it: its ``task_id`` is a string (the shape is what matters)."""
    task_id = resolve(spec, object_schema(spec, schema).get("properties", {}).get("task_id"))
    return task_id.get("type") == "string"


def _is_status(spec: dict[str, Any], schema: Any) -> bool:
    values = _status_enum(spec, object_schema(spec, schema))
    return all(value in values for value in TERMINAL)


def json_types(spec: dict[str, Any], schema: Any, depth: int = 0) -> frozenset[str]:
    """The JSON types a schema allows: its ``type`` (one name or a list), ``nullable``, and the types of its
    ``oneOf``/``anyOf`` branches; an untyped schema with properties is an object."""
    schema = resolve(spec, schema)
    declared = schema.get("type")
    found = {declared} if isinstance(declared, str) else set()
    found |= set(map(str, declared)) if isinstance(declared, list) else set()
    if schema.get("nullable") is True:
        found.add("null")
    for branch in [*(schema.get("oneOf") or ()), *(schema.get("anyOf") or ())] if depth < _MAX_DEPTH else ():
        found |= json_types(spec, branch, depth + 1)
    if not found and "properties" in schema:
        found.add("object")
    return frozenset(found)


def is_text(spec: dict[str, Any], schema: Any) -> bool:
    """A string, possibly null (``type: [string, 'null']``): what a URL field is."""
    return json_types(spec, schema) - {"null"} == {"string"}


def _result_fields(spec: dict[str, Any], status_schema: dict[str, Any]) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
    """(keys to a ``*_url`` text field, its schema), in the status and in its objects at any depth, in the spec's
    order. Lists are not followed: a list of URLs has no one file to name."""
    found: list[tuple[tuple[str, ...], dict[str, Any]]] = []
    stack: list[tuple[tuple[str, ...], dict[str, Any], frozenset[str]]] = [((), status_schema, frozenset())]
    while stack:
        prefix, schema, seen = stack.pop(0)
        nested = []
        for name, prop in (schema.get("properties") or {}).items():
            keys = (*prefix, str(name))
            if str(name).endswith("_url") and is_text(spec, prop):
                found.append((keys, resolve(spec, prop)))
            elif "object" in json_types(spec, prop) and ref_name(prop) not in seen and len(keys) < _MAX_DEPTH:
                nested.append((keys, resolve(spec, prop), seen | {ref_name(prop) or ""}))
        stack[:0] = nested  # depth first: a nested object's results follow the fields beside it
    return found


def _result_names(found: list[tuple[tuple[str, ...], dict[str, Any]]]) -> list[str]:
    """Each result's name: its field's words without ``_url`` (``result.audio_url``: ``audio``), made longer by the
    objects holding it when an earlier result has that name (``renditions_audio``). Only letters, digits and
    ``_``: a name ends up in file names."""
    names: list[str] = []
    for keys, _ in found:
        words = [snake_case(key) for key in (*keys[:-1], keys[-1].removesuffix("_url"))]
        words = [word for word in words if word] or ["result"]
        name, depth = words[-1], 1
        while name in names and depth < len(words):
            depth += 1
            name = "_".join(words[-depth:])
        while name in names:
            name += "_"
        names.append(name)
    return names


def _result_suffixes(
    spec: dict[str, Any], results: list[tuple[str, tuple[str, ...], dict[str, Any]]], hints: Any
) -> dict[str, str]:
    """Each result's file extension: the overlay's ``x-vozo-result-types``, else an extension or a kind of file
    named by the URL field's words, else by its description's; a result nothing tells about gets none."""
    suffixes = {}
    for name, keys, schema in results:
        description = str(schema.get("description", ""))
        hint = str(hints.get(name, "")) if isinstance(hints, dict) else ""
        for text in (hint, keys[-1].removesuffix("_url"), description):
            found = _named_suffix(spec, text)
            if found:
                suffixes[name] = found
                break
    return suffixes


def _named_suffix(spec: dict[str, Any], text: str) -> str | None:
    """The extension ``text`` names: an extension word first (``srt``, ``.vtt``, WebVTT), then a kind of file."""
    words = [_EXTENSION_WORDS.get(word, word) for word in re.findall(r"[a-z0-9]+", text.lower())]
    extension = next((word for word in words if word in RESULT_EXTENSIONS), None)
    if extension is not None:
        return f".{extension}"
    file_types = spec.get("x-vozo-file-types", {})
    kinds = [_TYPE_WORDS.get(word, word) for word in words]
    kind = next((kind for kind in kinds if kind in file_types or kind in _TYPE_DEFAULTS), None)
    if kind is None:
        return None
    listed = [str(ext).lower().lstrip(".") for ext in file_types.get(kind, ())]
    listed = [ext for ext in listed if ext in RESULT_EXTENSIONS]
    return f".{listed[0]}" if listed else _TYPE_DEFAULTS.get(kind)


# JSON types a default may have, as the wrapper checks them (vozo._arguments): a bool is no integer.
_DEFAULT_TYPES = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def default_misfit(value: Any, schema: dict[str, Any]) -> str | None:
    """Why the field no longer takes an overlay default (the API value, an alias resolved), or None when it does:
    checked as the wrapper checks what it sends (enum, type, pattern, bounds), so a default the spec now refuses
    is never sent for a caller who said nothing."""
    enum = schema.get("enum")
    if isinstance(enum, list) and str(value) not in {str(item) for item in enum}:
        return "is not one of its values any more"
    declared = schema.get("type")
    types = [declared] if isinstance(declared, str) else declared if isinstance(declared, list) else []
    known = [name for name in types if name in _DEFAULT_TYPES]
    if known and not any(_DEFAULT_TYPES[name](value) for name in known):
        return f"is not of its type ({' or '.join(known)})"
    pattern = schema.get("pattern")
    if isinstance(value, str) and isinstance(pattern, str):
        try:
            if not re.search(pattern, value):
                return f"does not have its documented form {pattern}"
        except re.error:
            pass  # a pattern Python cannot read: the wrapper's own check will say so
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        low, high = schema.get("minimum"), schema.get("maximum")
        if (isinstance(low, (int, float)) and value < low) or (isinstance(high, (int, float)) and value > high):
            return f"is not between {low} and {high}"
    return None


def _fields(spec: dict[str, Any], request: dict[str, Any], hints: dict[str, Any]) -> tuple[RequestField, ...]:
    """The request's fields with the overlay's hints; a hint the spec no longer fits (an alias or a default that
    is not one of the field's values now, an inference from a field gone) is dropped (``stale_hints`` says so)."""
    required = set(request.get("required", ()))
    properties = request.get("properties") or {}
    fields = []
    for name, prop in properties.items():
        resolved = {**resolve(spec, prop), **{k: v for k, v in prop.items() if k != "$ref"}}
        hint = hints.get(name, {}) if isinstance(hints.get(name), dict) else {}
        enum = {str(value) for value in resolved.get("enum", ())}
        aliases = {
            str(k): str(v)
            for k, v in (hint.get("aliases") or {}).items()
            if (not enum or str(v) in enum) and str(k) not in enum  # a value Vozo added is never translated away
        }
        default = hint.get("default")
        if default is not None and default_misfit(aliases.get(str(default), default), resolved) is not None:
            default = None
        fields.append(
            RequestField(
                name=name,
                schema=resolved,
                required=name in required,
                description=prose(resolved.get("description", "")),
                accepts=tuple(hint.get("accepts", ())),
                value_aliases=aliases,
                default=default,
                infer_from=hint.get("infer-from") if hint.get("infer-from") in properties else None,
                cli_aliases=tuple(hint.get("cli-aliases", ())),
                ref=ref_name(prop),
                type_name=hint.get("type-name"),
            )
        )
    return tuple(fields)


def _status_operation(spec: dict[str, Any], path: str, create: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    named = create.get("x-vozo-status-operation")
    if named:
        found = _operations(spec).get(named)
        if found is None or found[0] != "get":
            raise JobKindError(f"x-vozo-status-operation {named!r} of POST {path} is not a GET operation of the spec")
        if not _is_status(spec, _json_body(found[2], "response")):
            return "", "", {}  # that endpoint no longer answers a job status: no job kind (the report says so)
        return found[1], named, found[2]
    status_path = f"{path}/{{task_id}}"
    status = spec.get("paths", {}).get(status_path, {}).get("get")
    if isinstance(status, dict) and _is_status(spec, _json_body(status, "response")):
        return status_path, str(status.get("operationId", "")), status
    for link in create.get("responses", {}).get(success_code(create), {}).get("links", {}).values():
        found = _operations(spec).get(link.get("operationId", ""))
        passes_task_id = link.get("parameters", {}).get("task_id") == "$response.body#/task_id"
        if found and found[0] == "get" and passes_task_id and _is_status(spec, _json_body(found[2], "response")):
            return found[1], link["operationId"], found[2]
    return "", "", {}


def prose(text: object) -> str:
    """A docs text as the SDK shows it (``--help``, docstrings): one line, without control characters, so an escape
    sequence a page holds cannot redraw a terminal that prints it."""
    return "".join(char for char in " ".join(str(text).split()) if char.isprintable())


def name_status_parameters(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` with each job's status path parameter named ``task_id``, however the docs name it (``{taskId}``,
    ``{id}``): the name is not part of the URL, so the requests sent are the same, and the generated status function
    takes ``task_id`` as every part of the SDK passes it. Only a GET one segment below a job's create (whose answer
    is the ``Job`` shape) and answering a job status is renamed, and only where no ``{task_id}`` path is there."""
    paths = spec.get("paths", {})
    renamed: dict[str, tuple[str, str]] = {}  # path as written -> (path renamed, the parameter's old name)
    for path, item in paths.items():
        match = re.fullmatch(r"(.+)/\{([^/{}]+)\}", path)
        if match is None or match.group(2) == "task_id" or not isinstance(item, dict):
            continue
        create_path, old = match.groups()
        create = paths.get(create_path, {}).get("post") if isinstance(paths.get(create_path), dict) else None
        status = item.get("get")
        if (
            isinstance(create, dict)
            and isinstance(status, dict)
            and f"{create_path}/{{task_id}}" not in paths
            and _is_job(spec, _json_body(create, "response"))
            and _is_status(spec, _json_body(status, "response"))
        ):
            renamed[path] = (f"{create_path}/{{task_id}}", old)
    if not renamed:
        return spec
    spec = {**spec, "paths": {}}
    for path, item in paths.items():
        new_path, old = renamed.get(path, (path, ""))
        spec["paths"][new_path] = _parameter_renamed(spec, item, old) if old else item
    return spec


def _parameter_renamed(spec: dict[str, Any], item: dict[str, Any], old: str) -> dict[str, Any]:
    """``item`` (a path item) with its path parameter ``old`` named ``task_id``, in its own and its operations'
    parameter lists; one given as a ``$ref`` is copied in, renamed, so the component others share stays as it is."""

    def renamed(parameters: Any) -> Any:
        if not isinstance(parameters, list):
            return parameters
        followed = [_followed(spec, parameter) for parameter in parameters]
        return [
            {**found, "name": "task_id"} if (found.get("in"), found.get("name")) == ("path", old) else parameter
            for parameter, found in zip(parameters, followed, strict=True)
        ]

    copied = {key: dict(value) if isinstance(value, dict) else value for key, value in item.items()}
    if "parameters" in copied:
        copied["parameters"] = renamed(copied["parameters"])
    for operation in copied.values():
        if isinstance(operation, dict) and "parameters" in operation:
            operation["parameters"] = renamed(operation["parameters"])
    return copied


def find_job_kinds(spec: dict[str, Any]) -> list[JobKind]:
    """Every job kind of ``spec``, in path order; raises ``JobKindError`` when two would share a name."""
    kinds: list[JobKind] = []
    for path, item in spec.get("paths", {}).items():
        create = item.get("post")
        if not isinstance(create, dict):
            continue
        if not _is_job(spec, _json_body(create, "response")):
            _check_task_id_type(spec, path, create)
            continue
        status_path, status_operation, status = _status_operation(spec, path, create)
        if not status:
            continue
        status_ref = _json_body(status, "response")
        status_schema = object_schema(spec, status_ref)
        _check_required(spec, path, status_path, status_ref, "status")
        _check_status_type(spec, path, status_path, status_ref, status_schema)
        _check_job_schema(path, create)
        _check_json_request(path, create)
        _check_parameters(spec, path, path, "post", allowed=())
        _check_parameters(spec, path, status_path, "get", allowed=("task_id",))
        _check_required(spec, path, path, _json_body(create, "response"), "task_id", method="post")
        request_ref = _json_body(create, "request")
        props = status_schema.get("properties", {})
        name = create.get("x-vozo-resource") or default_name(path)
        found = _result_fields(spec, status_schema)
        results = [(result, keys, schema) for result, (keys, schema) in zip(_result_names(found), found, strict=True)]
        kinds.append(
            JobKind(
                name=name,
                family=create.get("x-vozo-family", name),
                aliases=tuple(create.get("x-vozo-aliases", ())),
                summary=prose(create.get("summary", f"Create a {name} job")),
                description=prose(create.get("description", "")),
                create_path=path,
                create_operation=str(create.get("operationId", "")),
                request_schema=ref_name(request_ref) or "",
                status_path=status_path,
                status_operation=status_operation,
                status_schema=ref_name(status_ref) or "",
                statuses=_status_enum(spec, status_schema),
                results=tuple((result, keys) for result, keys, _ in results),
                error_fields=(_error_field(props, _ERROR_CODE_NAMES), _error_field(props, _ERROR_MESSAGE_NAMES)),
                fields=_fields(spec, object_schema(spec, request_ref), create.get("x-vozo-fields", {})),
                type_names=dict(create.get("x-vozo-type-names", {})),
                result_ref=ref_name(props.get("result")),
                result_suffixes=_result_suffixes(spec, results, create.get("x-vozo-result-types")),
            )
        )
    _check_names(kinds)
    return sorted(kinds, key=lambda kind: kind.name)


def _check_parameters(spec: dict[str, Any], create_path: str, path: str, method: str, allowed: tuple[str, ...]) -> None:
    """The SDK calls a job kind's create with its JSON body alone and its status with ``task_id`` alone (a path
    parameter of that name): an operation that also requires a path, query, header or cookie parameter (or names
    the task id otherwise) could not be called, every create would fail with a TypeError, so it is refused."""
    item = spec.get("paths", {}).get(path, {})
    declared = [(("paths", path, "parameters"), item.get("parameters"))]
    declared.append((("paths", path, method, "parameters"), item.get(method, {}).get("parameters")))
    taken: dict[tuple[str, str], tuple[Any, ...]] = {}  # (in, name) -> where; an operation's own ones override
    for where, parameters in declared:
        for index, parameter in enumerate(parameters if isinstance(parameters, list) else ()):
            parameter = _followed(spec, parameter)
            taken[(str(parameter.get("in")), str(parameter.get("name")))] = (*where, index, parameter)
    for (place, name), (*where, parameter) in taken.items():
        if (place, name) == ("path", "task_id") and name in allowed:
            continue
        if not (parameter.get("required") or place == "path"):
            continue  # an optional one is left out, as the SDK leaves it
        takes = "its JSON body alone" if method == "post" else "the task id alone, as the path parameter `task_id`"
        raise JobKindError(
            f"job kind of POST {create_path}: {method.upper()} {path} requires the {place} parameter `{name}`, but "
            f"the SDK calls a job kind's {'create' if method == 'post' else 'status'} operation with {takes}: it "
            "could not call it, so the spec is refused",
            path=tuple(where),
        )


def _followed(spec: dict[str, Any], node: Any) -> dict[str, Any]:
    """``node`` with a local ``$ref`` (``#/components/parameters/X``) followed."""
    for _ in range(_MAX_DEPTH):
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/")):
            break
        target: Any = spec
        for part in node["$ref"][2:].split("/"):
            target = target.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(target, dict) else {}
        node = target
    return node if isinstance(node, dict) else {}


def _check_status_type(
    spec: dict[str, Any], create_path: str, status_path: str, status_ref: Any, status_schema: dict[str, Any]
) -> None:
    """A job kind's ``status`` is a string, one of its enum's: one that may also be null (``type: [string, 'null']``,
    ``nullable``, a null in the enum) is generated as an optional value the SDK cannot compare, so it is refused."""
    prop = status_schema.get("properties", {}).get("status")
    types = json_types(spec, prop)
    values = resolve(spec, prop).get("enum") or ()
    if types <= {"string"} and None not in values:
        return
    name = ref_name(status_ref)
    where: tuple[str, ...] = (
        ("components", "schemas", name, "properties", "status")
        if name and "status" in (resolve(spec, status_ref).get("properties") or {})
        else ("paths", status_path, "get", "responses", success_code(spec["paths"][status_path]["get"]))
    )
    allowed = ", ".join(sorted((types - {"string"}) | ({"null"} if None in values else set())))
    raise JobKindError(
        f"job kind of POST {create_path}: the `status` of GET {status_path} may also be {allowed}, but the SDK "
        "reads every job status as one of the status enum's strings: it could not tell a job's state, so the spec "
        "is refused",
        path=where,
    )


def _check_task_id_type(spec: dict[str, Any], path: str, create: dict[str, Any]) -> None:
    """A create with a status operation whose answer has a ``task_id`` of another type than string (integer, say)
    would be a job kind but for that: the SDK passes task ids as text (in URLs, journals, callbacks), so rather than
    the kind silently not being one, the spec is refused, naming the field."""
    answer = _json_body(create, "response")
    task_id = object_schema(spec, answer).get("properties", {}).get("task_id")
    if task_id is None or not _status_operation(spec, path, create)[2]:
        return
    schema = ref_name(answer)
    code = success_code(create)
    where: tuple[str, ...] = (
        ("components", "schemas", schema, "properties", "task_id")
        if schema is not None
        else (
            "paths",
            path,
            "post",
            "responses",
            code,
            "content",
            "application/json",
            "schema",
            "properties",
            "task_id",
        )
    )
    typed = " or ".join(sorted(json_types(spec, task_id))) or "untyped"
    raise JobKindError(
        f"POST {path} answers its task_id as {typed}, and has a status operation: a job kind, but for that the SDK "
        "reads every task id as a string (it goes into URLs, batch journals and callbacks), so the spec is refused; "
        f"if Vozo sends strings, say so in openapi/overlay.yaml (target: {json_path(where)}, update: {{type: string}})",
        path=where,
    )


def _check_json_request(path: str, create: dict[str, Any]) -> None:
    """The SDK sends a job kind's create its fields as a JSON body: a create documented with another body only
    (``multipart/form-data``) would be a kind whose create takes no argument and fails every time."""
    body = create.get("requestBody")
    content = body.get("content") if isinstance(body, dict) else None
    if not isinstance(content, dict) or _json_body(create, "request") is not None:
        return
    media_types = ", ".join(map(str, content)) or "no media type"
    raise JobKindError(
        f"POST {path} answers a task_id and has a status operation, but its request body is {media_types}, not "
        "application/json, the body the SDK sends a job kind's create: it could not send the fields, so the spec "
        "is refused",
        path=("paths", path, "post", "requestBody", "content"),
    )


def _check_job_schema(path: str, create: dict[str, Any]) -> None:
    """A job kind's create answers the ``Job`` schema itself: the SDK parses every create's answer as the ``Job``
    model (``vozo.types.Job``), so an answer of another schema, however like it, would fail each create after Vozo
    made (and billed) the job. Refused, naming the answer's schema."""
    body = _json_body(create, "response")
    if ref_name(body) == JOB_SCHEMA:
        return
    answer = f"schema {ref_name(body)!r}" if ref_name(body) else "a schema written in place"
    where = ("paths", path, "post", "responses", success_code(create), "content", "application/json", "schema")
    raise JobKindError(
        f"POST {path} answers a task_id with {answer}, not the {JOB_SCHEMA!r} schema every job kind's create "
        f"answers (the SDK reads each create's answer as vozo.types.{JOB_SCHEMA}): it would be a job kind whose "
        f"every create fails after Vozo made the job, so the spec is refused; if Vozo renamed {JOB_SCHEMA!r}, the "
        "SDK's wrapper must follow",
        path=where,
    )


def _check_required(
    spec: dict[str, Any], create_path: str, path: str, body: Any, name: str, method: str = "get"
) -> None:
    """A job kind's status must carry ``status`` and its create's answer ``task_id``: the SDK reads them on every
    answer, so a spec that makes either optional (its model's attribute may be unset) is refused, naming the schema
    and the overlay action that makes it required again (the overlay may add to a ``required`` list)."""
    if name in (object_schema(spec, body).get("required") or ()):
        return
    code = success_code(spec["paths"][path][method])
    schema = ref_name(body)
    if schema is not None:
        where: tuple[str, ...] = ("components", "schemas", schema)
    else:
        where = ("paths", path, method, "responses", code, "content", "application/json", "schema")
    target = json_path(where)
    raise JobKindError(
        f"job kind of POST {create_path}: the {code} body of {method.upper()} {path} does not list `{name}` as "
        f"required, but every job kind's {'status' if name == 'status' else 'create answer'} carries it; if Vozo "
        f"always sends it, add it in openapi/overlay.yaml (target: {target}, update: {{required: [{name}]}})",
        path=where,
    )


def not_job_kinds(spec: dict[str, Any]) -> dict[str, str]:
    """POST path -> why it is no job kind, for each POST that answers a task id but has no status operation a
    job kind needs (the change report says so rather than the kind silently not being one)."""
    found = {}
    for path, item in spec.get("paths", {}).items():
        create = item.get("post") if isinstance(item, dict) else None
        if not isinstance(create, dict) or not _is_job(spec, _json_body(create, "response")):
            continue
        try:
            if _status_operation(spec, path, create)[2]:
                continue
        except JobKindError as exc:
            found[path] = str(exc)
            continue
        status = spec.get("paths", {}).get(f"{path}/{{task_id}}", {}).get("get")
        if not isinstance(status, dict):
            found[path] = f"it answers a task_id, but there is no GET {path}/{{task_id}} to read its status"
            elsewhere = [
                other
                for other, item in spec.get("paths", {}).items()
                if re.fullmatch(re.escape(path) + r"/\{[^/{}]+\}", other) and isinstance(item, dict) and "get" in item
            ]
            if elsewhere:  # the status is there, under another parameter name the SDK cannot pass
                found[path] += (
                    f" (GET {elsewhere[0]} takes the task id under another name, and the SDK passes it as the path "
                    "parameter `task_id` only)"
                )
            continue
        values = _status_enum(spec, object_schema(spec, _json_body(status, "response")))
        listed = ", ".join(values) if values else "no values"
        found[path] = (
            f"its status GET {path}/{{task_id}} lists {listed}; a job kind's status lists "
            f"{' and '.join(TERMINAL)} (exactly so, lower case)"
        )
    return found


def stale_hints(spec: dict[str, Any]) -> list[str]:
    """Overlay hints (``x-vozo-fields``, ``x-vozo-result-types``) that name a field, value or result the spec no
    longer has: they do nothing now, and the overlay should follow the spec."""
    lines = []
    for kind in find_job_kinds(spec):
        create = spec["paths"][kind.create_path]["post"]
        fields = {field.name: field for field in kind.fields}
        where = f"x-vozo-fields of POST {kind.create_path}"
        for name, hint in (create.get("x-vozo-fields") or {}).items():
            field = fields.get(name)
            hint = hint if isinstance(hint, dict) else {}
            if field is None:
                public = f" (vozo.types.{hint['type-name']} goes with them)" if hint.get("type-name") else ""
                lines.append(f"{where}: `{name}` is no request field any more; its hints do nothing{public}")
                continue
            if hint.get("infer-from") and hint["infer-from"] not in fields:
                lines.append(f"{where}: `{name}` is inferred from `{hint['infer-from']}`, which is no field any more")
            lines += [
                f"{where}: `{name}` alias {alias!r} is now one of its own values, sent as it is (not as {value!r})"
                if str(alias) in field.enum
                else f"{where}: `{name}` alias {alias!r} stands for {value!r}, which its enum no longer lists"
                for alias, value in (hint.get("aliases") or {}).items()
                if str(alias) not in field.value_aliases
            ]
            if hint.get("default") is not None and field.default is None:
                api_value = field.value_aliases.get(str(hint["default"]), hint["default"])
                why = default_misfit(api_value, field.schema) or "is not one of its values any more"
                suffix = "" if why == "is not one of its values any more" else "; it is not sent"
                lines.append(f"{where}: `{name}` default {hint['default']!r} {why}{suffix}")
        named = [name for name, _ in kind.results]
        for result in create.get("x-vozo-result-types") or {}:
            if result not in named:
                lines.append(f"x-vozo-result-types of POST {kind.create_path}: `{result}` is no result file any more")
    return lines


def _check_names(kinds: list[JobKind]) -> None:
    seen: dict[str, str] = {}
    for kind in kinds:
        where = ("paths", kind.create_path, "post")
        fix = "give it another name with x-vozo-resource in openapi/overlay.yaml"
        if not kind.name.isidentifier() or keyword.iskeyword(kind.name) or kind.name.startswith("_"):
            raise JobKindError(
                f"job kind of POST {kind.create_path} would be named {kind.name!r}, not a Python identifier: {fix}",
                path=where,
            )
        taken = [name for name in (kind.name, *kind.aliases) if name.replace("-", "_") in RESERVED_NAMES]
        if taken:
            raise JobKindError(
                f"job kind of POST {kind.create_path} would be named {taken[0]!r}, a name the SDK already uses "
                f"(client.{taken[0]} or `vozo {taken[0].replace('_', '-')}`): {fix}",
                path=where,
            )
        for name in (kind.name, *kind.aliases):
            if name in seen:
                raise JobKindError(
                    f"job kind name {name!r} is used by POST {seen[name]} and POST {kind.create_path}: "
                    "give one of them another name with x-vozo-resource in openapi/overlay.yaml",
                    path=where,
                )
            seen[name] = kind.create_path
