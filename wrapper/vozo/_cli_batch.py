"""``vozo batch run`` and ``vozo batch status``: the command-line face of ``vozo.batch``."""

from __future__ import annotations

import sys
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import click
from rich.live import Live
from rich.table import Table
from rich.text import Text

import vozo
from vozo import batch as vozo_batch
from vozo._cli_common import (
    EPILOG,
    EXIT_CODES,
    Settings,
    clock,
    err,
    exit_code,
    exit_interrupted,
    fail,
    handled,
    in_command_terms,
    json_line,
    out,
    say,
    shown,
    silence_stdout,
    unexpected,
)
from vozo._http import MAX_REQUESTS_IN_FLIGHT
from vozo._jobs import DEFAULT_POLL_INTERVAL, DEFAULT_WAIT_TIMEOUT, MAX_POLL_INTERVAL
from vozo.batch import BatchProgress, BatchSummary, RowState

_STATE_STYLE = {
    RowState.COMPLETED: "green",
    RowState.FAILED: "red",
    RowState.INVALID: "red",
    RowState.UNCERTAIN: "yellow",
    RowState.DOWNLOAD_FAILED: "yellow",
}


class _FolderPath(click.Path):
    """A folder path, never empty: "" would mean the current folder (``--out "$RESULTS"`` with RESULTS unset)."""

    def __init__(self) -> None:
        super().__init__(file_okay=False, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value.strip():
            self.fail("an empty path names no folder: give the batch's output folder", param, ctx)
        return super().convert(value, param, ctx)


def _folder(path: Path) -> Path:
    """A folder, or a path to create one at (click's own check lets a device such as /dev/null through)."""
    if path.exists() and not path.is_dir():
        raise click.BadParameter(f"{str(path)!r} is not a folder")
    return path


@click.group(epilog=EPILOG)
def batch() -> None:
    """Run many jobs from a CSV or JSONL manifest, resumably (nothing is paid for twice)."""


@batch.command("run", epilog=EPILOG)
@click.argument("manifest", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", required=True, type=_FolderPath(),
              callback=lambda _ctx, _param, out: _folder(out),
              help="Folder for the results, the journal and the report.")  # fmt: skip
@click.option("--max-active", type=int, default=vozo_batch.DEFAULT_MAX_ACTIVE, show_default=True,
              help="Jobs at Vozo at once per family (lipsync, translation); Vozo caps each key at 5-10.")  # fmt: skip
@click.option("--concurrency", type=int, default=vozo_batch.DEFAULT_CONCURRENCY, show_default=True,
              help=f"API requests in flight at once (the client allows {MAX_REQUESTS_IN_FLIGHT} at most).")  # fmt: skip
@click.option("--downloads", type=int, default=vozo_batch.DEFAULT_DOWNLOADS, show_default=True,
              help="Downloads in flight at once.")  # fmt: skip
@click.option("--poll-interval", type=click.FloatRange(0, MAX_POLL_INTERVAL, min_open=True),
              default=DEFAULT_POLL_INTERVAL, show_default=True,
              help="First status check after submitting, in seconds; it grows to at most 2 min per job.")  # fmt: skip
@click.option("--timeout", "wait_timeout", type=float, default=DEFAULT_WAIT_TIMEOUT, show_default=True,
              help="Seconds this run waits for each job before leaving it for the next run.")  # fmt: skip
@click.option("--resubmit-uncertain", is_flag=True,
              help="Submit again the rows sent without a task id coming back (Vozo may bill twice).")  # fmt: skip
@click.option("--rerun-changed", is_flag=True,
              help="Submit again, as new jobs, rows edited after they were sent.")  # fmt: skip
@click.pass_obj
def run_command(
    settings: Settings,
    manifest: Path,
    out_dir: Path,
    max_active: int,
    concurrency: int,
    downloads: int,
    poll_interval: float,
    wait_timeout: float,
    resubmit_uncertain: bool,
    rerun_changed: bool,
) -> None:
    """Run (or resume) every job of MANIFEST; results, journal and report go to --out."""
    # JSON output is for programs: neither the table nor the lines.
    display = _Display(live=not settings.as_json and err.is_terminal, lines=not (settings.as_json or err.is_terminal))

    async def go() -> BatchSummary:
        async with settings.async_client() as client:
            return await vozo_batch.run(
                client,
                manifest,
                out_dir,
                max_active=max_active,
                concurrency=concurrency,
                downloads=downloads,
                poll_interval=poll_interval,
                timeout=wait_timeout,
                resubmit_uncertain=resubmit_uncertain,
                rerun_changed=rerun_changed,
                on_progress=display.update,
            )

    try:
        with display.shown:
            summary = anyio.run(go)  # the batch code runs on anyio: so does its entry point
    except vozo.VozoError as error:
        fail(settings, error)
    except KeyboardInterrupt:
        message = _interrupted(out_dir)
        exit_interrupted(settings, message, shown(message))
    except Exception as error:  # a bug: one line, and the journal still holds every task id
        unexpected(settings, error)
    _print_summary(settings, summary)
    if summary.stopped:  # the key refused (auth), or Vozo never reached (unavailable)
        sys.exit(exit_code(summary.stopped_by) if summary.stopped_by else EXIT_CODES["auth"])
    sys.exit(EXIT_CODES["ok"] if summary.complete else EXIT_CODES["incomplete"])


def _interrupted(out_dir: Path) -> str:
    """What a stopped run left: a create whose answer did not come back within the grace left its row submitting,
    with no task id in the journal, while Vozo may have created (and billed) its job."""
    resume = f"run the same command to resume ({out_dir})"
    try:
        unsure = vozo_batch.status(out_dir).counts.get(RowState.SUBMITTING, 0)
    except vozo.VozoError:  # stopped before the journal was made: no row was sent
        unsure = 0
    if not unsure:
        return f"interrupted; every task id is in the journal: {resume}"
    return (
        f"interrupted; {unsure} row(s) sent without their task id coming back (Vozo may have created and billed "
        "their jobs: look for them in your Vozo account; the next run marks them uncertain and does not submit them "
        f"again unless you pass --resubmit-uncertain); every task id that came back is in the journal: {resume}"
    )


@batch.command("status", epilog=EPILOG)
@click.argument("out_dir", type=_FolderPath())
@click.option("--all", "show_all", is_flag=True, help="List every row, not only those not completed.")
@click.pass_obj
def status_command(settings: Settings, out_dir: Path, show_all: bool) -> None:
    """Show the journal of a batch whose results go to OUT_DIR (also during a run)."""
    with handled(settings):
        summary = vozo_batch.status(out_dir)
    _print_summary(settings, summary, show_all=show_all)


def _print_summary(settings: Settings, summary: BatchSummary, *, show_all: bool = False) -> None:
    """The summary on stdout (the report, with --json). Should its reader have left (``| head``), the warnings on
    stderr and, for a run, its own exit code still tell the batch's outcome: it is in the journal and the report."""
    try:
        _print_tables(settings, summary, show_all=show_all)
    except BrokenPipeError:
        silence_stdout()
    else:
        if settings.as_json:  # the warnings are in the JSON
            return
    if (uncertain := _uncertain_note(summary)) is not None:
        err.print(uncertain, highlight=False)
    if summary.stopped:
        stopped = shown(in_command_terms(summary.stopped))
        err.print(Text.assemble(("stopped submitting", "bold red"), f": {stopped}"), highlight=False)
    say(shown(f"report: {summary.out / 'report.json'}, {summary.out / 'report.csv'}"))


def _print_tables(settings: Settings, summary: BatchSummary, *, show_all: bool) -> None:
    if settings.as_json:
        json_line(summary.report())
        return
    sync = summary.sync
    if sync is not None:
        for note in _sync_notes(sync):
            err.print(note, highlight=False)
    counts = Table(title=Text(f"batch {shown(str(summary.out))}"), title_justify="left")
    counts.add_column("state")
    counts.add_column("rows", justify="right")
    for state in RowState:
        if summary.counts.get(state):
            counts.add_row(Text(state.value, style=_STATE_STYLE.get(state, "")), str(summary.counts[state]))
    out.print(counts)
    listed = summary.rows if show_all else summary.unfinished
    if listed:
        rows = Table(show_lines=False)
        for column in ("id", "kind", "state", "task id", "error"):
            rows.add_column(column, overflow="fold")
        for row in listed:
            # Text, not markup: an error message may hold brackets ("[request id ...]").
            cells = (row.key, row.kind, row.state.value, row.task_id or "", in_command_terms(row.error or ""))
            rows.add_row(*(Text(shown(cell)) for cell in cells))
        out.print(rows)


def _sync_notes(sync: vozo_batch.SyncReport) -> list[str]:
    notes = []
    if sync.resumed:
        notes.append(f"resuming: {sync.resumed} row(s) already in the journal, {sync.new} new")
    if sync.changed_unsent:
        notes.append(f"{len(sync.changed_unsent)} row(s) edited before being sent: the new values are used")
    if sync.changed_sent:
        notes.append(f"{len(sync.changed_sent)} row(s) edited after being sent: submitted again (--rerun-changed)")
    if sync.removed:
        notes.append(f"{len(sync.removed)} row(s) no longer in the manifest: unsent ones dropped, sent ones kept")
    if sync.resubmitted:
        notes.append(
            f"{len(sync.resubmitted)} uncertain row(s) submitted again (--resubmit-uncertain): Vozo bills twice any "
            "of them it had created already"
        )
    return notes


def _uncertain_note(summary: BatchSummary) -> str | None:
    """What to do about the rows left uncertain, said after every run and status that finds some."""
    uncertain = summary.counts.get(RowState.UNCERTAIN, 0)
    if not uncertain:
        return None
    return (
        f"{uncertain} row(s) uncertain: sent, but no task id came back (Vozo may have created and billed the job); "
        "look for them in your Vozo account: they are not submitted again unless you pass --resubmit-uncertain"
    )


class _Display:
    """Progress on stderr: a live table on a terminal; elsewhere (a log, cron, CI) a plain line at most once a
    minute, and at once when submissions pause, so that a run Vozo keeps refusing (1304) never waits in silence.

    The runner reports transitions; the table is drawn from the latest report on every refresh, its elapsed time,
    rate and ETA brought up to the moment, so that it keeps moving while no row changes state.
    """

    def __init__(self, *, live: bool, lines: bool) -> None:
        self._progress: BatchProgress | None = None
        self._received = 0.0
        self._lines = lines
        self._line_at = time.monotonic()  # the first line a minute in: a short run says only its summary
        self._told_paused = False
        table = Live(console=err, refresh_per_second=4, transient=True, get_renderable=self._render)
        self.shown: AbstractContextManager[object] = table if live else nullcontext()  # drawn while entered

    def update(self, progress: BatchProgress) -> None:
        self._progress, self._received = progress, time.monotonic()
        if not self._lines:
            return
        if (progress.paused is not None and not self._told_paused) or self._received - self._line_at >= _LINE_EVERY:
            self._line_at, self._told_paused = self._received, progress.paused is not None
            counts = ", ".join(f"{n} {state.value}" for state, n in progress.counts.items())
            err.print(Text(f"{clock(progress.elapsed)} {counts}" + _rate_and_pause(progress)), highlight=False)

    def _render(self) -> Table:
        table = Table(box=None, show_header=False)
        table.add_column(justify="right")
        table.add_column()
        if self._progress is None:
            table.add_row("", "starting")
            return table
        progress = replace(self._progress, elapsed=self._progress.elapsed + time.monotonic() - self._received)
        for state in RowState:
            if progress.counts.get(state):
                table.add_row(str(progress.counts[state]), state.value)
        table.add_row("", f"{clock(progress.elapsed)} elapsed" + _rate_and_pause(progress))
        return table


_LINE_EVERY = 60.0  # seconds between progress lines when stderr is not a terminal


def _rate_and_pause(progress: BatchProgress) -> str:
    eta = clock(progress.eta) if progress.eta is not None else "-"
    said = f", {progress.rate:.1f} rows/min, ETA {eta}, {progress.slowdowns} slow-downs"
    return said + (f"; {shown(in_command_terms(progress.paused))}" if progress.paused is not None else "")
