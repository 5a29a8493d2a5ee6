"""A create cut off by Ctrl-C whose answer never comes: the command warns that a billed job may exist."""

from __future__ import annotations

import signal
import threading

import pytest

from vozo._cli_common import EXIT_CODES, Settings, create_keeping_its_id
from vozo.types import Job


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_no_answer_within_the_wait_after_ctrl_c_warns_that_a_job_may_exist_and_exits_130(capsys, as_json) -> None:
    answer = threading.Event()

    def create() -> Job:
        # Ctrl-C while the request is in flight: SIGINT to the main thread, as a terminal sends it
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)
        answer.wait()
        raise AssertionError("abandoned: never read")

    settings = Settings("key", None, None, None, as_json)
    try:
        with pytest.raises(SystemExit) as exited:
            create_keeping_its_id(settings, create, lambda task_id: f"vozo wait {task_id}", patience=0)
    finally:
        answer.set()
    assert exited.value.code == EXIT_CODES["interrupted"]
    shown = capsys.readouterr()
    assert "no answer from Vozo within 0s: Vozo may have created (and billed) a job whose task id never came back" in (
        " ".join(shown.err.split())
    )
    assert ('"task_id": null' in shown.out) is as_json


def test_a_refused_file_type_names_the_commands_option_not_the_python_argument(monkeypatch) -> None:
    from click.testing import CliRunner

    from vozo._cli import main

    monkeypatch.setenv("VOZO_API_KEY", "cli-test-key")
    monkeypatch.setenv("VOZO_BASE_URL", "http://127.0.0.1:9")  # never reached: refused before any request
    result = CliRunner().invoke(main, ["lipsync", "--reference", "https://m.test/a", "--audio", "https://m.test/a.mp3"])
    assert result.exit_code == EXIT_CODES["usage"]
    shown = " ".join(result.output.split())
    assert "(no extension)" in shown
    assert "pass --no-check-file-types" in shown
    assert "check_file_types=False" not in shown


@pytest.mark.parametrize(
    ("command", "missing"),
    [
        (["lipsync", "--audio", "https://m.test/a.mp3"], "--reference-file-url is required"),
        (["translate", "--target", "es"], "--media-url is required"),
    ],
)
def test_a_missing_url_option_is_said_missing_not_uninferable(monkeypatch, command, missing) -> None:
    """`vozo lipsync --audio ...` without --reference said "--reference-file-type cannot be inferred from None (no
    extension); pass --reference-file-type video or image": a user who did so was then told --reference was missing."""
    from click.testing import CliRunner

    from vozo._cli import main

    monkeypatch.setenv("VOZO_API_KEY", "cli-test-key")
    monkeypatch.setenv("VOZO_BASE_URL", "http://127.0.0.1:9")  # never reached: refused before any request
    result = CliRunner().invoke(main, command)
    assert result.exit_code == EXIT_CODES["usage"]
    shown = " ".join(result.output.split())
    assert f"error: {missing}" in shown
    assert "inferred" not in shown
