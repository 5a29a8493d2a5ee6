"""vozo.batch's manifest and journal, without a server: parsing, checks before any request, resume decisions."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest

import vozo
import vozo.batch
import vozo_jobs.kinds
from tests.sockets import closed_port
from vozo.batch import ManifestChangedError, ManifestError, RowState
from vozo.batch._journal import Journal, JournalRow

CSV_HEADER = (
    "id,reference_file_url,audio_url,model,media_url,target_language,speaker_number,check_file_types,"
    "reference_file_type\n"
)


def _row(journal: Journal, key: str) -> JournalRow:
    (found,) = [row for row in journal.rows() if row.key == key]
    return found


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_csv_rows_get_their_kind_key_and_typed_fields(tmp_path) -> None:
    manifest = write(
        tmp_path / "m.csv",
        CSV_HEADER
        + "a,https://m.test/p.mp4,https://m.test/a.mp3,precision,,,,,\n"
        + ",,,,https://m.test/talk.mp4,es,2-4,,\n"
        + "c,https://m.test/face,https://m.test/a.mp3,,,,,false,image\n",
    )
    first, second, third = vozo.batch.load(manifest)
    assert (first.key, first.kind, first.fields) == (
        "a",
        "lipsync",
        {"reference_file_url": "https://m.test/p.mp4", "audio_url": "https://m.test/a.mp3", "model": "precision"},
    )
    assert (second.key, second.kind) == ("row-2", "translations")
    assert second.fields["speaker_number"] == {"min": 2, "max": 4}
    assert third.fields["check_file_types"] is False
    assert [row.problem for row in (first, second, third)] == [None, None, None]


def test_jsonl_rows_and_an_explicit_kind(tmp_path) -> None:
    lines = [
        {"id": "m1", "kind": "reusable_lipsync", "model_id": "mdl-1", "audio_url": "https://m.test/a.wav"},
        {"media_url": "https://m.test/a.mp3", "target_language": "fr", "speaker_number": [1, 2], "user_prompt": None},
    ]
    manifest = write(tmp_path / "m.jsonl", "\n".join(json.dumps(line) for line in lines) + "\n\n")
    reusable, translation = vozo.batch.load(manifest)
    assert (reusable.kind, reusable.fields) == (
        "reusable_lipsync",
        {"model_id": "mdl-1", "audio_url": lines[0]["audio_url"]},
    )
    assert translation.key == "row-2"
    assert "user_prompt" not in translation.fields  # null means not given


def test_a_bad_value_makes_the_row_invalid_with_the_create_calls_own_message(tmp_path) -> None:
    manifest = write(
        tmp_path / "m.csv",
        CSV_HEADER
        + "gif,https://m.test/p.gif,https://m.test/a.mp3,,,,,,\n"
        + "lang,,,,https://m.test/t.mp4,Spanish,,,\n"
        + "missing,https://m.test/p.mp4,,,,,,,\n",
    )
    gif, lang, missing = vozo.batch.load(manifest)
    assert gif.problem is not None
    assert "reference_file_url" in gif.problem
    assert ".gif" in gif.problem
    assert lang.problem is not None
    assert "target_language" in lang.problem
    assert missing.problem is not None
    assert "audio_url" in missing.problem


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "id,reference_file_url,audio_uri\nx,https://m.test/p.mp4,https://m.test/a.mp3\n",
            "unknown field(s) audio_uri",
        ),
        (
            "id,reference_file_url,audio_url\nx,https://m.test/p.mp4,https://m.test/a.mp3\n"
            "x,https://m.test/q.mp4,https://m.test/b.mp3\n",
            "id 'x' is used by rows 1 and 2",
        ),
        ("id,reference_file_url,audio_url\n../x,https://m.test/p.mp4,https://m.test/a.mp3\n", "names the row's output"),
        (
            "id,kind,media_url\nx,dubbing,https://m.test/t.mp4\n",
            "unknown job kind 'dubbing'; this SDK knows: lipsync, reusable_lipsync, translations",
        ),
        ("id,reference_file_url,audio_url\n", "has no rows"),
    ],
)
def test_a_manifest_that_cannot_be_used_is_refused_as_a_whole(tmp_path, text, message) -> None:
    with pytest.raises(ManifestError, match=message.replace("(", r"\(").replace(")", r"\)")):
        vozo.batch.load(write(tmp_path / "m.csv", text))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_manifest_that_is_no_regular_file_says_so_not_that_it_does_not_exist(tmp_path) -> None:
    """`vozo batch run <(make-rows)` (a pipe, /dev/fd/63) or a device was refused as a file that "does not exist"."""
    fifo = tmp_path / "rows.csv"
    os.mkfifo(fifo)
    for path in (fifo, Path(os.devnull)):
        with pytest.raises(ManifestError, match=r"is not a regular file .*save the rows in a \.csv or \.jsonl file"):
            vozo.batch.load(path)
    with pytest.raises(ManifestError, match="does not exist"):
        vozo.batch.load(tmp_path / "missing.csv")


@pytest.mark.parametrize(
    ("separator", "shown"),
    [(";", "';'"), ("\t", "tabs"), ("|", "'|'")],
)
@pytest.mark.parametrize(
    "header",
    ["id{s}reference_file_url{s}audio_url", "id{s}kind{s}media_url{s}target_language", "audio_url{s}model_id"],
)
def test_a_csv_file_separated_by_another_character_than_commas_says_so(tmp_path, separator, shown, header) -> None:
    """As spreadsheets set to many European languages save a "CSV": the whole header used to be one unknown field,
    or a cell of a row one 'in a column with no name' when a link held a comma."""
    row = separator.join(["a", "translation", "https://m.test/a,b.mp4", "es"][: header.count("{s}") + 1])
    manifest = write(tmp_path / "m.csv", header.format(s=separator) + "\n" + row + "\n")
    with pytest.raises(ManifestError) as refused:
        vozo.batch.load(manifest)
    assert f"its columns seem separated by {shown}, not commas" in str(refused.value)
    assert "save it as comma-separated values" in str(refused.value)


# --- a row without a kind column: a kind only when exactly one fits ---------------------------------------------


@pytest.fixture
def dub_kind_added(monkeypatch: pytest.MonkeyPatch) -> None:
    """A docs update adds a job kind taking a media_url (and a target_language), as translations do."""
    translations = vozo_jobs.kinds.TRANSLATIONS
    taken = {"media_url", "target_language", "callback_url"}
    dub = attrs.evolve(
        translations,
        name="dub_audio",
        family="dub_audio",
        aliases=(),
        create_path="/v1/media/dub_audio",
        status_path="/v1/media/dub_audio/{task_id}",
        fields=tuple(
            attrs.evolve(field, required=field.name == "media_url")
            for field in translations.fields
            if field.name in taken
        ),
    )
    monkeypatch.setattr(vozo_jobs.kinds, "KINDS", (*vozo_jobs.kinds.KINDS, dub))


def test_a_row_that_fits_several_kinds_is_invalid_and_names_the_choices(tmp_path) -> None:
    text = "id,audio_url,reference_file_url,media_url\nx,https://m.test/a.mp3,,\ny,,https://m.test/p.mp4,https://m.test/t.mp4\n"
    several, none = vozo.batch.load(write(tmp_path / "m.csv", text))
    assert several.kind == none.kind == ""
    assert several.problem == (
        "no kind given, and its fields (audio_url) fit several job kinds: "
        "name one of lipsync, reusable_lipsync in a kind column"
    )
    assert none.problem is not None
    assert "no job kind has all its fields (media_url, reference_file_url)" in none.problem
    assert "name one of lipsync, reusable_lipsync, translations in a kind column" in none.problem


def test_an_empty_kind_cell_is_not_called_a_missing_kind_column(tmp_path) -> None:
    (row,) = vozo.batch.load(write(tmp_path / "m.csv", "id,kind,audio_url\nx,,https://m.test/a.mp3\n"))
    assert row.problem is not None
    assert row.problem.startswith("no kind given, and its fields (audio_url) fit several job kinds")


def test_a_new_job_kind_never_turns_a_refused_row_into_a_job(tmp_path, dub_kind_added) -> None:
    manifest = write(tmp_path / "m.csv", "id,media_url,target_language\nonly-media,https://m.test/t.mp4,\n")
    (row,) = vozo.batch.load(manifest)
    assert row.kind == ""  # not a dub_audio job, though it has every field a dub_audio job needs
    assert row.problem is not None
    assert "fit several job kinds: name one of translations, dub_audio in a kind column" in row.problem
    explicit = write(tmp_path / "k.csv", "id,kind,media_url\nx,dub_audio,https://m.test/t.mp4\n")
    assert [r.kind for r in vozo.batch.load(explicit)] == ["dub_audio"]  # a kind column says what the user wants


def test_a_rows_journalled_kind_never_changes_on_resume(tmp_path, monkeypatch) -> None:
    manifest = write(tmp_path / "m.csv", "id,media_url,target_language\ntalk,https://m.test/t.mp4,es\n")
    out = tmp_path / "out"
    out.mkdir()
    journal = Journal(out / "vozo-batch.sqlite")
    journal.sync(vozo.batch.load(manifest), rerun_changed=False, resubmit_uncertain=False)
    journal.mark_submitting("talk")
    journal.update("talk", state=RowState.COMPLETED, task_id="tr-1", status="done")
    journal.close()
    monkeypatch.setattr(vozo_jobs.kinds, "KINDS", (*vozo_jobs.kinds.KINDS, _twin_of_translations()))
    assert vozo.batch.load(manifest)[0].kind == ""  # a new batch would refuse the row now ...

    async def resume() -> vozo.batch.BatchSummary:
        with closed_port() as port:  # nothing is sent; were anything sent, it would be refused
            async with vozo.AsyncVozo(api_key="k", base_url=f"http://127.0.0.1:{port}") as client:
                return await vozo.batch.run(client, manifest, out)

    (row,) = asyncio.run(resume()).rows  # ... but the journalled row resumes as what it was
    assert (row.kind, row.state, row.task_id) == ("translations", RowState.COMPLETED, "tr-1")
    assert vozo.batch.load(manifest, recorded_kinds={"talk": "translations"})[0].kind == "translations"
    # A recorded kind that no longer takes the row's fields is not forced on it.
    assert vozo.batch.load(manifest, recorded_kinds={"talk": "lipsync"})[0].kind == ""


def _twin_of_translations() -> vozo_jobs.kinds.JobKind:
    return attrs.evolve(vozo_jobs.kinds.TRANSLATIONS, name="translations_v2", aliases=())


def test_only_csv_and_jsonl(tmp_path) -> None:
    with pytest.raises(ManifestError, match=r"expected a \.csv or \.jsonl"):
        vozo.batch.load(write(tmp_path / "m.xlsx", "x"))


def rows(tmp_path: Path, *audio: str) -> list[vozo.batch.ManifestRow]:
    lines = [f"r{n},https://m.test/p.mp4,{url}" for n, url in enumerate(audio)]
    return vozo.batch.load(write(tmp_path / "m.csv", "id,reference_file_url,audio_url\n" + "\n".join(lines) + "\n"))


def test_resume_decisions(tmp_path) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    journal.sync(rows(tmp_path, "https://m.test/0.mp3", "https://m.test/1.mp3", "https://m.test/2.mp3"),
                 rerun_changed=False, resubmit_uncertain=False)  # fmt: skip
    journal.mark_submitting("r0")
    journal.update("r0", state=RowState.SUBMITTED, task_id="t-0")
    journal.mark_submitting("r1")  # the process dies here: sent, no task id yet
    # r2 is edited before being sent, and a new row r3 appears.
    report = journal.sync(
        rows(tmp_path, "https://m.test/0.mp3", "https://m.test/1.mp3", "https://m.test/2b.mp3", "https://m.test/3.mp3"),
        rerun_changed=False,
        resubmit_uncertain=False,
    )
    assert (report.new, report.resumed, report.changed_unsent, report.uncertain) == (1, 3, ["r2"], ["r1"])
    states = {row.key: row.state for row in journal.rows()}
    assert states == {"r0": RowState.SUBMITTED, "r1": RowState.UNCERTAIN, "r2": RowState.QUEUED, "r3": RowState.QUEUED}
    assert _row(journal, "r0").task_id == "t-0"
    assert _row(journal, "r2").fields["audio_url"] == "https://m.test/2b.mp3"


def test_an_edit_to_a_sent_row_is_refused_unless_rerun_and_the_old_task_id_is_kept(tmp_path) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    journal.sync(rows(tmp_path, "https://m.test/0.mp3"), rerun_changed=False, resubmit_uncertain=False)
    journal.mark_submitting("r0")
    journal.update("r0", state=RowState.COMPLETED, task_id="t-0")
    edited = rows(tmp_path, "https://m.test/0-new.mp3")
    with pytest.raises(ManifestChangedError, match=r"1 row\(s\) changed .* r0\. .*rerun_changed=True"):
        journal.sync(edited, rerun_changed=False, resubmit_uncertain=False)
    assert _row(journal, "r0").state is RowState.COMPLETED  # nothing was touched
    journal.sync(edited, rerun_changed=True, resubmit_uncertain=False)
    row = _row(journal, "r0")
    assert (row.state, row.task_id, row.previous_task_ids) == (RowState.QUEUED, None, ["t-0"])


def test_a_sent_row_given_another_id_is_refused_unless_rerun_not_sent_again_as_a_new_row(tmp_path) -> None:
    """An id column added to a manifest of rows without one renamed every row (row-1 -> clip0): each was taken for a
    new row and submitted, and billed, again without a word, its old job kept as a row no longer in the manifest."""
    journal = Journal(tmp_path / "journal.sqlite")
    lines = ["https://m.test/p.mp4,https://m.test/0.mp3", "https://m.test/p.mp4,https://m.test/1.mp3"]
    unnamed = write(tmp_path / "m.csv", "reference_file_url,audio_url\n" + "\n".join(lines) + "\n")
    journal.sync(vozo.batch.load(unnamed), rerun_changed=False, resubmit_uncertain=False)
    journal.mark_submitting("row-1")
    journal.update("row-1", state=RowState.COMPLETED, task_id="t-1")  # row-2 was never sent
    named = "id,reference_file_url,audio_url\n" + "".join(f"clip{n},{line}\n" for n, line in enumerate(lines))
    renamed = vozo.batch.load(write(tmp_path / "m.csv", named))
    with pytest.raises(ManifestChangedError, match=r"1 new row\(s\) .* clip0 holds what row-1 was sent as") as refused:
        journal.sync(renamed, rerun_changed=False, resubmit_uncertain=False)
    assert "rerun_changed=True" in str(refused.value)
    assert {row.key: row.state for row in journal.rows()} == {"row-1": RowState.COMPLETED, "row-2": RowState.QUEUED}
    journal.sync(renamed, rerun_changed=True, resubmit_uncertain=False)  # asked for: new jobs
    states = {row.key: row.state for row in journal.rows()}
    assert states == {"row-1": RowState.COMPLETED, "clip0": RowState.QUEUED, "clip1": RowState.QUEUED}


def test_the_batch_library_advises_its_own_arguments_not_the_commands_options(tmp_path) -> None:
    """vozo.batch.run told Python callers to 'pass --rerun-changed' and 'use a new --out folder', the options of
    `vozo batch run`, where the library's other errors name Python arguments (the command translates them)."""
    journal = Journal(tmp_path / "journal.sqlite")
    journal.sync(rows(tmp_path, "https://m.test/0.mp3"), rerun_changed=False, resubmit_uncertain=False)
    journal.mark_submitting("r0")
    journal.update("r0", state=RowState.COMPLETED, task_id="t-0")
    with pytest.raises(ManifestChangedError) as changed:
        journal.sync(rows(tmp_path, "https://m.test/0-new.mp3"), rerun_changed=False, resubmit_uncertain=False)
    assert "use a new out= folder, or pass rerun_changed=True to submit them again" in str(changed.value)
    with pytest.raises(ManifestError) as missing:
        vozo.batch.status(tmp_path / "nowhere")
    assert "give the out= folder of a batch run" in str(missing.value)
    assert "--" not in str(changed.value) + str(missing.value)


@pytest.mark.parametrize("kind_cell", ["translation", "translations", ""])
def test_a_row_journalled_under_an_older_name_of_its_kind_is_not_taken_for_an_edited_one(tmp_path, kind_cell) -> None:
    """A vozo before job kinds came from the spec journalled a translation row as kind "translation" (and hashed
    it so); the same journal schema, resumed by this one, called every such row sent since "changed" and told the
    user to pass --rerun-changed: to pay for each again."""
    manifest = write(
        tmp_path / "m.csv",
        f"id,kind,media_url,target_language\nt1,{kind_cell},https://m.test/t.mp4,es\n",
    )
    (row,) = vozo.batch.load(manifest)
    journal = Journal(tmp_path / "journal.sqlite")
    journal.sync([row], rerun_changed=False, resubmit_uncertain=False)
    older = dataclasses.replace(row, kind="translation")  # as that vozo wrote it
    journal.update("t1", kind="translation", row_hash=older.row_hash, state=RowState.SUBMITTED, task_id="tr-1")
    report = journal.sync(
        vozo.batch.load(manifest, recorded_kinds={"t1": "translation"}), rerun_changed=False, resubmit_uncertain=False
    )
    assert (report.changed_sent, report.changed_unsent, report.resumed) == ([], [], 1)
    resumed = _row(journal, "t1")
    assert (resumed.state, resumed.task_id, resumed.kind, resumed.row_hash) == (
        RowState.SUBMITTED,
        "tr-1",
        "translations",
        row.row_hash,
    )


def test_uncertain_rows_are_queued_again_only_on_request(tmp_path) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    manifest = rows(tmp_path, "https://m.test/0.mp3")
    journal.sync(manifest, rerun_changed=False, resubmit_uncertain=False)
    journal.mark_submitting("r0")
    kept = journal.sync(manifest, rerun_changed=False, resubmit_uncertain=False)
    assert _row(journal, "r0").state is RowState.UNCERTAIN
    assert (kept.uncertain, kept.resubmitted) == (["r0"], [])
    resent = journal.sync(manifest, rerun_changed=False, resubmit_uncertain=True)
    assert _row(journal, "r0").state is RowState.QUEUED
    assert (resent.uncertain, resent.resubmitted) == ([], ["r0"])  # was reported as still left uncertain
    assert _row(journal, "r0").submissions == 1


def test_removed_rows_unsent_are_dropped_sent_are_kept(tmp_path) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    journal.sync(rows(tmp_path, "https://m.test/0.mp3", "https://m.test/1.mp3", "https://m.test/2.mp3"),
                 rerun_changed=False, resubmit_uncertain=False)  # fmt: skip
    journal.mark_submitting("r1")
    journal.update("r1", state=RowState.SUBMITTED, task_id="t-1")
    report = journal.sync(rows(tmp_path, "https://m.test/0.mp3"), rerun_changed=False, resubmit_uncertain=False)
    assert report.removed == ["r1", "r2"]
    assert [row.key for row in journal.rows()] == ["r0", "r1"]


def test_a_removed_row_a_crash_caught_sending_is_uncertain_not_submitting_forever(tmp_path) -> None:
    """Kept because it was sent, it stayed "submitting": no run follows such a row, so every run after reported a
    create in flight (and the batch incomplete) instead of a row to look for in the Vozo account."""
    journal = Journal(tmp_path / "journal.sqlite")
    journal.sync(rows(tmp_path, "https://m.test/0.mp3", "https://m.test/1.mp3", "https://m.test/2.mp3"),
                 rerun_changed=False, resubmit_uncertain=False)  # fmt: skip
    journal.mark_submitting("r1")  # the process dies here: sent, no task id yet
    journal.mark_submitting("r2")
    journal.update("r2", state=RowState.SUBMITTED, task_id="../v1/x")  # no status request can name it
    report = journal.sync(rows(tmp_path, "https://m.test/0.mp3"), rerun_changed=False, resubmit_uncertain=True)
    assert (report.removed, report.uncertain, report.resubmitted) == (["r1", "r2"], ["r1", "r2"], [])
    assert [(row.key, row.state) for row in journal.rows()] == [
        ("r0", RowState.QUEUED),
        ("r1", RowState.UNCERTAIN),  # never resubmitted: it is no longer in the manifest
        ("r2", RowState.UNCERTAIN),
    ]


def test_the_journal_is_in_wal_mode(tmp_path) -> None:
    Journal(tmp_path / "j.sqlite").close()
    import sqlite3

    assert sqlite3.connect(tmp_path / "j.sqlite").execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_one_run_per_output_folder(tmp_path) -> None:
    manifest = write(
        tmp_path / "m.csv", "id,reference_file_url,audio_url\nx,https://m.test/p.mp4,https://m.test/a.mp3\n"
    )
    from filelock import FileLock

    sent: list[httpx.Request] = []

    def refuse(request: httpx.Request) -> httpx.Response:  # no socket: were a request sent, the run would stop here
        sent.append(request)
        return httpx.Response(401, json={"code": "7", "message": "No permission to request."})

    with FileLock(tmp_path / "out" / "vozo-batch.lock"):  # another run holds the folder

        async def go() -> None:
            lent = httpx.AsyncClient(transport=httpx.MockTransport(refuse))
            async with lent, vozo.AsyncVozo(api_key="k", http_client=lent, max_retries=0) as client:
                await vozo.batch.run(client, manifest, tmp_path / "out")

        with pytest.raises(vozo.batch.BatchLockedError, match="another vozo batch run"):
            asyncio.run(go())
    assert sent == []


def test_status_of_a_folder_without_a_journal(tmp_path) -> None:
    with pytest.raises(ManifestError, match="no batch journal"):
        vozo.batch.status(tmp_path)


def test_a_row_recorded_as_sent_without_a_usable_task_id_is_uncertain_on_resume(tmp_path) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    manifest = rows(tmp_path, "https://m.test/0.mp3", "https://m.test/1.mp3", "https://m.test/2.mp3")
    journal.sync(manifest, rerun_changed=False, resubmit_uncertain=False)
    for key in ("r0", "r1", "r2"):
        journal.mark_submitting(key)
    journal.update("r0", state=RowState.SUBMITTED, task_id=None)  # what a `{"task_id": null}` answer left behind
    journal.update("r1", state=RowState.SUBMITTED, task_id="t-1")
    journal.update("r2", state=RowState.SUBMITTED, task_id="../v1/x")  # no status request can name it
    report = journal.sync(manifest, rerun_changed=False, resubmit_uncertain=False)
    assert report.uncertain == ["r0", "r2"]
    states = [_row(journal, key).state for key in ("r0", "r1", "r2")]
    assert states == [RowState.UNCERTAIN, RowState.SUBMITTED, RowState.UNCERTAIN]


# --- inputs refused with the row, never a traceback -------------------------------------------------------------------

LIPSYNC_ROW = "https://m.test/p.mp4,https://m.test/a.mp3"


def test_a_cell_over_the_csv_field_limit_is_refused_with_its_row(tmp_path) -> None:
    huge = "https://m.test/" + "a" * 200_000 + ".mp3"
    text = f"id,reference_file_url,audio_url\nr1,{LIPSYNC_ROW}\nr2,{LIPSYNC_ROW}\nr3,https://m.test/p.mp4,{huge}\n"
    with pytest.raises(ManifestError, match=r"m\.csv, row 3: field larger than field limit"):
        vozo.batch.load(write(tmp_path / "m.csv", text))


@pytest.mark.parametrize("name", ["m.csv", "m.jsonl"])
def test_a_file_that_is_not_utf8_is_refused_with_its_row(tmp_path, name) -> None:
    if name.endswith(".csv"):
        text = (
            f"id,reference_file_url,audio_url\nr1,{LIPSYNC_ROW}\nr2,https://m.test/caf\xe9.mp4,https://m.test/a.mp3\n"
        )
    else:
        row = '{"id": "r%d", "reference_file_url": "https://m.test/%s.mp4", "audio_url": "https://m.test/a.mp3"}\n'
        text = row % (1, "p") + "\n" + row % (2, "caf\xe9")  # a blank line between: row 2 is on line 3
    (tmp_path / name).write_bytes(text.encode("latin-1"))
    line = 3
    with pytest.raises(ManifestError, match=rf"row 2 \(line {line}\): not UTF-8 text \(byte 0xe9\)"):
        vozo.batch.load(tmp_path / name)


def test_a_utf8_file_with_a_byte_order_mark_is_read(tmp_path) -> None:
    (tmp_path / "m.csv").write_bytes(f"\ufeffid,reference_file_url,audio_url\ncafé,{LIPSYNC_ROW}\n".encode())
    with pytest.raises(ManifestError, match="id 'café' must be letters"):  # read as text, the BOM dropped
        vozo.batch.load(tmp_path / "m.csv")


@pytest.mark.parametrize("depth", [40, 100_000])
def test_deeply_nested_jsonl_is_refused_with_its_row(tmp_path, depth) -> None:
    nested = "[" * depth + "]" * depth
    good = '{"media_url": "https://m.test/t.mp4", "target_language": "es"}'
    deep = '{"media_url": "https://m.test/t.mp4", "target_language": "es", "speaker_number": ' + nested + "}"
    with pytest.raises(ManifestError, match=r"m\.jsonl, row 2.*nested deeper than 16 levels"):
        vozo.batch.load(write(tmp_path / "m.jsonl", f"{good}\n{deep}\n"))


def test_a_deeply_nested_csv_cell_is_a_bad_value_not_a_crash(tmp_path) -> None:
    cell = '"' + '{""a"":' * 15_000 + '"'  # JSON too deep to parse, within the field size limit
    text = f"media_url,target_language,speaker_number\nhttps://m.test/t.mp4,es,{cell}\n"
    (row,) = vozo.batch.load(write(tmp_path / "m.csv", text))
    assert row.problem is not None  # refused before any request, like any other bad value


def test_a_csv_row_of_empty_cells_is_a_blank_line_not_a_row(tmp_path) -> None:
    text = f"id,reference_file_url,audio_url,\n\nr1,{LIPSYNC_ROW},\n,,,\n r2 ,{LIPSYNC_ROW}\n,,\n , ,,\n"
    assert [(row.key, row.position) for row in vozo.batch.load(write(tmp_path / "m.csv", text))] == [
        ("r1", 1),
        ("r2", 2),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"id,reference_file_url,audio_url, id\nr1,{LIPSYNC_ROW},r2\n", "column 'id' appears twice (columns 1 and 4)"),
        (f"id,reference_file_url,audio_url,\nr1,{LIPSYNC_ROW},x\n", "row 1: a value in column 4, which has no name"),
        (f"id,,reference_file_url,audio_url\nr1,x,{LIPSYNC_ROW}\n", "row 1: a value in column 2, which has no name"),
        (f"id,reference_file_url,audio_url\nr1,{LIPSYNC_ROW},x\n", "row 1: a value in column 4, which has no name"),
    ],
)
def test_a_csv_cell_whose_column_is_named_twice_or_not_at_all_is_refused(tmp_path, text, message) -> None:
    with pytest.raises(ManifestError, match=message.replace("(", r"\(").replace(")", r"\)")):
        vozo.batch.load(write(tmp_path / "m.csv", text))


def test_a_jsonl_object_that_gives_a_key_twice_is_refused(tmp_path) -> None:
    good = '{"id": "r1", "reference_file_url": "https://m.test/p.mp4", "audio_url": "https://m.test/a.mp3"}'
    twice = (
        '{"id": "r2", "reference_file_url": "https://m.test/p.mp4", "audio_url": "https://m.test/a.mp3", "id": "r3"}'
    )
    with pytest.raises(ManifestError, match=r"m\.jsonl, row 2 \(line 2\): key 'id' given twice"):
        vozo.batch.load(write(tmp_path / "m.jsonl", f"{good}\n{twice}\n"))


def test_a_jsonl_string_that_cannot_be_sent_as_utf8_makes_its_row_invalid(tmp_path) -> None:
    # Sent, it failed mid-request and the row was journalled uncertain (maybe billed) though nothing had left.
    line = '{"id": "r1", "reference_file_url": "https://m.test/p.mp4", "audio_url": "https://m.test/\\ud83d.mp3"}'
    (row,) = vozo.batch.load(write(tmp_path / "m.jsonl", line + "\n"))
    assert row.problem is not None
    assert "audio_url is not UTF-8 text: '\\ud83d' at position 15 is a lone surrogate" in row.problem


def test_a_new_row_may_not_write_the_files_of_a_removed_row_whose_job_was_sent(tmp_path) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    talk = '{"id": "talk", "media_url": "https://m.test/t.mp4", "target_language": "es"}\n'
    journal.sync(vozo.batch.load(write(tmp_path / "m.jsonl", talk)), rerun_changed=False, resubmit_uncertain=False)
    journal.mark_submitting("talk")
    journal.update("talk", state=RowState.SUBMITTED, task_id="tr-1")  # its talk.video.mp4 is still to come
    lipsync = '{"id": "Talk.Video", "reference_file_url": "https://m.test/p.mp4", "audio_url": "https://m.test/a.mp3"}'
    edited = vozo.batch.load(write(tmp_path / "m.jsonl", lipsync + "\n"))
    with pytest.raises(
        ManifestError, match=r"row 'Talk\.Video' could write the same file \(talk\.video\.\*\) as row 'talk'"
    ):
        journal.sync(edited, rerun_changed=False, resubmit_uncertain=False)
    assert [(row.key, row.state) for row in journal.rows()] == [("talk", RowState.SUBMITTED)]  # nothing changed


def test_a_refused_row_advises_the_manifest_s_columns_not_python_arguments(tmp_path) -> None:
    """A row whose URL has no extension was told to 'pass check_file_types=False', and one whose type could not be
    inferred to 'pass reference_file_type='video' or 'image'': Python arguments, where a manifest has columns."""
    manifest = write(
        tmp_path / "m.csv",
        CSV_HEADER
        + "a,https://m.test/face,https://m.test/a.mp3,,,,,,\n"
        + "b,https://m.test/face,https://m.test/a.mp3,,,,,false,\n",
    )
    no_extension, no_type = (row.problem or "" for row in vozo.batch.load(manifest))
    assert "set the row's check_file_types column to false" in no_extension
    assert "fill the row's reference_file_type column with 'video' or 'image'" in no_type
    assert "check_file_types=" not in no_extension
    assert "reference_file_type=" not in no_type


def test_a_value_the_spec_does_not_list_is_not_said_to_go_in_extra_body(tmp_path) -> None:
    """A manifest has no extra_body column, yet a row with an unknown model was told to send it with extra_body."""
    manifest = write(tmp_path / "m.csv", CSV_HEADER + "a,https://m.test/p.mp4,https://m.test/a.mp3,turbo,,,,,\n")
    (row,) = vozo.batch.load(manifest)
    assert row.problem is not None
    assert "got 'turbo' (a value Vozo added since this SDK was built needs a vozo release that knows it)" in row.problem
    assert "extra_body" not in row.problem


def test_a_sync_client_is_refused_before_any_job_is_made(tmp_path) -> None:
    """vozo.batch.run(Vozo(), ...) sent the create (a job made and billed), then failed to await its answer: the row
    was left `uncertain`, its task id lost."""
    manifest = write(tmp_path / "m.csv", CSV_HEADER + "a,https://m.test/p.mp4,https://m.test/a.mp3,,,,,,\n")
    sent: list[httpx.Request] = []

    def create(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"task_id": "li-1"})

    client = vozo.Vozo(api_key="k", http_client=httpx.Client(transport=httpx.MockTransport(create)))
    with client, pytest.raises(vozo.InvalidInputError, match=r"vozo.batch.run needs an AsyncVozo .*, got Vozo"):
        asyncio.run(vozo.batch.run(client, manifest, tmp_path / "out"))  # type: ignore[arg-type]
    assert sent == []
    assert not (tmp_path / "out").exists()


def test_an_async_def_on_progress_is_refused_before_any_job_is_made(tmp_path) -> None:
    """The batch calls on_progress from steps that cannot await: an async def one never ran (a RuntimeWarning aside)
    while every job was created and paid for."""
    manifest = write(tmp_path / "m.csv", CSV_HEADER + "a,https://m.test/p.mp4,https://m.test/a.mp3,,,,,,\n")
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"task_id": "li-1"} if request.method == "POST" else {"status": "pending"})

    async def shown(progress: vozo.batch.BatchProgress) -> None:
        return None

    async def go(on_progress: Any) -> None:
        lent = httpx.AsyncClient(transport=httpx.MockTransport(answer))
        async with lent, vozo.AsyncVozo(api_key="k", http_client=lent, max_retries=0) as client:
            await vozo.batch.run(client, manifest, tmp_path / "out", on_progress=on_progress, timeout=5)

    with pytest.raises(vozo.InvalidInputError, match="on_progress must be a plain function"):
        asyncio.run(go(shown))
    assert sent == []
    # a plain callable that hands back a coroutine stops the run at its first call
    with pytest.raises(vozo.InvalidInputError, match="on_progress must be a plain function"):
        asyncio.run(go(lambda progress: shown(progress)))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"manifest": None}, r"manifest must be a str or os.PathLike .*got NoneType"),  # an unset setting
        ({"out": None}, r"out must be a str or os.PathLike .*got NoneType"),
        ({"out": b"out"}, r"out must be a str or os.PathLike .*got bytes"),
        ({"on_progress": 5}, r"on_progress must be a function .*got int"),  # failed at the run's first report
    ],
)
def test_arguments_of_the_wrong_type_are_refused_before_any_job_is_made(tmp_path, arguments, message) -> None:
    """Each was a bare TypeError from pathlib, or from the first progress report once jobs were made."""
    manifest = write(tmp_path / "m.csv", CSV_HEADER + "a,https://m.test/p.mp4,https://m.test/a.mp3,,,,,,\n")
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"task_id": "li-1"} if request.method == "POST" else {"status": "pending"})

    async def go() -> None:
        lent = httpx.AsyncClient(transport=httpx.MockTransport(answer))
        async with lent, vozo.AsyncVozo(api_key="k", http_client=lent, max_retries=0) as client:
            given: dict[str, Any] = {"manifest": manifest, "out": tmp_path / "out", **arguments}
            await vozo.batch.run(client, given.pop("manifest"), given.pop("out"), timeout=5, **given)

    with pytest.raises(vozo.InvalidInputError, match=message):
        asyncio.run(go())
    assert sent == []


@pytest.mark.parametrize(
    ("type_", "expected"), [("integer", {"min": 2, "max": 4}), ("string", {"min": "2", "max": "4"})]
)
def test_a_range_cell_reads_its_two_values_as_the_spec_types_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, type_: str, expected: dict[str, object]
) -> None:
    """A "2-4" cell after a docs update retyped speaker_number's min and max: the row is valid, typed as the spec."""
    kind = vozo_jobs.kinds.TRANSLATIONS
    fields = tuple(
        attrs.evolve(
            field,
            schema={
                **field.schema,
                "properties": {n: {**s, "type": type_} for n, s in field.schema["properties"].items()},
            },
        )
        if field.name == "speaker_number"
        else field
        for field in kind.fields
    )
    monkeypatch.setattr(
        vozo_jobs.kinds,
        "KINDS",
        tuple(attrs.evolve(kind, fields=fields) if k is kind else k for k in vozo_jobs.kinds.KINDS),
    )
    text = "kind,media_url,target_language,speaker_number\ntranslations,https://m.test/t.mp4,es,2-4\n"
    (row,) = vozo.batch.load(write(tmp_path / "m.csv", text))
    assert row.fields["speaker_number"] == expected
    assert row.problem is None


def test_a_cell_of_a_field_typed_only_by_its_values_reads_as_those_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fields documented `enum: [1, 2]` or `const: 3`, no `type`: a cell "2" stayed the text '2' and the row was
    refused ("speed must be one of 1, 2, got '2'"), so no manifest could give them."""
    kind = vozo_jobs.kinds.TRANSLATIONS
    template = next(field for field in kind.fields if field.name == "user_prompt")
    added = tuple(
        attrs.evolve(template, name=name, argument=name, schema=schema, description="")
        for name, schema in {"speed": {"enum": [1, 2]}, "level": {"const": 3}, "fast": {"enum": [True]}}.items()
    )
    monkeypatch.setattr(
        vozo_jobs.kinds,
        "KINDS",
        tuple(attrs.evolve(kind, fields=(*kind.fields, *added)) if k is kind else k for k in vozo_jobs.kinds.KINDS),
    )
    text = "kind,media_url,target_language,speed,level,fast\ntranslations,https://m.test/t.mp4,es,2,3,true\n"
    (row,) = vozo.batch.load(write(tmp_path / "m.csv", text))
    assert row.problem is None
    assert {name: row.fields[name] for name in ("speed", "level", "fast")} == {"speed": 2, "level": 3, "fast": True}


def test_rows_without_ids_that_moved_are_told_apart_from_edited_ones(tmp_path) -> None:
    """Rows without an id are named by position: a user who removed a finished first row was told its two other rows
    had "changed after they were sent" and offered --rerun-changed, which sends both again: Vozo bills them twice."""
    lines = [f"https://m.test/{n}.mp4,https://m.test/a.mp3\n" for n in range(3)]
    header = "reference_file_url,audio_url\n"
    journal = Journal(tmp_path / "journal.sqlite")
    journal.sync(vozo.batch.load(write(tmp_path / "m.csv", header + "".join(lines))),
                 rerun_changed=False, resubmit_uncertain=False)  # fmt: skip
    for n, key in enumerate(("row-1", "row-2", "row-3")):
        journal.mark_submitting(key)
        journal.update(key, state=RowState.COMPLETED, task_id=f"t-{n}")
    shifted = vozo.batch.load(write(tmp_path / "m.csv", header + "".join(lines[1:])))
    with pytest.raises(ManifestChangedError) as raised:
        journal.sync(shifted, rerun_changed=False, resubmit_uncertain=False)
    said = " ".join(str(raised.value).split())
    assert "row-1 now holds what row-2 was sent as, row-2 what row-3 was" in said
    assert "give every row an id" in said
    assert {row.key: row.task_id for row in journal.rows()} == {"row-1": "t-0", "row-2": "t-1", "row-3": "t-2"}


def test_an_id_taken_by_a_row_without_one_says_rows_without_ids_are_named_by_position(tmp_path) -> None:
    """Row 2 had no id, so the message "id 'row-2' is used by rows 1 and 2" named an id row 2 never had."""
    manifest = write(
        tmp_path / "m.csv",
        "id,reference_file_url,audio_url\nrow-2,https://m.test/1.mp4,https://m.test/a.mp3\n"
        ",https://m.test/2.mp4,https://m.test/a.mp3\n",
    )
    with pytest.raises(ManifestError) as refused:
        vozo.batch.load(manifest)
    said = " ".join(str(refused.value).split())
    assert "id 'row-2' is used by rows 1 and 2" in said
    assert "a row without an id is named row-N after its position" in said
