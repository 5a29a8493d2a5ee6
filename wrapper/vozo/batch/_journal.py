"""The batch journal: one SQLite file (WAL mode) beside the outputs, holding every row's state.

Every transition is its own committed transaction, written before the step it records takes effect: a row is
marked ``submitting`` before its create request leaves and ``submitted`` with its task id as soon as the id
arrives. So a crash at any point loses no task id, and a row caught in between is known to be uncertain.

A journal is created whole (built under a temporary name, then renamed), so one that exists always holds its
schema: a file that is empty, zeroed, truncated or not SQLite is damaged, and refused with a ``JournalError``
rather than taken for a new batch, which would submit (and bill) every row again.

A run holds its journal alone, and checks at each statement that it still does: the file under the journal's name
must be the one it opened, unchanged but by its own writes (SQLite writes the main file only when it checkpoints, and
the run does its checkpoints itself), and no other connection may have written it (``PRAGMA data_version``). A
journal replaced, overwritten in place or written by another run stops the run (``JournalReplacedError``) before it
writes anything more: its later writes would mix two batches' state. The task ids the journal held are kept in
memory for that moment: written beside it and named in the error, since the file may not hold them any more.

A running batch commits from a worker thread (``in_thread``): each commit fsyncs (``synchronous=FULL``), and the
event loop must go on meanwhile. The caller awaits each commit before its next step, so the rule above holds; one
thread at a time uses the connection (a lock, and a single-slot limiter that keeps the commits in order).
"""

from __future__ import annotations

import errno
import functools
import json
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum, StrEnum
from pathlib import Path
from typing import Any, ParamSpec, TypedDict, TypeVar

import anyio

from vozo._arguments import checked_task_id
from vozo._base import JSON
from vozo._errors import InvalidInputError, VozoError
from vozo._kinds import kind_named
from vozo._logging import logger
from vozo.batch._manifest import ManifestError, ManifestRow
from vozo.batch._outputs import stems

_SCHEMA_VERSION = "1"
_SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE rows (
    row_key TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    fields TEXT NOT NULL,
    row_hash TEXT NOT NULL,
    state TEXT NOT NULL,
    task_id TEXT,
    status TEXT,
    submissions INTEGER NOT NULL DEFAULT 0,
    error_code TEXT,
    error TEXT,
    outputs TEXT NOT NULL DEFAULT '{}',
    previous_task_ids TEXT NOT NULL DEFAULT '[]',
    updated_at REAL NOT NULL
);
"""


class RowState(StrEnum):
    QUEUED = "queued"  # not sent yet
    SUBMITTING = "submitting"  # the create request may be in flight: the task id is not known yet
    SUBMITTED = "submitted"  # the job exists (task_id); polled until it ends
    DOWNLOADING = "downloading"  # the job is done; its results are not all on disk yet
    DOWNLOAD_FAILED = "download_failed"  # the job is done; a download failed: retried (fresh links) by the next run
    COMPLETED = "completed"  # done, and every result downloaded (outputs)
    FAILED = "failed"  # the job failed, or Vozo refused the create request: nothing more to do
    INVALID = "invalid"  # refused before any request (a bad field in the manifest)
    UNCERTAIN = "uncertain"  # sent, but no task id came back: Vozo may or may not have created (and billed) a job


FINAL_STATES = frozenset({RowState.COMPLETED, RowState.FAILED, RowState.INVALID, RowState.UNCERTAIN})
SENT_STATES = frozenset(RowState) - {RowState.QUEUED, RowState.INVALID}
_FOLLOWED = frozenset({RowState.SUBMITTED, RowState.DOWNLOADING, RowState.DOWNLOAD_FAILED})  # need a task id
_HEAD_COLUMNS = "row_key, kind, state, task_id, status, outputs"
_CHECKPOINT_EVERY = 500  # statements between the run's own checkpoints (SQLite's automatic ones are turned off)
_SHOWN_TASK_IDS = 10
_P = ParamSpec("_P")
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class RowHead:
    """What a run needs to schedule a row, without its fields: a run holds one per row, so it stays small."""

    key: str
    kind: str
    state: RowState
    task_id: str | None
    status: str | None
    outputs: dict[str, str]


class RowReport(TypedDict):
    """A row as report.json holds it (``JournalRow.to_report``)."""

    id: str
    position: int
    kind: str
    state: str  # a RowState's value
    task_id: str | None
    status: str | None
    submissions: int
    error_code: str | None
    error: str | None
    outputs: dict[str, str]
    previous_task_ids: list[str]


@dataclass(frozen=True)
class JournalRow:
    key: str
    position: int
    kind: str
    fields: dict[str, JSON]  # the manifest row's values, as ManifestRow.fields
    row_hash: str
    state: RowState
    task_id: str | None
    status: str | None  # Vozo's last reported status value
    submissions: int  # create requests sent for this row, over all runs
    error_code: str | None
    error: str | None
    outputs: dict[str, str]  # result kind -> downloaded file
    previous_task_ids: list[str]  # jobs made for earlier values of an edited row (--rerun-changed)
    updated_at: float

    def to_report(self) -> RowReport:
        return {
            "id": self.key,
            "position": self.position,
            "kind": self.kind,
            "state": self.state.value,
            "task_id": self.task_id,
            "status": self.status,
            "submissions": self.submissions,
            "error_code": self.error_code,
            "error": self.error,
            "outputs": self.outputs,
            "previous_task_ids": self.previous_task_ids,
        }


class _Lost(Enum):
    """How the file under the journal's name stopped being the run's journal (a value completes a sentence)."""

    WRITTEN = "was written by another program (another `vozo batch run` on the same journal?)"
    REPLACED = "was replaced by another file"
    OVERWRITTEN = "was overwritten in place (its size or modification time changed)"


@dataclass
class SyncReport:
    """How the manifest compared with the journal when a run started."""

    new: int = 0
    resumed: int = 0
    changed_unsent: list[str] = field(default_factory=list)  # edited before being sent: the new values are used
    changed_sent: list[str] = field(default_factory=list)  # edited after being sent (a conflict unless rerun)
    removed: list[str] = field(default_factory=list)  # no longer in the manifest
    uncertain: list[str] = field(default_factory=list)  # caught between sending and receiving a task id
    resubmitted: list[str] = field(default_factory=list)  # uncertain, and queued again (resubmit_uncertain)


class ManifestChangedError(ManifestError):
    """Rows that were already sent have changed in the manifest since."""


class JournalError(VozoError):
    """The batch journal cannot be read or written: damaged, not a journal, or the disk refused a write."""


class JournalReplacedError(JournalError):
    """The file under the journal's name is no longer the one this run keeps: replaced, overwritten or written by
    another run. ``task_ids`` (row id -> task ids, current last) and ``saved`` (the file they were written to, or
    None) keep the jobs the batch sent."""

    def __init__(self, message: str, task_ids: dict[str, list[str]], saved: Path | None) -> None:
        super().__init__(message)
        self.task_ids = task_ids
        self.saved = saved


class Journal:
    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        """``read_only`` (``vozo batch status``): reads only, and from a folder this process cannot write to too."""
        self.path = path
        try:
            if not read_only and not path.exists():
                _create(path)
            elif path.stat().st_size == 0:  # SQLite would take it for a new database, and the batch for a new batch
                raise _damaged(path, "the file is empty")
            # Autocommit: each statement is its own transaction; WAL lets `vozo batch status` read during a run.
            # Used from the loop's thread and from worker threads (in_thread), never two at once: see _lock.
            self._db = _connect(path, read_only=read_only)
        except (OSError, sqlite3.Error) as exc:
            raise _unusable(path, exc) from None
        self._lock = threading.RLock()  # reentrant: a transaction holds it across its statements
        self._writer = anyio.CapacityLimiter(1)  # one worker thread at a time, first come first served
        try:
            self._db.row_factory = sqlite3.Row
            # Checked before anything is written to it: a damaged journal is left exactly as it was found.
            problems = [str(r[0]) for r in self._db.execute("PRAGMA quick_check(5)").fetchall()]
            if problems != ["ok"]:
                raise sqlite3.DatabaseError("; ".join(problems))
            version = self._db.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone()
            self._db.execute("SELECT row_key FROM rows LIMIT 1").fetchall()
            if not read_only:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=FULL")  # a committed task id survives power loss, not a crash only
        except sqlite3.Error as exc:
            self._db.close()
            raise _unusable(path, exc) from None
        self._read_only = read_only
        if version is None or version["value"] != _SCHEMA_VERSION:
            self._db.close()
            found = "none" if version is None else version["value"]
            raise ManifestError(
                f"{path} was written by another version of vozo (journal schema {found}, this one reads "
                f"{_SCHEMA_VERSION}): run this batch with the vozo that started it, or give a new out= folder"
            )
        self._lost: _Lost | None = None  # how the file under the name stopped being this run's journal
        self._task_ids: dict[str, list[str]] = {}  # row key -> its task ids (previous ones first), for that moment
        self._statements = 0
        if not read_only:
            try:
                self._hold()
                for found_row in self._db.execute(
                    "SELECT row_key, task_id, previous_task_ids FROM rows "
                    "WHERE task_id IS NOT NULL OR previous_task_ids != '[]'"
                ):
                    ids = [*json.loads(found_row["previous_task_ids"]), found_row["task_id"]]
                    self._task_ids[found_row["row_key"]] = [str(i) for i in ids if i]
            except (OSError, sqlite3.Error) as exc:
                self._db.close()
                raise _unusable(path, exc) from None

    def _hold(self) -> None:
        """Take the file under the name as this run's: its identity, and the writes of others seen so far."""
        self._db.execute("PRAGMA wal_autocheckpoint=0").fetchall()  # the main file changes only when _sql checkpoints
        signature = _signature(self.path)
        if signature is None:
            raise FileNotFoundError(errno.ENOENT, "deleted as it was opened", str(self.path))
        self._signature = signature
        self._wal = _identity(_wal_of(self.path))
        self._data_version = self._db.execute("PRAGMA data_version").fetchone()[0]

    @classmethod
    def open_existing(cls, path: Path) -> Journal:
        """The journal of a batch, to read only."""
        if not path.is_file():
            raise ManifestError(
                f"no batch journal at {path}: give the out= folder of a batch run (it holds {path.name})"
            )
        return cls(path, read_only=True)

    def close(self) -> None:
        with self._lock:
            if self._lost is not None:
                self._let_go()
                return
            try:
                self._keep_on_disk()
            finally:
                self._db.close()

    async def in_thread(self, call: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """``call`` (a method of this journal) in a worker thread; returns once it is done (committed), even if the
        caller is cancelled meanwhile: a commit is never abandoned half way, and never leaves the loop waiting."""
        return await anyio.to_thread.run_sync(functools.partial(call, *args, **kwargs), limiter=self._writer)

    def sync(self, manifest: list[ManifestRow], *, rerun_changed: bool, resubmit_uncertain: bool) -> SyncReport:
        """Bring the journal in line with the manifest, in one transaction; raises on an unhandled conflict."""
        report = SyncReport()
        known = {row.key: row for row in self.rows()}
        report.changed_sent = [
            row.key
            for row in manifest
            if (old := known.get(row.key)) is not None and _edited(old, row) and old.state in SENT_STATES
        ]
        if report.changed_sent and not rerun_changed:
            raise _changed_sent_error(report.changed_sent, manifest, known)
        report.removed = sorted(set(known) - {row.key for row in manifest})
        if (renamed := _renamed(manifest, known, report.removed)) and not rerun_changed:
            raise _renamed_error(renamed)
        _refuse_files_of_kept_rows([known[key] for key in report.removed if known[key].state in SENT_STATES], manifest)
        with self._transaction():
            for row in manifest:
                old = known.get(row.key)
                if old is None:
                    report.new += 1
                    self._insert(row)
                    continue
                report.resumed += 1
                if _edited(old, row):
                    if old.state not in SENT_STATES:
                        report.changed_unsent.append(row.key)
                    self._replace(old, row)
                    continue
                if old.row_hash != row.row_hash:  # journalled under an older name of its kind: now under this one
                    self.update(row.key, kind=row.kind, row_hash=row.row_hash)
                self._resume(old, row, report, resubmit_uncertain=resubmit_uncertain)
            for key in report.removed:
                if known[key].state in (RowState.QUEUED, RowState.INVALID):  # never sent: nothing to keep
                    self._sql("DELETE FROM rows WHERE row_key = ?", (key,))
                elif self._settled(known[key]) is RowState.UNCERTAIN:  # kept, never resubmitted: not in the manifest
                    report.uncertain.append(key)
        return report

    def _insert(self, row: ManifestRow) -> None:
        self._sql(
            "INSERT INTO rows (row_key, position, kind, fields, row_hash, state, error, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row.key,
                row.position,
                row.kind,
                json.dumps(row.fields),
                row.row_hash,
                _fresh(row),
                row.problem,
                time.time(),
            ),
        )

    def _replace(self, old: JournalRow, row: ManifestRow) -> None:
        """An edited row starts over with its new values; a task id it had (--rerun-changed) stays in its history."""
        self.update(
            row.key,
            position=row.position,
            kind=row.kind,
            fields=json.dumps(row.fields),
            row_hash=row.row_hash,
            state=_fresh(row),
            task_id=None,
            status=None,
            error_code=None,
            error=row.problem,
            outputs={},
            previous_task_ids=[*old.previous_task_ids, *([old.task_id] if old.task_id else [])],
        )

    def _resume(self, old: JournalRow, row: ManifestRow, report: SyncReport, *, resubmit_uncertain: bool) -> None:
        """Carry an unchanged row into this run; one uncertain (sent, with no task id to follow) is reported."""
        state = self._settled(old)
        if state is RowState.UNCERTAIN and resubmit_uncertain:
            self.update(row.key, state=RowState.QUEUED, error=None, error_code=None)
            report.resubmitted.append(row.key)
        elif state is RowState.UNCERTAIN:
            report.uncertain.append(row.key)
        if old.position != row.position:
            self.update(row.key, position=row.position)

    def _settled(self, old: JournalRow) -> RowState:
        """The row's state for a new run: one sent without a task id to follow it by is uncertain."""
        if old.state is RowState.SUBMITTING:  # a crash between sending and receiving the task id
            self.update(
                old.key, state=RowState.UNCERTAIN, error="sent, but no task id came back before the run stopped"
            )
            return RowState.UNCERTAIN
        if old.state in _FOLLOWED and usable_task_id(old.task_id) is None:  # stored by an older version
            self.update(old.key, state=RowState.UNCERTAIN, error="sent, but the journal holds no usable task id for it")
            return RowState.UNCERTAIN
        return old.state

    def rows(self, *states: RowState) -> list[JournalRow]:
        query = "SELECT * FROM rows"
        if states:
            query += f" WHERE state IN ({', '.join('?' for _ in states)})"
        return [_journal_row(r) for r in self._sql(query + " ORDER BY position, row_key", states)]

    def heads(self) -> list[RowHead]:
        """Every row, without its fields (a run loads those only when it submits the row: see ``row``)."""
        rows = self._sql(f"SELECT {_HEAD_COLUMNS} FROM rows ORDER BY position, row_key")  # noqa: S608 - constant
        return [
            RowHead(r["row_key"], r["kind"], RowState(r["state"]), r["task_id"], r["status"], json.loads(r["outputs"]))
            for r in rows
        ]

    def row(self, key: str) -> JournalRow:
        found = self._sql("SELECT * FROM rows WHERE row_key = ?", (key,))
        if not found:
            raise JournalError(f"the batch journal {self.path} has no row {key!r}")
        return _journal_row(found[0])

    def mark_submitting(self, key: str) -> dict[str, Any]:
        """Commit the row as sent; returns its fields, the request to send (a run does not hold them meanwhile)."""
        self._sql(
            "UPDATE rows SET state = ?, submissions = submissions + 1, error = NULL, error_code = NULL, "
            "updated_at = ? WHERE row_key = ?",
            (RowState.SUBMITTING, time.time(), key),
        )
        return self.row(key).fields

    def record_task_id(self, key: str, task_id: str, kinds_sharing_status: Sequence[str]) -> str | None:
        """Commit the row as submitted with ``task_id``, unless another row already holds that id for a kind whose
        status it is read through (``kinds_sharing_status``, kind names): then return that row's key and leave the row
        as it is. One call, under the journal's single writer, so two answers with the same id cannot both be taken."""
        self._task_ids.setdefault(key, []).append(task_id)  # kept whatever becomes of the file (see replaced_error)
        kinds = ", ".join("?" for _ in kinds_sharing_status)
        found = self._sql(
            f"SELECT row_key FROM rows WHERE task_id = ? AND row_key != ? AND kind IN ({kinds})"  # noqa: S608
            " ORDER BY position LIMIT 1",
            (task_id, key, *kinds_sharing_status),
        )
        if found:
            self._task_ids[key].pop()  # not this row's: another row's job
            return str(found[0]["row_key"])
        self.update(key, state=RowState.SUBMITTED, task_id=task_id, error=None, error_code=None)
        return None

    def update(self, key: str, **values: Any) -> None:
        """Commit one transition of one row (durably, before the caller acts on it)."""
        for name in ("outputs", "previous_task_ids"):
            if name in values:
                values[name] = json.dumps(values[name], sort_keys=True)
        values["updated_at"] = time.time()
        assignments = ", ".join(f"{name} = ?" for name in values)  # names come from this module, never from input
        self._sql(f"UPDATE rows SET {assignments} WHERE row_key = ?", (*values.values(), key))  # noqa: S608

    def _sql(self, statement: str, parameters: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Run one statement; a failure of SQLite (a damaged file, a full disk) becomes a JournalError."""
        try:
            with self._lock:
                self._check_held()
                found = self._db.execute(statement, parameters).fetchall()
                self._check_held()  # one that came during the statement: its outcome is not to be trusted either
                self._keep_on_disk()
                self._checkpoint()
                return found
        except sqlite3.Error as exc:
            raise JournalError(
                f"the batch journal {self.path} could not be read or written ({type(exc).__name__}: {exc}). "
                "Fix the cause (disk space, permissions, a damaged disk) and run the same command again: every "
                "task id already written is kept, and no row is submitted twice."
            ) from None

    def _keep_on_disk(self) -> None:
        """A journal deleted while this run writes it lives on only in the run's open file, lost when the run ends:
        the next run would take the folder for a new batch and submit every row again. So it is written back whole
        under its name, and used from there on. Never inside a transaction, whose statements share one connection.
        (A file put in its place is another matter: see _check_held.)"""
        if self._read_only or self._db.in_transaction or _signature(self.path) is not None:
            return
        logger.warning("the batch journal %s was deleted during the run: writing it back", self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_name(f".{self.path.name}.new")
            temporary.unlink(missing_ok=True)
            copy = sqlite3.connect(temporary)
            try:
                self._db.backup(copy)
            finally:
                copy.close()
            os.replace(temporary, self.path)
            # Closed before the copy is opened: it removes its write-ahead log (and its name, which the copy's is).
            self._db.close()
            self._db = _connect(self.path, read_only=False)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._hold()
        except (OSError, sqlite3.Error) as exc:
            raise JournalError(
                f"the batch journal {self.path} was deleted during the run and could not be written back ({exc}). "
                "Its task ids are in report.json beside it once the run stops: keep that file, and do not run the "
                "batch again in this folder without its journal, or rows would be billed twice."
            ) from None

    def _check_held(self) -> None:
        """Raise JournalReplacedError unless the file under the name is still this run's journal, as it left it."""
        if self._read_only:
            return
        if self._lost is None:
            found = _signature(self.path)
            if self._db.execute("PRAGMA data_version").fetchone()[0] != self._data_version:
                self._lost = _Lost.WRITTEN  # first: another run's own checkpoints change the file too
            elif found is None:
                return  # deleted: written back (_keep_on_disk)
            elif found[:2] != self._signature[:2]:
                self._lost = _Lost.REPLACED
            elif found != self._signature:
                self._lost = _Lost.OVERWRITTEN
            else:
                return
            logger.error("the batch journal %s %s during the run: the run stops", self.path, self._lost.value)
        raise self.replaced_error()

    def _checkpoint(self) -> None:
        """The run's own checkpoint, now and then (SQLite's are off), after which the main file is signed again."""
        if self._read_only:
            return
        if self._wal is None:  # the log's own identity, once SQLite made it: see _let_go
            self._wal = _identity(_wal_of(self.path))
        self._statements += 1
        if self._db.in_transaction or self._statements % _CHECKPOINT_EVERY:
            return
        try:
            self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.OperationalError as exc:  # busy or locked this time: the log waits for the next one
            logger.debug("batch journal checkpoint deferred: %s", exc)
        finally:
            self._signature = _signature(self.path) or self._signature

    def replaced_error(self) -> JournalReplacedError:
        """What happened, what to do, and every task id this journal knew, saved beside it (and shown). Raised by
        every statement once the file is not this run's journal; made again once the run's creates have landed."""
        saved = self._save_task_ids()
        known = [(key, task_id) for key, ids in self._task_ids.items() for task_id in ids]
        shown = ", ".join(f"{key}: {task_id}" for key, task_id in known[:_SHOWN_TASK_IDS])
        more = f" and {len(known) - _SHOWN_TASK_IDS} more" if len(known) > _SHOWN_TASK_IDS else ""
        where = f"are saved in {saved}" if saved is not None else "could not be saved beside it"
        what = self._lost.value if self._lost is not None else "changed"
        return JournalReplacedError(
            f"the batch journal {self.path} {what} while this run kept it; the run stopped, wrote nothing more "
            f"to that file and left it as it is (writing on would have mixed two batches' state). The task ids of "
            f"the {len(known)} job(s) this batch sent (paid jobs) {where}: {shown or 'none'}{more}. Keep them. Find "
            f"out what changed the file; only one run may use a batch's folder at a time. To go on with this batch, "
            f"put its own journal back under {self.path.name} and run the same command again: a journal without "
            "those task ids would have their rows submitted, and billed, again.",
            {key: list(ids) for key, ids in self._task_ids.items()},
            saved,
        )

    def _save_task_ids(self) -> Path | None:
        saved = self.path.with_name(f"{self.path.name}.task-ids.{os.getpid()}.json")
        try:
            temporary = saved.with_name(f".{saved.name}.part")
            temporary.write_text(json.dumps({"journal": str(self.path), "task_ids": self._task_ids}, indent=2))
            os.replace(temporary, saved)
        except OSError as exc:
            logger.error("could not save the batch's task ids in %s (%s): %s", saved, exc, self._task_ids)
            return None
        return saved

    def _let_go(self) -> None:
        """Close the connection without its write-ahead log reaching the file now under the name: closing copies the
        log into the file the connection opened, and a log left under the name is read into whatever file is there."""
        overwritten = self._lost is _Lost.OVERWRITTEN
        foreign = self.path.with_name(f".{self.path.name}.foreign")
        try:
            if overwritten:  # the same file, another content: kept aside while the close writes into the file
                shutil.copyfile(self.path, foreign)
            self._db.close()
            if overwritten:
                os.replace(foreign, self.path)
            elif self._lost is _Lost.REPLACED and _identity(_wal_of(self.path)) == self._wal is not None:
                # this run's log, under the name of the file put in its place
                _wal_of(self.path).unlink(missing_ok=True)
                self.path.with_name(f"{self.path.name}-shm").unlink(missing_ok=True)
        except (OSError, sqlite3.Error) as exc:
            logger.error("could not leave the batch journal %s as it was found (%s)", self.path, exc)

    def _transaction(self) -> _Transaction:
        return _Transaction(self)


class _Transaction:
    def __init__(self, journal: Journal) -> None:
        self._journal = journal

    def __enter__(self) -> None:
        self._journal._lock.acquire()  # no other thread's statement may land inside this transaction
        try:
            self._journal._sql("BEGIN IMMEDIATE")
        except BaseException:
            self._journal._lock.release()
            raise

    def __exit__(self, kind: object, *_: object) -> None:
        try:
            self._journal._sql("ROLLBACK" if kind is not None else "COMMIT")
        finally:
            self._journal._lock.release()


def _create(path: Path) -> None:
    """A new journal, schema included, appears under its name whole (see the module docstring)."""
    temporary = path.with_name(f".{path.name}.new")
    temporary.unlink(missing_ok=True)
    db = sqlite3.connect(temporary, isolation_level=None)
    try:
        db.executescript(_SCHEMA)
        db.execute("INSERT INTO meta VALUES ('schema', ?)", (_SCHEMA_VERSION,))
    finally:
        db.close()
    os.replace(temporary, path)


def _signature(path: Path) -> tuple[int, int, int, int] | None:
    """Which file is under ``path`` (device, inode) and its size and modification time (ns), or None."""
    try:
        found = path.stat()
    except OSError:
        return None
    return found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns


def _wal_of(path: Path) -> Path:
    return path.with_name(f"{path.name}-wal")


def _identity(path: Path) -> tuple[int, int] | None:
    """Which file is under ``path`` (device, inode), or None: one deleted and another put there is not the same."""
    try:
        found = path.stat()
    except OSError:
        return None
    return found.st_dev, found.st_ino


def _connect(path: Path, *, read_only: bool) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
    if not read_only:
        return db
    try:
        db.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()  # SQLite opens the file at the first read
    except sqlite3.OperationalError:
        db.close()
        # A folder this process cannot write to (a backup, a read-only mount, another user's): SQLite cannot make
        # the shared-memory file it reads a WAL journal with. With no write-ahead log beside it, the file holds
        # everything and is read as it is; with one, only where its shared-memory file exists already.
        mode = "mode=ro" if path.with_name(f"{path.name}-wal").exists() else "immutable=1"
        db = sqlite3.connect(f"{path.resolve().as_uri()}?{mode}", uri=True, isolation_level=None)
        db.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
    return db


# SQLite's errors that say nothing about the file's contents: it could not be reached, written or locked.
_NOT_DAMAGE = ("SQLITE_CANTOPEN", "SQLITE_READONLY", "SQLITE_IOERR", "SQLITE_FULL", "SQLITE_BUSY", "SQLITE_LOCKED",
               "SQLITE_PERM", "SQLITE_NOMEM")  # fmt: skip


def _unusable(path: Path, exc: OSError | sqlite3.Error) -> JournalError:
    """Damage, only when SQLite says so: a journal that merely cannot be opened must not be moved aside."""
    if isinstance(exc, sqlite3.Error) and not getattr(exc, "sqlite_errorname", "").startswith(_NOT_DAMAGE):
        return _damaged(path, str(exc))
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return JournalError(
        f"the batch journal {path} cannot be opened ({reason}); no job is sent while it cannot be. Nothing says it is "
        "damaged: fix the cause (permissions, a read-only or full disk, a folder in its place) and run the same "
        "command again."
    )


def _damaged(path: Path, reason: str) -> JournalError:
    return JournalError(
        f"the batch journal {path} is damaged or is not a vozo batch journal ({reason}); no job is sent while it is. "
        "It holds the task ids of the jobs already sent: restore it from a backup if you have one (report.json beside "
        "it lists the task ids of the last run). To start this batch over instead, move the journal aside and run "
        "again: rows already sent would then be submitted, and billed, a second time."
    )


def _refuse_files_of_kept_rows(kept: list[JournalRow], manifest: list[ManifestRow]) -> None:
    """A row removed from the manifest after its job was sent stays, and its results are still downloaded: no row
    of the manifest may write the same file (the manifest itself refuses two of its rows that could)."""
    files = {stem.casefold(): row.key for row in manifest if row.kind for stem in stems(row.key, row.kind)}
    for old in kept:
        for stem in stems(old.key, old.kind):
            if (other := files.get(stem.casefold())) is not None:
                raise ManifestError(
                    f"row {other!r} could write the same file ({stem}.*) as row {old.key!r}, which is no longer in "
                    f"the manifest but whose job was sent (its results are still downloaded here): rename {other!r}"
                )


def _changed_sent_error(
    changed: list[str], manifest: list[ManifestRow], known: dict[str, JournalRow]
) -> ManifestChangedError:
    """Rows edited after they were sent; those that now hold what another row was sent as have moved (rows without
    an id are named by position): sending them again (--rerun-changed) would pay twice for jobs Vozo already ran."""
    shown = ", ".join(changed[:10]) + (" ..." if len(changed) > 10 else "")
    message = (
        f"{len(changed)} row(s) changed in the manifest after they were sent to Vozo: {shown}. "
        "The journal keeps their original jobs. "
    )
    sent_as = {old.row_hash: old.key for old in known.values() if old.state in SENT_STATES}
    edited = set(changed)
    moved = [(row.key, sent_as[row.row_hash]) for row in manifest if row.key in edited and row.row_hash in sent_as]
    if not moved:
        return ManifestChangedError(
            message + "Restore those rows, use a new out= folder, or pass rerun_changed=True to submit them again as "
            "new (billed) jobs."
        )
    (key, was), *more = moved[:5]
    told = f"{key} now holds what {was} was sent as" + "".join(f", {k} what {w} was" for k, w in more)
    return ManifestChangedError(
        message + f"Rows moved, not edited: {told}{' ...' if len(moved) > 5 else ''}. A row without an id is "
        "named by its position, so adding or removing a row shifts the rows after it: put the rows back where they "
        "were (finished rows are skipped, not sent again), and give every row an id column in your next manifest. "
        "rerun_changed=True would submit them again, and Vozo would bill jobs it already ran a second time."
    )


def _renamed(manifest: list[ManifestRow], known: dict[str, JournalRow], removed: list[str]) -> list[tuple[str, str]]:
    """(new key, old key): new rows holding what a row no longer in the manifest was sent as, its id changed (an id
    column added to rows named row-N, a renamed file): as new rows, they would be submitted, and billed, again."""
    sent_as = {known[key].row_hash: key for key in removed if known[key].state in SENT_STATES}
    return [(row.key, sent_as[row.row_hash]) for row in manifest if row.key not in known and row.row_hash in sent_as]


def _renamed_error(renamed: list[tuple[str, str]]) -> ManifestChangedError:
    (key, was), *more = renamed[:5]
    told = f"{key} holds what {was} was sent as" + "".join(f", {k} what {w} was" for k, w in more)
    return ManifestChangedError(
        f"{len(renamed)} new row(s) in the manifest hold what rows no longer in it were sent to Vozo as: {told}"
        f"{' ...' if len(renamed) > 5 else ''}. The journal keeps those jobs under their old ids; a row with a new id "
        "is a new row, submitted and billed again. Give those rows back their old ids (a row without an id is named "
        "row-N after its position), use a new out= folder for a new batch, or pass rerun_changed=True to submit them "
        "again as new (billed) jobs."
    )


def _edited(old: JournalRow, row: ManifestRow) -> bool:
    """Whether the manifest's row differs from the journalled one. A kind journalled under another of its names (a
    vozo before job kinds came from the spec wrote "translation" for translations) is the same kind."""
    if old.row_hash == row.row_hash:
        return False
    try:
        kind = kind_named(old.kind).name
    except InvalidInputError:  # a kind this vozo does not know: not the row's
        return True
    return replace(row, kind=kind, fields=old.fields).row_hash != row.row_hash


def _fresh(row: ManifestRow) -> RowState:
    """The state a row starts in: refused already when the manifest found a problem in it."""
    return RowState.INVALID if row.problem else RowState.QUEUED


def usable_task_id(value: object) -> str | None:
    """A task id to follow a job by, or None: one the client's own check takes (it asks for no other)."""
    try:
        return checked_task_id(value)
    except InvalidInputError:
        return None


def _journal_row(found: sqlite3.Row) -> JournalRow:
    return JournalRow(
        key=found["row_key"],
        position=found["position"],
        kind=found["kind"],
        fields=json.loads(found["fields"]),
        row_hash=found["row_hash"],
        state=RowState(found["state"]),
        task_id=found["task_id"],
        status=found["status"],
        submissions=found["submissions"],
        error_code=found["error_code"],
        error=found["error"],
        outputs=json.loads(found["outputs"]),
        previous_task_ids=json.loads(found["previous_task_ids"]),
        updated_at=found["updated_at"],
    )
