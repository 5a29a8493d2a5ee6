from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from spectools import build
from spectools.__main__ import main
from spectools.build import SpecInvalidError

OPERATIONS = {
    ("post", "/v1/video_generation"): "create_lipsync_job",
    ("get", "/v1/video_generation/{task_id}"): "get_lipsync_job",
    ("post", "/v1/reusable_lipsync_model_video_generation"): "create_reusable_lipsync_job",
    ("post", "/v1/media/translate"): "create_translation_job",
    ("get", "/v1/media/translate/{task_id}"): "get_translation_job",
}


def test_the_fixture_spec_has_all_five_operations_with_our_additions(upstream, overlay_file) -> None:
    spec = build.build_spec(upstream, overlay_file)
    found = {(m, p): op["operationId"] for p, item in spec["paths"].items() for m, op in item.items()}
    assert found == OPERATIONS
    for item in spec["paths"].values():
        for operation in item.values():
            assert {"200", "400", "401", "429", "500", "503"} <= operation["responses"].keys()
            assert operation["tags"]
    create_200 = spec["paths"]["/v1/video_generation"]["post"]["responses"]["200"]
    assert create_200["links"]["GetLipsyncJob"]["parameters"] == {"task_id": "$response.body#/task_id"}
    status_example = spec["paths"]["/v1/video_generation/{task_id}"]["get"]["responses"]["200"]["content"]
    assert status_example["application/json"]["example"]["status"] == "done"


def test_vozo_documented_schemas_survive_the_overlay_unchanged(upstream, overlay_file) -> None:
    spec = build.build_spec(upstream, overlay_file)
    schemas = spec["components"]["schemas"]
    assert schemas["JobStatus"]["properties"]["status"]["enum"] == ["pending", "processing", "done", "failed"]
    assert schemas["Error"]["required"] == ["code", "message"]
    assert schemas["VideoGenerationRequest"]["required"] == [
        "reference_file_url",
        "audio_url",
        "model",
        "reference_file_type",
    ]


def test_build_is_deterministic(upstream, overlay_file, tmp_path: Path) -> None:
    first = build.render(build.build_spec(upstream, overlay_file))
    # the same pages under other names, so they are read in another order
    renamed = tmp_path / "upstream"
    renamed.mkdir()
    for index, page in enumerate(sorted(upstream.glob("*.md"), reverse=True)):
        shutil.copy(page, renamed / f"{index}-{page.name}")
    assert build.render(build.build_spec(renamed, overlay_file)) == first  # the committed spec: test_drift.py
    assert "&id" not in first  # no YAML anchors ...
    assert "*id" not in first  # ... or aliases


def test_an_invalid_merged_document_is_refused(upstream, tmp_path: Path) -> None:
    broken = tmp_path / "overlay.yaml"
    broken.write_text(
        "overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions:\n"
        "  - target: $.paths['/v1/video_generation'].post.responses\n    update: {'299': 'not a response object'}\n"
    )
    with pytest.raises(SpecInvalidError, match="not valid OpenAPI") as info:
        build.build_spec(upstream, broken)
    assert info.value.path == ("paths", "/v1/video_generation", "post", "responses", "299")


def test_the_build_command_reports_errors_without_a_traceback(tmp_path: Path, overlay_file, capsys) -> None:
    (tmp_path / "a.md").write_text("no fence")
    out = tmp_path / "vozo.yaml"
    assert main(["build", "--upstream", str(tmp_path), "--overlay", str(overlay_file), "--spec", str(out)]) == 1
    assert "error: a.md: no ````yaml" in capsys.readouterr().err
    assert not out.exists()


def test_the_build_command_names_the_file_and_line_of_an_invalid_node(upstream, tmp_path: Path, capsys) -> None:
    pages = tmp_path / "upstream"
    shutil.copytree(upstream, pages)
    page = pages / "api_reference__endpoints__translate_dub__get.md"
    page.write_text(page.read_text().replace("          required: true\n", "          required: maybe\n", 1))
    out = tmp_path / "vozo.yaml"
    overlay = upstream.parent / "overlay.yaml"
    assert main(["build", "--upstream", str(pages), "--overlay", str(overlay), "--spec", str(out)]) == 1
    line = page.read_text().split("          required: maybe")[0].count("\n") + 1
    err = capsys.readouterr().err
    assert "not valid OpenAPI" in err
    assert f"in {page} line {line}, at $.paths['/v1/media/translate/{{task_id}}'].get.parameters[0].required" in err
    assert not out.exists()


def test_fields_the_generator_tells_apart_are_not_refused() -> None:
    """openapi-python-client parts two fields that meet in snake_case (mediaUrl and media_url become mediaUrl and
    media_url): only a pair it cannot part is refused."""

    def spec(*names: str) -> dict[str, object]:
        return {"components": {"schemas": {"S": {"properties": {name: {"type": "string"} for name in names}}}}}

    assert build._shared_attribute(spec("mediaUrl", "media_url", "audio_url", "audio-url", "Audio_URL")) is None
    assert build._shared_attribute(spec("$", "-")) == ("field_", "$", ("components", "schemas", "S", "properties", "-"))


def test_header_parameters_openapi_ignores_are_dropped() -> None:
    """A page documenting Authorization (or Accept, Content-Type) as a required header parameter, which OpenAPI
    says to ignore, made a job kind whose every create needed an argument nothing passes."""
    spec = {
        "paths": {
            "/v1/x": {
                "parameters": [{"name": "accept", "in": "header", "required": True}],
                "post": {
                    "parameters": [
                        {"name": "Authorization", "in": "header", "required": True},
                        {"name": "Content-Type", "in": "header", "required": True},
                        {"name": "X-Trace", "in": "header"},
                        {"name": "authorization", "in": "query"},
                    ]
                },
            }
        }
    }
    cleaned = build._without_ignored_headers(spec)
    assert cleaned["paths"]["/v1/x"]["parameters"] == []
    assert [p["name"] for p in cleaned["paths"]["/v1/x"]["post"]["parameters"]] == ["X-Trace", "authorization"]
