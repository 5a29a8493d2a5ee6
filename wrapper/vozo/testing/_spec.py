"""The spec FakeVozo serves: request bodies checked against it, so the fake refuses exactly what the spec refuses,
and answers for the operations that are not jobs (the 200 response's example, else a body built from its schema)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from vozo._errors import InvalidInputError

# The wheel carries the spec next to this module; a checkout reads it from openapi/.
_CHECKOUT_SPEC = Path(__file__).resolve().parents[3] / "openapi" / "vozo.yaml"
_METHODS = ("get", "put", "post", "delete", "patch")
_MAX_DEPTH = 8  # nesting of a body built from a schema; deeper, only required properties are filled
_FORMATS = {
    "date-time": "2026-01-01T00:00:00Z",
    "date": "2026-01-01",
    "time": "00:00:00Z",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "email": "user@example.com",
    "uuid": "00000000-0000-4000-8000-000000000000",
}


@cache
def packaged_spec() -> dict[str, Any]:
    packaged = resources.files("vozo.testing").joinpath("vozo.yaml")
    text = packaged.read_text(encoding="utf-8") if packaged.is_file() else _CHECKOUT_SPEC.read_text(encoding="utf-8")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def load(spec: Mapping[str, Any] | str | os.PathLike[str] | None) -> dict[str, Any]:
    """The OpenAPI document: the package's, a mapping, or a YAML/JSON file; InvalidInputError when none of those."""
    if spec is None:
        return packaged_spec()
    document = dict(spec) if isinstance(spec, Mapping) else _read(spec)
    if not isinstance(document.get("paths", {}), Mapping):
        raise InvalidInputError("FakeVozo(spec=...): the spec's paths must be a mapping of paths to operations")
    return document


def _read(spec: object) -> dict[str, Any]:
    if not isinstance(spec, str | os.PathLike):
        raise InvalidInputError(
            f"FakeVozo(spec=...): spec= takes a mapping or the path of a YAML or JSON file, got {type(spec).__name__}"
        )
    try:
        loaded: object = yaml.safe_load(Path(spec).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InvalidInputError(f"FakeVozo(spec=...) cannot read {str(spec)!r}: {reason} (check the path)") from exc
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"FakeVozo(spec=...): {str(spec)!r} is not YAML or JSON ({exc})") from exc
    if not isinstance(loaded, dict):
        raise InvalidInputError(
            f"FakeVozo(spec=...): {str(spec)!r} is not an OpenAPI document (a mapping), got {type(loaded).__name__}"
        )
    return loaded


@dataclass(frozen=True)
class KeyPlace:
    """Where a request presents the key: a header, query parameter or cookie; for an ``http`` scheme, the
    Authorization header's credentials after that scheme's name (``Bearer <key>``)."""

    where: str  # "header", "query" or "cookie"
    name: str
    scheme: str | None = None  # "bearer", "basic", ... (lower case): the header's value is "<scheme> <key>"


_AUTHORIZATION_BEARER = KeyPlace("header", "authorization", "bearer")


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    path: str  # the spec's template, e.g. /v1/account/credits
    status: int  # of the success response the fake answers
    body: Any  # its JSON body (when has_body)
    has_body: bool
    takes_json: bool  # a JSON request body is described, and checked
    body_required: bool
    needs_key: bool  # False for `security: []` (or an empty requirement `{}`): the fake then answers without a key
    key_places: tuple[KeyPlace, ...]  # where the key is read from, first found wins


class Spec:
    """One OpenAPI document, as the fake uses it."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self._validators: dict[tuple[str, str], Draft202012Validator] = {}

    def operations(self) -> list[Operation]:
        """Every operation of the spec, with the success answer the fake gives it."""
        found = []
        for path, item in self.document.get("paths", {}).items():
            for method in _METHODS:
                operation = item.get(method) if isinstance(item, dict) else None
                if isinstance(operation, dict):
                    found.append(self._answer(method.upper(), path, operation))
        return found

    def first_error(self, method: str, path: str, body: Any) -> str | None:
        """The first way ``body`` breaks the operation's JSON request schema, in words, or None when valid."""
        validator = self._validators.get((method, path))
        if validator is None:
            operation = self.document["paths"][path][method.lower()]
            schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            validator = Draft202012Validator({**schema, "components": self.document.get("components", {})})
            self._validators[(method, path)] = validator
        try:
            error = next(iter(sorted(validator.iter_errors(body), key=lambda e: list(e.path))), None)
        except RecursionError:  # a schema that refers to itself, followed as deep as the body nests
            return "the body is nested too deeply"
        if error is None:
            return None
        where = ".".join(str(p) for p in error.path)
        return f"{where}: {error.message}" if where else error.message

    def _answer(self, method: str, path: str, operation: dict[str, Any]) -> Operation:
        request = self._resolve(operation.get("requestBody"))
        status, body, has_body = self._success(operation)
        takes_json = "application/json" in request.get("content", {})
        security = operation.get("security", self.document.get("security", []))
        needs_key = bool(security) and all(requirement for requirement in security)
        required = bool(request.get("required"))
        return Operation(
            method, path, status, body, has_body, takes_json, required, needs_key, self._key_places(security)
        )

    def _key_places(self, security: list[dict[str, Any]]) -> tuple[KeyPlace, ...]:
        """The places of the schemes ``security`` names; for an operation that names none, those of every scheme
        the document declares (a key sent anyway still says whose job it is); Bearer when it declares none."""
        schemes = self.document.get("components", {}).get("securitySchemes", {})
        named = [name for requirement in security or () for name in requirement] or list(schemes)
        places = dict.fromkeys(_place(self._resolve(schemes.get(name))) for name in named)
        return tuple(places) or (_AUTHORIZATION_BEARER,)

    def success_code(self, operation: dict[str, Any]) -> int:
        """The status an operation answers on success: 200, else its first 2xx (a create documented as `202 Job
        queued`), as spectools.jobkinds.success_code finds a job kind's answer."""
        codes = sorted(str(code) for code in operation.get("responses", {}) if str(code).startswith("2"))
        return int("200" if "200" in codes else codes[0] if codes else "200")

    def _success(self, operation: dict[str, Any]) -> tuple[int, Any, bool]:
        """The success status (200, else the first 2xx) and its JSON body: its example, else one built."""
        code = str(self.success_code(operation))
        media = self._resolve(operation.get("responses", {}).get(code, {})).get("content", {}).get("application/json")
        if not isinstance(media, dict):
            return int(code), None, False
        if "example" in media:
            return int(code), media["example"], True
        examples = [self._resolve(example) for example in media.get("examples", {}).values()]
        if examples and "value" in examples[0]:
            return int(code), examples[0]["value"], True
        return int(code), self.instance(media.get("schema", {})), True

    def _resolve(self, item: Any) -> dict[str, Any]:
        """``item`` with a ``$ref`` chain followed (cut short should it loop)."""
        for _ in range(32):
            if not (isinstance(item, dict) and isinstance(item.get("$ref"), str)):
                break
            item = self._pointer(item["$ref"])
        return item if isinstance(item, dict) else {}

    def _pointer(self, ref: str) -> Any:
        found: Any = self.document
        for part in ref.removeprefix("#/").split("/"):
            found = found.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(found, dict) else {}
        return found

    def answer_schema(self, method: str, path: str) -> dict[str, Any]:
        """The success JSON body schema of an operation (a job kind's create or status: 200, else its first 2xx),
        resolved; empty when the spec has none."""
        operation = self.document.get("paths", {}).get(path, {}).get(method, {})
        response = self._resolve(operation.get("responses", {}).get(str(self.success_code(operation)), {}))
        return self._resolve(response.get("content", {}).get("application/json", {}).get("schema"))

    def complete(self, body: dict[str, Any], schema: Any, depth: int = 0) -> dict[str, Any]:
        """``body`` with every field ``schema`` requires and ``body`` lacks given a valid value, in the objects it
        holds too: a status of a kind whose spec requires more than ``status`` (``progress``, ``err_code``, a
        ``result`` at every stage), or a create whose ``Job`` requires more than ``task_id``, is what the spec says
        Vozo sends."""
        schema = self._resolve(schema)
        parts = [schema, *(self._resolve(part) for part in schema.get("allOf") or ())]
        properties = {name: prop for part in parts for name, prop in (part.get("properties") or {}).items()}
        required = [name for part in parts for name in part.get("required") or ()]
        for name in required:
            if name not in body and name in properties:
                body[name] = self.instance(properties[name], depth + 1)
        for name, value in body.items():
            if isinstance(value, dict) and name in properties and depth < _MAX_DEPTH:
                self.complete(value, properties[name], depth + 1)
        return body

    def instance(self, schema: Any, depth: int = 0) -> Any:
        """A value valid against ``schema``: its example, default, const or first enum value, else one built."""
        schema = self._resolve(schema)
        for key in ("example", "default", "const"):
            if key in schema:
                return schema[key]
        if schema.get("examples"):
            return schema["examples"][0]
        if schema.get("enum"):
            return schema["enum"][0]
        for key in ("oneOf", "anyOf"):
            if schema.get(key):
                return self.instance(schema[key][0], depth)
        if schema.get("allOf"):
            parts = [self.instance(part, depth) for part in schema["allOf"]]
            merged = {k: v for part in parts if isinstance(part, dict) for k, v in part.items()}
            return merged if merged or all(isinstance(p, dict) for p in parts) else parts[0]
        return self._typed(schema, depth)

    def _typed(self, schema: dict[str, Any], depth: int) -> Any:
        kind = schema.get("type", "object" if "properties" in schema else "string")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind == "object":
            required = set(schema.get("required", ()))
            return {
                name: self.instance(prop, depth + 1)
                for name, prop in schema.get("properties", {}).items()
                if depth < _MAX_DEPTH or name in required
            }
        if kind == "array":
            return [self.instance(schema.get("items", {}), depth + 1)] * max(1, int(schema.get("minItems", 1)))
        if kind in ("integer", "number"):
            low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
            value = low + 1 if "exclusiveMinimum" in schema and "minimum" not in schema else low
            value = min(value, schema.get("maximum", value))
            return int(value) if kind == "integer" else float(value)
        if kind == "boolean":
            return False
        if kind == "null":
            return None
        text = _FORMATS.get(str(schema.get("format")), "string")
        return text.ljust(int(schema.get("minLength", 0)), "x")[: schema.get("maxLength", len(text) + 1000)]


def _place(scheme: dict[str, Any]) -> KeyPlace:
    """Where a security scheme puts the key: an apiKey's header, query parameter or cookie, else (http, and the
    tokens of oauth2 and openIdConnect) the Authorization header after the http scheme's name."""
    where, name = scheme.get("in"), scheme.get("name")
    if scheme.get("type") == "apiKey" and where in ("header", "query", "cookie") and isinstance(name, str):
        return KeyPlace(where, name)
    if scheme.get("type") == "http" and isinstance(scheme.get("scheme"), str):
        return KeyPlace("header", "authorization", scheme["scheme"].lower())
    return _AUTHORIZATION_BEARER
