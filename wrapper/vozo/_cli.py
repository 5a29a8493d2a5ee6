"""The ``vozo`` command: create, watch and download Vozo jobs from a shell.

Imported only by the ``vozo`` entry point, so ``import vozo`` never pays for click and rich.
"""

from __future__ import annotations

import contextlib
import copy
import shlex
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn, TransferSpeedColumn
from rich.text import Text

import vozo
from vozo._arguments import is_range, range_end_type
from vozo._base import read_json
from vozo._cli_batch import batch
from vozo._cli_common import (
    EPILOG,
    EXIT_CODES,
    Settings,
    Status,
    clock,
    create_keeping_its_id,
    emit,
    err,
    handled,
    json_line,
    say,
    shell_command,
    shown,
)
from vozo._config import DEFAULT_BASE_URL, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, hide_in_json
from vozo._errors import add_advice
from vozo._jobs import (
    DEFAULT_POLL_INTERVAL,
    DEFAULT_WAIT_TIMEOUT,
    check_wait_arguments,
    ends_the_job,
    job_failed_error,
)
from vozo._kinds import Field, JobKind, all_kinds, kind_named
from vozo.types import Job, JobResource

Hider = Callable[[str], str]  # masks the API key in what a server sent (the client's own, ``client._hide``)


class _Elapsed:
    """The live status line: rendered on every refresh, so its elapsed time ticks between status changes."""

    def __init__(self, task_id: str) -> None:
        self.task_id = task_id
        self.value = "submitted"
        self.started = time.monotonic()

    def __rich__(self) -> Text:
        elapsed = clock(time.monotonic() - self.started)
        return Text.assemble(f"{shown(self.task_id)}: ", (shown(self.value), "bold"), f" ({elapsed})")


def watch(
    settings: Settings, wait: Callable[..., Status], task_id: str, timeout: float, hide: Callable[[str], str]
) -> Status:
    """Wait with a live status line on stderr (a line per change when not a terminal or with --json). ``hide`` takes
    the API key out of the status values a server sends."""
    if settings.as_json or not err.is_terminal:
        return wait(
            task_id,
            timeout=timeout,
            on_update=lambda s: say(shown(f"{task_id}: {hide(s.status.value)}")),
        )
    line = _Elapsed(task_id)
    with err.status(line):

        def update(status: Status) -> None:
            line.value = hide(status.status.value)

        return wait(task_id, timeout=timeout, on_update=update)


def save(settings: Settings, client: vozo.Vozo, source: Any, output: Path, which: str | None) -> Path:
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
        bar = progress.add_task(f"downloading {escape(shown(output.name))}", total=None)  # the column reads markup
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
    kind: JobKind,
    wait_flag: bool,
    output: Path | None,
    timeout: float,
    which: str | None,
) -> None:
    waits = bool(wait_flag or output)
    settings.follow(job.task_id, resume_command(settings, job.task_id, kind, output, which), announce=waits)
    if not waits:
        emit(settings, {"task_id": job.task_id}, f"task id: {job.task_id}")
        return
    status = watch(settings, getattr(client, kind.name).wait, job.task_id, timeout, client._hide)
    report(settings, client, job.task_id, status, output, which)


def resume_command(settings: Settings, task_id: str, kind: JobKind, output: Path | None, which: str | None) -> str:
    """``vozo wait`` with what it needs to finish the job as the interrupted command would have."""
    words = ["vozo", *settings.resume_options, "wait", task_id, "--kind", kind.cli_name]
    if output is not None:
        words += ["--output", str(output), *(["--which", which] if which else [])]
    return shell_command(words)


def report(
    settings: Settings, client: vozo.Vozo, task_id: str, status: Status, output: Path | None, which: str | None
) -> None:
    data: dict[str, Any] = hide_in_json({"task_id": task_id, **status.to_dict()}, client._hide)
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


def current_status(client: vozo.Vozo, task_id: str, kind: str | None) -> tuple[JobKind, Status]:
    """The job's kind and status: of ``--kind``, else of the first status endpoint that knows the task id."""
    kinds = [kind_named(kind)] if kind else list({k.status_path: k for k in reversed(all_kinds())}.values())
    missing: vozo.NotFoundError | None = None
    for each in kinds:
        resource: JobResource[Any] = getattr(client, each.name)
        try:
            return each, resource.get(task_id)
        except vozo.NotFoundError as exc:
            missing = exc
    assert missing is not None
    # The 404 names one endpoint and says to check the id: say which kinds were asked, and that --kind narrows it.
    if kind:
        asked = f"It was asked for as a {kinds[0].name} job (--kind): without --kind, every kind's status is asked."
    else:
        asked = f"No job kind's status endpoint knows it (asked: {', '.join(k.name for k in kinds)})."
    add_advice(missing, asked)  # a sentence of its own: the 404's advice ends without a period
    raise missing


def failure(task_id: str, kind: JobKind, status: Status, hide: Hider) -> vozo.JobFailedError | None:
    """The job's failure (Vozo's err_code, its documented meaning and the message), when it ended in failed (or
    cancelled, expired, ...); ``hide`` masks the API key should the server echo it."""
    return job_failed_error(kind, task_id, status, hide) if ends_the_job(str(status.status.value)) else None


def describe_status(task_id: str, kind: JobKind, status: Status, hide: Hider) -> tuple[dict[str, Any], list[str]]:
    """A status as JSON data and as text (the key masked, should the server echo it): a failed job's error, a done
    job's result URLs."""
    data: dict[str, Any] = hide_in_json({"task_id": task_id, **status.to_dict()}, hide)
    lines = [f"{task_id}: {hide(status.status.value)}"]
    failed = failure(task_id, kind, status, hide)
    if failed is not None:
        data["error"] = {"code": failed.code, "message": failed.message, "meaning": failed.code_description}
        lines[0] += f" (code {failed.code or 'none given'}: {failed.message or 'no message'})"
        if failed.code_description:
            lines.append(f"  documented as: {failed.code_description}")
    lines += [f"  {name}: {hide(url)}" for name, url in kind.result_urls(status).items()]
    return data, lines


# --- commands ---------------------------------------------------------------------------------------------------


class OutputPath(click.Path):
    """Where to download: never empty, which would mean the current folder (``--output "$OUT"`` with OUT unset)."""

    def __init__(self) -> None:
        super().__init__(path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value.strip():
            self.fail("an empty path names no file: give a file or folder path", param, ctx)
        return super().convert(value, param, ctx)


class WaitSeconds(click.ParamType):  # type: ignore[type-arg]
    """A wait's timeout, refused as the wait would refuse it (NaN, 0, negative) but before anything is created."""

    name = "float"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        seconds = click.FLOAT.convert(value, param, ctx)
        try:
            check_wait_arguments(seconds, DEFAULT_POLL_INTERVAL)
        except vozo.InvalidInputError as exc:
            self.fail(str(exc), param, ctx)
        return seconds


# --output and --timeout, as `vozo wait` and each job kind's command take them.
_OUTPUT: dict[str, Any] = {
    "type": OutputPath(),
    "help": "Download the result here: a file, or a folder, where it is named after the task id (implies --wait).",
}
_TIMEOUT: dict[str, Any] = {
    "type": WaitSeconds(),
    "default": DEFAULT_WAIT_TIMEOUT,
    "show_default": True,
    "help": "Seconds to wait for the job.",
}
output_option = click.option("--output", "-o", **_OUTPUT)
wait_timeout = click.option("--timeout", "wait_timeout", **_TIMEOUT)
kind_option = click.option(
    "--kind",
    type=click.Choice([name for kind in all_kinds() for name in (kind.cli_name, *kind.aliases)]),
    help="The job's kind; without it, each kind's status endpoint is asked until one knows the job.",
)
which_option = click.option(
    "--which",
    type=click.Choice(list(dict.fromkeys(name for kind in all_kinds() for name in kind.result_names))),
    help="Which result file [default: the first the job has: video, else audio, ...].",
)


class VozoGroup(click.Group):
    """The ``vozo`` group: with --json on the command line, a command line click refuses is a JSON object on stdout
    as well (its usual text stays on stderr), as every other outcome of a --json run is."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        self.json_requested = "--json" in args[: args.index("--")] if "--" in args else "--json" in args
        with self.refusals_as_json():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with self.refusals_as_json():  # a subcommand's own options are parsed here
            return super().invoke(ctx)

    @contextlib.contextmanager
    def refusals_as_json(self) -> Iterator[None]:
        try:
            yield
        except click.ClickException as error:
            if getattr(self, "json_requested", False):
                name, message = type(error).__name__, error.format_message()
                json_line({"error": name, "message": message, "task_id": None, "code": None})  # as fail() writes
            raise  # click shows it on stderr and exits 2


@click.group(cls=VozoGroup, epilog=EPILOG)
@click.option("--api-key", envvar="VOZO_API_KEY", show_envvar=True, help="Your Vozo API key.")
@click.option(
    "--base-url", envvar="VOZO_BASE_URL", show_envvar=True, help=f"API base URL [default: {DEFAULT_BASE_URL}]."
)
@click.option(
    "--request-timeout",
    type=float,
    help=f"Seconds per HTTP request [default: {DEFAULT_TIMEOUT.read:g} read, {DEFAULT_TIMEOUT.connect:g} connect].",
)
@click.option("--max-retries", type=int, help=f"Retries per request [default: {DEFAULT_MAX_RETRIES}].")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
@click.version_option(vozo.__version__, prog_name="vozo")
@click.pass_context
def main(
    ctx: click.Context,
    api_key: str | None,
    base_url: str | None,
    request_timeout: float | None,
    max_retries: int | None,
    as_json: bool,
) -> None:
    """Lipsynced talking videos, translation and dubbing with the Vozo API."""
    # A resume command repeats a --base-url typed on the command line (one from VOZO_BASE_URL is still set when it
    # runs); never the key.
    typed = ctx.get_parameter_source("base_url") is click.core.ParameterSource.COMMANDLINE  # where click 8.1 has it
    resume_options = ("--base-url", base_url) if typed and base_url else ()
    ctx.obj = Settings(api_key, base_url, request_timeout, max_retries, as_json, resume_options=resume_options)


# --- one command per job kind of the spec ----------------------------------------------------------------------


class JSONValue(click.ParamType):  # type: ignore[type-arg]
    """An object or array field given as JSON text; for a field of several types, text that is not JSON is kept
    as it is (``--seed abc`` and ``--seed 42`` for a string or an integer)."""

    name = "json"

    def __init__(self, *, or_text: bool = False) -> None:
        self.or_text = or_text

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return read_json(value)
        except ValueError:
            if self.or_text:
                return value
            self.fail(f"{value!r} is not JSON", param, ctx)


def field_option(field: Field, taken: set[str], reserved: frozenset[str] = frozenset()) -> click.Option:
    """``--field-name`` from the field's ``create`` argument (plus the overlay's short aliases), typed as the spec
    types the field; ``--field-<name>`` when the command already has that option (its own ``--timeout``, ...) or
    another field has it as an alias (``reserved``: a new field ``target`` does not take ``--target`` from
    ``target_language``, so a documented command keeps its meaning)."""
    schema, kind = field.schema, field.json_type
    settings: dict[str, Any] = {"help": field.description or None, "show_default": field.default is not None}
    values = [value for value in schema.get("enum", ()) if value is not None]
    booleans = bool(values) and all(isinstance(value, bool) for value in values)  # `true` as any boolean option
    if values and not booleans:  # the spec's values as they are (an integer enum takes 1, not "1")
        settings["type"] = click.Choice([*field.value_aliases, *values])
    elif kind == "object" and is_range(schema):
        settings.update(nargs=2, type=range_end_type(schema), metavar="MIN MAX")
    elif kind in ("object", "array"):
        settings["type"] = JSONValue()
    elif kind in ("integer", "number"):
        settings["type"] = int if kind == "integer" else float
    elif kind == "boolean" or booleans:
        settings["type"] = click.BOOL
    elif len(field.json_types) > 1:
        settings["type"] = JSONValue(or_text=True)
    required = field.required and field.default is None and field.infer_from is None
    flag = "--" + field.argument.rstrip("_").replace("_", "-")
    while flag in taken or flag in reserved:
        flag = f"--field-{flag[2:]}"
    names = [flag, *(alias for alias in field.cli_aliases if alias not in taken)]
    taken.update(names)
    return click.Option([*names, field.argument], required=required, default=field.default, **settings)


def job_command(kind: JobKind) -> click.Command:
    results = kind.result_names
    # The command's own options; their values go to names a field's argument never has (a leading _).
    own: list[click.Parameter] = [
        click.Option(["--no-check-file-types", "_no_check"], is_flag=True, help="Allow URLs without a file extension."),
        click.Option(["--wait", "_wait"], is_flag=True, help="Wait for the job to finish, showing its progress."),
    ]
    if results:  # a kind whose status declares no result file has nothing to download: -o is refused before a create
        own += [
            click.Option(["--output", "-o", "_output"], **_OUTPUT),
            click.Option(
                ["--which", "_which"],
                type=click.Choice(results),
                help=f"Which result file to download [default: the first the job has: {', else '.join(results)}].",
            ),
        ]
    own.append(click.Option(["--timeout", "_timeout"], **_TIMEOUT))
    # --help, and --json, which accept_json_after_subcommands gives every command: a field named json is --field-json
    taken = {"--help", "--json", *(name for option in own for name in option.opts)}
    aliases = frozenset(alias for field in kind.fields for alias in field.cli_aliases)
    fields = {field.name: field_option(field, taken, aliases - set(field.cli_aliases)) for field in kind.fields}
    field_options = {name: option.opts[0] for name, option in fields.items()}  # what its errors call each field
    options = [*fields.values(), *own]

    @click.pass_obj
    def create(settings: Settings, /, **values: Any) -> None:
        wait_flag, output = values.pop("_wait"), values.pop("_output", None)
        which, wait_timeout = values.pop("_which", None), values.pop("_timeout")
        check = not values.pop("_no_check")
        arguments = {name: value if value != () else None for name, value in values.items()}
        settings.field_options = field_options
        with handled(settings), settings.client() as client:
            resource = getattr(client, kind.name)
            job = create_keeping_its_id(
                settings,
                lambda: resource.create(**arguments, check_file_types=check),
                lambda task_id: resume_command(settings, task_id, kind, output, which),
            )
            finish(settings, client, job, kind, wait_flag, output, wait_timeout, which)

    return click.Command(
        kind.cli_name, params=options, callback=create, epilog=EPILOG,
        help=f"{kind.summary} (POST {kind.create_path}).", short_help=kind.summary,
    )  # fmt: skip


def add_job_commands(group: click.Group) -> None:
    for kind in all_kinds():
        command = job_command(kind)
        group.add_command(command)
        for alias in kind.aliases:  # today's names keep working, out of the way of --help
            hidden = copy.copy(command)
            hidden.hidden = True
            group.add_command(hidden, alias.replace("_", "-"))


add_job_commands(main)


@main.command(epilog=EPILOG)
@click.argument("task_id")
@kind_option
@click.pass_obj
def status(settings: Settings, task_id: str, kind: str | None) -> None:
    """Show a job's current status: a failed job's error (exit code 5), a done job's result URLs."""
    with handled(settings), settings.client() as client:
        found, current = current_status(client, task_id, kind)
        data, lines = describe_status(task_id, found, current, client._hide)
        emit(settings, data, *lines)
        if failure(task_id, found, current, client._hide) is not None:
            sys.exit(EXIT_CODES["job_failed"])


@main.command("wait", epilog=EPILOG)
@click.argument("task_id")
@kind_option
@output_option
@which_option
@wait_timeout
@click.pass_obj
def wait_command(
    settings: Settings, task_id: str, kind: str | None, output: Path | None, which: str | None, wait_timeout: float
) -> None:
    """Wait for a job to finish (and download its result with --output)."""
    with handled(settings), settings.client() as client:
        found = current_status(client, task_id, kind)[0]
        settings.follow(task_id, resume_command(settings, task_id, found, output, which))
        status = watch(settings, getattr(client, found.name).wait, task_id, wait_timeout, client._hide)
        report(settings, client, task_id, status, output, which)


@main.command(epilog=EPILOG)
@click.argument("task_id")
@click.argument("output", type=OutputPath())
@kind_option
@which_option
@click.pass_obj
def download(settings: Settings, task_id: str, output: Path, kind: str | None, which: str | None) -> None:
    """Download a finished job's result to OUTPUT."""
    with handled(settings), settings.client() as client:
        found, current = current_status(client, task_id, kind)
        settings.follow(task_id, resume_command(settings, task_id, found, output, which))
        failed = failure(task_id, found, current, client._hide)
        if failed is not None:
            raise failed
        if current.status.value != "done":
            raise vozo.InvalidInputError(
                f"job {task_id} is {client._hide(current.status.value)}, not done: nothing to download yet. "
                f"Wait for it and download its result with `{settings.resume}`"
            )
        report(settings, client, task_id, current, output, which)


# Hosts that bind every interface (as a URL writes them; "" is --host ''), and the address of this machine that
# reaches them.
_ANY_ADDRESS = {"0.0.0.0": "127.0.0.1", "[::]": "[::1]", "": "127.0.0.1"}  # noqa: S104 - names them, binds nothing


@main.command("mock-server")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="0 picks a free port.")
@click.option("--key", "keys", multiple=True, help="An API key it accepts (repeatable) [default: FakeVozo's].")
@click.option(
    "--step",
    type=click.FloatRange(0, min_open=True),
    help="Seconds each job status lasts [default: FakeVozo's step_seconds].",
)
@click.option(
    "--max-active",
    type=click.IntRange(0),
    help="Concurrent jobs per key before error 1304 [default: FakeVozo's max_active_jobs].",
)
def mock_server(host: str, port: int, keys: tuple[str, ...], step: float | None, max_active: int | None) -> None:
    """Run FakeVozo, a local stand-in for the Vozo API, until interrupted."""
    try:
        from vozo.testing import FakeVozo
    except ImportError as exc:
        raise click.ClickException(
            f"the mock server needs the testing extra: pip install 'vozo[testing]' ({exc})"
        ) from exc
    given: dict[str, Any] = {"api_keys": keys or None, "step_seconds": step, "max_active_jobs": max_active}
    try:
        fake = FakeVozo(**{name: value for name, value in given.items() if value is not None})
    except vozo.InvalidInputError as exc:  # what click's types cannot say: a key with a space, --step inf
        raise click.UsageError(str(exc)) from exc
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    accepted = list(keys) or sorted(fake.api_keys)  # without --key: the keys FakeVozo accepts by default
    with contextlib.ExitStack() as serving:
        try:
            url = serving.enter_context(fake.serve(host, port))
        except vozo.VozoError as exc:  # it could not listen; uvicorn's log of why is off
            raise click.ClickException(
                f"cannot serve on {host}:{port}: the port may be in use, or {host} not an address of this machine"
            ) from exc
        for any_address, loopback in _ANY_ADDRESS.items():  # reached through this machine's own address instead:
            url = url.replace(f"//{any_address}:", f"//{loopback}:", 1)  # http://0.0.0.0 is not a loopback host
        click.echo(f"FakeVozo listening on {url}")  # a line of its own: scripts read the URL from its end
        click.echo(f"It accepts the API key{'s' if len(accepted) > 1 else ''} {', '.join(accepted)}.")
        click.echo("Point the vozo command or library at it:")
        click.echo(f"  export VOZO_BASE_URL={shlex.quote(url)}")
        click.echo(f"  export VOZO_API_KEY={shlex.quote(accepted[0])}")
        sys.stdout.flush()
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()


main.add_command(batch)


def _set_json(ctx: click.Context, _: click.Parameter, value: bool) -> None:
    if value:
        ctx.find_object(Settings).as_json = True  # type: ignore[union-attr]  # main() always made it


def accept_json_after_subcommands(group: click.Group) -> None:
    """``--json`` after the subcommand too (``vozo status ID --json``, ``vozo batch status OUT --json``)."""
    for command in group.commands.values():
        if isinstance(command, click.Group):
            accept_json_after_subcommands(command)
        elif command.name != "mock-server" and not any("--json" in param.opts for param in command.params):
            command.params.append(  # hidden aliases share their command's params: added once
                click.Option(
                    ["--json"],
                    is_flag=True,
                    expose_value=False,
                    callback=_set_json,
                    help="Machine-readable output on stdout (same as `vozo --json ...`).",
                )
            )


accept_json_after_subcommands(main)

if __name__ == "__main__":
    main()
