"""Argument rules: every ``create`` argument is checked against the spec before anything is sent.

The rules read the job kind's fields (types, enums, patterns, bounds, the file types a URL accepts, friendly value
aliases, defaults, inference), so a field Vozo adds is checked the way the spec describes it. The few rules Vozo's
pages state only in prose (an audio input cannot export video, ...) apply wherever their fields exist.
"""

from __future__ import annotations

import inspect
import json
import os
import re
from collections.abc import Callable, Mapping
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from vozo._errors import InvalidInputError
from vozo._kinds import Field, JobKind

_JSON_TYPES: dict[str, Callable[[object], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, Mapping),
    "array": lambda v: isinstance(v, (list, tuple)),
    "null": lambda v: v is None,
}
_MAX_DEPTH = 32
MAX_TASK_ID_BYTES = 1024
# Character sets rather than regular expressions: compiling those cost `import vozo` more than all their uses.
_CONTROL_CHARACTERS = frozenset(map(chr, [*range(0x20), *range(0x7F, 0xA0)]))
_TASK_ID_REFUSED = _CONTROL_CHARACTERS | {"/", "?", "#"}


def _utf8_size(text: str) -> int | None:
    """The bytes of ``text`` in UTF-8; None when it holds a lone surrogate (JSON's "\ud800" reads as one), which has
    no UTF-8, so no URL can hold it."""
    try:
        return len(text.encode())
    except UnicodeEncodeError:
        return None


def extension(url: str) -> str:
    """The lower-cased file extension of a URL's path, ignoring query string and fragment ('' when none)."""
    return PurePosixPath(unquote(urlsplit(url).path)).suffix.lower()


class CallbackReturn:
    """What a user's callback (``on_update``, ``on_progress``) returned last. ``AsyncVozo`` awaits it, so an
    ``async def`` callback runs; ``Vozo`` calls it without awaiting, where one would never run, so it is refused."""

    def __init__(self, callback: str, *, task_id: str | None = None, refusal: str | None = None) -> None:
        self._callback = callback
        self._task_id = task_id
        self._refusal = refusal  # the words of the refusal, where the caller's own say more
        self.last: object = None

    async def async_settle(self) -> None:
        returned, self.last = self.last, None
        if inspect.isawaitable(returned):
            await returned

    def sync_settle(self) -> None:
        returned, self.last = self.last, None
        if not inspect.isawaitable(returned):
            return
        if inspect.iscoroutine(returned):
            returned.close()  # never awaited, on purpose: no RuntimeWarning on top of the error
        goes_on = f"; job {self._task_id} goes on at Vozo" if self._task_id else ""
        error = InvalidInputError(
            self._refusal
            or f"{self._callback} returned an awaitable: Vozo calls it without awaiting, so an async def callback "
            f"never runs. Pass a plain function, or use AsyncVozo, which awaits it{goes_on}"
        )
        error.task_id = self._task_id
        raise error


def check_callback(name: str, callback: object, *, awaited: bool) -> None:
    """Refuse a callback that could never run, before anything is sent (a create_and_wait would otherwise pay for a
    job, then fail at its first status): one that is not callable, or, for ``Vozo`` (``awaited`` False), an ``async
    def`` one, which it could only call without awaiting. Other callables returning awaitables are caught by
    ``CallbackReturn``."""
    if callback is None:
        return
    if not callable(callback):
        raise InvalidInputError(f"{name} must be a function (or None), got {type(callback).__name__} {callback!r:.80}")
    if not awaited and (
        inspect.iscoroutinefunction(callback) or inspect.iscoroutinefunction(getattr(callback, "__call__", None))  # noqa: B004 - an instance's async __call__
    ):
        raise InvalidInputError(
            f"{name} is an async def function: Vozo calls it without awaiting, so it would never run. Pass a plain "
            "function, or use AsyncVozo, which awaits it"
        )


def check_path(name: str, value: object) -> None:
    """Refuse a path of a type no file can be named by (pathlib's own error is a bare TypeError)."""
    if not isinstance(value, str | os.PathLike) or not isinstance(os.fspath(value), str):
        raise InvalidInputError(
            f"{name} must be a str or os.PathLike (a pathlib.Path) naming a file or folder, got {type(value).__name__}"
            + (f": decode it first (os.fsdecode({name}))" if isinstance(value, bytes | os.PathLike) else "")
        )


def async_check_callback(name: str, callback: object) -> None:
    """``check_callback`` for ``AsyncVozo``, which awaits what a callback returns."""
    check_callback(name, callback, awaited=True)


def sync_check_callback(name: str, callback: object) -> None:
    """``check_callback`` for ``Vozo``, which cannot await."""
    check_callback(name, callback, awaited=False)


def checked_task_id(value: object) -> str:
    """A task id as Vozo returned it. Refused when it could make the URL name another path than this job's."""
    fault = task_id_fault(value)
    if fault is not None:
        raise InvalidInputError(f"task_id {fault}. Pass the task_id from the create call.")
    return str(value).strip()


def task_id_fault(value: object) -> str | None:
    """What makes ``value`` no task id (None when it is one): not a non-empty string, or one that could make the URL
    it goes into name another path than its job's."""
    if not isinstance(value, str) or not value.strip():
        return f"must be a non-empty string, got {value!r}"
    value = value.strip()
    size = _utf8_size(value)
    # "." and ".." are path segments the URL resolves away (get("..") would GET /v1); "/", "?" and "#" end the
    # segment where a server or proxy decodes them; a control character has no place in a URL.
    if value in (".", "..") or not _TASK_ID_REFUSED.isdisjoint(value) or size is None or size > MAX_TASK_ID_BYTES:
        shown = value if len(value) <= 80 else value[:80] + "..."
        return (
            f"{shown!r} is not a task id Vozo returns: it must not be '.' or '..', contain '/', '?', '#', a "
            f"control character or a lone surrogate, or be over {MAX_TASK_ID_BYTES} bytes"
        )
    return None


# How the refusal of a URL without a file extension says to let it through; the CLI names its own option instead.
SKIP_FILE_TYPE_CHECK = "check_file_types=False"
# How the refusal of a value the spec does not list says to send it anyway (a manifest and the CLI cannot).
EXTRA_BODY = "extra_body"


def check_url(field: str, url: object, accepted: tuple[str, ...], *, check_file_type: bool = True) -> str:
    if not isinstance(url, str) or not url.strip():
        raise InvalidInputError(f"{field} must be a non-empty URL string, got {url!r}")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        if not accepted:  # no file of Vozo's to fetch (callback_url: Vozo POSTs to it)
            raise InvalidInputError(
                f"{field} must be an absolute http(s) URL Vozo's servers can reach, like https://you.example/hook, "
                f"got {url!r}"
            )
        raise InvalidInputError(
            f"{field} must be an http(s) URL that Vozo's servers can download, got {url!r} "
            "(a local file must be uploaded somewhere reachable first)"
        )
    # No URL holds one (RFC 3986); sent as it is, Vozo's servers would fetch another file than named, or none.
    if not _CONTROL_CHARACTERS.isdisjoint(url.strip()):
        position, control = next((i, c) for i, c in enumerate(url.strip()) if c in _CONTROL_CHARACTERS)
        raise InvalidInputError(
            f"{field} {url!r} holds the control character {control!r} at position {position}; "
            "pass the URL without it (percent-encode it if the file's name really holds it)"
        )
    if check_file_type and accepted and extension(url) not in accepted:
        found = extension(url) or "no extension"
        raise InvalidInputError(
            f"{field} {url!r} has an unsupported file type ({found}); accepted: {' '.join(accepted)}. "
            f"For a URL without a file extension, pass {SKIP_FILE_TYPE_CHECK}."
        )
    return url.strip()


def request_body(
    kind: JobKind,
    given: Mapping[str, object],
    *,
    check_file_types: bool,
    extra_body: Mapping[str, object] | None = None,
) -> Any:
    """The generated request model for ``given`` (None meaning "not given"), or ``InvalidInputError``."""
    values = {name: _plain(value) for name, value in given.items() if value is not None}
    for field in kind.fields:
        if field.name not in values and field.default is not None:
            values[field.name] = field.default
        value = values.get(field.name)
        if isinstance(value, str) and value.lower() in field.value_aliases:
            values[field.name] = field.value_aliases[value.lower()]
    for field in kind.fields:
        if field.infer_from and field.name not in values:
            source = kind.field(field.infer_from)
            if source is not None and source.name not in values:  # nothing to infer from: the source is what's missing
                _check_field(kind, source, values, check_file_types=check_file_types)
                continue
            if source is not None:  # itself first: a Path is no URL, whatever its name
                everything = tuple(ext for name in source.accepts for ext in kind.file_types.get(name, ()))
                check_url(source.name, values[source.name], everything, check_file_type=check_file_types)
            values[field.name] = _inferred(kind, field, values.get(field.infer_from))
    for field in kind.fields:
        _check_field(kind, field, values, check_file_types=check_file_types)
    for rule in _PROSE_RULES:
        rule(kind, values)
    if extra_body is not None:
        if not isinstance(extra_body, Mapping) or not all(isinstance(key, str) for key in extra_body):
            raise InvalidInputError("extra_body must be a mapping of JSON field names to values")
        values.update(extra_body)
    _check_text(values)
    try:
        body = kind.request_model.from_dict(values)
    except RecursionError:  # a schema that refers to itself (a tree) reads a value as deep as it nests
        nested = ", ".join(name for name, value in values.items() if isinstance(value, (Mapping, list, tuple)))
        raise InvalidInputError(
            f"the {kind.name} request is nested too deeply to send (in {nested}): pass fewer levels"
        ) from None
    except (TypeError, ValueError, KeyError, AttributeError) as exc:  # extra_body, or a shape the checks let by
        raise InvalidInputError(
            f"the {kind.name} request does not have the shape the spec gives it ({type(exc).__name__}: {exc}); "
            "check the values of extra_body and of object or list fields"
        ) from None
    _check_json(body.to_dict())
    return body


def _check_json(fields: Mapping[str, object]) -> None:
    """Each field encodes as httpx will send it (no NaN or infinity): a value that does not (a set, a datetime, an
    integer past Python's 4,300 digits, nesting past its recursion limit) is refused here, naming the field, rather
    than failing as a bare TypeError or ValueError inside the request."""
    for name, value in fields.items():
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError, RecursionError) as exc:
            problem = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            raise InvalidInputError(
                f"{name} cannot be sent as JSON ({problem}): pass dicts, lists, str, int, finite float, bool or None"
            ) from None


def _check_text(values: Mapping[str, object]) -> None:
    """Every string is sent as UTF-8: one holding half of a surrogate pair (bytes that were not UTF-8, decoded with
    ``surrogateescape`` as command-line arguments are, or a lone ``\\ud800`` escape in JSON) cannot be. Found here,
    it is refused before anything is sent, rather than failing mid-request, when it is unknown what left."""
    pending: list[tuple[str, object]] = [("", values)]
    while pending:  # no recursion: values may nest deeply (extra_body is not checked against the spec)
        where, value = pending.pop()
        if isinstance(value, Mapping):
            named = [f"{where}.{name}".lstrip(".") for name in value]
            pending += [*zip(named, value, strict=True), *zip(named, value.values(), strict=True)]  # keys are sent too
        elif isinstance(value, (list, tuple)):
            pending += [(f"{where}[{index}]", item) for index, item in enumerate(value)]
        elif isinstance(value, str) and not value.isascii():
            try:
                value.encode()
            except UnicodeEncodeError as exc:
                where = where.encode(errors="backslashreplace").decode()  # a key may hold it: shown escaped
                raise InvalidInputError(
                    f"{where} is not UTF-8 text: {value[exc.start]!r} at position {exc.start} is a lone surrogate "
                    "(was it read from bytes in another encoding?); pass it as UTF-8 text"
                ) from None


def _plain(value: object) -> object:
    """Generated models and tuples as the JSON the spec describes (a tuple as a list: the generated models read an
    array as a list only, and a tuple for a Sequence argument was left out of the body)."""
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, tuple):
        return list(value)
    return getattr(value, "value", value) if not isinstance(value, (str, int, float, list)) else value


def _inferred(kind: JobKind, field: Field, url: object) -> str:
    ext = extension(url) if isinstance(url, str) else ""
    for choice in field.schema.get("enum", ()):
        if ext and ext in kind.file_types.get(str(choice), ()):
            return str(choice)
    choices = " or ".join(repr(c) for c in field.schema.get("enum", ()))
    raise InvalidInputError(
        f"{field.name} cannot be inferred from {url!r} ({ext or 'no extension'}); pass {field.name}={choices}"
    )


def _accepted(kind: JobKind, field: Field, values: Mapping[str, object]) -> tuple[str, ...]:
    """File extensions a URL field takes, narrowed by a field inferred from it (a 'video' reference: videos)."""
    names = list(field.accepts)
    for other in kind.fields:
        if other.infer_from == field.name and values.get(other.name) in names:
            names = [str(values[other.name])]
    return tuple(ext for name in names for ext in kind.file_types.get(name, ()))


def _check_field(kind: JobKind, field: Field, values: dict[str, object], *, check_file_types: bool) -> None:
    if field.name not in values:
        if field.required:
            raise InvalidInputError(f"{field.name} is required: {field.description or 'see the API reference'}")
        return
    if field.name.endswith("_url") and field.schema.get("type") == "string":
        values[field.name] = check_url(
            field.name, values[field.name], _accepted(kind, field, values), check_file_type=check_file_types
        )
    check_value(field.name, values[field.name], field.schema, values, field.value_aliases)


def check_value(
    where: str, value: object, schema: Mapping[str, Any], parent: dict[str, object], aliases: Mapping[str, str]
) -> None:
    """The JSON schema checks a request needs: type (one or a list), enum, oneOf/anyOf, pattern, bounds, nested
    fields and list items (pairs as min/max)."""
    types = _types(schema)
    key = where.rsplit(".", 1)[-1]
    if "object" in types and isinstance(value, (tuple, list)) and is_range(schema):
        value = parent[key] = dict(zip(("min", "max"), value, strict=False))  # (min, max) for a range
    known = [name for name in types if name in _JSON_TYPES]
    if known and not any(_JSON_TYPES[name](value) for name in known):
        raise InvalidInputError(f"{where} must be a JSON {' or '.join(known)}, got {type(value).__name__} {value!r}")
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(map(repr, [*aliases, *schema["enum"]]))
        raise InvalidInputError(
            f"{where} must be one of {allowed}, got {value!r} (a value Vozo added since this SDK was built can be "
            f"sent with {EXTRA_BODY})"
        )
    branches = [*(schema.get("oneOf") or ()), *(schema.get("anyOf") or ())]
    if branches and not any(_fits(where, value, branch, parent) for branch in branches):
        raise InvalidInputError(f"{where} {value!r} fits none of the forms the spec allows for it")
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        hint = f": {schema['description']}" if schema.get("description") else ""
        raise InvalidInputError(f"{where} {value!r} does not have the documented form {schema['pattern']}{hint}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        low, high = schema.get("minimum"), schema.get("maximum")
        if (low is not None and value < low) or (high is not None and value > high):
            raise InvalidInputError(f"{where} must be between {low} and {high}, got {value!r}")
    if where.count(".") + where.count("[") >= _MAX_DEPTH:
        return
    if isinstance(value, dict):
        for name in schema.get("required", ()):
            if name not in value:
                raise InvalidInputError(f"{where} needs {name}")
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                check_value(f"{where}.{name}", value[name], sub, value, {})
    items = schema.get("items")
    if isinstance(value, (list, tuple)) and isinstance(items, Mapping):
        for index, item in enumerate(value):
            check_value(f"{where}[{index}]", item, items, {}, {})


def is_range(schema: Mapping[str, Any]) -> bool:
    """An object of exactly ``min`` and ``max`` (speaker_number): given as two values, ``MIN MAX`` or ``2-4``."""
    properties = schema.get("properties")
    return isinstance(properties, Mapping) and set(properties) == {"min", "max"}


def range_end_type(schema: Mapping[str, Any]) -> Callable[[str], int | float | str]:
    """How the text of a range's end reads: as the spec types ``min`` and ``max`` (integers today; a docs update can
    retype them, and the spec's check then wants its type, not the int the text once became)."""
    properties = schema.get("properties") or {}
    types = {name for end in ("min", "max") for name in _types(properties.get(end) or {}) if name in _JSON_TYPES}
    types.discard("null")
    if types <= {"integer"}:
        return int
    if types <= {"integer", "number"}:
        return float
    return str


def _types(schema: Mapping[str, Any]) -> list[str]:
    """The JSON types a schema names: ``type`` as one name or a list; an object when it only lists properties."""
    declared = schema.get("type")
    if isinstance(declared, str):
        return [declared]
    if isinstance(declared, list):
        return [str(name) for name in declared]
    return ["object"] if "properties" in schema else []


def _fits(where: str, value: object, schema: object, parent: dict[str, object]) -> bool:
    if not isinstance(schema, Mapping):
        return True
    try:
        check_value(where, value, schema, dict(parent), {})
    except InvalidInputError:
        return False
    return True


# --- rules Vozo's pages state only in prose, applied wherever their fields exist -------------------------------

# A rule reads the request's values and may read the kind's fields, whose schemas follow the docs: a rule states
# what the spec does not, never against what it now says (a key Vozo adds, a field it retypes).
_Rule = Callable[[JobKind, Mapping[str, object]], None]
_PROSE_RULES: list[_Rule] = []


def _prose_rule(*fields: str) -> Callable[[_Rule], _Rule]:
    """Apply ``rule`` to every request. ``fields`` are the request fields it reads: `make update-spec` reports a
    rule reading a field that no job kind has any more (spectools/references.py finds them here)."""

    def register(rule: _Rule) -> _Rule:
        _PROSE_RULES.append(rule)
        return rule

    return register


@_prose_rule("media_type", "export_type")
def _audio_exports(_kind: JobKind, values: Mapping[str, object]) -> None:
    if values.get("media_type") == "audio" and values.get("export_type") in ("video", "all"):
        raise InvalidInputError(
            f"export_type={values['export_type']!r} needs video input; for media_type='audio' use 'auto' or 'audio'"
        )


@_prose_rule("subtitle_url", "ocr_text_box", "media_type")
def _subtitles_or_ocr(_kind: JobKind, values: Mapping[str, object]) -> None:
    if values.get("subtitle_url") and values.get("ocr_text_box") is not None:
        raise InvalidInputError("subtitle_url and ocr_text_box are mutually exclusive: pass one of them")
    if values.get("ocr_text_box") is not None and values.get("media_type") not in (None, "video"):
        raise InvalidInputError("ocr_text_box only applies when media_type='video'")


@_prose_rule("ocr_text_box")
def _ocr_box(kind: JobKind, values: Mapping[str, object]) -> None:
    """x, y, width and height (those the spec still lists), and no other key but those the spec adds beside them."""
    box = values.get("ocr_text_box")
    if not isinstance(box, Mapping):
        return
    field = kind.field("ocr_text_box")
    listed = field.schema.get("properties") if field is not None else None
    listed = list(listed) if isinstance(listed, Mapping) and listed else ["x", "y", "width", "height"]
    needed = [name for name in ("x", "y", "width", "height") if name in listed]
    optional = [name for name in listed if name not in needed]
    if not set(needed) <= set(box) <= set(listed):
        more = f" (and may have {', '.join(optional)})" if optional else ""
        raise InvalidInputError(
            f"ocr_text_box needs exactly {', '.join(needed[:-1])} and {needed[-1]}{more}, got {sorted(box)}"
            if len(needed) > 1
            else f"ocr_text_box takes {', '.join(listed)}, got {sorted(box)}"
        )


@_prose_rule("speaker_number")
def _speaker_range(_kind: JobKind, values: Mapping[str, object]) -> None:
    speakers = values.get("speaker_number")
    if isinstance(speakers, Mapping):
        low, high = speakers.get("min"), speakers.get("max")
        if any(n is not None and not _JSON_TYPES["number"](n) for n in (low, high)):
            return  # the spec types min/max otherwise now (a docs update retyped them), and its check let them by
        if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in (low, high)) or low > high:  # type: ignore[operator]
            raise InvalidInputError(f"speaker_number needs whole numbers 1 <= min <= max, got {dict(speakers)!r}")


@_prose_rule()
def _non_blank_ids(_kind: JobKind, values: Mapping[str, object]) -> None:
    for name, value in values.items():
        if name.endswith("_id") and isinstance(value, str) and not value.strip():
            raise InvalidInputError(f"{name} must not be blank")
