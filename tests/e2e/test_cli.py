"""The `vozo` command against FakeVozo over a socket, as a user's shell or script runs it."""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sockets import closed_port
from vozo import JOB_ERROR_CODES, Vozo
from vozo._cli_common import EXIT_CODES
from vozo.testing import FakeVozo, Faults, ManualClock
from vozo.testing._media import is_playable_mp4

from .conftest import KEY

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


def test_translating_audio_with_output_saves_the_dubbed_audio(server, tmp_path) -> None:
    """`vozo translate --media talk.mp3 ... -o out` asked for the video (the default --which) of a job that has
    none: exit 2 after the job was paid for, and no resume command."""
    _, url = server
    output = tmp_path / "talk.es.wav"
    args = ["--json", "translate", "--media", "https://m.example.com/talk.mp3", "--target", "es", "-o", str(output)]
    result = vozo(url, *args)
    assert result.returncode == 0, result.stderr
    assert json_lines(result.stdout)[-1]["output"] == str(output)
    assert output.read_bytes()[:4] == b"RIFF"  # the fake's WAV


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


def json_lines(stdout: str) -> list[dict[str, object]]:
    """--json writes one object per line (the task id first when it waits, the outcome last)."""
    return [json.loads(line) for line in stdout.splitlines()]


def test_a_failed_job_reports_its_task_id_in_json(server) -> None:
    fake, url = server
    fake.fail_next("20403", "Not enough faces.")
    created, payload = json_lines(vozo(url, "--json", "lipsync", *REF, "--wait").stdout)
    assert payload["error"] == "JobFailedError"
    assert payload["code"] == "20403"
    assert payload["task_id"] == created["task_id"]
    assert payload["task_id"] in fake.jobs
    assert "resume" not in payload  # a failed job has nothing to resume


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_with_json_the_task_id_is_on_stdout_as_soon_as_the_job_exists(tmp_path, stop) -> None:
    """A script reading stdout has the id of the paid job before the wait, and keeps it on Ctrl-C or a SIGTERM
    (exit 130)."""
    fake = FakeVozo(api_keys=[KEY], clock=lambda: 0.0)  # frozen: the job stays pending
    with fake.serve() as url:
        env = {**os.environ, "VOZO_API_KEY": KEY, "VOZO_BASE_URL": url}
        args = [VOZO, "lipsync", *REF, "--output", str(tmp_path / "o.mp4"), "--json"]
        with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as child:
            assert child.stdout is not None
            first = json.loads(child.stdout.readline())
            assert first == {"task_id": next(iter(fake.jobs))}
            child.send_signal(stop)
            rest, errors = child.communicate(timeout=60)
    assert child.returncode == EXIT_CODES["interrupted"], errors
    (last,) = json_lines(rest)
    assert last["task_id"] == first["task_id"]
    assert last["resume"] == f"vozo wait {first['task_id']} --kind lipsync --output {tmp_path / 'o.mp4'}"
    assert "Traceback" not in errors
    assert "Aborted!" not in errors


@pytest.mark.parametrize(
    "args",
    [
        ["status", "{id}"],
        ["wait", "{id}"],
        ["download", "{id}", "{out}"],
        ["lipsync", *REF],
        ["batch", "status", "{out}"],
    ],
)
def test_json_is_accepted_after_the_subcommand_too(server, tmp_path, args) -> None:
    _fake, url = server
    task_id = json.loads(vozo(url, "--json", "lipsync", *REF, "--wait").stdout.splitlines()[-1])["task_id"]
    if args[0] == "batch":
        manifest = tmp_path / "m.csv"
        manifest.write_text("reference_file_url,audio_url\nhttps://m.example.com/a.mp4,https://m.example.com/a.mp3\n")
        assert vozo(url, "batch", "run", str(manifest), "--out", str(tmp_path / "b")).returncode == 0
    filled = [arg.format(id=task_id, out=tmp_path / ("b" if args[0] == "batch" else "o.mp4")) for arg in args]
    before, after = vozo(url, "--json", *filled), vozo(url, *filled, "--json")
    assert after.returncode == before.returncode == 0, after.stderr
    assert json_lines(after.stdout)[-1].keys() == json_lines(before.stdout)[-1].keys()


def test_a_missing_api_key_is_an_auth_error_naming_the_variable(server, tmp_path) -> None:
    _, url = server
    env = {k: v for k, v in os.environ.items() if k != "VOZO_API_KEY"} | {"VOZO_BASE_URL": url}
    manifest = tmp_path / "m.csv"
    manifest.write_text("reference_file_url,audio_url\nhttps://m.example.com/a.mp4,https://m.example.com/a.mp3\n")
    batch = ["batch", "run", str(manifest), "--out", str(tmp_path / "out")]
    for args in (["status", "li-1"], ["lipsync", *REF, "--wait"], batch):
        result = subprocess.run([VOZO, *args], capture_output=True, text=True, env=env, timeout=60, check=False)
        assert result.returncode == EXIT_CODES["auth"]
        assert "VOZO_API_KEY" in result.stderr
        assert "--api-key" in result.stderr
        assert "Traceback" not in result.stderr


def test_status_of_a_failed_job_shows_its_code_meaning_and_message(server) -> None:
    fake, url = server
    fake.fail_next("20601", "There are no faces in the picture.")
    task_id = json_lines(vozo(url, "--json", "lipsync", *REF, "--wait").stdout)[0]["task_id"]
    shown = vozo(url, "status", task_id)
    assert shown.returncode == EXIT_CODES["job_failed"]
    assert f"{task_id}: failed (code 20601: There are no faces in the picture.)" in shown.stdout
    assert f"documented as: {JOB_ERROR_CODES['20601'].description}" in shown.stdout
    data = json.loads(vozo(url, "status", task_id, "--json").stdout)
    assert data["error"] == {
        "code": "20601",
        "message": "There are no faces in the picture.",
        "meaning": JOB_ERROR_CODES["20601"].description,
    }
    fetched = vozo(url, "download", task_id, "out.mp4")  # nothing to download, and nothing to resume
    assert fetched.returncode == EXIT_CODES["job_failed"]
    assert "20601" in fetched.stderr
    assert "resume" not in fetched.stderr


def test_status_of_a_done_job_lists_its_result_urls(server) -> None:
    _, url = server
    task_id = json_lines(vozo(url, "--json", "lipsync", *REF, "--wait").stdout)[0]["task_id"]
    shown = vozo(url, "status", task_id)
    assert shown.returncode == 0
    assert shown.stdout.splitlines() == [f"{task_id}: done", f"  video: {url}/media/{task_id}/video.mp4"]


def test_a_result_downloaded_into_a_folder_is_named_after_its_task_id_and_replaces_nothing(server, tmp_path) -> None:
    _, url = server
    task_id = json_lines(vozo(url, "--json", "lipsync", *REF, "--wait").stdout)[0]["task_id"]
    (tmp_path / f"{task_id}.mp4").write_bytes(b"an earlier take")
    for name in (f"{task_id}-2.mp4", f"{task_id}-3.mp4"):
        fetched = vozo(url, "download", task_id, f"{tmp_path}/")
        assert fetched.returncode == 0, fetched.stderr
        assert f"-> {tmp_path / name} (" in fetched.stdout
        assert is_playable_mp4((tmp_path / name).read_bytes())
    assert (tmp_path / f"{task_id}.mp4").read_bytes() == b"an earlier take"


def test_downloading_an_unfinished_job_says_how_to_wait_for_it(tmp_path) -> None:
    fake = FakeVozo(api_keys=[KEY], clock=lambda: 0.0)
    with fake.serve() as url:
        task_id = json.loads(vozo(url, "--json", "lipsync", *REF).stdout)["task_id"]
        result = vozo(url, "download", task_id, str(tmp_path / "o.mp4"))
    assert result.returncode == EXIT_CODES["usage"]
    assert f"job {task_id} is pending, not done" in result.stderr
    assert f"`vozo wait {task_id} --kind lipsync --output {tmp_path / 'o.mp4'}" in result.stderr


@pytest.mark.parametrize(
    ("keys", "key"),
    [(["--key", "k-1"], "k-1"), ([], "test-key")],  # without --key: FakeVozo's default key, named
    ids=["given", "default"],
)
def test_mock_server_prints_its_url_its_key_and_the_exports_to_use_it(keys: list[str], key: str) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    args = [VOZO, "mock-server", "--port", "0", *keys]
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as server:
        assert server.stdout is not None
        lines = [server.stdout.readline().rstrip("\n") for _ in range(5)]
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=60)
    url = lines[0].removeprefix("FakeVozo listening on ")
    assert lines == [
        f"FakeVozo listening on {url}",
        f"It accepts the API key {key}.",
        "Point the vozo command or library at it:",
        f"  export VOZO_BASE_URL={url}",
        f"  export VOZO_API_KEY={key}",
    ]
    assert server.returncode == 0, stderr  # SIGTERM stops it cleanly


@pytest.mark.parametrize(("host", "loopback"), [("0.0.0.0", "127.0.0.1"), ("", "127.0.0.1")], ids=["any", "empty"])  # noqa: S104
def test_mock_server_on_every_interface_prints_a_url_this_machine_can_use(host: str, loopback: str) -> None:
    """--host '' binds every interface, as 0.0.0.0 does, yet printed `export VOZO_BASE_URL=http://:PORT`, a URL with
    no host that the client (and any other) refuses."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    args = [VOZO, "mock-server", "--port", "0", "--host", host]
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as server:
        assert server.stdout is not None
        url = server.stdout.readline().rstrip("\n").removeprefix("FakeVozo listening on ")
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=60)
    assert url.startswith(f"http://{loopback}:")
    with Vozo(api_key="test-key", base_url=url) as client:
        assert client.base_url == url


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


UNSURE = "Vozo may have created (and billed) a job whose task id never came back"


@pytest.mark.parametrize(
    ("fault", "as_json"),
    [("reset_after", False), ("malformed_json", False), ("malformed_json", True)],
)
def test_a_create_whose_answer_is_lost_warns_that_a_billed_job_may_exist(fault, as_json) -> None:
    """Vozo made the job, but its answer never arrived whole: rerunning the command blindly would pay twice."""
    fake = FakeVozo(api_keys=[KEY], faults=Faults(**{fault: 1.0}))
    with fake.serve() as url:
        result = vozo(url, "--max-retries", "0", *(["--json"] if as_json else []), "lipsync", *REF, "--wait")
    assert len(fake.jobs) == 1
    assert result.returncode not in (EXIT_CODES["ok"], EXIT_CODES["usage"], EXIT_CODES["rate_limited"])
    if as_json:
        (payload,) = json_lines(result.stdout)
        assert payload["task_id"] is None
        assert UNSURE in payload["warning"]
    else:  # said once: the library's error already carries it, so the command adds no warning line
        told = " ".join(result.stderr.split())
        assert told.count("Vozo may have created (and billed)") == 1
        assert "look for it in your Vozo account" in told
    assert "Traceback" not in result.stderr


def test_a_create_that_certainly_made_no_job_does_not_warn() -> None:
    """Refused (1304: too many jobs), or never connected: nothing to look for in the Vozo account."""
    fake = FakeVozo(api_keys=[KEY], max_active_jobs=0)
    with fake.serve() as url, closed_port() as port:
        refused = vozo(url, "--max-retries", "0", "--json", "lipsync", *REF)
        unreachable = vozo(f"http://127.0.0.1:{port}", "--max-retries", "0", "--json", "lipsync", *REF)
    assert fake.jobs == {}
    for result, code in ((refused, "rate_limited"), (unreachable, "unavailable")):
        assert result.returncode == EXIT_CODES[code], result.stderr
        assert "warning" not in json_lines(result.stdout)[-1]
        assert UNSURE not in result.stderr


def vozo_into_a_closed_pipe(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run with stdout a pipe whose reader is already gone, as in ``vozo ... | head -c0``."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    env = {**os.environ, "VOZO_API_KEY": KEY, "VOZO_BASE_URL": url}
    try:
        return subprocess.run(
            [VOZO, *args], stdout=write_end, stderr=subprocess.PIPE, text=True, env=env, timeout=60, check=False
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_with_stdout_closed_a_new_jobs_task_id_still_reaches_stderr(server, as_json) -> None:
    fake, url = server
    result = vozo_into_a_closed_pipe(url, *(["--json"] if as_json else []), "lipsync", *REF)
    (task_id,) = fake.jobs
    assert f"task id: {task_id}" in result.stderr
    assert result.returncode == EXIT_CODES["error"]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_started_without_a_stdout_a_new_jobs_task_id_still_reaches_stderr(server, as_json) -> None:
    """`vozo ... >&-` (a daemon, a cron job with its descriptors closed): Python has no sys.stdout at all."""
    fake, url = server
    env = {**os.environ, "VOZO_API_KEY": KEY, "VOZO_BASE_URL": url}
    args = [VOZO, *(["--json"] if as_json else []), "lipsync", *REF]
    closed = ["sh", "-c", 'exec "$@" >&-', "sh", *args]
    result = subprocess.run(closed, capture_output=True, text=True, env=env, timeout=60, check=False)
    (task_id,) = fake.jobs
    assert f"task id: {task_id}" in result.stderr
    assert result.returncode == EXIT_CODES["error"]
    assert "Traceback" not in result.stderr


def test_with_stdout_closed_a_json_error_is_told_on_stderr_with_its_exit_code(server) -> None:
    _, url = server
    result = vozo_into_a_closed_pipe(url, "--json", "status", "missing")
    assert result.returncode == EXIT_CODES["api"]
    assert "error: 404 from GET" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_sigterm_during_the_create_waits_for_its_task_id_then_prints_it_and_exits_130() -> None:
    """As a Ctrl-C: the job exists and may be billed, so its id is waited for rather than dropped with the process."""
    fake = FakeVozo(api_keys=[KEY], clock=ManualClock())
    env = {**os.environ, "VOZO_API_KEY": KEY, "VOZO_BASE_URL": "", "PYTHONUNBUFFERED": "1"}
    with fake.serve() as url, fake.hold_creates() as hold:
        env["VOZO_BASE_URL"] = url
        args = [VOZO, "lipsync", *REF, "--wait"]
        with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as child:
            assert child.stderr is not None
            assert hold.held.wait(60)  # Vozo made the job; the command still waits for its answer
            child.send_signal(signal.SIGTERM)
            told = ""
            while "waiting up to" not in told:
                line = child.stderr.readline()
                assert line, "the command ended without waiting for the answer"
                told += line
            hold.release()
            _, errors = child.communicate(timeout=60)
    (task_id,) = hold.task_ids
    assert child.returncode == EXIT_CODES["interrupted"], told + errors
    assert f"task id: {task_id} (the job exists; resume with `vozo wait {task_id} --kind lipsync`)" in errors
    assert "Traceback" not in errors


def test_a_status_value_vozo_adds_is_printed_as_text_even_with_brackets() -> None:
    """An unknown status is waited through (forward compatibility); shown as it came, never read as rich markup."""
    fake = FakeVozo(api_keys=[KEY], clock=ManualClock(), faults=Faults(unknown_status="[/reviewing]"))
    with fake.serve() as url:
        task_id = json.loads(vozo(url, "--json", "lipsync", *REF).stdout)["task_id"]
        fake.advance((fake.jobs[task_id].stages.index("[/reviewing]") + 0.5) * fake.step_seconds)
        result = vozo(url, "wait", task_id, "--timeout", "0.1")  # the clock stands still: the wait times out
    assert result.returncode == EXIT_CODES["job_timeout"], result.stderr
    assert f"{task_id}: [/reviewing]" in result.stderr.splitlines()


def test_control_characters_a_server_sends_are_shown_escaped_never_sent_to_the_terminal(server) -> None:
    """An escape sequence could clear or retitle the terminal, a newline forge a line scripts read."""
    fake, url = server
    fake.fail_next("20601", "no faces\x1b[2J\nforged: line")
    waited = vozo(url, "lipsync", *REF, "--wait")
    (task_id,) = fake.jobs
    shown = vozo(url, "status", task_id)
    assert shown.stdout.splitlines()[0] == f"{task_id}: failed (code 20601: no faces\\x1b[2J\\nforged: line)"
    assert "no faces\\x1b[2J\\nforged: line" in waited.stderr
    for result in (waited, shown):
        assert "\x1b" not in result.stdout + result.stderr
        assert not any(line.startswith("forged") for line in (result.stdout + result.stderr).splitlines())


def test_a_file_name_with_a_newline_gets_a_one_line_resume_command_that_names_it(tmp_path) -> None:
    fake = FakeVozo(api_keys=[KEY], clock=lambda: 0.0)  # frozen: the wait times out, and says how to resume
    output = tmp_path / "take\n2.mp4"
    with fake.serve() as url:
        result = vozo(url, "lipsync", *REF, "--output", str(output), "--timeout", "0.1")
    (task_id,) = fake.jobs
    assert result.returncode == EXIT_CODES["job_timeout"], result.stderr
    (hint,) = [line for line in result.stderr.splitlines() if "resume with" in line]
    resume = hint.split("`")[1]
    # bash (and zsh) read it back as the words of the command, the name with its newline
    words = subprocess.run(
        ["bash", "-c", f"printf '%s\\0' {resume}"], capture_output=True, text=True, check=True
    ).stdout.split("\0")[:-1]
    assert words == ["vozo", "wait", task_id, "--kind", "lipsync", "--output", str(output)]


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_a_terminal_that_cannot_encode_a_name_still_gets_every_line(server, tmp_path, encoding) -> None:
    """A locale or PYTHONIOENCODING without UTF-8: a non-ASCII file name or task id is escaped, not a crash."""
    _, url = server
    task_id = json.loads(vozo(url, "--json", "lipsync", *REF, "--wait").stdout.splitlines()[-1])["task_id"]
    env = {**os.environ, "VOZO_API_KEY": KEY, "VOZO_BASE_URL": url, "PYTHONIOENCODING": encoding}
    output = tmp_path / "日本語.mp4"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [VOZO, *args]
        return subprocess.run(command, capture_output=True, env=env, timeout=60, check=False, encoding=encoding)

    fetched, missing = run("download", task_id, str(output)), run("status", "日本")
    assert fetched.returncode == EXIT_CODES["ok"], fetched.stderr
    assert output.exists()
    assert f"{task_id}: done -> {tmp_path}/\\u65e5\\u672c\\u8a9e.mp4" in fetched.stdout
    assert missing.returncode == EXIT_CODES["api"], missing.stderr
    assert "Traceback" not in fetched.stderr + missing.stderr


def test_mock_server_on_a_port_in_use_or_out_of_range_says_so_in_a_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        in_use = subprocess.run(
            [VOZO, "mock-server", "--port", str(port)], capture_output=True, text=True, timeout=60, check=False
        )
    assert in_use.returncode == EXIT_CODES["error"]
    assert f"cannot serve on 127.0.0.1:{port}" in in_use.stderr
    assert "Traceback" not in in_use.stderr
    out_of_range = subprocess.run(
        [VOZO, "mock-server", "--port", "65536"], capture_output=True, text=True, timeout=60, check=False
    )
    assert out_of_range.returncode == EXIT_CODES["usage"]
    assert "Traceback" not in out_of_range.stderr


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--json", "wait", "li-1", "--timeout", "soon"], "BadParameter"),
        (["status", "--json"], "MissingParameter"),
        (["--json", "stauts", "li-1"], "NoSuchCommand"),
        (["--json", "--max-retries", "x", "status", "li-1"], "BadParameter"),
    ],
)
def test_with_json_a_refused_command_line_is_a_json_error_too(server, args, error) -> None:
    """Every outcome of a --json run is a JSON object on stdout, the command line click refuses included."""
    _, url = server
    result = vozo(url, *args)
    assert result.returncode == EXIT_CODES["usage"]
    (payload,) = json_lines(result.stdout)
    assert payload.keys() == {"error", "message", "task_id", "code"}
    assert payload["error"] == error
    assert payload["task_id"] is None
    assert payload["message"]
    assert "Error:" in result.stderr  # click's text, with its usage line, still on stderr


def test_a_resume_command_repeats_a_base_url_given_on_the_command_line(tmp_path) -> None:
    """Without it, `vozo wait` would ask the default host, which knows no such job: the job would look lost."""
    fake = FakeVozo(api_keys=[KEY], clock=lambda: 0.0)  # frozen: the wait times out, and says how to resume
    env = {k: v for k, v in os.environ.items() if k != "VOZO_BASE_URL"} | {"VOZO_API_KEY": KEY}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([VOZO, *args], capture_output=True, text=True, env=env, timeout=60, check=False)

    with fake.serve() as url:
        first = run(
            "--base-url", url, "--json", "lipsync", *REF, "--output", str(tmp_path / "o.mp4"), "--timeout", "0.1"
        )
        resume = json_lines(first.stdout)[-1]["resume"]
        again = run(*shlex.split(resume)[1:], "--timeout", "0.1")
    (task_id,) = fake.jobs
    assert first.returncode == again.returncode == EXIT_CODES["job_timeout"], again.stderr
    assert resume.startswith(f"vozo --base-url {url} wait {task_id} ")


@pytest.mark.parametrize("command", ["download", "lipsync"])
def test_an_empty_output_path_is_refused_before_anything_is_paid_or_written(server, tmp_path, command) -> None:
    """`--output "$OUT"` with OUT unset: not the current folder, silently."""
    fake, url = server
    task_id = json.loads(vozo(url, "--json", "lipsync", *REF, "--wait").stdout.splitlines()[-1])["task_id"]
    args = ["download", task_id, ""] if command == "download" else ["lipsync", *REF, "--output", ""]
    env = {**os.environ, "VOZO_API_KEY": KEY, "VOZO_BASE_URL": url}
    result = subprocess.run(
        [VOZO, *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60, check=False
    )
    assert result.returncode == EXIT_CODES["usage"], result.stderr
    assert "empty" in result.stderr
    assert list(tmp_path.iterdir()) == []
    assert list(fake.jobs) == [task_id]


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.parametrize(
    ("host", "reached_at"),
    [
        ("0.0.0.0", "http://127.0.0.1:"),  # noqa: S104 - the case under test
        pytest.param("::", "http://[::1]:", marks=pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 here")),
        pytest.param("::1", "http://[::1]:", marks=pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 here")),
    ],
)
def test_mock_server_exports_a_url_the_client_accepts(host, reached_at) -> None:
    """Bound to every interface, it is reached at the loopback address: http://0.0.0.0 is refused (plain http off
    this machine); an IPv6 address is bracketed in the URL (http://::1:8000 is no URL)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    args = [VOZO, "mock-server", "--host", host, "--port", "0"]
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as server:
        assert server.stdout is not None
        lines = [server.stdout.readline().rstrip("\n") for _ in range(5)]
        url = shlex.split(lines[3])[1].removeprefix("VOZO_BASE_URL=")  # quoted as a shell reads it: [::1]
        status = vozo(url, "status", "li-1", key="test-key")
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=60)
    assert url.startswith(reached_at)
    assert lines[0] == f"FakeVozo listening on {url}"
    assert status.returncode == EXIT_CODES["api"], status.stderr  # reached: the fake knows no such job


@pytest.mark.parametrize("command", ["status", "wait", "download"])
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_a_failed_job_whose_server_echoes_the_key_never_shows_it(tmp_path, command: str, as_json: bool) -> None:
    fake = FakeVozo(api_keys=[KEY], step_seconds=0.01, fail_when=lambda *_: (KEY, f"refused key {KEY}"))
    with fake.serve() as url:
        task_id = json.loads(vozo(url, "--json", "lipsync", *REF).stdout)["task_id"]
        more = [str(tmp_path / "o.mp4")] if command == "download" else []
        result = vozo(url, *(["--json"] if as_json else []), command, task_id, *more)
    assert result.returncode == EXIT_CODES["job_failed"], result.stderr
    assert "refused key ****" in result.stdout + result.stderr
    assert KEY not in result.stdout + result.stderr


@pytest.mark.parametrize("timeout", ["nan", "-1", "0", "-inf"])
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_a_wait_timeout_that_is_no_duration_is_refused_before_a_job_is_created(server, timeout, as_json) -> None:
    """`--wait --timeout nan` must not create (and bill) a job only to refuse the timeout afterwards."""
    fake, url = server
    result = vozo(url, *(["--json"] if as_json else []), "lipsync", *REF, "--wait", "--timeout", timeout)
    assert result.returncode == EXIT_CODES["usage"], result.stderr
    assert "--timeout" in result.stderr
    assert fake.jobs == {}
    if as_json:
        assert json_lines(result.stdout)[-1]["error"] == "BadParameter"


@pytest.mark.parametrize("args", [["status"], ["lipsync", "--model", "nope"], ["bogus"]])
def test_started_without_a_stderr_a_refused_command_line_leaves_stdout_one_json_line(server, args) -> None:
    """`vozo --json ... 2>&-`: click's usage text, with no stderr to go to, must not land on stdout amid the JSON."""
    _, url = server
    env = {**os.environ, "VOZO_API_KEY": KEY, "VOZO_BASE_URL": url}
    closed = ["sh", "-c", 'exec "$@" 2>&-', "sh", VOZO, "--json", *args]
    result = subprocess.run(closed, stdout=subprocess.PIPE, text=True, env=env, timeout=60, check=False)
    assert result.returncode == EXIT_CODES["usage"]
    (line,) = result.stdout.splitlines()
    assert json.loads(line)["task_id"] is None
