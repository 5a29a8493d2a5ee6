"""The ``vozo`` command (and ``python -m vozo``): runs the command line, or names the extra it needs."""

from __future__ import annotations

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
    cli()


if __name__ == "__main__":
    main()
