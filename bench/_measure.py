"""Running a child process and reading its wall time and peak RSS from the kernel (wait4): nothing inside the
child is instrumented, so the measurement adds nothing to what is measured."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

PYTHON = sys.executable


@dataclass(frozen=True)
class Run:
    wall: float  # seconds, start to exit
    rss_mb: float  # the child's peak resident set size
    stdout: str
    cpu: float = 0.0  # user + system seconds of the child


def child(*args: str, env: dict[str, str] | None = None) -> Run:
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(args, stdout=out, stderr=err, env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} exited {process.returncode}:\n{err.read()[-3000:]}")
        # ru_maxrss is in KiB on Linux
        return Run(wall, usage.ru_maxrss / 1024, out.read(), usage.ru_utime + usage.ru_stime)


def median(values: list[float]) -> float:
    return statistics.median(values)
