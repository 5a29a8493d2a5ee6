"""Run hundreds of Vozo jobs from a manifest, resumably, paying for each row once.

    import vozo, vozo.batch

    async with vozo.AsyncVozo() as client:
        summary = await vozo.batch.run(client, "catalogue.csv", out="results/")
    print(summary.counts)

The manifest is a CSV or JSONL file, one job per row, with the create calls' own field names (plus an optional
``id`` and ``kind``). The output folder holds the results, a journal (``vozo-batch.sqlite``) and a report
(``report.json``, ``report.csv``). Run the same call again to resume: finished rows are skipped, submitted rows
are polled, never resubmitted. A row whose create request was sent but whose task id never came back (a crash,
a reset connection, a 5xx) is *uncertain*: Vozo may have created and billed the job, so it is resubmitted only
with ``resubmit_uncertain=True``. Same for a row edited after it was sent: ``rerun_changed=True``.

Needs the ``batch`` extra (``pip install 'vozo[batch]'``: filelock); ``vozo batch`` is the command-line face of the
same code.
"""

from vozo._extras import requires_extra
from vozo.batch._journal import (
    FINAL_STATES,
    JournalError,
    JournalRow,
    ManifestChangedError,
    RowReport,
    RowState,
    SyncReport,
)
from vozo.batch._manifest import ManifestError, ManifestRow, load

with requires_extra("batch", "vozo.batch"):
    from vozo.batch._run import BatchLockedError, BatchReport, BatchSummary, run, status
from vozo.batch._scheduler import DEFAULT_CONCURRENCY, DEFAULT_DOWNLOADS, DEFAULT_MAX_ACTIVE, BatchProgress

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_DOWNLOADS",
    "DEFAULT_MAX_ACTIVE",
    "FINAL_STATES",
    "BatchLockedError",
    "BatchProgress",
    "BatchReport",
    "BatchSummary",
    "JournalError",
    "JournalRow",
    "ManifestChangedError",
    "ManifestError",
    "ManifestRow",
    "RowReport",
    "RowState",
    "SyncReport",
    "load",
    "run",
    "status",
]
