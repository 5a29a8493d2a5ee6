"""The `vozo` command's errors advise its own options, never the Python arguments the library's messages name: a
user at a shell cannot pass `timeout=` or `which=`, and was told to."""

from __future__ import annotations

import json

import httpx
import pytest
from click.testing import CliRunner

import vozo
from vozo._cli import main
from vozo._cli_common import EXIT_CODES, Settings, fail
from vozo._download import result_url
from vozo.types import LipsyncJobStatus


def _said(capsys: pytest.CaptureFixture[str], error: vozo.VozoError, *, as_json: bool = False) -> str:
    with pytest.raises(SystemExit):
        fail(Settings("key", None, None, None, as_json), error)
    shown = capsys.readouterr()
    if as_json:
        return str(json.loads(shown.out.splitlines()[-1])["message"])
    return " ".join(shown.err.split())


def _refusal(fn: object) -> vozo.InvalidInputError:
    with pytest.raises(vozo.InvalidInputError) as refused:
        fn()  # type: ignore[operator]
    return refused.value


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_a_wait_timeout_advises_the_timeout_option(capsys, as_json) -> None:
    said = _said(capsys, vozo.JobTimeoutError("li-1", 5, None), as_json=as_json)
    assert "(or a larger --timeout)" in said
    assert "timeout=" not in said


def test_a_refused_key_advises_the_api_key_option(capsys) -> None:
    said = _said(capsys, vozo.AuthenticationError(status_code=401, method="GET", path="/v1/video_generation/x"))
    assert "(--api-key or VOZO_API_KEY)" in said
    assert "api_key=" not in said


def test_a_result_the_kind_lacks_advises_the_which_option(capsys) -> None:
    status = LipsyncJobStatus.from_dict({"status": "done", "video_url": "https://cdn.test/v.mp4"})
    said = _said(capsys, _refusal(lambda: result_url(status, "audio")))
    assert "pass --which, one of: video" in said
    assert "which=" not in said


def test_an_unfinished_job_s_download_advises_the_wait_command(capsys) -> None:
    status = LipsyncJobStatus.from_dict({"status": "processing"})
    said = _said(capsys, _refusal(lambda: result_url(status, None)))
    assert "(vozo wait TASK_ID)" in said
    assert "client." not in said


def test_an_answer_timeout_advises_the_request_timeout_option(capsys) -> None:
    error = vozo.APITimeoutError("GET /v1/x timed out: ... (read timeout; pass a larger timeout= if this is expected)")
    said = _said(capsys, error)
    assert "pass a larger --request-timeout if this is expected" in said


def test_a_download_past_its_deadline_gives_no_advice_the_command_cannot_follow(capsys) -> None:
    error = vozo.DownloadError(
        "download of https://cdn.test/v.mp4 did not finish within its default deadline (pass a larger deadline=, or "
        "try again later)",
        url="https://cdn.test/v.mp4",
    )
    said = _said(capsys, error)
    assert said.endswith("did not finish within its default deadline (try again later)")


def test_a_value_the_spec_does_not_list_is_not_said_to_go_in_extra_body(capsys) -> None:
    error = vozo.InvalidInputError(
        "ocr_text_box.unit must be one of 'px', got 'em' (a value Vozo added since this SDK was built can be sent with "
        "extra_body)"
    )
    said = _said(capsys, error)
    assert said.endswith("(a value Vozo added since this SDK was built needs a vozo release that knows it)")


def test_a_rate_limit_does_not_advise_the_library_s_job_governor(capsys) -> None:
    error = vozo.RateLimitError(status_code=429, method="POST", path="/v1/video_generation", code="1304")
    said = _said(capsys, error)
    assert "wait for some jobs to finish, then try again" in said
    assert "max_active_jobs" not in said


def test_errors_name_the_base_url_option(capsys, monkeypatch) -> None:
    error = vozo.NotFoundError(status_code=404, method="GET", path="/v1/video_generation/x", code="5")
    said = _said(capsys, error)
    assert "Check the task id (as the create call returned it) and --base-url:" in said
    monkeypatch.setenv("VOZO_API_KEY", "cli-test-key")
    result = CliRunner().invoke(main, ["--base-url", "http://vozo.test", "status", "li-1"])
    assert result.exit_code == EXIT_CODES["usage"]
    assert "refusing --base-url 'http://vozo.test'" in " ".join(result.output.split())
    assert "base_url" not in result.output


@pytest.mark.parametrize(
    ("command", "advice"),
    [
        (
            ["lipsync", "--reference", "https://m.test/a", "--audio", "https://m.test/a.mp3"],
            "--reference-file-type video or image",
        ),
        (["translate", "--media", "https://m.test/a", "--target", "es"], "--media-type video or audio"),
    ],
    ids=["lipsync", "translate"],
)
def test_a_type_that_cannot_be_inferred_advises_its_option(monkeypatch, command, advice) -> None:
    monkeypatch.setenv("VOZO_API_KEY", "cli-test-key")
    monkeypatch.setenv("VOZO_BASE_URL", "http://127.0.0.1:9")  # never reached: refused before any request
    result = CliRunner().invoke(main, [*command, "--no-check-file-types"])
    assert result.exit_code == EXIT_CODES["usage"]
    shown = " ".join(result.output.split())
    assert f"pass {advice}" in shown
    assert "_type=" not in shown


@pytest.mark.parametrize(
    ("command", "said", "field"),
    [
        (
            ["lipsync", "--reference", "ftp://m.test/a.mp4", "--audio", "https://m.test/a.mp3"],
            "error: --reference-file-url must be an http(s) URL",
            "reference_file_url",
        ),
        (
            ["lipsync", "--reference", "https://m.test/a.mp4", "--audio", "https://m.test/audio_url.mp4"],
            "error: --audio-url 'https://m.test/audio_url.mp4' has an unsupported file type (.mp4)",
            "audio_url '",
        ),
        (["translate", "--media", "file:///a.mp4", "--target", "es"], "error: --media-url must be", "media_url"),
    ],
    ids=["scheme", "file-type", "another-kind"],
)
def test_a_refused_field_is_named_as_its_option(monkeypatch, command, said, field) -> None:
    """The library names the field (reference_file_url); at a shell it was typed as --reference-file-url or an alias.
    A value quoted in the message keeps its text (audio_url.mp4 stays as typed)."""
    monkeypatch.setenv("VOZO_API_KEY", "cli-test-key")
    monkeypatch.setenv("VOZO_BASE_URL", "http://127.0.0.1:9")  # never reached: refused before any request
    result = CliRunner().invoke(main, command)
    assert result.exit_code == EXIT_CODES["usage"]
    shown = " ".join(result.output.split())
    assert said in shown
    assert field not in shown


@pytest.mark.parametrize(
    ("option", "value", "said"),
    [
        ("--request-timeout", "-1", "--request-timeout must be a number of seconds > 0"),
        ("--max-retries", "-1", "--max-retries must be"),
    ],
)
def test_a_refused_setting_is_named_as_its_option(monkeypatch, option, value, said) -> None:
    monkeypatch.setenv("VOZO_API_KEY", "cli-test-key")
    monkeypatch.setenv("VOZO_BASE_URL", "http://127.0.0.1:9")
    result = CliRunner().invoke(main, [option, value, "status", "li-1"])
    assert result.exit_code == EXIT_CODES["usage"]
    shown = " ".join(result.output.split())
    assert said in shown
    assert "httpx" not in shown


@pytest.mark.parametrize(
    ("kind", "said"),
    [
        (None, "No job kind's status endpoint knows it (asked: translations, lipsync)."),
        (["--kind", "translation"], "It was asked for as a translations job (--kind): without --kind, every kind's"),
    ],
    ids=["every-kind", "one-kind"],
)
def test_a_task_id_no_kind_knows_says_which_kinds_were_asked(monkeypatch, kind, said) -> None:
    """`vozo status ID --kind translation` of a lipsync job said only "404 from GET /v1/media/translate/ID ... Check
    the task id": a right id under the wrong kind looked like a wrong id."""

    def not_found(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"code": "5", "message": "Task not found."})

    transport = httpx.MockTransport(not_found)
    monkeypatch.setattr(
        Settings, "client", lambda self: vozo.Vozo(api_key="k", http_client=httpx.Client(transport=transport))
    )
    monkeypatch.setenv("VOZO_API_KEY", "cli-test-key")
    result = CliRunner().invoke(main, ["status", "li-1", *(kind or [])])
    assert result.exit_code == EXIT_CODES["api"]
    shown = " ".join(result.output.split())
    assert said in shown
    # The 404's advice ends without a period: the note is a sentence of its own ("...is not found No job kind's").
    assert f"is not found. {said.split(' ', 1)[0]}" in shown


def test_a_batch_refusal_advises_the_batch_run_options(capsys, tmp_path) -> None:
    """vozo.batch's errors name its Python arguments (out=, rerun_changed=True): `vozo batch run` has options."""
    from vozo.batch._journal import Journal, _changed_sent_error

    said = _said(capsys, _changed_sent_error(["r0"], [], {}))
    assert "use a new --out folder, or pass --rerun-changed to submit them again" in said
    with pytest.raises(vozo.VozoError) as missing:
        Journal.open_existing(tmp_path / "vozo-batch.sqlite")
    assert "give the --out folder of a batch run" in _said(capsys, missing.value)
