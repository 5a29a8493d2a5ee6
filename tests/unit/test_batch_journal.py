"""A damaged batch journal is refused with a JournalError that says which file and what to do; nothing is sent."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

import vozo
import vozo.batch
from vozo.batch import JournalError
from vozo.batch._journal import Journal
from vozo.batch._outputs import JOURNAL_NAME

ROWS = 300  # enough for a journal of many pages, so that cutting it in half loses rows


def write_manifest(path: Path) -> Path:
    lines = [f"r{n},https://m.test/p.mp4,https://m.test/{n}.mp3" for n in range(ROWS)]
    path.write_text("id,reference_file_url,audio_url\n" + "\n".join(lines) + "\n")
    return path


def journal_of_a_batch(folder: Path, manifest: Path) -> Path:
    folder.mkdir()
    journal = Journal(folder / JOURNAL_NAME)
    journal.sync(vozo.batch.load(manifest), rerun_changed=False, resubmit_uncertain=False)
    for n in range(0, ROWS, 2):
        journal.mark_submitting(f"r{n}")
        journal.update(f"r{n}", state=vozo.batch.RowState.SUBMITTED, task_id=f"t-{n}")
    journal.close()  # checkpointed into the main file: no -wal file left to recover from
    return folder / JOURNAL_NAME


def truncated(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def zeroed(path: Path) -> None:
    path.write_bytes(bytes(path.stat().st_size))


def emptied(path: Path) -> None:
    path.write_bytes(b"")


def not_sqlite(path: Path) -> None:
    path.write_text("id,task_id\nr0,t-0\n")


@pytest.mark.parametrize("damage", [truncated, zeroed, emptied, not_sqlite])
def test_a_damaged_journal_is_refused_and_nothing_is_submitted(tmp_path, damage: Callable[[Path], None]) -> None:
    manifest = write_manifest(tmp_path / "m.csv")
    path = journal_of_a_batch(tmp_path / "out", manifest)
    damage(path)
    damaged = path.read_bytes()
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(400, json={"code": "5", "message": "refused, so that a run that sends ends at once"})

    async def go() -> None:
        http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        async with vozo.AsyncVozo(api_key="k", base_url="https://api.vozo.test", http_client=http) as client:
            await vozo.batch.run(client, manifest, tmp_path / "out")

    with pytest.raises(JournalError) as refused:
        asyncio.run(go())
    message = str(refused.value)
    assert str(path) in message
    assert "move the journal aside" in message
    assert "restore it from a backup" in message
    assert not sent  # never resubmitted
    assert path.read_bytes() == damaged  # left as it was, for recovery
    with pytest.raises(JournalError, match="is damaged"):
        vozo.batch.status(tmp_path / "out")


# --- a folder or journal that cannot be used is not a damaged journal ------------------------------------------------


def run_refusing_every_request(manifest: Path, out: Path, sent: list[httpx.Request], **options: object) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(400, json={"code": "5", "message": "refused, so that a run that sends ends at once"})

    async def go() -> None:
        http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        async with vozo.AsyncVozo(api_key="k", base_url="https://api.vozo.test", http_client=http) as client:
            await vozo.batch.run(client, manifest, out, **options)  # type: ignore[arg-type]

    asyncio.run(go())


def under_a_file(out: Path) -> Path:
    out.write_text("a file, not a folder")
    return out / "results"


def lock_is_a_folder(out: Path) -> Path:
    (out / "vozo-batch.lock").mkdir(parents=True)
    return out


@pytest.mark.parametrize(("place", "reason"), [(under_a_file, "Not a directory"), (lock_is_a_folder, "Is a directory")])
def test_an_output_folder_that_cannot_be_used_is_refused_before_anything_is_sent(tmp_path, place, reason) -> None:
    sent: list[httpx.Request] = []
    out = place(tmp_path / "out")
    with pytest.raises(JournalError, match=rf"cannot use {out} as the batch's output folder \({reason}"):
        run_refusing_every_request(write_manifest(tmp_path / "m.csv"), out, sent)
    assert not sent


def test_a_journal_that_cannot_be_opened_is_not_called_damaged(tmp_path) -> None:
    (tmp_path / "out" / JOURNAL_NAME).mkdir(parents=True)  # nothing SQLite can open, and nothing it could repair
    sent: list[httpx.Request] = []
    with pytest.raises(JournalError) as refused:
        run_refusing_every_request(write_manifest(tmp_path / "m.csv"), tmp_path / "out", sent)
    assert "cannot be opened" in str(refused.value)
    assert "damaged" not in str(refused.value).replace("Nothing says it is damaged", "")
    assert "move the journal aside" not in str(refused.value)  # advice that would bill every sent row again
    assert not sent


def test_options_that_cannot_work_are_refused_before_the_folder_is_touched(tmp_path) -> None:
    sent: list[httpx.Request] = []
    for options in ({"timeout": -5.0}, {"poll_interval": 0.0}, {"max_active": 0}):
        with pytest.raises(vozo.InvalidInputError):
            run_refusing_every_request(write_manifest(tmp_path / "m.csv"), tmp_path / "out", sent, **options)
    assert not sent
    assert not (tmp_path / "out").exists()


def test_a_journal_of_another_schema_is_refused_saying_what_to_do(tmp_path) -> None:
    path = journal_of_a_batch(tmp_path / "out", write_manifest(tmp_path / "m.csv"))
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '2' WHERE name = 'schema'")  # as a later vozo would write it
    with pytest.raises(vozo.batch.ManifestError, match="run this batch with the vozo that started it, or give a new"):
        vozo.batch.status(tmp_path / "out")


def test_a_manifest_the_batch_would_overwrite_is_refused(tmp_path) -> None:
    (tmp_path / "out").mkdir()
    manifest = write_manifest(tmp_path / "out" / "report.csv")  # the user's own file, where the report goes
    written = manifest.read_bytes()
    sent: list[httpx.Request] = []
    with pytest.raises(vozo.batch.ManifestError, match=r"is a file the batch writes in .*: the run would overwrite it"):
        run_refusing_every_request(manifest, tmp_path / "out", sent)
    assert manifest.read_bytes() == written
    assert not sent


def test_a_folder_whose_report_says_a_batch_ran_there_is_not_taken_for_a_new_batch_without_its_journal(
    tmp_path,
) -> None:
    """The journal gone (deleted, left behind by a copy) and report.json still there: the run started a new batch,
    submitting (and billing) again every row the report lists as sent."""
    manifest = write_manifest(tmp_path / "m.csv")
    out = tmp_path / "out"
    journal_of_a_batch(out, manifest).unlink()
    (out / "report.json").write_text('{"rows": [{"id": "r0", "task_id": "t-0"}]}\n')
    sent: list[httpx.Request] = []
    with pytest.raises(JournalError) as refused:
        run_refusing_every_request(manifest, out, sent)
    assert f"{out / 'report.json'} says a batch ran here, but its journal {out / JOURNAL_NAME} is missing" in str(
        refused.value
    )
    assert not sent
    assert not (out / JOURNAL_NAME).exists()
    (out / "report.json").rename(tmp_path / "report-of-the-old-batch.json")  # the way to start over it names
    run_refusing_every_request(manifest, out, sent)
    assert sent


def test_a_journals_own_checkpoints_and_readers_are_not_taken_for_another_file(tmp_path) -> None:
    """The run's own checkpoints (every _CHECKPOINT_EVERY statements) change the main file: the journal signs it
    again after each, so a long run is not stopped as if its journal had been overwritten; nor by a reader."""
    from vozo.batch import _journal

    manifest = write_manifest(tmp_path / "m.csv")
    journal = Journal(tmp_path / JOURNAL_NAME)
    journal.sync(vozo.batch.load(manifest), rerun_changed=False, resubmit_uncertain=False)
    before = (tmp_path / JOURNAL_NAME).stat().st_mtime_ns, (tmp_path / JOURNAL_NAME).stat().st_size
    for n in range(2 * _journal._CHECKPOINT_EVERY):
        journal.update("r0", error="x" * (n % 7))
        if n % 100 == 0:
            vozo.batch.status(tmp_path)  # `vozo batch status` during the run
    after = (tmp_path / JOURNAL_NAME).stat().st_mtime_ns, (tmp_path / JOURNAL_NAME).stat().st_size
    assert after != before  # checkpointed into the main file meanwhile
    journal.close()
