"""What every ``vozo`` subcommand shares: settings from options and the environment, output, exit codes."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NoReturn

from rich.console import Console
from rich.markup import escape

import vozo
from vozo.types import AnyStatus

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
}
EPILOG = "Exit codes: " + ", ".join(f"{code} {name}" for name, code in EXIT_CODES.items()) + "."

err = Console(stderr=True, soft_wrap=True)  # never hard-wrap: scripts and logs parse these lines
out = Console(highlight=False, soft_wrap=True)
Status = AnyStatus  # the status of any job kind of the spec


@dataclass
class Settings:
    api_key: str | None
    base_url: str | None
    timeout: float | None
    max_retries: int | None  # None: the client's own default, never a copy of it
    as_json: bool

    def client(self) -> vozo.Vozo:
        return vozo.Vozo(**self._options())

    def async_client(self) -> vozo.AsyncVozo:
        return vozo.AsyncVozo(**self._options())

    def _options(self) -> dict[str, Any]:
        """What the options and environment set; the client supplies the defaults of everything else."""
        given = {"max_retries": self.max_retries} if self.max_retries is not None else {}
        return {"api_key": self.api_key, "base_url": self.base_url, "timeout": self.timeout, **given}


def exit_code(error: BaseException) -> int:
    if isinstance(error, vozo.InvalidInputError):
        return EXIT_CODES["usage"]
    if isinstance(error, vozo.JobFailedError):
        return EXIT_CODES["job_failed"]
    if isinstance(error, vozo.JobTimeoutError):
        return EXIT_CODES["job_timeout"]
    if isinstance(error, vozo.DownloadError):
        return EXIT_CODES["download"]
    if isinstance(error, (vozo.AuthenticationError, vozo.PermissionDeniedError)):
        return EXIT_CODES["auth"]
    if isinstance(error, vozo.RateLimitError):
        return EXIT_CODES["rate_limited"]
    if isinstance(error, (vozo.APIConnectionError, vozo.InternalServerError)):
        return EXIT_CODES["unavailable"]
    if isinstance(error, vozo.APIStatusError):
        return EXIT_CODES["api"]
    return EXIT_CODES["error"]


def fail(settings: Settings, error: vozo.VozoError) -> NoReturn:
    task_id = getattr(error, "task_id", None)
    if settings.as_json:
        payload = {"error": type(error).__name__, "message": str(error), "task_id": task_id}
        payload["code"] = getattr(error, "code", None)
        out.print_json(data=payload)
    else:
        err.print(f"[bold red]error[/]: {escape(str(error))}", highlight=False)  # patterns hold [a-z]: text
        if task_id:
            err.print(f"task id: {task_id} (the job exists; resume with `vozo wait {task_id}`)", highlight=False)
    sys.exit(exit_code(error))


@contextmanager
def handled(settings: Settings) -> Iterator[None]:
    try:
        yield
    except vozo.VozoError as error:
        fail(settings, error)


def emit(settings: Settings, data: dict[str, Any], human: str) -> None:
    if settings.as_json:
        out.print_json(data=data)
    else:
        out.print(human, markup=False)
