from __future__ import annotations

import copy

from spectools import build
from spectools.report import change_report, format_report


def test_identical_specs_report_no_change(upstream, overlay_file) -> None:
    spec = build.build_spec(upstream, overlay_file)
    assert change_report(spec, copy.deepcopy(spec)) == []
    assert format_report([]) == "API change report: no changes to operations or fields."


def test_every_kind_of_change_is_reported(upstream, overlay_file) -> None:
    old = build.build_spec(upstream, overlay_file)
    new = copy.deepcopy(old)
    schemas = new["components"]["schemas"]
    schemas["JobStatus"]["properties"]["status"]["enum"] = ["queued", "pending", "processing", "done"]
    schemas["JobStatus"]["properties"]["progress"] = {"type": "integer"}
    schemas["JobStatus"]["required"].append("video_url")
    schemas["VideoGenerationRequest"]["properties"]["audio_url"]["type"] = "integer"
    del schemas["VideoGenerationRequest"]["properties"]["callback_url"]
    schemas["MediaTranslateRequest"]["properties"]["speaker_number"] = {"$ref": "#/components/schemas/OcrTextBox"}
    del new["paths"]["/v1/media/translate/{task_id}"]
    new["paths"]["/v1/models"] = {"get": {"responses": {"200": {"description": "ok"}}}}

    lines = change_report(old, new)
    text = format_report(lines)
    assert "+ GET /v1/models (operation added)" in lines
    assert "- GET /v1/media/translate/{task_id} (operation removed)" in lines
    for expected in (
        "response 200: + field `progress` (integer, optional)",
        "response 200: `video_url` now required",
        "response 200: `status` enum + queued",
        "response 200: `status` enum - failed",
        "request: `audio_url` retyped string -> integer",
        "request: - field `callback_url`",
        "request: + field `speaker_number.x` (number, optional, minimum 0, maximum 1)",
        "request: - field `speaker_number.min`",
    ):
        assert expected in text, expected
    get_block = text.split("~ GET /v1/video_generation/{task_id}")[1].split("~ ")[0]
    assert "`status` enum + queued" in get_block


def dub_audio_pair(spec: dict) -> None:
    """A new job operation pair, the way Vozo would document one."""
    schemas = spec["components"]["schemas"]
    schemas["DubAudioRequest"] = {"type": "object", "properties": {"audio_url": {"type": "string"}}}
    schemas["DubAudioJobStatus"] = {
        "type": "object",
        "required": ["status"],
        "properties": {
            "status": {"type": "string", "enum": ["queuing", "dubbing", "done", "failed"]},
            "err_code": {"type": "string"},
            "result": {"type": "object", "properties": {"audio_url": {"type": "string"}}},
        },
    }
    ok = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}, "description": "ok"}
    request = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/DubAudioRequest"}}}}
    status = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/DubAudioJobStatus"}}}}
    spec["paths"]["/v1/media/dub_audio"] = {"post": {"requestBody": request, "responses": {"200": ok}}}
    spec["paths"]["/v1/media/dub_audio/{task_id}"] = {"get": {"responses": {"200": {**status, "description": "ok"}}}}


def test_a_new_job_kind_is_reported_with_the_name_it_gets(upstream, overlay_file) -> None:
    old = build.build_spec(upstream, overlay_file)
    new = copy.deepcopy(old)
    dub_audio_pair(new)
    lines = change_report(old, new)
    assert (
        "+ job kind `dub_audio` (client.dub_audio): POST /v1/media/dub_audio, "
        "status GET /v1/media/dub_audio/{task_id}, result files: result.audio_url"
    ) in lines
    added = lines.index("+ POST /v1/media/dub_audio (operation added)")
    assert added > 0  # job kinds come first
    assert lines[added + 1] == "    request: + field `audio_url` (string, optional)"  # a new operation's fields
    assert "    response 200: + field `status` (string, required, one of: queuing, dubbing, done, failed)" in lines
    named = copy.deepcopy(new)
    named["paths"]["/v1/media/dub_audio"]["post"]["x-vozo-resource"] = "dubbing"
    assert change_report(new, named) == ["~ job kind POST /v1/media/dub_audio renamed `dub_audio` -> `dubbing`"]


def test_new_enum_values_array_item_types_and_constraints_are_reported(upstream, overlay_file) -> None:
    old = build.build_spec(upstream, overlay_file)
    new = copy.deepcopy(old)
    request = new["components"]["schemas"]["MediaTranslateRequest"]["properties"]
    request["voice_style"] = {"type": "string", "enum": ["calm", "lively"]}
    request["glossary"] = {"type": "array", "items": {"type": "string"}}
    request["target_language"]["pattern"] = "^[a-z]{2,3}$"
    request["media_url"]["format"] = "uri"
    box = new["components"]["schemas"]["OcrTextBox"]["properties"]
    box["x"]["maximum"] = 100
    del box["y"]["minimum"]
    old_request = old["components"]["schemas"]["MediaTranslateRequest"]["properties"]
    old_request["glossary"] = {"type": "array", "items": {"type": "integer"}}
    new["components"]["schemas"]["MediaTranslateRequest"]["properties"]["tags"] = {
        "type": "array",
        "items": {"$ref": "#/components/schemas/SpeakerNumber"},
    }
    text = format_report(change_report(old, new))
    for expected in (
        "request: + field `voice_style` (string, optional, one of: calm, lively)",
        "request: `glossary` retyped array[integer] -> array[string]",
        "request: + field `tags` (array[object], optional)",
        "request: + field `tags.[].min` (integer, optional)",
        "request: `target_language` pattern ^[a-z]{2}(-[A-Za-z]{2})?$ -> ^[a-z]{2,3}$",
        "request: `media_url` + format uri",
        "request: `ocr_text_box.x` maximum 1 -> 100",
        "request: `ocr_text_box.y` - minimum 0",
    ):
        assert expected in text, expected


def test_a_schema_renamed_with_the_same_shape_is_reported_as_a_rename(upstream, overlay_file) -> None:
    old = build.build_spec(upstream, overlay_file)
    new = copy.deepcopy(old)
    schemas = new["components"]["schemas"]
    schemas["TranslateResult"] = {**schemas.pop("MediaTranslateResult"), "description": "Result files"}  # prose only
    schemas["MediaTranslateJobStatus"]["properties"]["result"] = {"$ref": "#/components/schemas/TranslateResult"}
    schemas["Speakers"] = {"type": "object", "properties": {"min": {"type": "integer"}}}  # a different shape
    del schemas["SpeakerNumber"]
    schemas["MediaTranslateRequest"]["properties"]["speaker_number"] = {"$ref": "#/components/schemas/Speakers"}
    lines = change_report(old, new)
    assert "~ schema `MediaTranslateResult` renamed `TranslateResult` (same shape)" in lines
    assert "- schema `SpeakerNumber`" in lines
    assert "+ schema `Speakers`" in lines
    assert not any("TranslateResult`" in line and line.startswith("+") for line in lines)


def test_enum_values_that_plain_text_would_misread_are_quoted(upstream, overlay_file) -> None:
    """A line break in a value broke the report's line in two; an empty value or one holding a comma read as
    another number of values."""
    old = build.build_spec(upstream, overlay_file)
    new = copy.deepcopy(old)
    request = new["components"]["schemas"]["MediaTranslateRequest"]["properties"]
    request["voice_style"] = {"type": "string", "enum": ["calm", "very lively", "", "a, b", "line\nbreak", " x"]}
    lines = change_report(old, new)
    assert (
        "    request: + field `voice_style` (string, optional, one of: calm, very lively, '', 'a, b', "
        "'line\\nbreak', ' x')"
    ) in lines
    assert all("\n" not in line for line in lines)


def test_a_status_value_that_names_an_end_is_reported_as_ending_the_wait(upstream, overlay_file) -> None:
    """`cancelled` or `expired` never turn into done: the report says a wait ends there, as at failed."""
    old = build.build_spec(upstream, overlay_file)
    new = copy.deepcopy(old)
    dub_audio_pair(new)
    status = new["components"]["schemas"]["DubAudioJobStatus"]["properties"]["status"]
    status["enum"] = [*status["enum"], "cancelling", "cancelled", "error_recovering"]
    enum = new["components"]["schemas"]["MediaTranslateJobStatus"]["properties"]["status"]["enum"]
    enum += ["expired", "timed_out"]
    lines = change_report(old, new)
    assert (
        "! job kind `dub_audio`: status `cancelled` ends the job: wait() raises JobFailedError, as at failed" in lines
    )
    assert (
        "! job kind `translations`: status `expired`, `timed_out` ends the job: wait() raises JobFailedError, "
        "as at failed"
    ) in lines
    assert not [line for line in lines if ("`cancelling`" in line or "recovering" in line) and line.startswith("!")]
    assert not [line for line in change_report(new, copy.deepcopy(new)) if "ends the job" in line]


def test_the_report_s_words_of_an_end_are_the_wait_s() -> None:
    from spectools.jobkinds import ENDED_WORDS
    from vozo import _jobs

    assert ENDED_WORDS == _jobs.ENDED_WORDS


def test_result_files_a_kind_gains_or_loses_are_reported_at_the_kind(upstream, overlay_file) -> None:
    """lipsync's `video_url` retyped string -> object: the kind has no result file now (download(), `vozo lipsync
    -o` and batch outputs go with it); the field lines alone did not say so."""
    old = build.build_spec(upstream, overlay_file)
    new = copy.deepcopy(old)
    status = new["components"]["schemas"]["JobStatus"]["properties"]
    status["video_url"] = {"type": "object", "properties": {"url": {"type": "string"}}}
    status["preview_url"] = {"type": "string", "description": "A still image of the video"}
    lines = change_report(old, new)
    assert "~ job kind `lipsync`: result files video_url -> preview_url" in lines
    assert "~ job kind `reusable_lipsync`: result files video_url -> preview_url" in lines
    del status["preview_url"]
    assert "~ job kind `lipsync`: result files video_url -> none (download() of its status has no file to fetch)" in (
        change_report(old, new)
    )
    assert not [line for line in change_report(old, copy.deepcopy(old)) if "result files" in line]
