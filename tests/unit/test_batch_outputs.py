"""vozo.batch's output names: the row id and the spec's result kinds name a file, never a server; ids that could
share a file, or leave the output folder, are refused before any request."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import attrs
import pytest

import vozo.batch
import vozo_jobs.kinds
from vozo._kinds import kind_named
from vozo.batch import ManifestError
from vozo.batch._outputs import output_name, result_links, stems
from vozo_api_client.models import JobStatus, MediaTranslateJobStatus


@pytest.mark.parametrize(
    ("kind", "which", "url", "name"),
    [
        ("lipsync", "video", "https://cdn.test/a/b/result.MOV?sig=1.py", "talk.mov"),
        ("lipsync", "video", "https://cdn.test/result.py", "talk.mp4"),
        ("lipsync", "video", "https://cdn.test/x.mp4%2F..%2F..%2Fevil.py", "talk.mp4"),
        ("lipsync", "video", "https://cdn.test/download?file=a.mkv", "talk.mp4"),
        ("lipsync", "video", "https://cdn.test/.mp4", "talk.mp4"),  # a dot file, not an extension
        ("translation", "audio", "https://cdn.test/dub.flac", "talk.audio.flac"),
        ("translation", "audio", "https://cdn.test/dub", "talk.audio.wav"),
        ("translation", "subtitle", "https://cdn.test/subs.srt.exe", "talk.subtitle.srt"),
        ("translation", "subtitle", "https://cdn.test/subs.vtt", "talk.subtitle.vtt"),
        ("translation", "video", "https://cdn.test/v.webm#x.sh", "talk.video.webm"),
    ],
)
def test_a_suffix_comes_from_the_link_only_when_it_is_a_known_media_extension(kind, which, url, name) -> None:
    assert output_name("talk", kind, which, url) == name


def test_without_a_known_extension_in_the_link_the_suffix_is_the_type_the_spec_tells(monkeypatch) -> None:
    translations = vozo_jobs.kinds.TRANSLATIONS
    retyped = attrs.evolve(
        translations,
        results=(*translations.results, ("json", ("result", "json_url")), ("report", ("result", "report_url"))),
        result_suffixes={**translations.result_suffixes, "subtitle": ".vtt", "json": ".json", "report": "/x.py"},
    )
    monkeypatch.setattr(vozo_jobs.kinds, "KINDS", (retyped,))
    assert output_name("talk", "translations", "subtitle", "https://cdn.test/download?f=1") == "talk.subtitle.vtt"
    assert output_name("talk", "translations", "json", "https://cdn.test/x.py") == "talk.json.json"
    assert output_name("talk", "translations", "json", "https://cdn.test/x.srt") == "talk.json.srt"  # the link's
    # Only a known plain extension ends a file name, whatever the spec says.
    assert output_name("talk", "translations", "report", "https://cdn.test/r") == "talk.report.bin"


def test_a_result_kind_the_spec_does_not_declare_names_nothing() -> None:
    with pytest.raises(ValueError, match="not a result the spec declares"):
        output_name("talk", "translation", "/../../escaped/pwned", "https://cdn.test/payload.py")
    with pytest.raises(ValueError, match="not a result the spec declares"):
        output_name("talk", "lipsync", "audio", "https://cdn.test/a.mp3")  # a lipsync job declares only a video


def test_only_the_declared_result_links_are_read_and_the_rest_is_logged(caplog) -> None:
    translation = MediaTranslateJobStatus.from_dict(
        {
            "status": "done",
            "result": {"/../../escaped/pwned_url": "http://x.test/p.py", "video_url": "http://x.test/v.mp4"},
        }
    )
    lipsync = JobStatus.from_dict({"status": "done", "video_url": "http://x.test/v.mp4", "poster_url": "http://x"})
    with caplog.at_level(logging.WARNING, logger="vozo"):
        assert result_links(kind_named("translations"), translation) == {"video": "http://x.test/v.mp4"}
        assert result_links(kind_named("lipsync"), lipsync) == {"video": "http://x.test/v.mp4"}
    assert "'result//../../escaped/pwned_url'" in caplog.text
    assert "'poster_url'" in caplog.text
    assert "video_url" not in caplog.text  # declared: read, not reported


def test_a_rows_file_names_follow_the_results_its_kind_declares() -> None:
    # Whatever results the spec declares for a kind (generated into vozo_jobs), and nothing else.
    declared = kind_named("translations").result_names
    assert len(declared) > 1  # so each result gets its own name
    assert stems("talk", "translation") == tuple(f"talk.{which}" for which in declared)
    assert stems("talk", "lipsync") == ("talk",)  # one declared result: the id alone


def write_jsonl(path: Path, *rows: dict[str, object]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


LIPSYNC = {"reference_file_url": "https://m.test/p.mp4", "audio_url": "https://m.test/a.mp3"}
TRANSLATION = {"media_url": "https://m.test/t.mp4", "target_language": "es"}


@pytest.mark.parametrize(
    ("first", "second", "shared"),
    [
        ({"id": "talk.video", **LIPSYNC}, {"id": "talk", **TRANSLATION}, "talk.video"),  # talk.video.mp4 twice
        ({"id": "talk", **TRANSLATION}, {"id": "talk.subtitle", **LIPSYNC}, "talk.subtitle"),
        ({"id": "Talk", **LIPSYNC}, {"id": "talk", **LIPSYNC}, "talk"),  # one file on macOS and Windows
        ({"id": "TALK", **TRANSLATION}, {"id": "talk.Audio", **LIPSYNC}, "talk.audio"),
    ],
)
def test_ids_whose_rows_could_write_the_same_file_are_refused_naming_both(tmp_path, first, second, shared) -> None:
    manifest = write_jsonl(tmp_path / "m.jsonl", first, second)
    with pytest.raises(ManifestError) as refused:
        vozo.batch.load(manifest)
    message = str(refused.value)
    assert "row 1" in message
    assert "row 2" in message
    assert f"({shared}.*)" in message.lower()


@pytest.mark.parametrize(
    "key",
    ["a/b", "a\\b", "..", "a..b", "../x", ".hidden", ".", "a\x01b", "a\nb", "talk\n", "a\x7fb", "a b", "", "é"],
)
def test_ids_that_are_not_plain_file_names_are_refused(tmp_path, key) -> None:
    manifest = write_jsonl(tmp_path / "m.jsonl", {"id": key, **LIPSYNC})
    with pytest.raises(ManifestError, match=r"row 1: id .* must be letters, digits"):
        vozo.batch.load(manifest)


@pytest.mark.parametrize("key", [True, False, 1.5, 1e400, [1], {"a": 1}], ids=repr)
def test_a_jsonl_id_that_is_neither_a_string_nor_a_whole_number_is_refused(tmp_path, key) -> None:
    """`"id": true` named the row's file after Python's spelling of it, `True.mp4`; `1e400` made `inf.mp4`."""
    manifest = write_jsonl(tmp_path / "m.jsonl", {"id": key, **LIPSYNC})
    with pytest.raises(ManifestError, match=r"row 1: id must be a JSON string or a whole number, got "):
        vozo.batch.load(manifest)


def test_a_jsonl_id_that_is_a_whole_number_names_its_files(tmp_path) -> None:
    manifest = write_jsonl(tmp_path / "m.jsonl", {"id": 7, **LIPSYNC}, {"id": "8", **LIPSYNC})
    assert [row.key for row in vozo.batch.load(manifest)] == ["7", "8"]


def test_ids_that_differ_by_more_than_case_are_fine(tmp_path) -> None:
    manifest = write_jsonl(
        tmp_path / "m.jsonl", {"id": "talk", **TRANSLATION}, {"id": "talk.vid", **LIPSYNC}, {"id": "talk2", **LIPSYNC}
    )
    assert [row.key for row in vozo.batch.load(manifest)] == ["talk", "talk.vid", "talk2"]


@pytest.mark.parametrize(
    ("row", "refused"),
    [
        ({"id": "CON", **LIPSYNC}, "CON.* names a device on Windows, not a file): rename it"),
        ({"id": "nul", **LIPSYNC}, "nul.* names a device on Windows"),
        ({"id": "Com1.take2", **LIPSYNC}, "Com1.* names a device on Windows"),
        ({"id": "lpt9", **TRANSLATION}, "lpt9.* names a device on Windows"),
        ({"id": "aux", **TRANSLATION}, "aux.* names a device on Windows"),
        ({"id": "report", **LIPSYNC}, "report.json is the batch's own file"),  # a link ending .json would write it
        ({"id": "Vozo-Batch", **LIPSYNC}, "vozo-batch.sqlite is the batch's own file"),
    ],
)
def test_ids_that_would_name_a_device_or_a_file_of_the_batch_are_refused(tmp_path, row, refused) -> None:
    manifest = write_jsonl(tmp_path / "m.jsonl", {"id": "fine", **LIPSYNC}, row)
    with pytest.raises(ManifestError, match=rf"row 2: id .* cannot name the row's files \({re.escape(refused)}"):
        vozo.batch.load(manifest)


def test_ids_that_only_start_like_a_device_or_a_file_of_the_batch_are_fine(tmp_path) -> None:
    keys = ["console", "com10", "lpt", "nul_take", "reports", "report.json", "talk.report", "vozo-batches"]
    manifest = write_jsonl(tmp_path / "m.jsonl", *({"id": key, **LIPSYNC} for key in keys))
    assert [row.key for row in vozo.batch.load(manifest)] == keys
