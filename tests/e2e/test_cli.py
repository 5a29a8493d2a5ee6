"""The `vozo` command against FakeVozo over a socket, as a user's shell or script runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from vozo._cli_common import EXIT_CODES
from vozo.testing import FakeVozo
from vozo.testing._media import is_playable_mp4

from .conftest import KEY, closed_port

VOZO = str(Path(sys.executable).parent / "vozo")
REF = ["--reference", "https://m.example.com/presenter.mp4", "--audio", "https://m.example.com/voice.mp3"]


@pytest.fixture
def server() -> Iterator[tuple[FakeVozo, str]]:
    fake = FakeVozo(api_keys=[KEY], step_seconds=0.05)
    with fake.serve() as url:
        yield fake, url


def vozo(url: str, *args: str, key: str = KEY) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VOZO_API_KEY": key, "VOZO_BASE_URL": url}
    return subprocess.run([VOZO, *args], capture_output=True, text=True, env=env, timeout=60, check=False)


def test_lipsync_wait_and_download(server, tmp_path) -> None:
    fake, url = server
    result = vozo(url, "lipsync", *REF, "--model", "precision", "--output", str(tmp_path / "out.mp4"))
    assert result.returncode == 0, result.stderr
    assert is_playable_mp4((tmp_path / "out.mp4").read_bytes())
    task_id = next(iter(fake.jobs))
    assert f"task id: {task_id}" in result.stderr
    assert f"{task_id}: done -> {tmp_path / 'out.mp4'}" in result.stdout


def test_json_output_for_scripts(server) -> None:
    _, url = server
    created = json.loads(vozo(url, "--json", "lipsync", *REF).stdout)
    task_id = created["task_id"]
    final = json.loads(vozo(url, "--json", "wait", task_id).stdout)
    assert final["status"] == "done"
    assert final["video_url"].endswith(f"/media/{task_id}/video.mp4")
    status = json.loads(vozo(url, "--json", "status", task_id).stdout)
    assert status == final


def test_translate_and_download_a_chosen_result(server, tmp_path) -> None:
    _, url = server
    created = json.loads(
        vozo(
            url,
            "--json",
            "translate",
            "--media",
            "https://m.example.com/k.mp4",
            "--target",
            "de",
            "--export-type",
            "all",
        ).stdout
    )
    vozo(url, "wait", created["task_id"], "--kind", "translation")
    result = vozo(
        url,
        "--json",
        "download",
        created["task_id"],
        str(tmp_path / "subs.srt"),
        "--kind",
        "translation",
        "--which",
        "subtitle",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["output"] == str(tmp_path / "subs.srt")
    assert "[de]" in (tmp_path / "subs.srt").read_text()


@pytest.mark.parametrize(
    ("setup", "args", "key", "code"),
    [
        (
            None,
            ["lipsync", "--reference", "https://m.example.com/a.gif", "--audio", "https://m.example.com/v.mp3"],
            KEY,
            "usage",
        ),
        (None, ["status", "whatever"], "bad-key", "auth"),
        (None, ["status", "missing"], KEY, "api"),
        (lambda f: f.fail_next("20601"), ["lipsync", *REF, "--wait"], KEY, "job_failed"),
        (lambda f: setattr(f, "max_active_jobs", 0), ["lipsync", *REF], KEY, "rate_limited"),
        (None, ["lipsync", *REF, "--wait", "--timeout", "0.01"], KEY, "job_timeout"),
    ],
)
def test_exit_codes_tell_failures_apart(server, setup, args, key, code) -> None:
    fake, url = server
    if setup:
        setup(fake)
    result = vozo(url, *args, key=key)
    assert result.returncode == EXIT_CODES[code], result.stderr
    assert "error" in result.stderr
    assert key not in result.stdout + result.stderr


def test_an_unreachable_api_is_exit_code_unavailable() -> None:
    with closed_port() as port:
        result = vozo(f"http://127.0.0.1:{port}", "--max-retries", "0", "status", "x")
    assert result.returncode == EXIT_CODES["unavailable"]


def test_a_failed_job_reports_its_task_id_in_json(server) -> None:
    fake, url = server
    fake.fail_next("20403", "Not enough faces.")
    payload = json.loads(vozo(url, "--json", "lipsync", *REF, "--wait").stdout)
    assert payload["error"] == "JobFailedError"
    assert payload["code"] == "20403"
    assert payload["task_id"] in fake.jobs


def test_messages_are_printed_as_they_are_not_as_markup(server, tmp_path) -> None:
    """A documented pattern (``^[a-z]{2}...``) or a file name in brackets is text, not rich markup to swallow."""
    _, url = server
    refused = vozo(url, "translate", "--media", "https://m.example.com/k.mp4", "--target", "spanish")
    assert refused.returncode == EXIT_CODES["usage"]
    assert "does not have the documented form ^[a-z]{2}(-[A-Za-z]{2})?$" in refused.stderr
    output = tmp_path / "take[final].mp4"
    done = vozo(url, "lipsync", *REF, "--output", str(output))
    assert done.returncode == 0, done.stderr
    assert f"-> {output} (" in done.stdout
