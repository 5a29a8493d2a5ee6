from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest

import vozo
import vozo_jobs.kinds
from vozo._arguments import request_body
from vozo.types import Model, ReferenceFileType

from .conftest import nested, reply

JOB = {"task_id": "6f1c2b9e"}


def create_lipsync(**overrides: Any) -> Any:
    arguments = {
        "reference_file_url": "https://m.test/presenter.mp4",
        "audio_url": "https://m.test/voice.mp3",
        **overrides,
    }
    return lambda c: c.lipsync.create(**arguments)


def test_lipsync_create_sends_the_api_fields(api, recorder) -> None:
    recorder.default = reply(200, JOB)
    job = api.call(create_lipsync(model="precision", callback_url="https://hooks.test/vozo"))
    assert job.task_id == "6f1c2b9e"
    request = recorder.requests[0]
    assert (request.method, request.url.path) == ("POST", "/v1/video_generation")
    assert recorder.json_bodies() == [
        {
            "reference_file_url": "https://m.test/presenter.mp4",
            "audio_url": "https://m.test/voice.mp3",
            "model": "precision_v1",
            "reference_file_type": "video",
            "callback_url": "https://hooks.test/vozo",
        }
    ]


@pytest.mark.parametrize(
    ("model", "sent"),
    [
        ("standard", "standard_v1"),
        ("Precision", "precision_v1"),
        ("standard_v1", "standard_v1"),
        (Model.PRECISION_V1, "precision_v1"),
    ],
)
def test_friendly_model_names(api, recorder, model, sent) -> None:
    recorder.default = reply(200, JOB)
    api.call(create_lipsync(model=model))
    assert recorder.json_bodies()[0]["model"] == sent


def test_extra_body_sends_what_the_spec_does_not_know_yet(api, recorder) -> None:
    """A model or field Vozo announced before this SDK's spec has it goes out as given, merged over the body."""
    recorder.default = reply(200, JOB)
    api.call(create_lipsync(extra_body={"model": "precision_v2", "face_enhance": True}))
    body = recorder.json_bodies()[0]
    assert (body["model"], body["face_enhance"], body["reference_file_type"]) == ("precision_v2", True, "video")


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://m.test/a.MP4", "video"),
        ("https://m.test/a.webm?sig=abc.png", "video"),
        ("https://m.test/face.JPeG#frag", "image"),
        ("https://m.test/dir.v2/face.webp", "image"),
    ],
)
def test_the_reference_type_is_inferred_case_insensitively_ignoring_the_query(api, recorder, url, kind) -> None:
    recorder.default = reply(200, JOB)
    api.call(create_lipsync(reference_file_url=url))
    assert recorder.json_bodies()[0]["reference_file_type"] == kind


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"reference_file_url": "https://m.test/a.gif"},
            r"reference_file_url 'https://m.test/a.gif' has an unsupported file type \(.gif\); accepted: .mp4 .mov",
        ),
        ({"audio_url": "https://m.test/voice.ogg"}, r"audio_url .* \(.ogg\); accepted: .wav .mp3 .m4a"),
        ({"audio_url": "https://m.test/stream"}, r"audio_url .* \(no extension\).*check_file_types=False"),
        ({"reference_file_url": "/home/me/clip.mp4"}, "must be an http\\(s\\) URL"),
        (
            {"reference_file_url": "https://m.test/a.png", "reference_file_type": "video"},
            r"reference_file_url .* \(.png\); accepted: .mp4",
        ),
        ({"reference_file_type": "gif"}, "reference_file_type must be one of 'video', 'image', got 'gif'"),
        (
            {"model": "precison"},
            "model must be one of 'standard', 'precision', 'standard_v1', 'precision_v1', got 'precison'",
        ),
        # Vozo POSTs to a callback URL: no file to download, none to upload first.
        (
            {"callback_url": "hooks.test/vozo"},
            r"callback_url must be an absolute http\(s\) URL Vozo's servers can reach, like "
            r"https://you.example/hook, got 'hooks.test/vozo'$",
        ),
        # A control character inside a URL: the server would fetch another file than named (or none).
        ({"reference_file_url": "https://m.test/a\x00b.mp4"}, r"reference_file_url .* control character '\\x00'"),
        ({"audio_url": "https://m.test/a\nb.mp3"}, r"audio_url .* control character '\\n' at position 16"),
        ({"callback_url": "https://hooks.test\x7f/vozo"}, r"callback_url .* control character '\\x7f'"),
        ({"reference_file_url": "https://m.test/a\u0085.mp4"}, r"control character '\\x85'"),
        # A local path is no URL: said so, not "reference_file_type cannot be inferred (no extension)".
        (
            {"reference_file_url": Path("/media/a.mp4")},
            r"reference_file_url must be a non-empty URL string, got \w*Path",
        ),
        ({"reference_file_url": 42}, "reference_file_url must be a non-empty URL string, got 42"),
        # A missing URL is said missing, not "reference_file_type cannot be inferred from None (no extension)".
        ({"reference_file_url": None}, "^reference_file_url is required: "),
        ({"reference_file_url": None, "reference_file_type": "video"}, "^reference_file_url is required: "),
    ],
)
def test_bad_input_is_refused_before_any_request(api, recorder, overrides, message) -> None:
    with pytest.raises(vozo.InvalidInputError, match=message):
        api.call(create_lipsync(**overrides))
    assert recorder.requests == []


def test_urls_without_extensions_pass_with_the_opt_out(api, recorder) -> None:
    recorder.default = reply(200, JOB)
    api.call(
        create_lipsync(
            reference_file_url="https://m.test/media/123",
            audio_url="https://m.test/a/9",
            reference_file_type=ReferenceFileType.IMAGE,
            check_file_types=False,
        )
    )
    assert recorder.json_bodies()[0]["reference_file_type"] == "image"
    with pytest.raises(vozo.InvalidInputError, match="cannot be inferred"):
        api.call(create_lipsync(reference_file_url="https://m.test/media/123", check_file_types=False))


def test_reusable_lipsync_creates_and_polls_through_the_lipsync_status_endpoint(api, recorder) -> None:
    recorder.replies = [reply(200, JOB), reply(200, {"status": "done", "video_url": "https://cdn.test/v.mp4"})]
    status = api.call(
        lambda c: c.reusable_lipsync.create_and_wait(
            model_id="mdl_1", audio_url="https://m.test/a.wav", poll_interval=0.01
        )
    )
    assert status.video_url == "https://cdn.test/v.mp4"
    assert [r.url.path for r in recorder.requests] == [
        "/v1/reusable_lipsync_model_video_generation",
        "/v1/video_generation/6f1c2b9e",
    ]
    assert recorder.json_bodies()[0] == {"model_id": "mdl_1", "audio_url": "https://m.test/a.wav"}
    with pytest.raises(vozo.InvalidInputError, match="model_id"):
        api.call(lambda c: c.reusable_lipsync.create(model_id=" ", audio_url="https://m.test/a.wav"))


def create_translation(**overrides: Any) -> Any:
    arguments = {"media_url": "https://m.test/keynote.mp4", "target_language": "es", **overrides}
    return lambda c: c.translations.create(**arguments)


def test_translation_create_sends_the_api_fields(api, recorder) -> None:
    recorder.default = reply(200, JOB)
    api.call(
        create_translation(
            source_language="en-US",
            export_type="all",
            ocr_text_box={"x": 0.1, "y": 0.8, "width": 0.8, "height": 0.15},
            speaker_number=(1, 3),
            user_prompt="friendly tone",
            callback_url="https://hooks.test/t",
        )
    )
    assert recorder.requests[0].url.path == "/v1/media/translate"
    assert recorder.json_bodies()[0] == {
        "media_type": "video",
        "media_url": "https://m.test/keynote.mp4",
        "source_language": "en-US",
        "target_language": "es",
        "export_type": "all",
        "ocr_text_box": {"x": 0.1, "y": 0.8, "width": 0.8, "height": 0.15},
        "speaker_number": {"min": 1, "max": 3},
        "user_prompt": "friendly tone",
        "callback_url": "https://hooks.test/t",
    }


def test_translation_of_audio_with_subtitles(api, recorder) -> None:
    recorder.default = reply(200, JOB)
    api.call(
        create_translation(
            media_url="https://m.test/pod.m4a", subtitle_url="https://m.test/pod.SRT", subtitle_usage_type="original"
        )
    )
    body = recorder.json_bodies()[0]
    assert (body["media_type"], body["source_language"], body["export_type"]) == ("audio", "auto", "auto")
    assert body["subtitle_usage_type"] == "original"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"target_language": "spanish"}, r"target_language '\w+' does not have the documented form"),
        ({"target_language": "auto"}, r"target_language '\w+' does not have the documented form"),
        ({"source_language": "EN"}, "source_language 'EN' does not have the documented form"),
        ({"media_url": "https://m.test/pod.mp3", "export_type": "video"}, "needs video input"),
        ({"export_type": "everything"}, "export_type must be one of 'auto', 'video', 'audio', 'all', got 'everything'"),
        (
            {"media_url": "https://m.test/x.bin"},
            r"media_url 'https://m.test/x.bin' has an unsupported file type \(.bin\)",
        ),
        ({"media_type": "image"}, "media_type must be one of 'video', 'audio', got 'image'"),
        ({"subtitle_url": "https://m.test/s.vtt"}, r"subtitle_url .* \(.vtt\); accepted: .srt"),
        (
            {"subtitle_url": "https://m.test/s.srt", "ocr_text_box": {"x": 0, "y": 0, "width": 1, "height": 1}},
            "mutually exclusive",
        ),
        (
            {"ocr_text_box": {"x": 0, "y": 0, "width": 1.5, "height": 1}},
            r"ocr_text_box.width must be between 0 and 1",
        ),
        ({"ocr_text_box": {"x": 0, "y": 0}}, "needs exactly x, y, width and height"),
        (
            {"media_url": "https://m.test/pod.mp3", "ocr_text_box": {"x": 0, "y": 0, "width": 1, "height": 1}},
            "only applies when media_type='video'",
        ),
        ({"speaker_number": (3, 1)}, "1 <= min <= max"),
        ({"speaker_number": {"min": 0, "max": 2}}, "1 <= min <= max"),
        (
            {"subtitle_usage_type": "draft"},
            "subtitle_usage_type must be one of 'original', 'final_translated', got 'draft'",
        ),
    ],
)
def test_translation_input_is_checked_before_any_request(api, recorder, overrides, message) -> None:
    with pytest.raises(vozo.InvalidInputError, match=message):
        api.call(create_translation(**overrides))
    assert recorder.requests == []


CREATE_ARGUMENTS = {
    "lipsync": {"reference_file_url": "https://m.test/p.mp4", "audio_url": "https://m.test/a.wav"},
    "reusable_lipsync": {"model_id": "mdl_1", "audio_url": "https://m.test/a.wav"},
    "translations": {"media_url": "https://m.test/keynote.mp4", "target_language": "es"},
}


def test_every_spec_operation_is_called_through_a_resource(api, recorder) -> None:
    """Each operation openapi/vozo.yaml declares is reached by calling the client, not only imported."""
    import yaml

    from tests.prism import SPEC
    from vozo._kinds import all_kinds

    spec = yaml.safe_load(SPEC.read_text())
    methods = {"get", "post", "put", "patch", "delete"}
    declared = {(m.upper(), path) for path, item in spec["paths"].items() for m in item if m in methods}
    assert {kind.name for kind in all_kinds()} == set(CREATE_ARGUMENTS)  # a new kind needs its arguments here

    def status(request: httpx.Request) -> httpx.Response:
        return reply(200, JOB if request.method == "POST" else {"status": "pending"})

    recorder.default = status
    for name, arguments in CREATE_ARGUMENTS.items():
        api.call(lambda c, name=name, arguments=arguments: getattr(c, name).create(**arguments))
        api.call(lambda c, name=name: getattr(c, name).get("t-1"))
    called = {(r.method, r.url.path.replace("/t-1", "/{task_id}")) for r in recorder.requests}
    assert called == declared


@pytest.mark.parametrize(
    ("extra_body", "where"),
    [
        ({"ratio": float("nan")}, "ratio"),
        ({"ratio": float("inf")}, "ratio"),
        ({"tags": {"a", "b"}}, "tags"),
        ({"notes": [{"at": datetime.now(UTC)}]}, "notes"),
        ({"seed": 10**5000}, "seed"),  # past int's 4,300 digits: json.dumps raises ValueError
        ({"deep": nested(5000)}, "deep"),
    ],
)
def test_extra_body_that_is_not_json_is_refused_before_any_request(api, recorder, extra_body, where) -> None:
    """httpx would raise a bare TypeError or ValueError inside the create: refused instead, naming the field."""
    with pytest.raises(vozo.InvalidInputError, match=rf"^{where} cannot be sent as JSON"):
        api.call(create_lipsync(extra_body=extra_body))
    assert recorder.requests == []


def test_an_object_field_with_a_nan_is_refused_before_any_request(api, recorder) -> None:
    box = {"x": float("nan"), "y": 0.1, "width": 0.5, "height": 0.2}
    arguments = {"media_url": "https://m.test/a.mp4", "target_language": "es", "ocr_text_box": box}
    with pytest.raises(vozo.InvalidInputError, match=r"^ocr_text_box cannot be sent as JSON"):
        api.call(lambda c: c.translations.create(**arguments))
    assert recorder.requests == []


@pytest.mark.parametrize(
    ("overrides", "where"),
    [
        ({"audio_url": "https://m.test/voix-\udce9.mp3"}, "audio_url"),  # a Latin-1 argument, as sys.argv holds it
        ({"callback_url": "https://hooks.test/\ud800"}, "callback_url"),  # a lone "\\ud800" escape in JSON
        ({"extra_body": {"notes": [{"text": "caf\udce9"}]}}, r"notes\[0\]\.text"),
        ({"extra_body": {"caf\udce9": 1}}, "caf"),
    ],
)
def test_text_that_cannot_be_sent_as_utf8_is_refused_before_any_request(api, recorder, overrides, where) -> None:
    with pytest.raises(vozo.InvalidInputError, match=rf"{where}.* is not UTF-8 text: .* is a lone surrogate") as caught:
        api.call(create_lipsync(**overrides))
    assert recorder.requests == []
    str(caught.value).encode()  # the message itself can be printed and logged: the bad key is shown escaped


# --- the rules Vozo states only in prose, after `make update-spec` changed the fields they read ------------------


def _translations_with(**schemas: dict[str, Any]) -> Any:
    """Today's translate kind with the schemas of some fields as a docs update could leave them."""
    kind = vozo_jobs.kinds.TRANSLATIONS
    fields = tuple(attrs.evolve(f, schema=schemas[f.name]) if f.name in schemas else f for f in kind.fields)
    return attrs.evolve(kind, fields=fields)


def _with_properties(name: str, **properties: dict[str, Any]) -> dict[str, Any]:
    field = vozo_jobs.kinds.TRANSLATIONS.field(name)
    assert field is not None
    return {**field.schema, "properties": {**field.schema["properties"], **properties}}


TRANSLATE = {"media_url": "https://m.test/keynote.mp4", "target_language": "es"}
BOX = {"x": 0.1, "y": 0.8, "width": 0.8, "height": 0.15}


def test_a_key_vozo_adds_to_the_ocr_box_is_taken_and_sent() -> None:
    """The prose rule wants x, y, width and height; a key the spec now lists beside them is no typo to refuse."""
    kind = _translations_with(ocr_text_box=_with_properties("ocr_text_box", rotation={"type": "number"}))
    body = request_body(kind, {**TRANSLATE, "ocr_text_box": {**BOX, "rotation": 90.0}}, check_file_types=True)
    assert body.to_dict()["ocr_text_box"] == {**BOX, "rotation": 90.0}
    with pytest.raises(vozo.InvalidInputError, match=r"needs exactly x, y, width and height \(and may have rotation\)"):
        request_body(kind, {**TRANSLATE, "ocr_text_box": {**BOX, "rotaton": 90.0}}, check_file_types=True)
    with pytest.raises(vozo.InvalidInputError, match="needs exactly x, y, width and height, got"):
        request_body(
            vozo_jobs.kinds.TRANSLATIONS, {**TRANSLATE, "ocr_text_box": {**BOX, "rotation": 1}}, check_file_types=True
        )


def test_a_speaker_range_vozo_retypes_is_checked_as_the_spec_now_says() -> None:
    """speaker_number min/max retyped integer -> string: the spec's check decides, not the whole-number rule."""
    text = {"type": "string"}
    kind = _translations_with(speaker_number=_with_properties("speaker_number", min=text, max=text))
    # Taken (this checkout's SpeakerNumber model still types them integers; the regenerated one reads strings).
    request_body(kind, {**TRANSLATE, "speaker_number": {"min": "1", "max": "2"}}, check_file_types=True)
    with pytest.raises(vozo.InvalidInputError, match=r"speaker_number\.min must be a JSON string"):
        request_body(kind, {**TRANSLATE, "speaker_number": {"min": 1, "max": 2}}, check_file_types=True)
    with pytest.raises(vozo.InvalidInputError, match="1 <= min <= max"):
        request_body(
            vozo_jobs.kinds.TRANSLATIONS, {**TRANSLATE, "speaker_number": {"min": 2, "max": 1}}, check_file_types=True
        )
