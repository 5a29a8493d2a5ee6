"""``vozo.batch.run`` and ``vozo.batch.status``: the journal, its lock and the report around a Runner."""

from __future__ import annotations

import contextlib
import csv
import inspect
import json
import os
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO, TypedDict

from filelock import FileLock, Timeout

from vozo._arguments import check_callback, check_path
from vozo._async._client import AsyncVozo
from vozo._download import remove_partials
from vozo._errors import InvalidInputError, VozoError
from vozo._jobs import DEFAULT_POLL_INTERVAL, DEFAULT_WAIT_TIMEOUT
from vozo._logging import logger
from vozo.batch import _manifest
from vozo.batch._journal import (
    Journal,
    JournalError,
    JournalReplacedError,
    JournalRow,
    RowReport,
    RowState,
    SyncReport,
)
from vozo.batch._manifest import ManifestError
from vozo.batch._outputs import BATCH_FILES, JOURNAL_NAME, LOCK_NAME, REPORT_CSV, REPORT_JSON
from vozo.batch._scheduler import (
    ASYNC_ON_PROGRESS,
    DEFAULT_CONCURRENCY,
    DEFAULT_DOWNLOADS,
    DEFAULT_MAX_ACTIVE,
    BatchProgress,
    Runner,
    check_options,
)

_REPORT_COLUMNS = ("id", "position", "kind", "state", "task_id", "status", "submissions", "error_code", "error")
# A spreadsheet reads a cell starting with one of these as a formula: an error message a server wrote could then
# run one (=HYPERLINK(...) sends the sheet's cells away) when report.csv is opened. Such a cell gets a leading "'",
# as OWASP advises; report.json keeps every value as sent.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


class BatchLockedError(ManifestError):
    """Another run is using this output folder (two runs on one journal could submit a row twice)."""


class BatchReport(TypedDict):
    """What report.json holds (``BatchSummary.report``)."""

    out: str
    complete: bool
    stopped: str | None
    counts: dict[str, int]  # rows by RowState value
    rows: list[RowReport]


@dataclass(frozen=True)
class BatchSummary:
    out: Path
    rows: list[JournalRow]
    sync: SyncReport | None  # how the manifest compared with the journal (None from ``status``)
    stopped: str | None  # why submitting stopped early: the key was refused (revoked, no credits), Vozo unreached
    slowdowns: int
    stopped_by: VozoError | None = None  # the error behind ``stopped``

    @property
    def counts(self) -> Counter[RowState]:
        return Counter(row.state for row in self.rows)

    @property
    def complete(self) -> bool:
        """Every row completed: its job done and its results on disk."""
        return all(row.state is RowState.COMPLETED for row in self.rows)

    @property
    def unfinished(self) -> list[JournalRow]:
        return [row for row in self.rows if row.state is not RowState.COMPLETED]

    def report(self) -> BatchReport:
        return {
            "out": str(self.out),
            "complete": self.complete,
            "stopped": self.stopped,
            "counts": {state.value: n for state, n in sorted(self.counts.items())},
            "rows": [row.to_report() for row in self.rows],
        }


async def run(
    client: AsyncVozo,
    manifest: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    max_active: int = DEFAULT_MAX_ACTIVE,
    concurrency: int = DEFAULT_CONCURRENCY,
    downloads: int = DEFAULT_DOWNLOADS,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    timeout: float = DEFAULT_WAIT_TIMEOUT,
    resubmit_uncertain: bool = False,
    rerun_changed: bool = False,
    on_progress: Callable[[BatchProgress], object] | None = None,
) -> BatchSummary:
    """Run (or resume) the manifest's jobs into ``out``; returns when every row is final or parked.

    ``max_active``: jobs at Vozo at once per family (lipsync, translation), the key's documented cap.
    ``concurrency``: API requests in flight at once, capped by the client's own limit (``MAX_REQUESTS_IN_FLIGHT``, 20).
    ``timeout``: how long this run waits for each job before leaving it for the next run.
    Raises ManifestError (the manifest as a whole is unusable), ManifestChangedError, BatchLockedError;
    InvalidInputError for a client that is no AsyncVozo.
    """
    _refuse_unusable_arguments(client, on_progress, manifest, out)
    check_options(max_active=max_active, concurrency=concurrency, downloads=downloads,
                  poll_interval=poll_interval, timeout=timeout)  # fmt: skip
    rows = _manifest.load(manifest)  # a file that cannot be used is refused before the folder is touched
    folder = Path(out)
    _refuse_a_manifest_of_the_batch(Path(manifest), folder)
    with _locked(folder) as journal:
        recorded = {row.key: row.kind for row in await journal.in_thread(journal.heads)}
        if recorded:  # resumed: a row without a kind column keeps the kind it was journalled with
            rows = _manifest.load(manifest, recorded_kinds=recorded)
        sync = await journal.in_thread(
            journal.sync, rows, rerun_changed=rerun_changed, resubmit_uncertain=resubmit_uncertain
        )
        del rows  # in the journal now: the run does not hold the manifest (its memory is the rows in flight)
        remove_partial_files(folder)
        runner = Runner(client, journal, folder, max_active=max_active, concurrency=concurrency, downloads=downloads,
                        poll_interval=poll_interval, timeout=timeout, on_progress=on_progress)  # fmt: skip
        try:
            await runner.run()
        except JournalReplacedError:  # no report from the file there now: it is not this batch's journal
            raise journal.replaced_error() from None  # with the task ids of creates that landed since it was found
        except BaseException:
            # Written for a Ctrl-C or a crash too, but what stopped the run is what the caller must see: a report
            # that cannot be written then (the disk that refused the journal is full) is only logged.
            try:
                write_report(_summary(runner, journal, folder, sync))
            except VozoError as unwritten:
                logger.warning("%s", unwritten)
            raise
        summary = _summary(runner, journal, folder, sync)
        write_report(summary)
    return summary


def _summary(runner: Runner, journal: Journal, folder: Path, sync: SyncReport) -> BatchSummary:
    return BatchSummary(folder, journal.rows(), sync, runner.stopped, runner.slowdowns, runner.stopped_by)


def _refuse_unusable_arguments(client: object, on_progress: object, manifest: object, out: object) -> None:
    """Refused before any job is paid for."""
    if not isinstance(client, AsyncVozo):  # a Vozo's create is no coroutine: its job would be made, then lost
        raise InvalidInputError(
            f"vozo.batch.run needs an AsyncVozo (async with vozo.AsyncVozo() as client: ...), got "
            f"{type(client).__name__}"
        )
    check_callback("on_progress", on_progress, awaited=True)
    if inspect.iscoroutinefunction(on_progress):  # see Scheduler._report
        raise InvalidInputError(ASYNC_ON_PROGRESS)
    check_path("manifest", manifest)
    check_path("out", out)


def _refuse_a_manifest_of_the_batch(manifest: Path, folder: Path) -> None:
    if manifest.resolve() in {(folder / name).resolve() for name in BATCH_FILES}:
        raise ManifestError(
            f"the manifest {manifest} is a file the batch writes in {folder}: the run would overwrite it. "
            "Move it out of that folder, or give another out= folder."
        )


@contextmanager
def _locked(folder: Path) -> Iterator[Journal]:
    """The folder's journal, held by this run alone: two runs on one journal could submit a row twice."""
    lock = FileLock(folder / LOCK_NAME)  # released by the OS if this process dies
    try:
        folder.mkdir(parents=True, exist_ok=True)
        lock.acquire(timeout=0)
    except Timeout:
        raise BatchLockedError(
            f"another vozo batch run is using {folder}: wait for it to end (`vozo batch status {folder}` shows its "
            "progress), or give this run another out= folder"
        ) from None
    except OSError as exc:  # not a folder, read-only, no permission, a directory where the lock file goes, ...
        raise JournalError(
            f"cannot use {folder} as the batch's output folder ({exc.strerror or exc}: {exc.filename}); nothing was "
            "submitted. Fix that, or give another out= folder you can write to."
        ) from None
    try:
        _refuse_a_lost_journal(folder)
        journal = Journal(folder / JOURNAL_NAME)
        try:
            yield journal
        finally:
            journal.close()
    finally:
        lock.release()


def _refuse_a_lost_journal(folder: Path) -> None:
    """A folder whose report says a batch ran there, and no journal: a new one would submit every row again."""
    journal, report = folder / JOURNAL_NAME, folder / REPORT_JSON
    if report.is_file() and not journal.exists():
        raise JournalError(
            f"{report} says a batch ran here, but its journal {journal} is missing; nothing was submitted. Without "
            "it every row would be submitted, and billed, again: restore it from a backup if you have one. To "
            f"start this batch over instead, move {report.name} aside (it lists the task ids of the rows sent) and "
            "run again."
        )


def remove_partial_files(folder: Path) -> None:
    """Temporary files a killed run left in the folder, only those whose names say they are ours: half downloads
    (``vozo._download`` names them, and skips any a running download still holds) and half written reports."""
    remove_partials(folder)
    for report in (REPORT_JSON, REPORT_CSV):
        with contextlib.suppress(OSError):  # a folder of that name is not ours
            _temporary(folder / report).unlink(missing_ok=True)


def status(out: str | os.PathLike[str]) -> BatchSummary:
    """Read a batch's journal (also while a run is going on)."""
    journal = Journal.open_existing(Path(out) / JOURNAL_NAME)
    try:
        return BatchSummary(Path(out), journal.rows(), None, None, 0)
    finally:
        journal.close()


def write_report(summary: BatchSummary) -> None:
    """``report.json`` and ``report.csv`` beside the results, each replaced whole (never half written).

    Both are streamed into their files, a row at a time: built as strings first, they were the largest thing a
    batch of many rows held (json.dumps with indent joins one small string per token)."""
    report = summary.report()

    def document(file: TextIO) -> None:
        json.dump(report, file, indent=2)
        file.write("\n")

    def table(file: TextIO) -> None:
        writer = csv.DictWriter(file, [*_REPORT_COLUMNS, "outputs"])
        writer.writeheader()
        for row in report["rows"]:
            cells: dict[str, object] = {column: value for column, value in row.items() if column in _REPORT_COLUMNS}
            cells["outputs"] = " ".join(row["outputs"].values())
            writer.writerow({column: _inert(value) for column, value in cells.items()})

    _replace(summary.out / REPORT_JSON, document)
    _replace(summary.out / REPORT_CSV, table)


def _inert(value: object) -> object:
    """A report.csv cell no spreadsheet runs as a formula (a number, "-5", stays a number)."""
    if not isinstance(value, str) or not value.startswith(_FORMULA_START):
        return value
    try:
        float(value)
    except ValueError:
        return "'" + value
    return value


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.part")


def _replace(path: Path, write: Callable[[TextIO], None]) -> None:
    temporary = _temporary(path)
    try:
        with temporary.open("w", encoding="utf-8", newline="") as file:  # as written: csv chooses its own line ends
            write(file)
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        raise JournalError(
            f"the batch report {path} could not be written ({exc.strerror or exc}). Every row's state and task id "
            f"are in the journal beside it: fix the cause (disk space, permissions), then `vozo batch status "
            f"{path.parent}` reads them, and running the same command again writes the report."
        ) from None
