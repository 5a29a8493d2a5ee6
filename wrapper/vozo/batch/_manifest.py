"""Reading a manifest: one job per CSV row or JSONL line, with the create calls' own field names.

A row's kind comes from its ``kind`` column, or from its fields (``media_url``: translation, ``model_id``:
reusable_lipsync, ``reference_file_url``: lipsync). Its key is its ``id`` column, or ``row-N`` for the N-th row.
Every row is checked here, with the same checks the create calls make, so a bad row is refused before any
request; its fingerprint (``row_hash``) tells a resumed run whether the row was edited in between.
"""

from __future__ import annotations

import csv
import hashlib
import inspect
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from vozo._errors import InvalidInputError
from vozo.resources.lipsync import Lipsync, lipsync_request
from vozo.resources.reusable_lipsync import ReusableLipsync, reusable_lipsync_request
from vozo.resources.translations import Translations, translation_request

JobType = Literal["lipsync", "reusable_lipsync", "translation"]
JOB_TYPES: tuple[JobType, ...] = ("lipsync", "reusable_lipsync", "translation")

# Each kind's accepted fields are its create call's parameters, so a field the wrapper gains is accepted here too.
_CREATE: dict[JobType, Callable[..., Any]] = {
    "lipsync": Lipsync.create,
    "reusable_lipsync": ReusableLipsync.create,
    "translation": Translations.create,
}
_BUILD: dict[JobType, Callable[..., Any]] = {
    "lipsync": lipsync_request,
    "reusable_lipsync": reusable_lipsync_request,
    "translation": translation_request,
}
_KIND_BY_FIELD: tuple[tuple[str, JobType], ...] = (
    ("media_url", "translation"),
    ("model_id", "reusable_lipsync"),
    ("reference_file_url", "lipsync"),
)
_ROW_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")  # it names the output files
_TRUE, _FALSE = {"true", "yes", "1", "y"}, {"false", "no", "0", "n"}


class ManifestError(InvalidInputError):
    """The manifest cannot be used as a whole (unreadable, an unknown column, duplicate ids)."""


@dataclass(frozen=True)
class ManifestRow:
    key: str
    position: int  # 1-based, in manifest order
    kind: JobType
    fields: dict[str, Any]  # keyword arguments of the kind's create call
    problem: str | None  # why the row is refused before any request, or None

    @property
    def row_hash(self) -> str:
        canonical = json.dumps({"kind": self.kind, "fields": self.fields}, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def accepted_fields(kind: JobType) -> tuple[str, ...]:
    return tuple(name for name in inspect.signature(_CREATE[kind]).parameters if name != "self")


def load(path: str | os.PathLike[str]) -> list[ManifestRow]:
    """Read a ``.csv`` or ``.jsonl`` manifest; raises ManifestError for a problem with the file as a whole."""
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"manifest {path} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        records = _read_csv(path)
    elif suffix in (".jsonl", ".ndjson"):
        records = _read_jsonl(path)
    else:
        raise ManifestError(f"manifest {path.name}: expected a .csv or .jsonl file")
    if not records:
        raise ManifestError(f"manifest {path.name} has no rows")
    rows = [_row(position, record, path.name) for position, record in records]
    seen: dict[str, int] = {}
    for row in rows:
        if row.key in seen:
            raise ManifestError(
                f"manifest {path.name}: id {row.key!r} is used by rows {seen[row.key]} and {row.position}"
            )
        seen[row.key] = row.position
    return rows


def _read_csv(path: Path) -> list[tuple[int, dict[str, Any]]]:
    with path.open(newline="", encoding="utf-8-sig") as file:
        reader = csv.DictReader(file)
        records = []
        for position, record in enumerate(reader, start=1):
            if None in record:
                raise ManifestError(f"manifest {path.name}, row {position}: more cells than columns")
            # An empty cell means "not given", so the create call's default applies.
            records.append((position, {k.strip(): v.strip() for k, v in record.items() if v and v.strip()}))
    return records


def _read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    records = []
    position = 0
    for line_number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        position += 1
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise ManifestError(f"manifest {path.name}, line {line_number}: not JSON ({exc})") from None
        if not isinstance(record, dict):
            raise ManifestError(f"manifest {path.name}, line {line_number}: expected a JSON object")
        records.append((position, {k: v for k, v in record.items() if v is not None}))
    return records


def _row(position: int, record: dict[str, Any], manifest: str) -> ManifestRow:
    record = dict(record)
    key = str(record.pop("id", f"row-{position}"))
    if not _ROW_KEY.match(key):
        raise ManifestError(
            f"manifest {manifest}, row {position}: id {key!r} must be letters, digits, '.', '_' or '-' "
            "(it names the row's output files)"
        )
    kind = _kind(record.pop("kind", None), record, position, manifest)
    accepted = accepted_fields(kind)
    unknown = sorted(set(record) - set(accepted))
    if unknown:
        raise ManifestError(
            f"manifest {manifest}, row {position}: unknown field(s) {', '.join(unknown)} for a {kind} job "
            f"(accepted: id, kind, {', '.join(accepted)})"
        )
    fields = {name: _coerce(name, value) for name, value in record.items()}
    return ManifestRow(key, position, kind, fields, _problem(kind, fields))


def _kind(given: Any, record: dict[str, Any], position: int, manifest: str) -> JobType:
    if given is not None:
        for kind in JOB_TYPES:
            if given == kind:
                return kind
        raise ManifestError(f"manifest {manifest}, row {position}: kind {given!r} is not one of {', '.join(JOB_TYPES)}")
    for field, kind in _KIND_BY_FIELD:
        if field in record:
            return kind
    raise ManifestError(
        f"manifest {manifest}, row {position}: no kind column, and none of media_url, model_id, reference_file_url"
    )


def _coerce(name: str, value: Any) -> Any:
    """CSV cells are text: turn the non-text fields into what the create calls take."""
    if not isinstance(value, str):
        return value
    if name == "check_file_types":
        if value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        return value  # refused by the create call's checks, with the field named
    if name == "speaker_number":
        match = re.fullmatch(r"\s*(\d+)\s*[-,]\s*(\d+)\s*", value)  # "2-4" or "2,4"
        if match:
            return {"min": int(match.group(1)), "max": int(match.group(2))}
    if name in ("speaker_number", "ocr_text_box") and value.startswith("{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _problem(kind: JobType, fields: dict[str, Any]) -> str | None:
    """Run the create call's own checks, so the row is refused now rather than after others were paid for."""
    signature = inspect.signature(_CREATE[kind])
    try:
        bound = signature.bind(None, **fields)
    except TypeError as exc:
        return f"{kind}: {exc}"
    bound.apply_defaults()
    arguments = {k: v for k, v in bound.arguments.items() if k != "self"}
    try:
        _BUILD[kind](**arguments)
    except InvalidInputError as exc:
        return str(exc)
    except (TypeError, ValueError, KeyError) as exc:  # a JSON value of the wrong shape
        return f"{kind}: {type(exc).__name__}: {exc}"
    return None
