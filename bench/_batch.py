"""Batch throughput: N lipsync rows through ``vozo batch run`` against FakeVozo over a socket.

Every job takes the same time at the fake (``step`` queued, ``step`` processing), and the fake holds each key to
``max_active`` jobs, so the ideal is rows x job duration / max_active. The CLI runs as its own process (wall time,
CPU time and peak RSS from the kernel); run as ``python -m bench._batch COUNTS_FILE -- ARGS`` it is that process:
``vozo``'s own entry point, with the journal's committed writes counted on its SQLite connection and written to
COUNTS_FILE at exit.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench._measure import PYTHON, child
from vozo.testing import FakeVozo

KEY = "bench-key"


@dataclass(frozen=True)
class BatchRun:
    rows: int
    wall: float
    cpu: float  # user + system seconds of the vozo process
    rss_mb: float
    journal_writes: int  # committed SQLite transactions on the journal


def write_manifest(path: Path, rows: int) -> None:
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["id", "reference_file_url", "audio_url"])
        for n in range(rows):
            writer.writerow([f"row-{n:05d}", "https://media.example.com/presenter.mp4", f"https://m.test/{n}.mp3"])


def run_batch(rows: int, step: float, max_active: int, poll_interval: float) -> BatchRun:
    fake = FakeVozo(api_keys=[KEY], step_seconds=step, max_active_jobs=max_active)
    with tempfile.TemporaryDirectory(prefix="vozo-bench-") as folder, fake.serve() as url:
        manifest, out, counts = Path(folder) / "rows.csv", Path(folder) / "out", Path(folder) / "counts.json"
        write_manifest(manifest, rows)
        command = ["batch", "run", str(manifest), "--out", str(out), "--max-active", str(max_active)]
        run = child(
            PYTHON,
            "-m",
            "bench._batch",
            str(counts),
            "--",
            *command,
            "--poll-interval",
            str(poll_interval),
            env={"VOZO_API_KEY": KEY, "VOZO_BASE_URL": url},
        )
        done = sum(1 for job in fake.jobs.values() if fake.status_of(job.task_id)["status"] == "done")
        results = len(list(out.glob("row-*.mp4")))
        if len(fake.create_requests) != rows or done != rows or results != rows:
            raise RuntimeError(f"batch: {len(fake.create_requests)} created, {done} done, {results} files of {rows}")
        return BatchRun(rows, run.wall, run.cpu, run.rss_mb, json.loads(counts.read_text())["commits"])


def _count_commits(counts_file: Path) -> None:
    """Count the journal's committed writes: autocommit statements that change data, and explicit COMMITs."""
    import atexit

    commits = 0
    in_transaction = False

    def trace(statement: str) -> None:
        nonlocal commits, in_transaction
        verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
        if verb == "BEGIN":
            in_transaction = True
        elif verb in ("COMMIT", "END"):
            in_transaction = False
            commits += 1
        elif verb == "ROLLBACK":
            in_transaction = False
        elif verb in ("INSERT", "UPDATE", "DELETE", "REPLACE") and not in_transaction:
            commits += 1

    connect = sqlite3.connect

    def traced(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection = connect(*args, **kwargs)
        connection.set_trace_callback(trace)
        return connection

    sqlite3.connect = traced  # type: ignore[assignment]
    atexit.register(lambda: counts_file.write_text(json.dumps({"commits": commits})))


if __name__ == "__main__":
    _count_commits(Path(sys.argv[1]))
    from vozo._cli import main

    main(sys.argv[sys.argv.index("--") + 1 :], prog_name="vozo")
