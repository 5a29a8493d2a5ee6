"""The ``vozo`` command (and ``python -m vozo``): runs the command line, or names the extra it needs."""

from __future__ import annotations

import io
import os
import signal
import sys

from vozo._errors import MissingExtraError
from vozo._extras import requires_extra

USAGE_ERROR = 2  # the CLI's exit code for "fix how you called it" (README: exit codes)


def main() -> None:
    try:
        with requires_extra("cli", "the vozo command"):
            from vozo._cli import main as cli
    except MissingExtraError as exc:
        print(f"vozo: {exc}", file=sys.stderr)
        sys.exit(USAGE_ERROR)
    # A SIGTERM (kill, a supervisor, a CI timeout) is a Ctrl-C: the task id and how to resume are printed, a create in
    # flight waits for its answer, a partial download is removed, exit 130. Raised as SIGINT so that whoever handles
    # Ctrl-C at that moment (Python, or asyncio in `vozo batch run`) handles it.
    signal.signal(signal.SIGTERM, lambda *_: signal.raise_signal(signal.SIGINT))
    if sys.stderr is None:  # started with stderr closed (`2>&-`): click would print its usage errors on stdout instead
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - the process's stderr, open until it exits
    for stream in (sys.stdout, sys.stderr):  # a non-UTF-8 locale: a name it cannot encode is escaped, not a crash
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    cli()


if __name__ == "__main__":
    main()
