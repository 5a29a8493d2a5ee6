"""What every ``vozo`` subcommand shares: settings from options and the environment, output, exit codes."""

from __future__ import annotations

import errno
import json
import math
import os
import re
import shlex
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NoReturn

from rich.console import Console
from rich.markup import escape

import vozo
from vozo._arguments import SKIP_FILE_TYPE_CHECK
from vozo._config import map_json
from vozo._logging import logger
from vozo._retry import JOB_MAY_EXIST, job_may_exist
from vozo.types import AnyStatus, Job

# Exit codes, so scripts can tell failures apart (also listed in `vozo --help`).
EXIT_CODES = {
    "ok": 0,
    "error": 1,
    "usage": 2,  # click's own, and arguments refused before any request
    "auth": 3,  # 401/403, revoked key, no permission, insufficient credits
    "rate_limited": 4,  # 429 or code 1304 (too many concurrent jobs): try again later
    "job_failed": 5,
    "job_timeout": 6,  # the job is still running: `vozo wait TASK_ID` again
    "unavailable": 7,  # connection failures, timeouts, 5xx
    "download": 8,
    "api": 9,  # any other error status (400, 404, ...)
    "incomplete": 10,  # `vozo batch run` ended with rows not completed: see the report
    "interrupted": 130,  # Ctrl-C or SIGTERM (128 + SIGINT, as shells report it); the task id and resume are printed
}
# After a Ctrl-C, how long a create already sent still waits for Vozo's answer: the task id of a job it may bill.
CREATE_ANSWER_WAIT = 30.0
# Said whenever a create may have reached Vozo without its task id coming back.
MAY_EXIST = (
    "Vozo may have created (and billed) a job whose task id never came back; look for it in your Vozo account "
    "before running this command again"
)
EPILOG = "Exit codes: " + ", ".join(f"{code} {name}" for name, code in EXIT_CODES.items()) + "."


class _Stdout(Console):
    def on_broken_pipe(self) -> None:
        """Not rich's quiet exit 1: ``handled`` still gives the id of the job on stderr (see ``stdout_closed``)."""
        self.quiet = True
        raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))  # with its errno, as click expects it


err = Console(stderr=True, soft_wrap=True)  # never hard-wrap: scripts and logs parse these lines
out = _Stdout(highlight=False, soft_wrap=True)
Status = AnyStatus  # the status of any job kind of the spec


class NoAPIKeyError(vozo.VozoError):
    """No key from --api-key or VOZO_API_KEY (exit code 3, like a refused key)."""

    def __init__(self) -> None:
        super().__init__(
            "no API key: set the VOZO_API_KEY environment variable (export VOZO_API_KEY=...) or pass --api-key; "
            "create a key in your Vozo account (the API needs a business plan)"
        )


class UnexpectedError(vozo.VozoError):
    """An exception no part of the command expected (a bug): one line and exit code 1, never a traceback."""

    def __init__(self, error: Exception) -> None:
        super().__init__(
            f"unexpected {type(error).__name__}: {error} (a bug in vozo: please report it; VOZO_LOG=debug logs where "
            "it happened)"
        )


@dataclass
class Settings:
    api_key: str | None
    base_url: str | None
    timeout: float | None
    max_retries: int | None  # None: the client's own default, never a copy of it
    as_json: bool
    task_id: str | None = None  # the job this command created or follows, once known
    lost_create: bool = False  # a create failed after it may have reached Vozo: a billed job may exist
    resume: str | None = None  # the command that picks it up again after an interruption
    resume_options: tuple[str, ...] = ()  # options of this command line a resume command must repeat
    field_options: Mapping[str, str] = field(default_factory=dict)  # a job command's field names -> its options

    def client(self) -> vozo.Vozo:
        return vozo.Vozo(**self._options())

    def follow(self, task_id: str, resume: str, *, announce: bool = False) -> None:
        """Remember the job (for Ctrl-C and errors); ``announce`` a new one's id at once (with --json, a line of
        its own on stdout), so that nothing can lose the id of a paid job."""
        self.task_id, self.resume = task_id, resume
        if announce and self.as_json:
            json_line({"task_id": task_id})
        elif announce:
            say(f"task id: {shown(task_id)}")

    def async_client(self) -> vozo.AsyncVozo:
        return vozo.AsyncVozo(**self._options())

    def _options(self) -> dict[str, Any]:
        """What the options and environment set; the client supplies the defaults of everything else."""
        if not (self.api_key or "").strip():
            raise NoAPIKeyError
        given = {"max_retries": self.max_retries} if self.max_retries is not None else {}
        return {"api_key": self.api_key, "base_url": self.base_url, "timeout": self.timeout, **given}


# The exit code of an error: the first entry whose classes it is an instance of (else "error").
_EXIT_CODE_OF: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], str], ...] = (
    (vozo.InvalidInputError, "usage"),
    (vozo.JobFailedError, "job_failed"),
    (vozo.JobTimeoutError, "job_timeout"),
    (vozo.DownloadError, "download"),
    ((vozo.AuthenticationError, vozo.PermissionDeniedError, NoAPIKeyError), "auth"),
    (vozo.RateLimitError, "rate_limited"),
    ((vozo.APIConnectionError, vozo.InternalServerError), "unavailable"),
    (vozo.APIStatusError, "api"),
)


# The library's errors advise Python arguments (``timeout=``, ``which=``, ``api_key=``); on the command line each has
# an option, and advice a user cannot follow where they read it tells them nothing. (pattern, its words for the command)
_COMMAND_ADVICE: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    (re.compile(re.escape(f"pass {SKIP_FILE_TYPE_CHECK}")), "pass --no-check-file-types"),
    (re.compile(r"\(or a larger timeout=\)"), "(or a larger --timeout)"),
    (re.compile(r"pass a larger timeout= if"), "pass a larger --request-timeout if"),
    (re.compile(r"\(api_key= or VOZO_API_KEY\)"), "(--api-key or VOZO_API_KEY)"),
    (re.compile(r"pass which= one of: "), "pass --which, one of: "),
    (re.compile(r"\(client\.(\w+)\.wait\(task_id\)\)"), "(vozo wait TASK_ID)"),
    (re.compile(r"\(pass a larger deadline=, or try again later\)"), "(try again later)"),  # no option sets it
    (re.compile(r"can be sent with extra_body\)"), "needs a vozo release that knows it)"),  # no option sends it
    # a job command makes one job, and `vozo batch run` has --max-active: the library's governor is not theirs
    (re.compile(r" \(max_active_jobs= keeps a client under the key's cap\)"), ""),
    # a field inferred from a URL without an extension: "pass media_type='video' or 'audio'"
    (
        re.compile(r"(cannot be inferred from .*; pass )(\w+)=('[^']*'(?: or '[^']*')*)$"),
        lambda match: match[1] + "--" + match[2].rstrip("_").replace("_", "-") + " " + match[3].replace("'", ""),
    ),
    # settings refused before any request, named as the options that set them
    (re.compile(r"^timeout must be (.*), or an httpx\.Timeout;"), r"--request-timeout must be \1;"),
    (re.compile(r"^max_retries must be"), "--max-retries must be"),
    (re.compile(r"(?<![\w.])base_url(?![\w=(])"), "--base-url"),  # "Check base_url (or VOZO_BASE_URL)"
    # vozo.batch's arguments, as `vozo batch run` spells them
    (re.compile(r"\bout= folder"), "--out folder"),
    (re.compile(r"\brerun_changed=True"), "--rerun-changed"),
)


def in_command_terms(message: str, field_options: Mapping[str, str] | None = None) -> str:
    """``message`` with the advice it gives a Python caller given in the ``vozo`` command's options instead, and the
    request fields it names (``reference_file_url``) as the options that set them (``--reference-file-url``)."""
    for pattern, words in _COMMAND_ADVICE:
        message = pattern.sub(words, message)
    if field_options:  # a name standing as a word: not inside a quoted value (a URL's '/audio_url.mp3' stays)
        names = "|".join(re.escape(name) for name in sorted(field_options, key=len, reverse=True))
        standing = re.compile(rf"(?:(?<=\s)|^)({names})(?=[\s,;:.)]|$)")
        message = standing.sub(lambda match: field_options[match[1]], message)
    return message


def exit_code(error: BaseException) -> int:
    return EXIT_CODES[next((name for classes, name in _EXIT_CODE_OF if isinstance(error, classes)), "error")]


def resume_hint(settings: Settings, error: vozo.VozoError | None) -> str | None:
    """How to pick the job up again, unless there is nothing left to resume (it failed, or has no such result)."""
    if isinstance(error, (vozo.JobFailedError, vozo.InvalidInputError)):
        return None
    task_id = getattr(error, "task_id", None) or settings.task_id
    if settings.resume and task_id == settings.task_id:
        return settings.resume
    return shell_command(["vozo", *settings.resume_options, "wait", task_id]) if task_id else None


def fail(settings: Settings, error: vozo.VozoError) -> NoReturn:
    task_id = getattr(error, "task_id", None) or settings.task_id
    resume = resume_hint(settings, error)
    lost = settings.lost_create and not task_id
    message = in_command_terms(str(error), settings.field_options)
    payload = {"error": type(error).__name__, "message": message, "task_id": task_id}
    payload["code"] = getattr(error, "code", None)
    if resume:
        payload["resume"] = resume
    if lost:
        payload["warning"] = MAY_EXIST
    if not (settings.as_json and delivered(payload)):  # with stdout gone, stderr still tells the error
        err.print(f"[bold red]error[/]: {escape(shown(message))}", highlight=False)  # patterns hold [a-z]: text
        if task_id:
            hint = f" (the job exists; resume with `{resume}`)" if resume else ""
            say(f"task id: {shown(task_id)}{hint}")
        if lost and JOB_MAY_EXIST not in str(error):  # the error says it already
            say(f"warning: {MAY_EXIST}")
    sys.exit(exit_code(error))


def interrupted(settings: Settings) -> NoReturn:
    """Ctrl-C: never click's bare "Aborted!" (exit 1): the task id of a paid job and how to resume, exit 130."""
    resume = resume_hint(settings, None)
    said = "\ninterrupted"
    if settings.task_id:
        said += f"\ntask id: {shown(settings.task_id)} (the job exists; resume with `{resume}`)"
    exit_interrupted(settings, "interrupted", said, task_id=settings.task_id, resume=resume)


def exit_interrupted(settings: Settings, message: str, said: str, **payload: object) -> NoReturn:
    """Exit 130 after a Ctrl-C, saying ``said`` on stderr; with --json, ``message`` in a JSON line on stdout too."""
    if settings.as_json:
        delivered({"error": "Interrupted", "message": message, "task_id": None, **payload})
    say(said)
    sys.exit(EXIT_CODES["interrupted"])


def create_keeping_its_id(
    settings: Settings, create: Callable[[], Job], resume: Callable[[str], str], *, patience: float = CREATE_ANSWER_WAIT
) -> Job:
    """Run a create that a first Ctrl-C cannot cut off from its answer: Vozo may have created (and billed) the job.

    The request runs in a worker thread and Ctrl-C lands in the main thread, which then waits up to ``patience``
    seconds more for the task id, prints it with how to ``resume`` and exits 130; a second Ctrl-C abandons it.
    """
    landing: Future[Job] = Future()

    def run() -> None:
        try:
            landing.set_result(create())
        except Exception as error:  # raised again in the main thread, which reports it
            landing.set_exception(error)

    def answer(timeout: float | None = None) -> Job:
        try:
            return landing.result(timeout=timeout)
        except vozo.VozoError as error:
            settings.lost_create = job_may_exist(error)  # told with the error: see fail()
            raise

    try:  # a Ctrl-C while the thread starts, too, may come after the request left: wait for the answer as well
        # A daemon: an abandoned request must not keep the process from exiting.
        threading.Thread(target=run, name="vozo-create", daemon=True).start()
        return answer()
    except KeyboardInterrupt:
        # Nested, and the notice inside: a second Ctrl-C that comes while it is printed still abandons with the warning.
        try:
            err.print(
                f"\nCtrl-C: the request creating the job may have left already; waiting up to {patience:g}s for Vozo's "
                "answer so that its task id is not lost (Ctrl-C again to abandon it)",
                markup=False,
                highlight=False,
            )
            job = answer(timeout=patience)
        except KeyboardInterrupt:
            abandoned(settings, "abandoned")
        except TimeoutError:
            abandoned(settings, f"no answer from Vozo within {patience:g}s")
    settings.follow(job.task_id, resume(job.task_id))
    interrupted(settings)


def abandoned(settings: Settings, why: str) -> NoReturn:
    """A create left without its answer: the job may exist and be billed, and only the user can find it now."""
    message = f"{why}: {MAY_EXIST}"
    exit_interrupted(settings, message, f"\nwarning: {message}")


@contextmanager
def handled(settings: Settings) -> Iterator[None]:
    try:
        yield
    except vozo.VozoError as error:
        fail(settings, error)
    except KeyboardInterrupt:
        interrupted(settings)
    except BrokenPipeError:
        stdout_closed(settings)
    except Exception as error:  # a bug: still one line, with the id of the job and how to resume
        unexpected(settings, error)


def unexpected(settings: Settings, error: Exception) -> NoReturn:
    """Report an exception no part of the command expected as one line (``VOZO_LOG=debug`` logs the traceback)."""
    while isinstance(error, ExceptionGroup) and len(error.exceptions) == 1:  # from a task group (`vozo batch run`)
        error = error.exceptions[0]
    logger.debug("unexpected error in the vozo command", exc_info=error)
    fail(settings, error if isinstance(error, vozo.VozoError) else UnexpectedError(error))


def stdout_closed(settings: Settings) -> NoReturn:
    """The reader of stdout left (``vozo ... | head -c1``): the id of the job must not leave with it."""
    silence_stdout()
    if settings.task_id:
        say(f"task id: {shown(settings.task_id)} (stdout was closed; the job exists: resume with `{settings.resume}`)")
    sys.exit(EXIT_CODES["error"])


def silence_stdout() -> None:
    """Point stdout at the null device: the flush at exit would otherwise fail on the closed pipe again."""
    if sys.stdout is None:  # started without one: nothing to flush
        return
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, sys.stdout.fileno())
    os.close(null)


def clock(seconds: float) -> str:
    """``42s``, ``3m 07s``, ``2h 00m 05s``."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def json_line(data: Mapping[str, object]) -> None:
    """One JSON object per line on stdout, flushed: a script reads each as soon as it is written."""
    check_stdout()
    try:
        line = json.dumps(data, default=str, allow_nan=False)
    except ValueError:  # NaN or Infinity from a server (Python's parser reads them): no JSON holds them
        line = json.dumps(_finite(data), default=str, allow_nan=False)
    print(line, flush=True)


def _finite(value: object) -> object:
    """``value`` with each NaN or infinity as None (null), as JavaScript's JSON.stringify writes them."""
    return map_json(value, lambda item: None if isinstance(item, float) and not math.isfinite(item) else item)


def check_stdout() -> None:
    """Started with stdout closed (``vozo ... >&-``), Python has none and would drop every line in silence: that is
    a reader gone, as for a closed pipe (see ``stdout_closed``)."""
    if sys.stdout is None:
        raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))


def delivered(data: dict[str, Any]) -> bool:
    """``json_line``, or False when stdout's reader is gone (stdout is then silenced)."""
    try:
        json_line(data)
    except BrokenPipeError:
        silence_stdout()
        return False
    return True


def emit(settings: Settings, data: dict[str, Any], *lines: str) -> None:
    """``data`` as a JSON line with --json, else ``lines`` as text (each ``shown``: one line each)."""
    if settings.as_json:
        json_line(data)
    else:
        check_stdout()
        out.print("\n".join(shown(line) for line in lines), markup=False)


def say(line: str) -> None:
    """A line on stderr, printed as it is (no markup, no highlighting): what others wrote goes through ``shown``."""
    err.print(line, markup=False, highlight=False)


def shown(text: str) -> str:
    """``text`` made of printable characters only: a control character (an escape sequence a server sent, a newline
    in a file name) is written as its Python escape, so no text can redraw the terminal or forge a line of output."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else char.encode("unicode_escape").decode() for char in text)


def shell_command(words: list[str]) -> str:
    """``shlex.join`` on one printable line: a word holding a newline or another control character is written in
    the $'...' form of bash and zsh, which copies and pastes whole."""
    return " ".join(shlex.quote(word) if word.isprintable() else _c_quoted(word) for word in words)


def _c_quoted(word: str) -> str:
    def escaped(char: str) -> str:
        if char in "\\'":
            return "\\" + char
        if char.isprintable():
            return char
        code = ord(char)
        if code < 0x80 or 0xDC80 <= code <= 0xDCFF:  # the second: a byte of a file name that is not UTF-8
            return f"\\x{code & 0xFF:02x}"
        return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"

    return "$'" + "".join(escaped(char) for char in word) + "'"
