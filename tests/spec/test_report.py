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
        "request: + field `speaker_number.x` (number, optional)",
        "request: - field `speaker_number.min`",
    ):
        assert expected in text, expected
    get_block = text.split("~ GET /v1/video_generation/{task_id}")[1].split("~ ")[0]
    assert "`status` enum + queued" in get_block
