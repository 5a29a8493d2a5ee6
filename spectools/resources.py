"""openapi/vozo.yaml + the generated client -> generated/vozo_jobs: the job kinds and their typed resources.

The async resources are rendered from openapi/generator/jobs/*.jinja; the sync ones are derived from them by
``spectools.unasync``, so the two never drift. Python names (endpoint modules, model classes) are read from the
generated client itself, so whatever names openapi-python-client picks, the resources import what exists.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from spectools import unasync
from spectools.jobkinds import (
    JobKind,
    JobKindError,
    RequestField,
    find_job_kinds,
    ref_name,
    resolve,
    snake_case,
)

PACKAGE = "vozo_jobs"
TEMPLATES = Path(__file__).resolve().parent.parent / "openapi" / "generator" / "jobs"
_JSON_TYPES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}
_MAX_DEPTH = 20
# Names a request field's keyword argument cannot take, because the generated create methods use them beside the
# fields: their own parameters, a module name their bodies call, and the columns a `vozo batch` manifest has besides
# the fields (a manifest names fields by their arguments). Such a field's argument gets a trailing ``_``, as
# openapi-python-client does for Python's reserved words (``class`` is ``class_``).
SDK_ARGUMENTS = frozenset(
    {"self", "check_file_types", "extra_body", "timeout", "poll_interval", "on_update", "check_wait_arguments",
     "id", "kind"}
)  # fmt: skip
# The names ``vozo.types`` gives besides the generated ones (wrapper/vozo/types.py), and the names the generated
# resources module imports: no resource class (``Async<Kind>``, ``<Kind>``) may take one (tests/spec/test_names.py).
TAKEN_CLASS_NAMES = frozenset(
    {"AnyStatus", "AsyncJobGovernor", "AsyncJobResource", "AsyncResources", "AsyncVozo", "Callable",
     "DownloadSource", "JSON", "JSONInput", "Job", "JobGovernor", "JobResource", "KindName", "Literal", "Mapping",
     "ProgressCallback", "Resources", "Sequence", "UNSET", "Unset", "Vozo"}
)  # fmt: skip


@dataclass(frozen=True)
class Endpoint:
    module: str  # dotted, under vozo_api_client
    body_class: str | None
    ok_class: str | None


def _endpoints(client: Path) -> dict[tuple[str, str], Endpoint]:
    """(method, path template) -> the generated endpoint module serving it, read from the generated code."""
    found = {}
    for file in sorted((client / "api").rglob("*.py")):
        if file.name == "__init__.py":
            continue
        text = file.read_text(encoding="utf-8")
        method = re.search(r'"method": "(\w+)"', text)
        url = re.search(r'"url": f?"([^"]+)"', text)
        if not method or not url:
            continue
        body = re.search(r"^\s+body: (\w+),$", text, re.MULTILINE)
        ok = re.search(r"response_2\d\d = (\w+)\.from_dict", text)  # 200, else the 2xx the spec documents
        module = ".".join(file.relative_to(client).with_suffix("").parts)
        path = re.sub(r"\{[^}]*\}", "{task_id}", url.group(1))
        found[(method.group(1), path)] = Endpoint(module, body.group(1) if body else None, ok.group(1) if ok else None)
    return found


def _model_classes(client: Path) -> dict[str, str]:
    """Schema name (as snake_case module name) -> generated model class, from the imports of models/__init__.py
    (top level or under ``if TYPE_CHECKING:``, where the lazy template puts them)."""
    tree = ast.parse((client / "models" / "__init__.py").read_text(encoding="utf-8"))
    return {
        node.module.lstrip("."): alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names
    }


def inline(spec: dict[str, Any], schema: Any, depth: int = 0) -> Any:
    """``schema`` with every ``$ref`` replaced by what it points at (for the runtime's argument checks)."""
    if depth > 20:
        return {}
    if isinstance(schema, dict):
        if "$ref" in schema:
            return inline(
                spec, {**resolve(spec, schema), **{k: v for k, v in schema.items() if k != "$ref"}}, depth + 1
            )
        return {key: inline(spec, value, depth + 1) for key, value in schema.items() if key != "example"}
    if isinstance(schema, list):
        return [inline(spec, item, depth + 1) for item in schema]
    return schema


class _Namer:
    def __init__(self, spec: dict[str, Any], client: Path) -> None:
        self.spec = spec
        self.client = client
        self.endpoints = _endpoints(client)
        self.classes = _model_classes(client)
        self.models: set[str] = set()  # the model classes the resources name

    def model(self, schema_name: str) -> str:
        cls = self.classes.get(snake_case(schema_name))
        if cls is None:
            raise JobKindError(
                f"no generated model for schema {schema_name!r}", path=("components", "schemas", schema_name)
            )
        return self.use(cls)

    def use(self, cls: str) -> str:
        self.models.add(cls)
        return cls

    def endpoint(self, method: str, path: str) -> Endpoint:
        endpoint = self.endpoints.get((method, path))
        if endpoint is None:
            raise JobKindError(
                f"the generated client has no module for {method.upper()} {path}", path=("paths", path, method)
            )
        return endpoint

    def python_type(self, field: RequestField) -> str:
        values = [value for value in field.schema.get("enum", ()) if value is not None]
        if values and all(isinstance(value, (str, int)) for value in values):  # Literal takes no float, no object
            values += [alias for alias in field.value_aliases if alias not in values]
            return "Literal[" + ", ".join(repr(value) for value in values) + "]"
        return self._type(field.schema, field.ref, 0)

    def public_enum_class(self, field: RequestField, request_cls: str) -> str | None:
        """The generated enum class of a field ``vozo.types`` names (``type-name``), or None."""
        if not field.type_name or not field.enum:
            return None
        cls = self.classes.get(snake_case(field.ref or f"{request_cls}_{field.name}"))
        return self.use(cls) if cls else None

    def _type(self, schema: dict[str, Any], ref: str | None, depth: int) -> str:
        """The Python type of a JSON schema: each type it allows (``type`` lists, ``oneOf``/``anyOf`` branches),
        ``null`` left out (None means "not given"); ``object`` where nothing tells."""
        if depth > _MAX_DEPTH:
            return "object"
        declared = schema.get("type")
        found = [declared] if isinstance(declared, str) else [str(t) for t in declared or ()]
        if not found and "properties" in schema:
            found = ["object"]
        parts = []
        for kind in found:
            if kind in _JSON_TYPES:
                parts.append(_JSON_TYPES[kind])
            elif kind == "array":
                items = schema.get("items") or {}
                parts.append(f"Sequence[{self._type(resolve(self.spec, items), ref_name(items), depth + 1)}]")
            elif kind == "object":
                parts.append(f"{self.model(ref)} | Mapping[str, object]" if ref else "Mapping[str, object]")
        for branch in [*(schema.get("oneOf") or ()), *(schema.get("anyOf") or ())]:
            parts.append(self._type(resolve(self.spec, branch), ref_name(branch), depth + 1))
        if not parts or "object" in parts:
            return "object"
        return " | ".join(dict.fromkeys(parts))

    def arguments(self, request_cls: str, fields: tuple[RequestField, ...], where: tuple[str, ...]) -> dict[str, str]:
        """Request field (its JSON name) -> its keyword argument: the attribute openapi-python-client gave it on the
        request model (``class`` -> ``class_``, ``targetLanguage`` -> ``target_language``), with a trailing ``_``
        while that is a name the SDK uses beside the fields (``SDK_ARGUMENTS``) or another field's argument."""
        module = next((module for module, cls in self.classes.items() if cls == request_cls), None)
        attributes = _attribute_names(self.client / "models" / f"{module}.py") if module else {}
        arguments: dict[str, str] = {}
        for field in fields:
            argument = attributes.get(field.name)
            if argument is None:
                raise JobKindError(
                    f"the generated model {request_cls} has no attribute for request field {field.name!r}", path=where
                )
            while argument in SDK_ARGUMENTS or argument in arguments.values():
                argument += "_"
            arguments[field.name] = argument
        return arguments


def _attribute_names(model: Path) -> dict[str, str]:
    """JSON name -> attribute of a generated model, read off its ``to_dict``: ``field_dict["from"] = from_`` and
    ``field_dict.update({"class": class_})``."""
    pairs: list[tuple[ast.expr | None, ast.expr]] = []
    for node in ast.walk(ast.parse(model.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Assign) and isinstance(target := node.targets[0], ast.Subscript):
            pairs += [(target.slice, node.value)] if _is_name(target.value, "field_dict") else []
        elif isinstance(node, ast.Call) and _is_update(node) and isinstance(node.args[0], ast.Dict):
            pairs += zip(node.args[0].keys, node.args[0].values, strict=True)
    return {
        str(key.value): value.id
        for key, value in pairs
        if isinstance(key, ast.Constant) and isinstance(value, ast.Name)
    }


def _is_name(node: ast.expr, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _is_update(node: ast.Call) -> bool:
    """``field_dict.update(...)`` with an argument."""
    return (
        isinstance(node.func, ast.Attribute)
        and node.func.attr == "update"
        and _is_name(node.func.value, "field_dict")
        and bool(node.args)
    )


def _class_name(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _docstring(text: str) -> str:
    """Prose for a docstring: backslashes kept as written, no closing quotes, and a space for each character Python
    refuses in source or reads as the end of a line (NUL, a carriage return, an escape code, U+2028)."""
    text = "".join(" " if _unprintable(char) else char for char in text)
    return text.replace("\\", "\\\\").replace('"""', "'''").strip()


def _unprintable(char: str) -> bool:
    return char not in "\n\t" and unicodedata.category(char) in ("Cc", "Zl", "Zp", "Cs")


def _kind_context(kind: JobKind, namer: _Namer) -> dict[str, Any]:
    where = ("paths", kind.create_path, "post")
    create = namer.endpoint("post", kind.create_path)
    status = namer.endpoint("get", kind.status_path)
    if not create.body_class or not status.ok_class:
        raise JobKindError(f"POST {kind.create_path}: the generated client reads no request or status body", path=where)
    request_cls, status_cls = namer.use(create.body_class), namer.use(status.ok_class)
    arguments = namer.arguments(request_cls, kind.fields, (*where, "requestBody"))
    fields = []
    for field in sorted(kind.fields, key=lambda f: not (f.required and not f.optional_in_sdk)):
        annotation = namer.python_type(field)
        enum_class = namer.public_enum_class(field, request_cls)
        if enum_class:  # vozo.types offers the spec's enum (Model.PRECISION_V1): its members are accepted values too
            annotation += f" | {enum_class}"
        required = field.required and not field.optional_in_sdk
        fields.append(
            {
                "name": field.name,
                "argument": arguments[field.name],
                "annotation": annotation if required or field.default is not None else f"{annotation} | None",
                "default": None if required else repr(field.default),
                "doc": _docstring(field.description) or f"The request's {field.name}.",
            }
        )
    return {
        "kind": kind,
        "constant": kind.name.upper(),
        "class_name": _class_name(kind.name),
        "create_module": f"vozo_api_client.{create.module}",
        "status_module": f"vozo_api_client.{status.module}",
        "request_cls": request_cls,
        "status_cls": status_cls,
        "arguments": arguments,
        "fields": fields,
        "summary": _docstring(kind.summary),
        "description": _docstring(kind.description),
    }


def public_types(kinds: list[dict[str, Any]], namer: _Namer) -> dict[str, str]:
    """The names ``vozo.types`` gives generated models (overlay ``type-name`` hints) -> the generated class.

    Each is found by where it sits (a kind's status, its status value, its ``result``, a request field), never by
    its schema's name, so a schema Vozo renames keeps its public name. A hint whose model is gone names nothing.
    """
    found: dict[str, str] = {}
    for context in kinds:
        kind: JobKind = context["kind"]
        status_cls = context["status_cls"]
        wanted = {
            "status": status_cls,
            "status-value": namer.classes.get(snake_case(f"{status_cls}Status")),
            "result": namer.classes.get(snake_case(kind.result_ref or f"{status_cls}Result")),
        }
        named = [(public, wanted.get(role)) for role, public in kind.type_names.items()]
        for field in kind.fields:
            owner = field.ref or f"{context['request_cls']}_{field.name}"
            named.append((field.type_name, namer.classes.get(snake_case(owner))) if field.type_name else (None, None))
        for public, cls in named:
            if public is None or cls is None:
                continue
            if found.setdefault(public, cls) != cls:
                raise JobKindError(f"vozo.types name {public!r} is given to both {found[public]} and {cls}")
            namer.use(cls)
    return dict(sorted(found.items()))


def _field_entry(spec: dict[str, Any], field: RequestField, argument: str) -> dict[str, Any]:
    return {
        "name": field.name,
        "argument": argument,
        "required": field.required,
        "schema": inline(spec, {k: v for k, v in field.schema.items() if not k.startswith("x-")}),
        "description": field.description,
        "accepts": field.accepts,
        "value_aliases": field.value_aliases,
        "default": field.default,
        "infer_from": field.infer_from,
        "cli_aliases": field.cli_aliases,
    }


def _check_class_names(kinds: list[dict[str, Any]], taken: set[str]) -> None:
    """No resource class (``<Kind>``, ``Async<Kind>``) may take a name ``vozo.types`` or the resources module
    already binds: one would silently hide the other."""
    taken = taken | TAKEN_CLASS_NAMES
    for context in kinds:
        kind: JobKind = context["kind"]
        names = {context["class_name"], f"Async{context['class_name']}"}
        if names & taken:
            raise JobKindError(
                f"job kind {kind.name!r} of POST {kind.create_path} would make resource classes "
                f"{' and '.join(sorted(names))}, a name the SDK or a generated model already has: give it another "
                "name with x-vozo-resource in openapi/overlay.yaml",
                path=("paths", kind.create_path, "post"),
            )
        taken |= names


def render(spec: dict[str, Any], client: Path) -> dict[str, str]:
    """File name -> source of the vozo_jobs package, before formatting."""
    namer = _Namer(spec, client)
    namer.use("Job")
    kinds = [_kind_context(kind, namer) for kind in find_job_kinds(spec)]
    if not kinds:
        raise JobKindError("the spec holds no job kind (a POST answering Job plus its status GET)")
    for kind in kinds:
        kind["field_entries"] = [_field_entry(spec, f, kind["arguments"][f.name]) for f in kind["kind"].fields]
    types = public_types(kinds, namer)
    _check_class_names(kinds, set(types) | namer.models)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - renders Python source, not HTML: nothing to escape
    )
    env.filters["py"] = repr
    context = {
        "kinds": kinds,
        "types": types,
        "file_types": {k: tuple(v) for k, v in spec.get("x-vozo-file-types", {}).items()},
        "status_union": " | ".join(dict.fromkeys(f"_models.{kind['status_cls']}" for kind in kinds)),
    }
    # Status models load with the kinds (the status union is a runtime alias); every other model only where a
    # program uses it, so the resources import those for type checkers alone.
    context["status_classes"] = sorted({kind["status_cls"] for kind in kinds})
    context["annotation_classes"] = sorted(namer.models - set(context["status_classes"]))
    by_status: dict[str, list[str]] = {}
    for kind in kinds:
        by_status.setdefault(kind["status_cls"], []).extend([kind["kind"].name, *kind["kind"].aliases])
    context["kinds_by_status"] = by_status
    names = ("__init__.py", "kinds.py", "callbacks.py", "types.py")
    files = {name: env.get_template(f"{name}.jinja").render(context) for name in names}
    files["_async_resources.py"] = env.get_template("_async_resources.py.jinja").render(context)
    files["_sync_resources.py"] = unasync.unasync_text(files["_async_resources.py"])
    for name, source in files.items():
        _check_bindings(name, source, spec, namer)
    files["py.typed"] = ""
    return files


def _check_bindings(file: str, source: str, spec: dict[str, Any], namer: _Namer) -> None:
    """A generated module binds each name once. A model class named like a name the module imports from the SDK
    or the standard library (a status schema called ``Field`` or ``Mapping``) would hide it: refused, naming the
    schema, since no overlay key renames a model."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise JobKindError(f"the generated vozo_jobs/{file} would not parse ({exc.msg}, line {exc.lineno})") from exc
    body = [*tree.body]
    body += [node for block in tree.body if isinstance(block, ast.If) for node in block.body]  # if TYPE_CHECKING:
    seen: set[str] = set()
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bound = [alias.asname or alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ClassDef):
            bound = [node.name]
        else:
            continue
        for name in bound:
            if name in seen:
                module = next((module for module, cls in namer.classes.items() if cls == name), "")
                schema = next((s for s in spec.get("components", {}).get("schemas", {}) if snake_case(s) == module), "")
                raise JobKindError(
                    f"the generated vozo_jobs/{file} would bind {name!r} twice: a schema of the spec is generated as "
                    f"class {name}, a name that module already takes from the SDK; the templates in "
                    "openapi/generator/jobs must import one of them under another name",
                    path=("components", "schemas", schema) if schema else (),
                )
            seen.add(name)


def generate_into(spec: dict[str, Any], client: Path, dest: Path) -> Path:
    """Write the package into ``dest / PACKAGE`` (which must not exist yet), formatted, and return its path."""
    out = dest / PACKAGE
    out.mkdir(parents=True)
    for name, text in render(spec, client).items():
        (out / name).write_text(text, encoding="utf-8")
    ruff = Path(sys.executable).parent / "ruff"
    for command in (["check", ".", "--fix-only", "--isolated", "--no-cache", "--line-length", "120"],
                    ["format", ".", "--isolated", "--no-cache", "--line-length", "120"]):  # fmt: skip
        result = subprocess.run([str(ruff), *command], cwd=out, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"ruff {command[0]} failed on the generated resources:\n{result.stdout}{result.stderr}")
    return out
