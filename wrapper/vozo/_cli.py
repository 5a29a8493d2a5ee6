"""The ``vozo`` command: create, watch and download Vozo jobs from a shell.

Imported only by the ``vozo`` entry point, so ``import vozo`` never pays for click and rich.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn, TransferSpeedColumn

import vozo
from vozo._cli_batch import batch
from vozo._cli_common import EPILOG, Settings, Status, emit, err, handled
from vozo._download import ResultKind
from vozo._jobs import DEFAULT_WAIT_TIMEOUT
from vozo.types import Job


def watch(settings: Settings, wait: Callable[..., Status], task_id: str, timeout: float) -> Status:
    """Wait with a live status line on stderr (a line per change when not a terminal or with --json)."""
    started = time.monotonic()
    if settings.as_json or not err.is_terminal:
        return wait(
            task_id, timeout=timeout, on_update=lambda s: err.print(f"{task_id}: {s.status.value}", highlight=False)
        )
    with err.status(f"{task_id}: submitted") as line:

        def update(status: Status) -> None:
            line.update(f"{task_id}: [bold]{status.status.value}[/] ({time.monotonic() - started:.0f}s)")

        return wait(task_id, timeout=timeout, on_update=update)


def save(settings: Settings, client: vozo.Vozo, source: Any, output: Path, which: ResultKind) -> Path:
    """Download with a progress bar on stderr (none with --json or when not a terminal)."""
    if settings.as_json or not err.is_terminal:
        return client.download(source, output, which=which)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True) as progress:
        bar = progress.add_task(f"downloading {output.name}", total=None)
        path = client.download(
            source,
            output,
            which=which,
            on_progress=lambda done, total: progress.update(bar, completed=done, total=total),
        )
    return path


def finish(
    settings: Settings,
    client: vozo.Vozo,
    job: Job,
    wait: Callable[..., Status],
    wait_flag: bool,
    output: Path | None,
    timeout: float,
    which: ResultKind,
) -> None:
    if not (wait_flag or output):
        emit(settings, {"task_id": job.task_id}, f"task id: {job.task_id}")
        return
    err.print(f"task id: {job.task_id}", highlight=False)
    status = watch(settings, wait, job.task_id, timeout)
    report(settings, client, job.task_id, status, output, which)


def report(
    settings: Settings, client: vozo.Vozo, task_id: str, status: Status, output: Path | None, which: ResultKind
) -> None:
    data: dict[str, Any] = {"task_id": task_id, **status.to_dict()}
    if output is not None:
        try:
            path = save(settings, client, status, output, which)
        except vozo.VozoError as error:
            error.task_id = task_id
            raise
        data["output"] = str(path)
        data["bytes"] = path.stat().st_size
    human = f"{task_id}: {status.status.value}" + (f" -> {data['output']} ({data['bytes']} bytes)" if output else "")
    emit(settings, data, human)


def job_resource(client: vozo.Vozo, kind: str) -> Any:
    """The resource whose status endpoint serves ``--kind`` (reusable-model jobs are polled as lipsync)."""
    return client.lipsync if kind == "lipsync" else client.translations


# --- commands ---------------------------------------------------------------------------------------------------

wait_timeout = click.option(
    "--timeout",
    "wait_timeout",
    type=float,
    default=DEFAULT_WAIT_TIMEOUT,
    show_default=True,
    help="Seconds to wait for the job.",
)
wait_flag = click.option("--wait", "wait_flag", is_flag=True, help="Wait for the job to finish, showing its progress.")
output_option = click.option(
    "--output", "-o", type=click.Path(path_type=Path), help="Download the result here (implies --wait)."
)
no_check_option = click.option("--no-check-file-types", is_flag=True, help="Allow URLs without a file extension.")
callback_option = click.option("--callback-url", help="Vozo POSTs the job status here on every change.")
kind_option = click.option(
    "--kind",
    type=click.Choice(["lipsync", "translation"]),
    default="lipsync",
    show_default=True,
    help="The job's type.",
)
which_option = click.option(
    "--which",
    type=click.Choice(["video", "audio", "subtitle"]),
    default="video",
    show_default=True,
    help="Which result of a translation.",
)


@click.group(epilog=EPILOG)
@click.option("--api-key", envvar="VOZO_API_KEY", show_envvar=True, help="Your Vozo API key.")
@click.option(
    "--base-url", envvar="VOZO_BASE_URL", show_envvar=True, help="API base URL [default: https://api.vozo.ai]."
)
@click.option("--request-timeout", type=float, help="Seconds per HTTP request [default: 60].")
@click.option("--max-retries", type=int, default=2, show_default=True, help="Retries per request.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
@click.version_option(vozo.__version__, prog_name="vozo")
@click.pass_context
def main(
    ctx: click.Context,
    api_key: str | None,
    base_url: str | None,
    request_timeout: float | None,
    max_retries: int,
    as_json: bool,
) -> None:
    """Lipsynced talking videos, translation and dubbing with the Vozo API."""
    ctx.obj = Settings(api_key, base_url, request_timeout, max_retries, as_json)


@main.command(epilog=EPILOG)
@click.option("--reference", "reference_file_url", required=True, help="URL of the reference video or photo.")
@click.option("--audio", "audio_url", required=True, help="URL of the audio that drives it.")
@click.option("--model", type=click.Choice(["standard", "precision"]), default="standard", show_default=True)
@click.option("--reference-type", type=click.Choice(["video", "image"]), help="Inferred from the URL when omitted.")
@no_check_option
@callback_option
@wait_flag
@output_option
@wait_timeout
@click.pass_obj
def lipsync(
    settings: Settings,
    reference_file_url: str,
    audio_url: str,
    model: str,
    reference_type: str | None,
    no_check_file_types: bool,
    callback_url: str | None,
    wait_flag: bool,
    output: Path | None,
    wait_timeout: float,
) -> None:
    """Create a lipsync job (POST /v1/video_generation)."""
    with handled(settings), settings.client() as client:
        job = client.lipsync.create(
            reference_file_url=reference_file_url,
            audio_url=audio_url,
            model=model,
            reference_file_type=reference_type,
            callback_url=callback_url,
            check_file_types=not no_check_file_types,
        )
        finish(settings, client, job, client.lipsync.wait, wait_flag, output, wait_timeout, "video")


@main.command("reusable-lipsync", epilog=EPILOG)
@click.option("--model-id", required=True, help="ID of the reusable lipsync model.")
@click.option("--audio", "audio_url", required=True, help="URL of the audio that drives it.")
@no_check_option
@callback_option
@wait_flag
@output_option
@wait_timeout
@click.pass_obj
def reusable_lipsync(
    settings: Settings,
    model_id: str,
    audio_url: str,
    no_check_file_types: bool,
    callback_url: str | None,
    wait_flag: bool,
    output: Path | None,
    wait_timeout: float,
) -> None:
    """Create a lipsync job from a reusable model (polled through the lipsync status endpoint)."""
    with handled(settings), settings.client() as client:
        job = client.reusable_lipsync.create(
            model_id=model_id, audio_url=audio_url, callback_url=callback_url, check_file_types=not no_check_file_types
        )
        finish(settings, client, job, client.reusable_lipsync.wait, wait_flag, output, wait_timeout, "video")


@main.command(epilog=EPILOG)
@click.option("--media", "media_url", required=True, help="URL of the video or audio to translate.")
@click.option("--target", "target_language", required=True, help="Target language, e.g. es or zh-CN.")
@click.option("--source", "source_language", default="auto", show_default=True, help="Source language or auto.")
@click.option("--media-type", type=click.Choice(["video", "audio"]), help="Inferred from the URL when omitted.")
@click.option("--export-type", type=click.Choice(["auto", "video", "audio", "all"]), default="auto", show_default=True)
@click.option("--subtitle-url", help="An SRT file to use instead of transcription.")
@click.option("--subtitle-usage", "subtitle_usage_type", type=click.Choice(["original", "final_translated"]))
@click.option("--speakers", nargs=2, type=int, help="Speaker count range: MIN MAX.")
@click.option("--prompt", "user_prompt", help="A prompt to guide translation or dubbing style.")
@no_check_option
@callback_option
@wait_flag
@output_option
@which_option
@wait_timeout
@click.pass_obj
def translate(
    settings: Settings,
    media_url: str,
    target_language: str,
    source_language: str,
    media_type: str | None,
    export_type: str,
    subtitle_url: str | None,
    subtitle_usage_type: str | None,
    speakers: tuple[int, int] | None,
    user_prompt: str | None,
    no_check_file_types: bool,
    callback_url: str | None,
    wait_flag: bool,
    output: Path | None,
    which: ResultKind,
    wait_timeout: float,
) -> None:
    """Create a translate & dub job (POST /v1/media/translate)."""
    with handled(settings), settings.client() as client:
        job = client.translations.create(
            media_url=media_url,
            target_language=target_language,
            source_language=source_language,
            media_type=media_type,
            export_type=export_type,
            subtitle_url=subtitle_url,
            subtitle_usage_type=subtitle_usage_type,
            speaker_number=speakers or None,
            user_prompt=user_prompt,
            callback_url=callback_url,
            check_file_types=not no_check_file_types,
        )
        finish(settings, client, job, client.translations.wait, wait_flag, output, wait_timeout, which)


@main.command(epilog=EPILOG)
@click.argument("task_id")
@kind_option
@click.pass_obj
def status(settings: Settings, task_id: str, kind: str) -> None:
    """Show a job's current status."""
    with handled(settings), settings.client() as client:
        current = job_resource(client, kind).get(task_id)
        emit(settings, {"task_id": task_id, **current.to_dict()}, f"{task_id}: {current.status.value}")


@main.command("wait", epilog=EPILOG)
@click.argument("task_id")
@kind_option
@output_option
@which_option
@wait_timeout
@click.pass_obj
def wait_command(
    settings: Settings, task_id: str, kind: str, output: Path | None, which: ResultKind, wait_timeout: float
) -> None:
    """Wait for a job to finish (and download its result with --output)."""
    with handled(settings), settings.client() as client:
        waiter = job_resource(client, kind).wait
        report(settings, client, task_id, watch(settings, waiter, task_id, wait_timeout), output, which)


@main.command(epilog=EPILOG)
@click.argument("task_id")
@click.argument("output", type=click.Path(path_type=Path))
@kind_option
@which_option
@click.pass_obj
def download(settings: Settings, task_id: str, output: Path, kind: str, which: ResultKind) -> None:
    """Download a finished job's result to OUTPUT."""
    with handled(settings), settings.client() as client:
        current = job_resource(client, kind).get(task_id)
        report(settings, client, task_id, current, output, which)


@main.command("mock-server")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, help="0 picks a free port.")
@click.option(
    "--key", "keys", multiple=True, default=["test-key"], show_default=True, help="An API key it accepts (repeatable)."
)
@click.option("--step", type=float, default=1.0, show_default=True, help="Seconds each job status lasts.")
@click.option(
    "--max-active", type=int, default=10, show_default=True, help="Concurrent jobs per key before error 1304."
)
def mock_server(host: str, port: int, keys: tuple[str, ...], step: float, max_active: int) -> None:
    """Run FakeVozo, a local stand-in for the Vozo API, until interrupted."""
    try:
        from vozo.testing import FakeVozo
    except ImportError as exc:
        raise click.ClickException(
            f"the mock server needs the testing extra: pip install 'vozo[testing]' ({exc})"
        ) from exc
    fake = FakeVozo(api_keys=keys, step_seconds=step, max_active_jobs=max_active)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with fake.serve(host, port) as url:
        click.echo(f"FakeVozo listening on {url}", err=False)
        sys.stdout.flush()
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()


main.add_command(batch)

if __name__ == "__main__":
    main()
