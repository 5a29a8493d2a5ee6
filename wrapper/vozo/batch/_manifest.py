"""Reading a manifest: one job per CSV row or JSONL line, with the create calls' own field names.

A row's kind comes from its ``kind`` column (a resource name such as ``lipsync`` or ``translations``, or an alias
such as ``translation``); without one, from the journal of an earlier run (a row's kind never changes on resume),
else from its fields, only when exactly one job kind has every field the row names. A row that fits several kinds,
or none, is refused (``problem``) rather than guessed: a job kind the spec gains later must never turn a row into a
job nobody asked for. Its key is its ``id`` column, or ``row-N`` for the N-th row.
Every row is checked here, with the same checks the create calls make, so a bad row is refused before any
request; its fingerprint (``row_hash``) tells a resumed run whether the row was edited in between.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import reprlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vozo._arguments import EXTRA_BODY, SKIP_FILE_TYPE_CHECK, is_range, range_end_type, request_body
from vozo._base import JSON, read_json
from vozo._errors import InvalidInputError
from vozo._kinds import JobKind, all_kinds, kind_named
from vozo.batch._outputs import stems, unusable_stem

_ROW_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")  # it names the output files: no separator, no dot first
_OTHER_SEPARATORS = {";": "';'", "\t": "tabs", "|": "'|'"}  # what a .csv manifest is sometimes separated by
_TRUE, _FALSE = {"true", "yes", "1", "y"}, {"false", "no", "0", "n"}
MAX_DEPTH = 16  # nesting of a row's values; the create calls' own fields are at most 2 deep


class ManifestError(InvalidInputError):
    """The manifest cannot be used as a whole (unreadable, an unknown column, duplicate ids)."""


@dataclass(frozen=True)
class ManifestRow:
    key: str
    position: int  # 1-based, in manifest order
    kind: str  # the job kind's resource name
    fields: dict[str, JSON]  # keyword arguments of the kind's create call
    problem: str | None  # why the row is refused before any request, or None

    @property
    def row_hash(self) -> str:
        canonical = json.dumps({"kind": self.kind, "fields": self.fields}, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def accepted_fields(kind: JobKind) -> tuple[str, ...]:
    """The create call's keyword arguments: one per request field (as the spec has them now; ``class_`` for a field
    named ``class``), and its own ``check_file_types``."""
    return (*(field.argument for field in kind.fields), "check_file_types")


def load(path: str | os.PathLike[str], *, recorded_kinds: Mapping[str, str] | None = None) -> list[ManifestRow]:
    """Read a ``.csv`` or ``.jsonl`` manifest; raises ManifestError for a problem with the file as a whole.

    ``recorded_kinds``: row key -> the kind a journal recorded for it, kept by a row without a ``kind`` column.
    """
    path = Path(path)
    if not path.is_file():
        if path.exists():  # a pipe (`<(make-rows)` is /dev/fd/63), a device: a run reads it again to resume
            raise ManifestError(
                f"manifest {path} is not a regular file (a pipe, device or folder): save the rows in a .csv or .jsonl "
                "file, which every run of the batch reads again"
            )
        raise ManifestError(f"manifest {path} does not exist")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl", ".ndjson"):
        raise ManifestError(f"manifest {path.name}: expected a .csv or .jsonl file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ManifestError(f"manifest {path}: cannot be read ({exc.strerror or exc})") from None
    lines = _text_lines(data.removeprefix(b"\xef\xbb\xbf"))  # a BOM, as spreadsheets write
    records = _read_csv(lines, path.name) if suffix == ".csv" else _read_jsonl(lines, path.name)
    if not records:
        raise ManifestError(f"manifest {path.name} has no rows")
    rows = [_row(position, record, path.name, recorded_kinds or {}) for position, record in records]
    _refuse_shared_files(rows, path.name)
    return rows


def _refuse_shared_files(rows: list[ManifestRow], manifest: str) -> None:
    """Two rows must never write the same file, on a case-insensitive file system either, nor one the batch writes
    or Windows keeps for a device."""
    seen: dict[str, ManifestRow] = {}
    for row in rows:
        for stem in stems(row.key, row.kind) if row.kind else (row.key,):
            if (why := unusable_stem(stem)) is not None:
                raise ManifestError(
                    f"manifest {manifest}, row {row.position}: id {row.key!r} cannot name the row's files ({why}): "
                    "rename it"
                )
            other = seen.setdefault(stem.casefold(), row)
            if other is row:
                continue
            if other.key == row.key:
                implicit = row.key in (f"row-{other.position}", f"row-{row.position}")
                raise ManifestError(
                    f"manifest {manifest}: id {row.key!r} is used by rows {other.position} and {row.position}"
                    + (" (a row without an id is named row-N after its position: give it an id)" if implicit else "")
                )
            raise ManifestError(
                f"manifest {manifest}: ids {other.key!r} (row {other.position}, {other.kind}) and {row.key!r} "
                f"(row {row.position}, {row.kind}) could write the same file ({stem}.*): rename one of them"
            )


class _NotText(Exception):
    def __init__(self, line: int, problem: UnicodeDecodeError) -> None:
        self.line = line
        self.problem = problem


def _text_lines(data: bytes) -> Iterator[str]:
    """The file's lines, decoded one at a time so that a byte which is not UTF-8 is found on its own line."""
    for number, line in enumerate(data.splitlines(keepends=True), start=1):
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _NotText(number, exc) from None


def _not_text(manifest: str, row: int, problem: _NotText) -> ManifestError:
    bad = problem.problem.object[problem.problem.start : problem.problem.start + 1]
    return ManifestError(
        f"manifest {manifest}, row {row} (line {problem.line}): not UTF-8 text (byte 0x{bad.hex()}); "
        "save the file as UTF-8 (in a spreadsheet: CSV UTF-8)"
    )


def _read_csv(lines: Iterator[str], manifest: str) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.reader(lines)
    header: list[str] | None = None
    records: list[tuple[int, dict[str, Any]]] = []
    while True:
        position = len(records) + 1  # the header is row 0
        try:
            cells = next(reader)
        except StopIteration:
            return records
        except _NotText as problem:
            raise _not_text(manifest, position, problem) from None
        except csv.Error as exc:  # a cell over the field size limit, a NUL byte, ...
            raise ManifestError(f"manifest {manifest}, row {position}: {exc}") from None
        if not any(cell.strip() for cell in cells):
            continue  # a blank line, or a row of empty cells such as spreadsheets leave at the end
        if header is None:
            header = _csv_header(cells, manifest)
            continue
        records.append((position, _csv_record(header, cells, manifest, position)))


def _csv_header(cells: list[str], manifest: str) -> list[str]:
    """The column names; one given twice is refused: which of its cells would be the row's value?"""
    names = [cell.strip() for cell in cells]
    _refuse_other_separators([name for name in names if name], manifest)
    for column, name in enumerate(names, start=1):
        if name and name in names[: column - 1]:
            first = names.index(name) + 1
            raise ManifestError(
                f"manifest {manifest}: column {name!r} appears twice (columns {first} and {column}): keep one"
            )
    return names


def _refuse_other_separators(names: list[str], manifest: str) -> None:
    """A header read as one column holding another separator: a spreadsheet set to a language whose decimal mark is
    a comma saves its "CSV" with ';' (or tabs), which would be met as one unknown field, or as cells in no column."""
    if len(names) != 1:
        return
    for separator, shown in _OTHER_SEPARATORS.items():
        if separator in names[0]:
            raise ManifestError(
                f"manifest {manifest}: its columns seem separated by {shown}, not commas (the header is read as one "
                f"column, {names[0]!r}); save it as comma-separated values (in a spreadsheet: CSV UTF-8, comma "
                "delimited), or as JSONL"
            )


def _csv_record(header: list[str], cells: list[str], manifest: str, position: int) -> dict[str, Any]:
    """A row's given values by column name; an empty cell means "not given", so the create call's default applies."""
    record: dict[str, Any] = {}
    for column, cell in enumerate(cells, start=1):
        if not cell.strip():
            continue
        name = header[column - 1] if column <= len(header) else ""
        if not name:  # a trailing comma in the header leaves an unnamed column: harmless while it stays empty
            raise ManifestError(
                f"manifest {manifest}, row {position}: a value in column {column}, which has no name in the header "
                "(more cells than columns?)"
            )
        record[name] = cell.strip()
    return record


def _read_jsonl(lines: Iterator[str], manifest: str) -> list[tuple[int, dict[str, Any]]]:
    records: list[tuple[int, dict[str, Any]]] = []
    line_number = 0
    while True:
        try:
            line = next(lines)
        except StopIteration:
            return records
        except _NotText as problem:
            raise _not_text(manifest, len(records) + 1, problem) from None
        line_number += 1
        if not line.strip():
            continue
        position = len(records) + 1
        try:
            record = json.loads(line, object_pairs_hook=_unique_keys)
        except _DuplicateKey as exc:
            raise ManifestError(
                f"manifest {manifest}, row {position} (line {line_number}): key {exc.key!r} given twice: keep one"
            ) from None
        except ValueError as exc:
            raise ManifestError(f"manifest {manifest}, row {position} (line {line_number}): not JSON ({exc})") from None
        except RecursionError:
            raise ManifestError(
                f"manifest {manifest}, row {position} (line {line_number}): nested deeper than {MAX_DEPTH} levels"
            ) from None
        if not isinstance(record, dict):
            raise ManifestError(f"manifest {manifest}, row {position} (line {line_number}): expected a JSON object")
        records.append((position, {k: v for k, v in record.items() if v is not None}))


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are all different: ``json`` would keep the last of two values without a word."""
    found = dict(pairs)
    if len(found) != len(pairs):
        raise _DuplicateKey(next(key for key, n in Counter(key for key, _ in pairs).items() if n > 1))
    return found


def _row(position: int, record: dict[str, Any], manifest: str, recorded_kinds: Mapping[str, str]) -> ManifestRow:
    record = dict(record)
    key = record.pop("id", f"row-{position}")
    if isinstance(key, bool) or not isinstance(key, str | int):  # str() would name files True.mp4, inf.mp4, ...
        raise ManifestError(
            f"manifest {manifest}, row {position}: id must be a JSON string or a whole number, got "
            f"{type(key).__name__} {reprlib.repr(key)}"
        )
    key = str(key)
    if not _ROW_KEY.fullmatch(key) or ".." in key:
        raise ManifestError(
            f"manifest {manifest}, row {position}: id {key!r} must be letters, digits, '.', '_' or '-', "
            "not starting with '.' nor holding '..' (it names the row's output files)"
        )
    given = record.pop("kind", None)
    try:
        kind = kind_named(str(given)) if given is not None else _inferred(record, recorded_kinds.get(key))
    except InvalidInputError as exc:
        raise ManifestError(f"manifest {manifest}, row {position}: {exc}") from None
    if isinstance(kind, str):  # no kind could be told: the row is refused, the file is not
        return ManifestRow(key, position, "", _shallow(record, manifest, position), kind)
    accepted = accepted_fields(kind)
    unknown = sorted(set(record) - set(accepted))
    if unknown:
        raise ManifestError(
            f"manifest {manifest}, row {position}: unknown field(s) {', '.join(unknown)} for a {kind.name} job "
            f"(accepted: id, kind, {', '.join(accepted)})"
        )
    fields = _shallow({name: _coerce(kind, name, value) for name, value in record.items()}, manifest, position)
    return ManifestRow(key, position, kind.name, fields, _problem(kind, fields))


def _shallow(fields: dict[str, Any], manifest: str, position: int) -> dict[str, Any]:
    if _depth(fields) > MAX_DEPTH:
        raise ManifestError(f"manifest {manifest}, row {position}: values nested deeper than {MAX_DEPTH} levels")
    return fields


def _depth(value: Any) -> int:
    """How deeply lists and objects nest in ``value``, counted without recursion (so any depth can be measured)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _inferred(record: dict[str, Any], recorded: str | None) -> JobKind | str:
    """The kind a row without a ``kind`` column is: the one the journal recorded when it still takes the row's
    fields, else the only kind that has every field the row names; else why none is chosen."""
    named = set(record)
    if recorded and (found := _known_kind(recorded)) is not None and named <= set(accepted_fields(found)):
        return found
    unknown = sorted(named - {name for kind in all_kinds() for name in accepted_fields(kind)})
    if unknown:  # a typo in a column, most likely: refused as a file problem, as with a kind column
        raise InvalidInputError(
            f"unknown field(s) {', '.join(unknown)}: no job kind has them (kinds: {_names(all_kinds())})"
        )
    fitting = [kind for kind in all_kinds() if named <= set(accepted_fields(kind))]
    if len(fitting) == 1:
        return fitting[0]
    fields = _names(sorted(named)) or "none"
    why = f"its fields ({fields}) fit several job kinds" if fitting else f"no job kind has all its fields ({fields})"
    return f"no kind given, and {why}: name one of {_names(fitting or all_kinds())} in a kind column"


def _known_kind(name: str) -> JobKind | None:
    try:
        return kind_named(name)
    except InvalidInputError:  # a kind the spec no longer has
        return None


def _names(items: Iterable[JobKind | str]) -> str:
    return ", ".join(item if isinstance(item, str) else item.name for item in items)


def _coerce(kind: JobKind, name: str, value: Any) -> Any:
    """CSV cells are text: turn them into what the spec says the field holds (JSON for objects and arrays)."""
    if not isinstance(value, str):
        return value
    if name == "check_file_types":
        return value.lower() in _TRUE if value.lower() in _TRUE | _FALSE else value  # else refused, field named
    field = kind.field_for_argument(name)
    schema = field.schema if field is not None else {}
    expected = field.json_type if field is not None else None
    if expected == "object" and is_range(schema):
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*[-,]\s*(\d+(?:\.\d+)?)\s*", value)  # a range: "2-4", "2,4"
        if match:
            end = range_end_type(schema)  # as the spec types min and max (integers today)
            try:
                return {"min": end(match.group(1)), "max": end(match.group(2))}
            except ValueError:  # "1.5-2" for integers: refused by the checks, with the field named
                return {"min": match.group(1), "max": match.group(2)}
    try:
        if expected in ("object", "array") and value[:1] in ("{", "["):
            return read_json(value)
        if expected == "integer":
            return int(value)
        if expected == "number":
            return float(value)
    except ValueError:
        return value  # refused by the checks, with the field named
    if expected == "boolean" and value.lower() in _TRUE | _FALSE:
        return value.lower() in _TRUE
    return value


def _problem(kind: JobKind, fields: dict[str, Any]) -> str | None:
    """Run the create call's own checks, so the row is refused now rather than after others were paid for."""
    arguments = dict(fields)
    check_file_types = arguments.pop("check_file_types", True)
    if not isinstance(check_file_types, bool):
        return f"check_file_types must be true or false, got {check_file_types!r}"
    by_argument = {field.argument: field.name for field in kind.fields}
    given = {by_argument[name]: value for name, value in arguments.items()}
    try:
        request_body(kind, given, check_file_types=check_file_types)
    except InvalidInputError as exc:
        return _in_manifest_terms(str(exc))
    except (TypeError, ValueError, KeyError, RecursionError) as exc:  # a JSON value of the wrong shape
        return f"{kind.name}: {type(exc).__name__}: {exc}"
    return None


# The create call's refusals advise Python arguments; a manifest row is changed through its columns.
_INFERRED_ADVICE = re.compile(r"(cannot be inferred from .*; )pass (\w+)=('[^']*'(?: or '[^']*')*)$")


def _in_manifest_terms(message: str) -> str:
    message = message.replace(f"pass {SKIP_FILE_TYPE_CHECK}", "set the row's check_file_types column to false")
    message = message.replace(f"can be sent with {EXTRA_BODY}", "needs a vozo release that knows it")  # no column
    return _INFERRED_ADVICE.sub(lambda match: f"{match[1]}fill the row's {match[2]} column with {match[3]}", message)
