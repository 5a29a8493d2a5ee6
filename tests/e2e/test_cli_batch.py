"""`vozo batch run` as a shell runs it: on anyio's entry point, and Ctrl-C keeps every task id in the journal."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from typing import Any

import anyio
import pytest
from click.testing import CliRunner
from filelock import FileLock

import vozo
from tests.sockets import closed_port
from vozo._cli import main
from vozo._cli_common import EXIT_CODES
from vozo.batch import RowState
from vozo.testing import FakeVozo, Faults, ManualClock

from .conftest import KEY
from .test_batch import write_manifest
from .test_cli import VOZO, vozo_into_a_closed_pipe

SAFETY_NET = 60.0  # only against a hung test: when Ctrl-C comes is decided by the journal, never by this


def test_vozo_batch_run_runs_on_anyio(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    real_run = anyio.run

    def spy(fn: Any, *args: Any, **options: Any) -> Any:
        calls.append(fn)
        return real_run(fn, *args, **options)

    monkeypatch.setattr(anyio, "run", spy)
    fake = FakeVozo(api_keys=[KEY], step_seconds=0.01)
    manifest = write_manifest(tmp_path / "m.csv", 2)
    with fake.serve() as url:
        env = {"VOZO_API_KEY": KEY, "VOZO_BASE_URL": url}
        command = ["batch", "run", str(manifest), "--out", str(tmp_path / "out"), "--poll-interval", "0.01"]
        result = CliRunner().invoke(main, command, env=env)
    assert result.exit_code == EXIT_CODES["ok"], result.output
    assert len(calls) == 1
    assert vozo.batch.status(tmp_path / "out").counts == {RowState.COMPLETED: 2}


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_ctrl_c_during_vozo_batch_run_keeps_every_task_id_in_the_journal_and_exits_130(tmp_path, as_json) -> None:
    fake = FakeVozo(api_keys=[KEY], clock=ManualClock())  # no job ends: Ctrl-C finds every row running
    # The folder is echoed in the message: a name that reads as rich markup must print as it is.
    manifest, out = write_manifest(tmp_path / "m.csv", 3), tmp_path / "results[/final]"
    with fake.serve() as url:
        env = {**os.environ, "VOZO_API_KEY": KEY, "VOZO_BASE_URL": url}
        command = [VOZO, "batch", "run", str(manifest), "--out", str(out), "--poll-interval", "0.02"]
        command += ["--json"] if as_json else []
        with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as child:
            deadline = time.monotonic() + SAFETY_NET
            while submitted(out) < 3:
                assert child.poll() is None, child.communicate()[1]
                assert time.monotonic() < deadline, "the run never submitted its rows"
                time.sleep(0.01)
            child.send_signal(signal.SIGINT)
            told, errors = child.communicate(timeout=60)
    assert child.returncode == EXIT_CODES["interrupted"], errors
    told_as = [json.loads(line)["message"] for line in told.splitlines()] if as_json else errors.splitlines()
    assert f"interrupted; every task id is in the journal: run the same command to resume ({out})" in told_as
    assert "Traceback" not in errors
    rows = vozo.batch.status(out).rows
    assert {row.task_id for row in rows} == set(fake.jobs)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_stop_whose_create_never_answers_does_not_claim_every_task_id_is_in_the_journal(tmp_path, stop) -> None:
    """Stopped while Vozo holds a create's answer past the grace, the run still said "every task id is in the
    journal": the job exists at Vozo (billed), the journal holds no task id for it, and the user was told all is
    safe."""
    fake = FakeVozo(api_keys=[KEY], clock=ManualClock())
    manifest, out = write_manifest(tmp_path / "m.csv", 1), tmp_path / "out"
    with fake.serve() as url:
        hold = fake.hold_creates()
        env = {**os.environ, "VOZO_API_KEY": KEY, "VOZO_BASE_URL": url}
        command = [VOZO, "batch", "run", str(manifest), "--out", str(out)]
        with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as child:
            assert hold.held.wait(SAFETY_NET), "the create never reached the fake"
            child.send_signal(stop)
            _, errors = child.communicate(timeout=SAFETY_NET)  # the grace ends with the answer still held
        hold.release()
    assert child.returncode == EXIT_CODES["interrupted"], errors
    assert len(fake.jobs) == 1
    assert [row.state for row in vozo.batch.status(out).rows] == [RowState.SUBMITTING]
    told = " ".join(errors.split())
    assert "every task id is in the journal" not in told
    assert "1 row(s) sent without their task id coming back" in told
    assert "look for them in your Vozo account" in told
    assert "Traceback" not in errors


def submitted(out: Any) -> int:
    try:
        return vozo.batch.status(out).counts.get(RowState.SUBMITTED, 0)
    except vozo.VozoError:  # no journal yet
        return 0


def test_an_out_folder_that_is_a_device_is_refused_as_a_usage_error(tmp_path) -> None:
    manifest = write_manifest(tmp_path / "m.csv", 1)
    result = CliRunner().invoke(main, ["batch", "run", str(manifest), "--out", os.devnull], env={"VOZO_API_KEY": KEY})
    assert result.exit_code == EXIT_CODES["usage"]
    assert f"'{os.devnull}' is not a folder" in result.stderr


@pytest.mark.parametrize("command", [["run", "m.csv", "--out"], ["status"]], ids=["run", "status"])
@pytest.mark.parametrize("folder", ["", "  "], ids=["empty", "blank"])
def test_an_empty_out_folder_is_refused_not_taken_for_the_current_one(tmp_path, monkeypatch, command, folder) -> None:
    """`vozo batch run m.csv --out "$RESULTS"` with RESULTS unset wrote its results, journal and report into the
    current folder (`--output ""` of a single job is refused for the same reason)."""
    monkeypatch.chdir(tmp_path)
    write_manifest(tmp_path / "m.csv", 1)
    with closed_port() as port:  # nothing may be sent: the run is refused before any request
        env = {"VOZO_API_KEY": KEY, "VOZO_BASE_URL": f"http://127.0.0.1:{port}"}
        result = CliRunner().invoke(main, ["batch", *command, folder], env=env)
    assert result.exit_code == EXIT_CODES["usage"], result.output
    assert "an empty path names no folder" in result.stderr
    assert sorted(os.listdir(tmp_path)) == ["m.csv"]


@pytest.mark.parametrize("interval", ["inf", "1e9"])
def test_a_poll_interval_past_the_longest_poll_is_refused_not_waited_out(tmp_path, interval) -> None:
    """The first status check comes after --poll-interval: an endless one would leave every job unwatched."""
    fake = FakeVozo(api_keys=[KEY], clock=ManualClock())
    with fake.serve() as url:
        env = {**os.environ, "VOZO_API_KEY": KEY, "VOZO_BASE_URL": url}
        manifest = write_manifest(tmp_path / "m.csv", 1)
        command = [VOZO, "batch", "run", str(manifest), "--out", str(tmp_path / "out"), "--poll-interval", interval]
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=SAFETY_NET, check=False)
    assert result.returncode == EXIT_CODES["usage"], result.stderr
    assert "--poll-interval" in result.stderr
    assert fake.jobs == {}


def test_uncertain_rows_are_told_how_to_send_them_again_and_not_told_so_once_they_are(tmp_path) -> None:
    """A 5xx to a create leaves its row uncertain: the run that made it did not name --resubmit-uncertain, and the
    run given that flag said the rows were "not resubmitted unless you pass --resubmit-uncertain"."""
    fake = FakeVozo(api_keys=[KEY], step_seconds=0.01, faults=Faults(burst=1, burst_status=502))  # the first create
    manifest, out = write_manifest(tmp_path / "m.csv", 2), tmp_path / "out"
    with fake.serve() as url:
        env = {"VOZO_API_KEY": KEY, "VOZO_BASE_URL": url}
        command = ["batch", "run", str(manifest), "--out", str(out), "--poll-interval", "0.01", "--max-active", "1"]
        first = CliRunner().invoke(main, command, env=env)
        again = CliRunner().invoke(main, [*command, "--resubmit-uncertain"], env=env)
    assert first.exit_code == EXIT_CODES["incomplete"], first.output
    assert "1 row(s) uncertain" in first.stderr
    assert "--resubmit-uncertain" in first.stderr
    assert again.exit_code == EXIT_CODES["ok"], again.output
    assert "1 uncertain row(s) submitted again (--resubmit-uncertain)" in again.stderr
    assert "unless you pass" not in again.stderr
    assert len(fake.create_requests) == 2  # the 502 created nothing; each row completed once


def test_a_folder_another_run_holds_and_a_manifest_edited_after_sending_exit_2_before_any_request(tmp_path) -> None:
    """The two refusals the README's exit-code table names for `vozo batch run` (2), each said in one line."""
    fake = FakeVozo(api_keys=[KEY], step_seconds=0.01)
    manifest, out = write_manifest(tmp_path / "m.csv", 2), tmp_path / "out"
    with fake.serve() as url:
        env = {"VOZO_API_KEY": KEY, "VOZO_BASE_URL": url}
        command = ["batch", "run", str(manifest), "--out", str(out), "--poll-interval", "0.01"]
        assert CliRunner().invoke(main, command, env=env).exit_code == EXIT_CODES["ok"]
        sent = len(fake.create_requests)
        with FileLock(out / "vozo-batch.lock"):
            locked = CliRunner().invoke(main, command, env=env)
        manifest.write_text(manifest.read_text().replace("0000.mp3", "0000-new.mp3"))
        changed = CliRunner().invoke(main, command, env=env)
    assert (locked.exit_code, changed.exit_code) == (EXIT_CODES["usage"], EXIT_CODES["usage"])
    assert "another vozo batch run" in locked.stderr
    assert "--rerun-changed" in changed.stderr
    assert "Traceback" not in locked.output + changed.output
    assert len(fake.create_requests) == sent


def test_without_a_terminal_a_run_vozo_keeps_refusing_says_so_on_stderr_instead_of_waiting_silently(tmp_path) -> None:
    """The key's one slot is taken by a job that never ends, so every other create is answered 1304: with stderr
    not a terminal (cron, CI, a log file) there is no live table, and the run said nothing until it ended."""
    fake = FakeVozo(api_keys=[KEY], clock=ManualClock(), max_active_jobs=1)
    manifest, out = write_manifest(tmp_path / "m.csv", 2), tmp_path / "out"
    with fake.serve() as url:
        env = {**os.environ, "VOZO_API_KEY": KEY, "VOZO_BASE_URL": url}
        command = [VOZO, "batch", "run", str(manifest), "--out", str(out), "--poll-interval", "0.05"]
        with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as child:
            assert child.stderr is not None
            line = child.stderr.readline()  # the run goes on for ever: this is its first line (pytest-timeout)
            child.send_signal(signal.SIGINT)
            child.communicate(timeout=60)
    # Its counts depend on which create's answer the run read first (one may still be "submitting"): not asserted.
    assert "rows/min" in line, line  # a progress line
    assert "lipsync submissions paused for" in line, line
    assert "code 1304 (API key has reached the maximum number of concurrent requests.)" in line, line
    assert "max_active_jobs" not in line  # the advice to a single call: the batch paces itself
    assert "those sent outside this batch" in line, line
    assert child.returncode == EXIT_CODES["interrupted"]


def test_a_run_that_never_reaches_vozo_stops_instead_of_trying_for_ever(tmp_path, monkeypatch) -> None:
    """A mistyped --base-url (or a machine offline) kept `vozo batch run` pausing and retrying its first creates until
    someone pressed Ctrl-C: a cron job never ended. Nothing answering in about a minute of tries, it stops submitting
    (exit 7, the rows still queued for the next run); once Vozo has answered, an outage is waited through."""
    from vozo.batch import _scheduler

    monkeypatch.setattr(_scheduler, "_MAX_PAUSE", 0.01)  # the minute of pauses between tries, scaled down
    manifest = write_manifest(tmp_path / "m.csv", 3)
    with closed_port() as port:
        env = {"VOZO_API_KEY": KEY, "VOZO_BASE_URL": f"http://127.0.0.1:{port}"}
        result = CliRunner().invoke(main, ["batch", "run", str(manifest), "--out", str(tmp_path / "out")], env=env)
    assert result.exit_code == EXIT_CODES["unavailable"], result.output
    shown = " ".join(result.output.split())
    assert "stopped submitting: Vozo's API could not be reached" in shown
    assert "--base-url" in shown
    assert "base_url" not in shown.replace("--base-url", "")
    assert "Traceback" not in result.output
    summary = vozo.batch.status(tmp_path / "out")
    assert summary.counts == {RowState.QUEUED: 3}


def test_once_vozo_has_answered_a_run_waits_through_an_outage(tmp_path, monkeypatch) -> None:
    """The other side of the rule above: after a create landed, creates that find no server (an outage) are paused and
    tried again for as long as it takes, not given up after a minute."""
    import asyncio

    import httpx

    from vozo.batch import _scheduler

    monkeypatch.setattr(_scheduler, "_MAX_PAUSE", 0.01)
    fake = FakeVozo(api_keys=[KEY], step_seconds=0.01)
    served = fake.transport()
    refused: list[str] = []

    class Outage(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.method == "POST" and fake.create_requests and len(refused) < 20:  # 20 creates after the first
                refused.append(request.url.path)
                raise httpx.ConnectError("All connection attempts failed", request=request)
            return await served.handle_async_request(request)

    async def go() -> vozo.batch.BatchSummary:
        lent = httpx.AsyncClient(transport=Outage())
        async with vozo.AsyncVozo(api_key=KEY, base_url="https://vozo.test", http_client=lent) as client:
            return await vozo.batch.run(client, write_manifest(tmp_path / "m.csv", 3), tmp_path / "out", max_active=1)

    summary = asyncio.run(go())
    assert len(refused) == 20
    assert summary.stopped is None
    assert summary.counts == {RowState.COMPLETED: 3}


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_with_stdout_closed_a_batch_still_warns_of_its_uncertain_rows_with_its_own_exit_code(tmp_path, as_json) -> None:
    """`vozo batch run ... | head -1`: the summary table met the closed pipe first, and the run ended with exit 1 and
    without the warnings written on stderr after it (rows uncertain: jobs Vozo may have billed), nor the report."""
    fake = FakeVozo(api_keys=[KEY], faults=Faults(reset_after=1.0))  # the create's job is made, its answer lost
    manifest, out = write_manifest(tmp_path / "m.csv", 1), tmp_path / "out"
    with fake.serve() as url:
        args = [*(["--json"] if as_json else []), "batch", "run", str(manifest), "--out", str(out)]
        result = vozo_into_a_closed_pipe(url, *args)
    assert [row.state for row in vozo.batch.status(out).rows] == [RowState.UNCERTAIN]
    assert len(fake.jobs) == 1
    assert result.returncode == EXIT_CODES["incomplete"], result.stderr
    assert "1 row(s) uncertain" in result.stderr
    assert f"report: {out / 'report.json'}" in result.stderr
    assert "Traceback" not in result.stderr
