"""A bug in the command (any exception that is not a VozoError) is one line, never a traceback, and keeps the id."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import vozo
from vozo import _cli
from vozo._cli_common import EXIT_CODES
from vozo.testing import FakeVozo, ManualClock

KEY = "unit-key"


def broken_watch(*_: object) -> None:
    raise RuntimeError("boom")


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_an_unexpected_error_is_one_line_with_the_task_id_and_how_to_resume(monkeypatch, as_json) -> None:
    fake = FakeVozo(api_keys=[KEY], clock=ManualClock())
    with fake.serve() as url:
        with vozo.Vozo(api_key=KEY, base_url=url) as client:
            task_id = client.lipsync.create(
                reference_file_url="https://m.example.com/a.mp4", audio_url="https://m.example.com/a.mp3"
            ).task_id
        monkeypatch.setattr(_cli, "watch", broken_watch)
        args = [*(["--json"] if as_json else []), "wait", task_id]
        result = CliRunner().invoke(_cli.main, args, env={"VOZO_API_KEY": KEY, "VOZO_BASE_URL": url})
    assert result.exit_code == EXIT_CODES["error"]
    assert result.exception is None or isinstance(result.exception, SystemExit)
    resume = f"vozo wait {task_id} --kind lipsync"
    if as_json:
        payload = json.loads(result.stdout.splitlines()[-1])
        assert payload["error"] == "UnexpectedError"
        assert "RuntimeError: boom" in payload["message"]
        assert (payload["task_id"], payload["resume"]) == (task_id, resume)
    else:
        assert "error: unexpected RuntimeError: boom" in result.stderr
        assert f"task id: {task_id} (the job exists; resume with `{resume}`)" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("raised", [RuntimeError("boom"), ExceptionGroup("in a task group", [RuntimeError("boom")])])
def test_an_unexpected_error_in_a_batch_run_is_one_line(monkeypatch, tmp_path, raised) -> None:
    async def broken_run(*_: object, **__: object) -> None:
        raise raised

    monkeypatch.setattr(vozo.batch, "run", broken_run)
    manifest = tmp_path / "m.csv"
    manifest.write_text("reference_file_url,audio_url\n")
    args = ["batch", "run", str(manifest), "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(_cli.main, args, env={"VOZO_API_KEY": KEY})
    assert result.exit_code == EXIT_CODES["error"]
    assert "error: unexpected RuntimeError: boom" in result.stderr
    assert "Traceback" not in result.output
