"""spectools.jobkinds: which operation pairs are job kinds, what they are named, what their statuses carry."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from spectools import build
from spectools.jobkinds import (
    JobKindError,
    default_name,
    find_job_kinds,
    name_status_parameters,
    not_job_kinds,
    stale_hints,
)

from .conftest import FIXTURES

JOB = {"type": "object", "required": ["task_id"], "properties": {"task_id": {"type": "string"}}}


def body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": "ok", "content": {"application/json": {"schema": schema}}}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def status_schema(*values: str, **extra: Any) -> dict[str, Any]:
    properties = {"status": {"type": "string", "enum": list(values)}, **extra}
    return {"type": "object", "required": ["status"], "properties": properties}


def spec_with(paths: dict[str, Any], **schemas: Any) -> dict[str, Any]:
    return {"openapi": "3.1.0", "paths": paths, "components": {"schemas": {"Job": JOB, **schemas}}}


def create(request: str | None = None, **extra: Any) -> dict[str, Any]:
    operation: dict[str, Any] = {"responses": {"200": body(ref("Job"))}, **extra}
    if request:
        operation["requestBody"] = {"content": {"application/json": {"schema": ref(request)}}}
    return {"post": operation}


def get(schema: str, operation_id: str | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {"responses": {"200": body(ref(schema))}}
    if operation_id:
        operation["operationId"] = operation_id
    return {"get": operation}


DUB_STATUS = status_schema(
    "queued",
    "dubbing",
    "done",
    "failed",
    err_code={"type": "string"},
    err_message={"type": "string"},
    preview_url={"type": "string"},
    retries_url={"type": "integer"},  # not a string: not a result file
    result=ref("DubResult"),
)
DUB_RESULT = {
    "type": "object",
    "properties": {"audio_url": {"type": "string"}, "subtitle_url": {"type": "string"}, "lang": {"type": "string"}},
}


def test_an_unnamed_post_and_get_pair_is_a_job_kind_named_after_its_last_segment() -> None:
    spec = spec_with(
        {
            "/v1/media/dub_audio": create("DubRequest", operationId="create_dub"),
            "/v1/media/dub_audio/{task_id}": get("DubStatus", "get_dub"),
        },
        DubRequest={"type": "object"},
        DubStatus=DUB_STATUS,
        DubResult=DUB_RESULT,
    )
    [kind] = find_job_kinds(spec)
    assert (kind.name, kind.family, kind.create_path, kind.create_operation) == (
        "dub_audio", "dub_audio", "/v1/media/dub_audio", "create_dub"
    )  # fmt: skip
    assert (kind.status_path, kind.status_operation) == ("/v1/media/dub_audio/{task_id}", "get_dub")
    assert (kind.status_schema, kind.request_schema) == ("DubStatus", "DubRequest")
    assert kind.statuses == ("queued", "dubbing", "done", "failed")
    assert kind.result_url_fields == ("preview_url", "result.audio_url", "result.subtitle_url")
    assert kind.results[0] == ("preview", ("preview_url",))
    assert kind.error_fields == ("err_code", "err_message")


def test_x_vozo_resource_on_the_create_names_the_kind() -> None:
    spec = spec_with(
        {"/v1/video_generation": create(**{"x-vozo-resource": "lipsync"}), "/v1/video_generation/{task_id}": get("S")},
        S=status_schema("pending", "done", "failed", video_url={"type": "string"}),
    )
    [kind] = find_job_kinds(spec)
    assert (kind.name, kind.status_schema, kind.request_schema) == ("lipsync", "S", "")
    assert (kind.result_url_fields, kind.error_fields) == (("video_url",), (None, None))


@pytest.mark.parametrize(
    ("statuses", "job"),
    [
        (("pending", "done"), JOB),  # no failed
        (("pending", "failed"), JOB),  # no done
        (("pending", "done", "failed"), {"type": "object", "properties": {"id": {"type": "string"}}}),  # no task_id
    ],
)
def test_pairs_that_break_the_rule_are_not_job_kinds(statuses: tuple[str, ...], job: dict[str, Any]) -> None:
    spec = spec_with({"/v1/x": create(), "/v1/x/{task_id}": get("S")}, S=status_schema(*statuses))
    spec["components"]["schemas"]["Job"] = job
    assert find_job_kinds(spec) == []


def test_a_create_without_a_status_operation_is_not_a_job_kind() -> None:
    spec = spec_with({"/v1/x": create(), "/v1/y/{task_id}": get("S")}, S=status_schema("done", "failed"))
    assert find_job_kinds(spec) == []


def test_the_status_operation_elsewhere_comes_from_the_overlay_key_or_a_link() -> None:
    link = {"operationId": "get_lipsync_job", "parameters": {"task_id": "$response.body#/task_id"}}
    paths = {
        "/v1/video_generation/{task_id}": get("S", "get_lipsync_job"),
        "/v1/other_status/{task_id}": get("S", "get_other"),
        "/v1/reusable": create(**{"x-vozo-status-operation": "get_other"}),
        "/v1/linked": create(),
    }
    paths["/v1/linked"]["post"]["responses"]["200"]["links"] = {"GetLipsyncJob": link}
    kinds = find_job_kinds(spec_with(paths, S=status_schema("done", "failed")))
    assert [(k.name, k.status_path) for k in kinds] == [
        ("linked", "/v1/video_generation/{task_id}"),
        ("reusable", "/v1/other_status/{task_id}"),
    ]


def test_an_overlay_status_operation_that_is_not_a_status_is_an_error() -> None:
    paths = {"/v1/x": create(**{"x-vozo-status-operation": "nope"}), "/v1/x/{task_id}": get("S")}
    with pytest.raises(JobKindError, match="x-vozo-status-operation 'nope' of POST /v1/x is not a GET operation"):
        find_job_kinds(spec_with(paths, S=status_schema("done", "failed")))


def test_two_kinds_with_one_name_are_an_error_naming_both_paths() -> None:
    paths = {
        "/v1/a/dub": create(),
        "/v1/a/dub/{task_id}": get("S"),
        "/v1/b/dub": create(),
        "/v1/b/dub/{task_id}": get("S"),
    }
    with pytest.raises(JobKindError, match=r"'dub' is used by POST /v1/a/dub and POST /v1/b/dub"):
        find_job_kinds(spec_with(paths, S=status_schema("done", "failed")))


def test_a_name_that_is_not_an_identifier_is_an_error() -> None:
    paths = {"/v1/x": create(**{"x-vozo-resource": "class"}), "/v1/x/{task_id}": get("S")}
    with pytest.raises(JobKindError, match="not a Python identifier"):
        find_job_kinds(spec_with(paths, S=status_schema("done", "failed")))


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/v1/media/dub_audio", "dub_audio"),
        ("/v1/media/dub-audio", "dub_audio"),
        ("/v1/media/dubAudio", "dub_audio"),
        ("/v1/media/{id}/DubAudio", "dub_audio"),  # parameters are skipped
    ],
)
def test_default_names_are_the_snake_case_last_segment(path: str, name: str) -> None:
    assert default_name(path) == name


def test_the_fixture_spec_has_three_job_kinds() -> None:
    kinds = find_job_kinds(build.build_spec(FIXTURES / "upstream", FIXTURES / "overlay.yaml"))
    by_create = {kind.create_operation: kind for kind in kinds}
    assert set(by_create) == {"create_lipsync_job", "create_reusable_lipsync_job", "create_translation_job"}
    reusable = by_create["create_reusable_lipsync_job"]  # its status endpoint comes from the overlay's link
    assert (reusable.status_operation, reusable.result_url_fields) == ("get_lipsync_job", ("video_url",))
    assert by_create["create_translation_job"].error_fields == ("err_code", "err_message")


def test_find_job_kinds_does_not_modify_the_spec() -> None:
    spec = spec_with({"/v1/x": create(), "/v1/x/{task_id}": get("S")}, S=status_schema("done", "failed"))
    before = copy.deepcopy(spec)
    find_job_kinds(spec)
    assert spec == before


def test_each_result_gets_the_file_type_the_spec_tells() -> None:
    """From the URL field's words, then its description, with the overlay's x-vozo-result-types first."""
    result = {
        "type": "object",
        "properties": {
            name: {"type": "string", **({"description": text} if text else {})}
            for name, text in {
                "srt_url": None,
                "vtt_url": None,
                "json_url": None,
                "preview_video_url": None,
                "audio_url": "The dubbed track",
                "captions_url": None,
                "track_url": "Subtitles as a WebVTT file",
                "poster_url": "A still image of the first frame",
                "report_url": None,  # nothing tells: no type
                "subtitle_vtt_url": None,  # an extension beats a kind of file
                "dubbed_url": None,  # given by the overlay below
            }.items()
        },
    }
    spec = spec_with(
        {
            "/v1/media/dub": create(**{"x-vozo-result-types": {"dubbed": "video"}}),
            "/v1/media/dub/{task_id}": get("DubStatus"),
        },
        DubStatus=status_schema("done", "failed", result=ref("DubResult")),
        DubResult=result,
    )
    spec["x-vozo-file-types"] = {"video": [".MOV", ".mp4"], "audio": [".wav"], "subtitle": [".srt"]}
    (kind,) = find_job_kinds(spec)
    assert kind.result_suffixes == {
        "srt": ".srt",
        "vtt": ".vtt",
        "json": ".json",
        "preview_video": ".mov",  # the first of the spec's video types
        "audio": ".wav",
        "captions": ".srt",
        "track": ".vtt",
        "poster": ".png",  # a kind of file the spec lists no types for: our default for it
        "subtitle_vtt": ".vtt",
        "dubbed": ".mov",
    }


def test_the_fixture_spec_types_each_result() -> None:
    kinds = find_job_kinds(build.build_spec(FIXTURES / "upstream", FIXTURES / "overlay.yaml"))
    by_create = {kind.create_operation: kind for kind in kinds}
    assert by_create["create_translation_job"].result_suffixes == {"video": ".mp4", "audio": ".wav", "subtitle": ".srt"}
    assert by_create["create_lipsync_job"].result_suffixes == {"video": ".mp4"}


def _parameter(name: str, place: str, required: bool = True) -> dict[str, Any]:
    return {"name": name, "in": place, "required": required, "schema": {"type": "string"}}


def _pair(**parameters: Any) -> dict[str, Any]:
    """A create and status pair; ``parameters`` adds parameters at ``create``, ``create_path``, ``status``."""
    paths = {"/v1/x": create(), "/v1/x/{task_id}": get("S")}
    paths["/v1/x/{task_id}"]["get"]["parameters"] = [_parameter("task_id", "path")]
    if "create" in parameters:
        paths["/v1/x"]["post"]["parameters"] = parameters["create"]
    if "create_path" in parameters:
        paths["/v1/x"]["parameters"] = parameters["create_path"]
    if "status" in parameters:
        paths["/v1/x/{task_id}"]["get"]["parameters"] += parameters["status"]
    spec = spec_with(paths, S=status_schema("done", "failed"))
    spec["components"]["parameters"] = {"Workspace": _parameter("workspace", "header")}
    return spec


@pytest.mark.parametrize(
    ("parameters", "message", "where"),
    [
        ({"create": [_parameter("workspace", "query")]}, "POST /v1/x requires the query parameter `workspace`",
         ("paths", "/v1/x", "post", "parameters", 0)),
        ({"create_path": [_parameter("project", "path", False)]}, "requires the path parameter `project`",
         ("paths", "/v1/x", "parameters", 0)),
        ({"status": [{"$ref": "#/components/parameters/Workspace"}]},
         "GET /v1/x/{task_id} requires the header parameter `workspace`, but the SDK calls a job kind's status "
         "operation with the task id alone", ("paths", "/v1/x/{task_id}", "get", "parameters", 1)),
    ],
    ids=["create-query", "create-path-level", "status-header-ref"],
)  # fmt: skip
def test_a_kind_whose_operations_require_parameters_the_sdk_never_passes_is_refused(
    parameters: dict[str, Any], message: str, where: tuple[Any, ...]
) -> None:
    """Such a kind passed the update, lint and mypy; then every create raised TypeError ("a bug in vozo") and a
    `vozo batch` row became uncertain."""
    with pytest.raises(JobKindError, match=re.escape(message)) as refused:
        find_job_kinds(_pair(**parameters))
    assert refused.value.path == where


def test_optional_parameters_are_left_out_and_the_kind_stays() -> None:
    spec = _pair(create=[_parameter("dry_run", "query", False)], status=[_parameter("verbose", "query", False)])
    assert [kind.name for kind in find_job_kinds(spec)] == ["x"]


def test_a_request_and_a_status_written_with_allof_have_the_fields_of_every_part() -> None:
    """An allOf request gave a kind whose create took no argument and then failed on a KeyError; an allOf status
    was no job kind ("lists no values")."""
    base = {"type": "object", "required": ["audio_url"], "properties": {"audio_url": {"type": "string"}}}
    more = {"type": "object", "required": ["target_language"], "properties": {"target_language": {"type": "string"}}}
    spec = spec_with(
        {"/v1/x": create("R"), "/v1/x/{task_id}": get("S")},
        Base=base,
        R={"allOf": [ref("Base"), {**more, "properties": {**more["properties"], "voice": {"type": "string"}}}]},
        S={"allOf": [ref("Status"), {"type": "object", "properties": {"result": ref("DubResult")}}]},
        Status=status_schema("queued", "done", "failed", err_code={"type": "string"}),
        DubResult=DUB_RESULT,
    )
    [kind] = find_job_kinds(spec)
    assert [(field.name, field.required) for field in kind.fields] == [
        ("audio_url", True), ("target_language", True), ("voice", False)
    ]  # fmt: skip
    assert kind.statuses == ("queued", "done", "failed")
    assert kind.result_url_fields == ("result.audio_url", "result.subtitle_url")
    assert kind.error_fields == ("err_code", None)


def test_a_kind_whose_create_takes_no_json_body_is_refused() -> None:
    """A multipart create was a kind whose create took no argument and failed every time, after a clean update."""
    spec = spec_with({"/v1/x": create("R"), "/v1/x/{task_id}": get("S")}, R=JOB, S=status_schema("done", "failed"))
    body = spec["paths"]["/v1/x"]["post"]["requestBody"]
    body["content"] = {"multipart/form-data": body["content"]["application/json"]}
    with pytest.raises(JobKindError, match=r"request body is multipart/form-data, not application/json") as refused:
        find_job_kinds(spec)
    assert refused.value.path == ("paths", "/v1/x", "post", "requestBody", "content")


def test_an_alias_vozo_adds_as_a_real_value_is_sent_as_it_is_and_reported() -> None:
    """The overlay's `standard` stands for `standard_v1`; once Vozo lists a `standard` of its own, a caller passing
    it was silently sent `standard_v1`, and the report said nothing."""
    old = build.build_spec(FIXTURES / "upstream", FIXTURES / "overlay.yaml")
    new = copy.deepcopy(old)
    new["components"]["schemas"]["Model"]["enum"].append("standard")
    [model] = [
        field
        for kind in find_job_kinds(new)
        if kind.name == "lipsync"
        for field in kind.fields
        if field.name == "model"
    ]
    assert model.value_aliases == {"precision": "precision_v1"}
    assert stale_hints(new) == [
        "x-vozo-fields of POST /v1/video_generation: `model` alias 'standard' is now one of its own values, sent as it "
        "is (not as 'standard_v1')"
    ]
    assert stale_hints(old) == []


def test_a_status_read_under_another_parameter_name_is_named_in_the_reason() -> None:
    """The report said "there is no GET /v1/x/{task_id}" beside a GET /v1/x/{id}, which looked like a lie."""
    spec = spec_with({"/v1/x": create(), "/v1/x/{id}": get("S")}, S=status_schema("done", "failed"))
    assert find_job_kinds(spec) == []
    assert not_job_kinds(spec)["/v1/x"] == (
        "it answers a task_id, but there is no GET /v1/x/{task_id} to read its status (GET /v1/x/{id} takes the "
        "task id under another name, and the SDK passes it as the path parameter `task_id` only)"
    )


@pytest.mark.parametrize("shared", [False, True])
def test_a_status_parameter_the_docs_name_otherwise_is_the_task_id_of_the_built_spec(shared: bool) -> None:
    """Vozo's docs naming the status path's parameter {taskId} hid the job kind after `make update-spec`: the name is
    not part of the URL, so the built spec names it task_id, as every part of the SDK passes it."""
    parameter = _parameter("taskId", "path")
    spec = spec_with(
        {
            "/v1/x": create(),
            "/v1/x/{taskId}": {"get": {**get("S")["get"], "parameters": [ref_parameter() if shared else parameter]}},
            "/v1/models/{taskId}": {
                "get": {**get("S")["get"], "parameters": [ref_parameter() if shared else parameter]}
            },
        },
        S=status_schema("done", "failed"),
    )
    spec["components"]["parameters"] = {"TaskId": parameter}
    built = name_status_parameters(spec)
    assert list(built["paths"]) == ["/v1/x", "/v1/x/{task_id}", "/v1/models/{taskId}"]  # no create above the last
    assert built["paths"]["/v1/x/{task_id}"]["get"]["parameters"] == [{**parameter, "name": "task_id"}]
    assert built["components"]["parameters"] == {"TaskId": parameter}  # a shared one is copied in, not changed
    assert built["paths"]["/v1/models/{taskId}"] == spec["paths"]["/v1/models/{taskId}"]
    (kind,) = find_job_kinds(built)
    assert (kind.create_path, kind.status_path) == ("/v1/x", "/v1/x/{task_id}")


def ref_parameter() -> dict[str, str]:
    return {"$ref": "#/components/parameters/TaskId"}


def test_docs_text_reaches_help_and_docstrings_as_one_printable_line() -> None:
    """A page's summary or field description holding an escape sequence reached `vozo <kind> --help` as it was, and
    could clear or retitle the terminal that printed it."""
    request = {
        "type": "object",
        "required": ["media_url"],
        "properties": {
            "media_url": {"type": "string", "description": "The media\x1b[2J to\n  remix\x07.\x1b]0;pwned\x07"}
        },
    }
    paths = {"/v1/x": create("R", summary="Remix\x1b[31m a\r\nvideo"), "/v1/x/{task_id}": get("S")}
    (kind,) = find_job_kinds(spec_with(paths, R=request, S=status_schema("done", "failed")))
    assert kind.summary == "Remix[31m a video"
    assert [field.description for field in kind.fields] == ["The media[2J to remix.]0;pwned"]


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"pattern": "^[a-z]{2}(-[A-Za-z]{2})?$"}, "does not have its documented form ^[a-z]{2}(-[A-Za-z]{2})?$"),
        ({"type": "integer", "pattern": None}, "is not of its type (integer)"),
        ({"pattern": None, "minimum": 3}, None),  # a bound on a string: the SDK checks numbers only
    ],
)
def test_a_default_the_field_no_longer_takes_is_dropped_and_reported(change: dict[str, Any], why: str | None) -> None:
    """The overlay's source_language default `auto`, after Vozo's pattern stops allowing it: were it still sent,
    every create that leaves the field out would be refused by the SDK itself, for a value the caller never gave."""
    old = build.build_spec(FIXTURES / "upstream", FIXTURES / "overlay.yaml")
    new = copy.deepcopy(old)
    prop = new["components"]["schemas"]["MediaTranslateRequest"]["properties"]["source_language"]
    prop.update(change)
    for key in [key for key, value in prop.items() if value is None]:
        del prop[key]
    [source] = [
        field
        for kind in find_job_kinds(new)
        if kind.name == "translations"
        for field in kind.fields
        if field.name == "source_language"
    ]
    if why is None:
        assert source.default == "auto"
        assert stale_hints(new) == []
        return
    assert source.default is None
    assert stale_hints(new) == [
        f"x-vozo-fields of POST /v1/media/translate: `source_language` default 'auto' {why}; it is not sent"
    ]
    assert [field.default for kind in find_job_kinds(old) for field in kind.fields if field.name == "source_language"]
    assert stale_hints(old) == []


@pytest.mark.parametrize("code", ["201", "202"])
def test_a_create_that_answers_its_task_id_with_another_2xx_is_a_job_kind(code: str) -> None:
    """Vozo documents a new create as `202 Job queued`: it was no job kind, and the report did not say why."""
    operation = create("DubRequest")
    operation["post"]["responses"] = {code: operation["post"]["responses"]["200"]}
    spec = spec_with(
        {"/v1/media/dub_audio": operation, "/v1/media/dub_audio/{task_id}": get("DubStatus")},
        DubRequest={"type": "object"},
        DubStatus=DUB_STATUS,
        DubResult=DUB_RESULT,
    )
    [kind] = find_job_kinds(spec)
    assert kind.name == "dub_audio"
    assert not_job_kinds(spec) == {}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (("err_code", "err_message"), ("err_code", "err_message")),
        (("error_code", "error_message"), ("error_code", "error_message")),
        (("errorCode", "errorMessage"), ("errorCode", "errorMessage")),
        (("error_code", "err_msg"), ("error_code", "err_msg")),
    ],
)
def test_the_error_fields_are_found_under_the_names_vozo_gives_them(
    fields: tuple[str, str], expected: tuple[str, str]
) -> None:
    """A status that names its error fields error_code/error_message: JobFailedError lost Vozo's reason (the SDK
    read only err_code/err_message), and FakeVozo put its failures in fields the spec does not have."""
    status = status_schema("queued", "done", "failed", **{name: {"type": "string"} for name in fields})
    spec = spec_with(
        {"/v1/media/dub_audio": create("DubRequest"), "/v1/media/dub_audio/{task_id}": get("DubStatus")},
        DubRequest={"type": "object"},
        DubStatus=status,
    )
    [kind] = find_job_kinds(spec)
    assert kind.error_fields == expected
