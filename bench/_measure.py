"""Running a child process and reading its wall time, CPU time and peak RSS from the kernel (wait4): nothing inside
the child is instrumented, so the measurement adds nothing to what is measured.

Linux carries a process's peak RSS across fork and exec: a child forked from this (large) bench process reports
at least the bench's own size. So each child is started by a small launcher (``python -S``, ~10 MB, smaller than
anything measured here) that forks it, waits for it with wait4 and hands back its figures.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass

PYTHON = sys.executable

_LAUNCHER = """
import json, os, subprocess, sys, time
started = time.perf_counter()
process = subprocess.Popen(sys.argv[2:], stdout=sys.stdout, stderr=sys.stderr)
_, status, usage = os.wait4(process.pid, 0)
wall = time.perf_counter() - started
with open(sys.argv[1], "w") as report:
    json.dump([wall, usage.ru_maxrss, usage.ru_utime + usage.ru_stime, os.waitstatus_to_exitcode(status)], report)
"""


@dataclass(frozen=True)
class Run:
    wall: float  # seconds, start to exit
    rss_mb: float  # the child's peak resident set size
    stdout: str
    cpu: float = 0.0  # user + system seconds of the child


def child(*args: str, env: dict[str, str] | None = None) -> Run:
    with (
        tempfile.TemporaryFile("w+") as out,
        tempfile.TemporaryFile("w+") as err,
        tempfile.NamedTemporaryFile("r") as report,
    ):
        subprocess.run(
            [sys.executable, "-S", "-c", _LAUNCHER, report.name, *args],
            stdout=out,
            stderr=err,
            env={**os.environ, **(env or {})},
            check=True,
        )
        wall, maxrss_kib, cpu, returncode = json.load(report)
        out.seek(0)
        err.seek(0)
        if returncode != 0:
            raise RuntimeError(f"{' '.join(args)} exited {returncode}:\n{err.read()[-3000:]}")
        return Run(wall, maxrss_kib / 1024, out.read(), cpu)  # ru_maxrss is in KiB on Linux


def median(values: list[float]) -> float:
    return statistics.median(values)
