"""The command line's live displays move on their own: elapsed time, rate and ETA tick between reports."""

from __future__ import annotations

import io
import os
import subprocess

import pytest
from rich.console import Console

from vozo import _cli, _cli_batch
from vozo._cli_common import clock, shell_command, shown
from vozo.batch import BatchProgress, RowState


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    fake = FakeTime()
    monkeypatch.setattr(_cli.time, "monotonic", fake.monotonic)  # the time module both CLI modules use
    return fake


def text(renderable: object) -> str:
    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(renderable)
    assert isinstance(console.file, io.StringIO)
    return " ".join(console.file.getvalue().split())


def test_the_job_status_line_ticks_without_a_status_change(fake_time: FakeTime) -> None:
    line = _cli._Elapsed("li-1")
    line.value = "pending"
    assert text(line) == "li-1: pending (0s)"
    fake_time.now += 2 * 3600 + 5
    assert text(line) == "li-1: pending (2h 00m 05s)"  # a two-hour queue shows two hours, not (0s)


def test_the_batch_table_brings_elapsed_rate_and_eta_up_to_the_moment(fake_time: FakeTime) -> None:
    display = _cli_batch._Display(live=False, lines=False)
    display.update(
        BatchProgress(
            counts={RowState.COMPLETED: 10, RowState.SUBMITTED: 10}, total=20, finished_this_run=10, elapsed=60.0,
            slowdowns=0,
        )
    )  # fmt: skip
    assert "1m 00s elapsed, 10.0 rows/min, ETA 1m 00s" in text(display._render())
    fake_time.now += 60  # no report for a minute: the rate halves and the ETA grows, as they really do
    assert "2m 00s elapsed, 5.0 rows/min, ETA 2m 00s" in text(display._render())


def test_without_a_terminal_progress_is_a_line_a_minute_and_one_at_once_when_submissions_pause(
    fake_time: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    stderr = io.StringIO()
    monkeypatch.setattr(_cli_batch, "err", Console(file=stderr, width=300, color_system=None))
    display = _cli_batch._Display(live=False, lines=True)

    def report(elapsed: float, paused: str | None = None) -> list[str]:
        fake_time.now = 1000.0 + elapsed
        counts = {RowState.COMPLETED: 1, RowState.QUEUED: 3}
        display.update(BatchProgress(counts, 4, 1, elapsed, slowdowns=2, paused=paused))
        said, _ = stderr.getvalue().splitlines(), stderr.truncate(0)
        stderr.seek(0)
        return said

    assert report(10) == []  # a short run says only its summary
    refused = "lipsync submissions paused for 8 s, then tried again: 400 ... code 1304"
    assert report(11, refused) == [f"11s 1 completed, 3 queued, 5.5 rows/min, ETA 32s, 2 slow-downs; {refused}"]
    assert report(20, refused) == []  # told already; the next line comes a minute after
    assert report(30) == []
    assert report(71, refused) == [f"1m 11s 1 completed, 3 queued, 0.8 rows/min, ETA 3m 33s, 2 slow-downs; {refused}"]
    assert report(90) == []
    assert report(95, refused) == []  # paused again within the minute: after a line that said so
    assert len(report(131)) == 1


@pytest.mark.parametrize(
    ("seconds", "shown"), [(0, "0s"), (59.9, "59s"), (61, "1m 01s"), (3600, "1h 00m 00s"), (7325, "2h 02m 05s")]
)
def test_clock(seconds: float, shown: str) -> None:
    assert clock(seconds) == shown


def test_shown_escapes_control_characters_only() -> None:
    assert shown("li-1: done -> /tmp/récit [final].mp4") == "li-1: done -> /tmp/récit [final].mp4"
    assert shown("a\x1b[2J\nb\u202ec\x07") == "a\\x1b[2J\\nb\\u202ec\\x07"


def test_a_shell_command_reads_back_as_its_words_in_bash() -> None:
    words = ["vozo", "wait", "li-1", "--output", "it's a\nnew\ttake\\é\x7f.mp4", "\udcff.mp4", ""]
    command = shell_command(words)
    assert command.isprintable()
    read = subprocess.run(["bash", "-c", f"printf '%s\\0' {command}"], capture_output=True, check=True).stdout
    assert [os.fsdecode(word) for word in read.split(b"\0")[:-1]] == words
