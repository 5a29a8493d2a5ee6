"""Stoplight Prism as a test server: own process group, real port read from its log, log kept for failures."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRISM = ROOT / "node_modules" / ".bin" / "prism"
SPEC = ROOT / "openapi" / "vozo.yaml"
_LISTENING = re.compile(r"Prism is listening on (http://\S+)")


class PrismError(RuntimeError):
    pass


class Prism:
    def __init__(self, spec: Path, log_file: Path, *, dynamic: bool = False) -> None:
        self.spec = spec
        self.log_file = log_file
        self.dynamic = dynamic
        self.url = ""
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> Prism:
        if not PRISM.exists():
            raise PrismError(f"{PRISM} is missing: run `make install` (npm ci installs Prism)")
        command = [str(PRISM), "mock", str(self.spec), "--port", "0", "--host", "127.0.0.1"]
        if self.dynamic:
            command.append("--dynamic")
        with self.log_file.open("wb") as log:
            # Its own process group, so stopping it stops every child node process too.
            self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = _LISTENING.search(self.log())
            if match:
                self.url = match.group(1).rstrip("/")
                return self
            if self._process.poll() is not None:
                raise PrismError(f"Prism exited with {self._process.returncode} before listening:\n{self.tail()}")
            time.sleep(0.1)
        self.stop()
        raise PrismError(f"Prism did not start within {timeout:g}s:\n{self.tail()}")

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        try:
            os.killpg(self._process.pid, signal.SIGTERM)
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait(timeout=10)
        except ProcessLookupError:
            pass

    def __enter__(self) -> Prism:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
