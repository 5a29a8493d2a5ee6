"""What a job kind is, and how the SDK finds one: by name, or by the status it reads.

The kinds themselves are data generated from the spec (``vozo_jobs.kinds``); this module only knows their shape,
so everything job-shaped (resources, downloads, callbacks, ``vozo batch``, the CLI, FakeVozo) reads them instead of
listing them.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from functools import cached_property
from types import ModuleType
from typing import Any

import attrs

from vozo._errors import InvalidInputError

# The JSON type of a value the spec lists (bool before int: True is an int to Python).
_VALUE_TYPES = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"), (dict, "object"),
                (list, "array"))  # fmt: skip


def _value_types(schema: Mapping[str, Any]) -> list[str]:
    """The JSON types of the values an ``enum`` or ``const`` lists (``null`` for None)."""
    values = [*(schema.get("enum") or ()), *([schema["const"]] if "const" in schema else [])]
    return [next((name for cls, name in _VALUE_TYPES if isinstance(value, cls)), "null") for value in values]


# No generated eq or repr: kinds are singletons compared by identity, and generating them costs import time.
@attrs.frozen(eq=False, repr=False)
class Field:
    """One request field, as the spec and overlay describe it."""

    name: str  # in the JSON body
    argument: str  # its keyword argument in ``create`` and column in a manifest (``class`` -> ``class_``)
    required: bool
    schema: Mapping[str, Any]  # JSON schema, every $ref inlined
    description: str
    accepts: tuple[str, ...]  # file type names a URL field accepts (keys of ``JobKind.file_types``)
    value_aliases: Mapping[str, str]  # friendly value -> API value
    default: object  # what the SDK sends when the caller says nothing (None: nothing)
    infer_from: str | None  # the URL field whose file type decides this field when it is not given
    cli_aliases: tuple[str, ...]

    @property
    def json_types(self) -> tuple[str, ...]:
        """The JSON types the field takes, ``null`` aside (None means "not given"): ``type`` as one name or a list,
        an object when the schema only lists properties, the types of the values of an untyped ``enum`` or
        ``const`` (``enum: [1, 2]``: integer), and the types of its ``oneOf``/``anyOf`` forms."""
        names: dict[str, None] = {}
        for schema in (self.schema, *self.schema.get("oneOf", ()), *self.schema.get("anyOf", ())):
            declared = schema.get("type") or ("object" if "properties" in schema else None) or _value_types(schema)
            names.update(dict.fromkeys([declared] if isinstance(declared, str) else map(str, declared or ())))
        return tuple(name for name in names if name != "null")

    @property
    def json_type(self) -> str | None:
        """Its one JSON type; None when it takes several (``type: [string, integer]``) or says none."""
        return self.json_types[0] if len(self.json_types) == 1 else None


@attrs.frozen(eq=False, repr=False, slots=False)  # a __dict__ for the cached_property modules
class JobKind:
    """A create operation, its status operation, and what a status means."""

    name: str
    family: str  # kinds that share one concurrency limit at Vozo
    aliases: tuple[str, ...]
    summary: str
    # The generated endpoint modules and request model are named, and imported on first use: `import vozo` loads
    # no endpoint and no request model of a kind the program never creates.
    create_module: str  # dotted name of the generated endpoint module
    status_module: str
    request_schema: str  # class name in vozo_api_client.models
    status_model: type[Any]
    create_path: str
    status_path: str
    statuses: tuple[str, ...]
    results: tuple[tuple[str, tuple[str, ...]], ...]  # (result name, keys leading to its URL in the status)
    result_suffixes: Mapping[str, str]  # result name -> its file's extension, as the spec tells it (".srt")
    error_fields: tuple[str | None, str | None]
    fields: tuple[Field, ...]
    file_types: Mapping[str, tuple[str, ...]]

    def __repr__(self) -> str:
        return f"<JobKind {self.name!r}: {self.create_path}>"

    @cached_property
    def create(self) -> ModuleType:
        return importlib.import_module(self.create_module)

    @cached_property
    def status(self) -> ModuleType:
        return importlib.import_module(self.status_module)

    @cached_property
    def request_model(self) -> type[Any]:
        model: type[Any] = getattr(importlib.import_module("vozo_api_client.models"), self.request_schema)
        return model

    @property
    def cli_name(self) -> str:
        return self.name.replace("_", "-")

    @property
    def result_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.results)

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    def field_for_argument(self, argument: str) -> Field | None:
        return next((f for f in self.fields if f.argument == argument), None)

    def result_urls(self, status: Any) -> dict[str, str]:
        """The result URLs the status holds, by the names the spec declares (nothing else a server sends)."""
        data = status.to_dict() if hasattr(status, "to_dict") else status
        found = {}
        for name, keys in self.results:
            value: Any = data
            for key in keys:
                value = value.get(key) if isinstance(value, dict) else None
            if isinstance(value, str) and value:
                found[name] = value
        return found

    def error(self, status: Any) -> tuple[str | None, str | None]:
        """Vozo's error code and message on a failed status: the spec's fields, else ones Vozo sent anyway."""
        data = status.to_dict() if hasattr(status, "to_dict") else status
        code_field, message_field = self.error_fields
        code = data.get(code_field or "err_code", data.get("code"))
        message = data.get(message_field or "err_message", data.get("message"))
        return (str(code) if code not in (None, "") else None, str(message) if message not in (None, "") else None)


def all_kinds() -> tuple[JobKind, ...]:
    from vozo_jobs.kinds import KINDS  # generated; imported late because it imports this module

    return KINDS


def kind_named(name: str) -> JobKind:
    """The kind a resource name or alias (``translation``) names; the CLI's kebab-case names too."""
    if not isinstance(name, str):  # a caller's kind=5: no bare AttributeError from strip()
        names = ", ".join(kind.name for kind in all_kinds())
        raise InvalidInputError(f"kind must be a job kind's name (one of: {names}), got {type(name).__name__}")
    wanted = name.strip().lower().replace("-", "_")
    for kind in all_kinds():
        if wanted == kind.name or wanted in (alias.replace("-", "_") for alias in kind.aliases):
            return kind
    names = ", ".join(kind.name for kind in all_kinds())
    raise InvalidInputError(f"unknown job kind {name!r}; this SDK knows: {names}")


def kinds_for_status(status: object) -> tuple[JobKind, ...]:
    """The kinds whose status endpoint answers with this status's type (several may share one endpoint), the
    kind that owns the endpoint (its status path is its create path + ``/{task_id}``) first."""
    found = [kind for kind in all_kinds() if isinstance(status, kind.status_model)]
    return tuple(sorted(found, key=lambda kind: not kind.status_path.startswith(kind.create_path + "/")))


def status_value(status: Any) -> str:
    """The raw status string, including a value this client does not know yet."""
    value = status.status
    return str(getattr(value, "value", value))
