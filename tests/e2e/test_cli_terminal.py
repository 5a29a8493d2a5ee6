"""The `vozo` command in a pseudo-terminal, as a person runs it: the live display ticks, Ctrl-C keeps the task id.

The fake's clock is frozen, so a job stays `pending` for as long as the test needs: the elapsed time that moves on
screen can only come from the display itself, never from a status change.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator

import pexpect
import pytest

from vozo._cli_common import EXIT_CODES
from vozo.testing import FakeVozo, ManualClock

from .conftest import KEY
from .test_cli import REF, VOZO

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture
def frozen() -> Iterator[tuple[FakeVozo, str]]:
    fake = FakeVozo(api_keys=[KEY], step_seconds=1.0, clock=lambda: 0.0)
    with fake.serve() as url:
        yield fake, url


def status_line(task_id: str, value: str, elapsed: str) -> str:
    """The live line as drawn, its status in bold (ANSI codes around it)."""
    return rf"{re.escape(task_id)}: (?:\x1b\[[0-9;]*m)*{value}(?:\x1b\[[0-9;]*m)* \({elapsed}\)"


def spawn(url: str, *args: str) -> pexpect.spawn:
    env = {**os.environ, "VOZO_API_KEY": KEY, "VOZO_BASE_URL": url, "TERM": "xterm", "COLUMNS": "120"}
    env.pop("NO_COLOR", None)
    return pexpect.spawn(VOZO, list(args), env=env, encoding="utf-8", timeout=20, dimensions=(24, 120))


def test_the_live_display_ticks_while_the_status_stays_the_same(frozen) -> None:
    fake, url = frozen
    child = spawn(url, "lipsync", *REF, "--wait")
    child.expect(r"task id: (\S+)")
    task_id = child.match.group(1)
    # Whenever the first answer comes (a slow one may take a second or more on a loaded machine): the elapsed time
    # then shown, and later another, with no status change in between (the clock is frozen): the display ticked.
    child.expect(status_line(task_id, "pending", r"(\d+)s"))
    first = child.match.group(1)
    child.expect(status_line(task_id, "pending", rf"(?!{first}s\))\d+s"))
    assert fake.jobs[task_id].stages  # still the one job, still pending
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == EXIT_CODES["interrupted"]


def test_ctrl_c_while_waiting_prints_the_task_id_and_how_to_resume_and_exits_130(frozen, tmp_path) -> None:
    fake, url = frozen
    output = tmp_path / "talking.mp4"
    child = spawn(url, "lipsync", *REF, "--output", str(output))
    child.expect(r"task id: (\S+)")
    task_id = child.match.group(1)
    child.expect("pending")
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    shown = ANSI.sub("", child.before or "")
    assert "Aborted!" not in shown
    assert "Traceback" not in shown
    assert "interrupted" in shown
    assert f"task id: {task_id} (the job exists; resume with `vozo wait {task_id} --kind lipsync --output {output}" in (
        " ".join(shown.split())
    )
    assert child.exitstatus == EXIT_CODES["interrupted"] == 130
    assert list(fake.jobs) == [task_id]  # nothing created again, nothing lost
    assert not output.exists()


def test_ctrl_c_during_a_resumed_wait_says_the_same(frozen) -> None:
    fake, url = frozen
    fake.jobs.clear()
    child = spawn(url, "lipsync", *REF)
    child.expect(r"task id: (\S+)")
    task_id = child.match.group(1)
    child.expect(pexpect.EOF)
    waiting = spawn(url, "wait", task_id)
    waiting.expect("pending")
    waiting.sendintr()
    waiting.expect(pexpect.EOF)
    waiting.close()
    assert f"resume with `vozo wait {task_id} --kind lipsync`" in ANSI.sub("", waiting.before or "")
    assert waiting.exitstatus == 130


# --- Ctrl-C while the request creating the job is in flight ---------------------------------------------------------

HELD = 20.0  # only against a hung test: the fake holds the answer until the test releases it, whatever the pace


@pytest.fixture
def holding() -> Iterator[tuple[FakeVozo, str]]:
    fake = FakeVozo(api_keys=[KEY], clock=ManualClock())
    with fake.serve() as url:
        yield fake, url


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_ctrl_c_during_the_create_waits_for_its_task_id_then_prints_it_and_exits_130(holding, as_json) -> None:
    fake, url = holding
    with fake.hold_creates() as hold:
        child = spawn(url, *(["--json"] if as_json else []), "lipsync", *REF, "--wait")
        assert hold.held.wait(HELD)  # Vozo made the job; the command still waits for its answer
        child.sendintr()
        child.expect(r"waiting up to 30s for Vozo's answer")
        hold.release()
        child.expect(pexpect.EOF)
    child.close()
    (task_id,) = hold.task_ids
    shown = " ".join(ANSI.sub("", child.before or "").split())
    assert f"task id: {task_id} (the job exists; resume with `vozo wait {task_id} --kind lipsync`)" in shown
    assert "Traceback" not in shown
    assert child.exitstatus == EXIT_CODES["interrupted"]
    if as_json:
        (line,) = [json.loads(text) for text in ANSI.sub("", child.before or "").splitlines() if text.startswith("{")]
        assert line["task_id"] == task_id
        assert line["resume"] == f"vozo wait {task_id} --kind lipsync"
    assert list(fake.jobs) == [task_id]


def test_a_second_ctrl_c_abandons_the_create_warning_that_a_billed_job_may_exist(holding) -> None:
    fake, url = holding
    with fake.hold_creates() as hold:
        child = spawn(url, "translations", "--media-url", "https://m.example.com/talk.mp4", "--target-language", "es")
        assert hold.held.wait(HELD)
        child.sendintr()
        child.expect("Ctrl-C again to abandon")
        child.sendintr()
        child.expect(pexpect.EOF)
    child.close()
    shown = " ".join(ANSI.sub("", child.before or "").split())
    assert "abandoned: Vozo may have created (and billed) a job whose task id never came back" in shown
    assert "Traceback" not in shown
    assert child.exitstatus == EXIT_CODES["interrupted"]
    assert len(fake.jobs) == 1  # the job the warning is about
