"""Answers whose fields have the wrong JSON type: a hostile or buggy server, a proxy, or a Vozo that retyped a field.

The cases come from the models: every field of every job kind's status (also what a callback carries) and of a
create's answer, nested objects included, each given every JSON type its annotation does not allow. Whatever the
client returns holds only values of their annotated types. A required field of another type is an
``APIResponseValidationError`` naming the field and what came (for a create: the job may exist, never sent again); an
optional one reads as absent, with a warning naming the field and never the key.
"""

from __future__ import annotations

import enum
import json
import logging
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import attrs
import pytest
from click.testing import CliRunner

import vozo
import vozo_api_client.models
import vozo_api_client.types
from vozo import callbacks
from vozo._cli import main
from vozo._jobs import GARBLED_TOLERANCE
from vozo._kinds import JobKind, all_kinds
from vozo.batch import RowState
from vozo_api_client.models import Job
from vozo_api_client.types import UNSET, Unset

from . import test_hostile_api
from .conftest import KEY
from .test_batch import write_manifest
from .test_download_faults import Connection
from .test_hostile_api import JOB_MAY_EXIST, LIPSYNC, Answer, answer, raises

serve, call = test_hostile_api.serve, test_hostile_api.call  # the raw servers, and the sync, asyncio and trio clients

# One value of each JSON type; the object and the array quote the key, which no error or log may show.
JSON_VALUES: dict[str, Any] = {
    "string": "x",
    "integer": 7,
    "number": 2.5,
    "boolean": True,
    "object": {"echo": KEY},
    "array": [KEY],
    "null": None,
}
JSON_WORDS = {"string": "a string", "integer": "a number", "number": "a number", "boolean": "a boolean",
              "object": "an object", "array": "an array", "null": "null"}  # fmt: skip
MEDIA = (Path(vozo.testing.__file__).parent / "sample.mp4").read_bytes()


def json_types(annotation: Any) -> set[str]:
    """The JSON types a field annotated so may hold (``Unset``, its absence, is no JSON type)."""
    found: set[str] = set()
    for member in typing.get_args(annotation) if isinstance(annotation, types.UnionType) else (annotation,):
        if member is Unset:
            continue
        if member is type(None):
            found.add("null")
        elif attrs.has(member) or member is dict or typing.get_origin(member) is dict:
            found.add("object")
        elif member is list or typing.get_origin(member) is list:
            found.add("array")
        elif member is bool:
            found.add("boolean")
        elif member is float:
            found |= {"integer", "number"}
        elif issubclass(member, int):
            found.add("integer")
        elif issubclass(member, str):  # str, and the StrEnums of status values
            found.add("string")
        else:
            raise AssertionError(f"no JSON type known for {member!r}")
    return found


def hints(model: type) -> dict[str, Any]:
    return typing.get_type_hints(model, localns=vars(vozo_api_client.models))


@dataclass(frozen=True)
class Case:
    """One field of an answer, given a value of one JSON type its model does not declare."""

    model: type  # the model declaring the field
    path: tuple[str, ...]  # the keys leading to it from the answer
    json_type: str
    required: bool

    @property
    def field(self) -> str:
        return f"{self.model.__name__}.{self.path[-1]}"

    def body(self, base: dict[str, Any]) -> dict[str, Any]:
        body = json.loads(json.dumps(base))
        parent = body
        for key in self.path[:-1]:
            parent = parent.setdefault(key, {})
        parent[self.path[-1]] = JSON_VALUES[self.json_type]
        return body

    def __str__(self) -> str:
        return f"{'.'.join(self.path)}={self.json_type}"


def cases(model: type, prefix: tuple[str, ...] = ()) -> Iterator[Case]:
    for field in attrs.fields(model):
        if field.name == "additional_properties":
            continue
        annotation = hints(model)[field.name]
        declared = json_types(annotation)
        for json_type in JSON_VALUES:
            if json_type not in declared:
                yield Case(model, (*prefix, field.name), json_type, field.default is attrs.NOTHING)
        for member in typing.get_args(annotation) or (annotation,):
            if attrs.has(member):
                yield from cases(member, (*prefix, field.name))


def one_type_each(all_cases: list[tuple[JobKind, Case]]) -> list[tuple[JobKind, Case]]:
    """One case per field, each given the JSON type used least so far: every field and every JSON type, in fewer
    cases."""
    chosen: list[tuple[JobKind, Case]] = []
    used = dict.fromkeys(JSON_VALUES, 0)
    kinds = {kind.name: kind for kind, _ in all_cases}
    for name, path in dict.fromkeys((kind.name, case.path) for kind, case in all_cases):
        of_field = {case.json_type: case for kind, case in all_cases if (kind.name, case.path) == (name, path)}
        json_type = min(of_field, key=lambda each: (used[each], list(JSON_VALUES).index(each)))
        used[json_type] += 1
        chosen.append((kinds[name], of_field[json_type]))
    return chosen


STATUS_CASES = [(kind, case) for kind in all_kinds() for case in cases(kind.status_model)]
# The kinds of each status model once, with what a manifest row of theirs looks like (batch and CLI runs).
MODEL_KINDS = list({kind.status_model: kind for kind in reversed(all_kinds())}.values())
SAMPLED_STATUS_CASES = one_type_each([(kind, case) for kind in MODEL_KINDS for case in cases(kind.status_model)])
CREATE_CASES = list(cases(Job))
RESULT_CASES = [
    (kind, case) for kind, case in STATUS_CASES if case.path in [keys for _, keys in kind.results]
]  # fmt: skip


def ids(param: Any) -> str:
    return param.name if isinstance(param, JobKind) else str(param)


def done_status(kind: JobKind, url: str) -> dict[str, Any]:
    """A done status of ``kind`` with every result URL present, pointing at ``url``'s media."""
    body: dict[str, Any] = {"status": "done"}
    for name, keys in kind.results:
        parent = body
        for key in keys[:-1]:
            parent = parent.setdefault(key, {})
        parent[keys[-1]] = f"{url}/media/{name}.mp4"
    return body


def vozo_api(status: dict[str, Any] | None = None, job: dict[str, Any] | None = None) -> Answer:
    """A server answering creates with ``job``, status requests with ``status`` and media with an mp4; a ``status``
    of None is filled in per request as a done status whose URLs point at this server."""

    def send(c: Connection) -> None:
        if c.path.startswith("/media/"):
            return answer("200 OK", MEDIA, {"Content-Type": "video/mp4"})(c)
        if c.method == "POST":
            return answer("200 OK", json.dumps(job or {"task_id": "t1"}).encode())(c)
        return answer("200 OK", json.dumps(status).encode())(c)

    return send


def assert_typed(model: Any) -> None:
    """Every field of ``model`` (and of the models in it) holds a value of its annotated type."""
    for field in attrs.fields(type(model)):
        value = getattr(model, field.name)
        if field.name == "additional_properties":
            assert isinstance(value, dict)
            continue
        annotation = hints(type(model))[field.name]
        allowed = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else (annotation,)
        plain = tuple(typing.get_origin(member) or member for member in allowed)
        assert isinstance(value, plain), f"{type(model).__name__}.{field.name} = {value!r}, annotated {annotation}"
        assert not (type(value) is bool and bool not in plain), f"{type(model).__name__}.{field.name} = {value!r}"
        if isinstance(value, enum.Enum):
            assert isinstance(value.value, str | int)
        if attrs.has(type(value)):
            assert_typed(value)


def field_value(status: Any, path: tuple[str, ...]) -> Any:
    value = status
    for key in path:
        value = getattr(value, key, UNSET)
    return value


def assert_read_as_absent(status: Any, case: Case, log: pytest.LogCaptureFixture) -> None:
    assert_typed(status)
    assert field_value(status, case.path) is UNSET
    warnings = [r.getMessage() for r in log.records if r.name == "vozo" and r.levelno == logging.WARNING]
    assert any(case.field in text and JSON_WORDS[case.json_type] in text for text in warnings), warnings
    assert KEY not in log.text


def assert_names_the_field(error: BaseException, case: Case) -> None:
    text = str(error)
    assert case.field in text, text
    assert f"got {JSON_WORDS[case.json_type]}" in text, text
    assert "base_url" in text, text
    assert "update the vozo package" in text, text
    assert KEY not in text


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.WARNING, logger="vozo")
    vozo_api_client.types._WARNED.clear()  # each case's first reading warns (then never again in its process)
    return caplog


# --- get, wait, download -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "case"), STATUS_CASES, ids=ids)
def test_get_reads_a_mistyped_field_as_absent_or_refuses_a_mistyped_required_one(serve, call, log, kind, case) -> None:
    server = serve(vozo_api(case.body({"status": "done"})))
    get = lambda client: getattr(client, kind.name).get("t1")  # noqa: E731
    if case.required:
        assert_names_the_field(raises(vozo.APIResponseValidationError, call, server.url, get), case)
        assert len(server.connections) == 1  # such an answer is no outage: not asked again
    else:
        assert_read_as_absent(call(server.url, get), case, log)


@pytest.mark.parametrize(("kind", "case"), STATUS_CASES, ids=ids)
def test_wait_returns_a_typed_status_or_ends_on_a_status_that_never_parses(serve, call, log, kind, case) -> None:
    server = serve(vozo_api(case.body({"status": "done"})))
    wait = lambda client: getattr(client, kind.name).wait("t1", poll_interval=0.001)  # noqa: E731
    if case.required:
        assert_names_the_field(raises(vozo.APIResponseValidationError, call, server.url, wait), case)
        assert len(server.connections) == GARBLED_TOLERANCE + 1  # read as garbled in transit, then given up
    else:
        assert_read_as_absent(call(server.url, wait), case, log)


def test_a_wait_warns_of_a_mistyped_field_once_not_at_every_poll(serve, call, log) -> None:
    case = next(case for kind, case in STATUS_CASES if kind.name == "lipsync" and not case.required)
    polls = iter(["processing"] * 3 + ["done"])
    server = serve(lambda c: vozo_api(case.body({"status": next(polls)}))(c))
    call(server.url, lambda client: client.lipsync.wait("t1", poll_interval=0.001))
    warnings = [r for r in log.records if r.levelno == logging.WARNING and case.field in r.getMessage()]
    assert (len(server.connections), len(warnings)) == (4, 1)


@pytest.mark.parametrize(("kind", "case"), RESULT_CASES, ids=ids)
def test_a_mistyped_result_url_on_a_done_job_is_no_download(serve, call, log, tmp_path, kind, case) -> None:
    server = serve(vozo_api())
    body = case.body(done_status(kind, server.url))
    server.answer = vozo_api(body)
    which = next(name for name, keys in kind.results if keys == case.path)

    async def download_async(client: Any) -> Path:
        return await client.download(await getattr(client, kind.name).get("t1"), tmp_path, which=which)

    def download(client: Any) -> Any:
        if isinstance(client, vozo.AsyncVozo):
            return download_async(client)
        return client.download(getattr(client, kind.name).get("t1"), tmp_path, which=which)

    error = raises(vozo.InvalidInputError, call, server.url, download)
    assert f"no {which!r} result" in str(error)
    assert list(tmp_path.iterdir()) == []
    assert not [c for c in server.connections if c.path.startswith("/media/")]


# --- create ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CREATE_CASES, ids=str)
def test_a_create_answer_with_a_mistyped_field_says_the_job_may_exist_and_is_sent_once(serve, call, log, case) -> None:
    server = serve(vozo_api(job=case.body({"task_id": "t1"})))
    create = lambda client: client.lipsync.create(**LIPSYNC)  # noqa: E731
    if case.required:
        error = raises(vozo.APIResponseValidationError, call, server.url, create, max_active_jobs=1)
        assert_names_the_field(error, case)
        assert JOB_MAY_EXIST in str(error)
        assert [c.method for c in server.connections] == ["POST"]
    else:
        assert_read_as_absent(call(server.url, create), case, log)


# --- callbacks -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "case"), STATUS_CASES, ids=ids)
@pytest.mark.parametrize("named", [True, False], ids=["kind-given", "kind-found"])
def test_a_callback_with_a_mistyped_field(log, kind, case, named) -> None:
    body = json.dumps(case.body({"status": "done"}))
    if case.required:
        with pytest.raises(callbacks.CallbackError) as info:
            callbacks.parse(body, kind=kind.name if named else None)
        assert case.path[-1] in str(info.value)
        assert KEY not in str(info.value)
    else:
        status = callbacks.parse(body, kind=kind.name)
        assert isinstance(status, kind.status_model)
        assert_read_as_absent(status, case, log)


# --- the CLI and vozo batch run ------------------------------------------------------------------------------------


def run_cli(url: str, *args: str) -> Any:
    return CliRunner().invoke(main, ["--json", *args], env={"VOZO_API_KEY": KEY, "VOZO_BASE_URL": url})


@pytest.mark.parametrize(("kind", "case"), SAMPLED_STATUS_CASES, ids=ids)
@pytest.mark.parametrize("command", ["status", "wait"])
def test_vozo_status_and_wait_with_a_mistyped_field(serve, kind, case, command) -> None:
    server = serve(vozo_api())
    server.answer = vozo_api(case.body(done_status(kind, server.url)))
    result = run_cli(server.url, command, "t1", "--kind", kind.cli_name)
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert KEY not in output
    if case.required:
        assert result.exit_code not in (0, None), output
        assert case.field in output, output
        assert "update the vozo package" in output, output
    else:
        assert result.exit_code == 0, output
        shown = json.loads(result.stdout)
        for key in case.path[:-1]:
            shown = shown.get(key, {})
        assert case.path[-1] not in shown, output


@pytest.mark.parametrize(("kind", "case"), SAMPLED_STATUS_CASES, ids=ids)
def test_vozo_batch_run_with_a_mistyped_field_keeps_the_task_id(serve, tmp_path, kind, case) -> None:
    server = serve(vozo_api())
    server.answer = vozo_api(case.body(done_status(kind, server.url)))
    manifest = write_manifest(tmp_path / "m.csv", kind.name != "translations", kind.name == "translations")
    out = tmp_path / "out"
    result = run_cli(server.url, "batch", "run", str(manifest), "--out", str(out), "--poll-interval", "0.001")
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert KEY not in output
    [row] = vozo.batch.status(out).rows
    assert row.task_id == "t1"
    # the results still readable: those the mistyped field is not, nor holds
    readable = [name for name, keys in kind.results if keys[: len(case.path)] != case.path]
    if case.required:
        assert row.state is RowState.SUBMITTED, row  # polled again by the next run
        assert case.field in (row.error or ""), row
    elif readable:
        assert row.state is RowState.COMPLETED, (row, output)
        assert sorted(row.outputs) == sorted(readable), row
    else:
        assert row.state is RowState.DOWNLOAD_FAILED, row
        assert "no result URL" in (row.error or ""), row


def test_the_cases_cover_every_field_and_json_type() -> None:
    """The cases derived from the models are not empty, and each JSON type reaches some field (no case lost)."""
    paths = {case.path for _, case in STATUS_CASES}
    assert paths >= {("status",), *(keys for kind in all_kinds() for _, keys in kind.results)}
    assert {case.path for _, case in SAMPLED_STATUS_CASES} == paths
    assert {case.json_type for _, case in SAMPLED_STATUS_CASES} == set(JSON_VALUES)
    assert [case.path for case in CREATE_CASES] == [("task_id",)] * (len(JSON_VALUES) - 1)
