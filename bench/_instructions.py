"""Per-call overhead counted in CPU instructions (valgrind's cachegrind), which no other process on the machine moves.

Wall time per call moves by 10-20% within minutes here, more than the overhead being measured. The instructions a
client executes for a call do not: each side runs once with a few warm-up calls and once with ``CALLS`` more, under
cachegrind, and the difference divided by ``CALLS`` is its cost per call (start-up, imports and the client's
construction cancel out). The server runs outside valgrind.

python -m bench._instructions URL SIDE N   (one side's calls: the child that cachegrind runs)
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys

import httpx

import vozo

SIDES = ("bare_sync", "ours_sync", "bare_async", "ours_async")
CALLS = 200
WARM_UP = 20
_PATH = "/v1/video_generation/li-000001"


def available() -> bool:
    return shutil.which("valgrind") is not None


def per_call(url: str) -> dict[str, float]:
    """Instructions per call of each side."""
    counts = {(side, n): _instructions(url, side, n) for side in SIDES for n in (0, CALLS)}
    return {side: (counts[side, CALLS] - counts[side, 0]) / CALLS for side in SIDES}


def _instructions(url: str, side: str, calls: int) -> int:
    command = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]
    command += [sys.executable, "-m", "bench._instructions", url, side, str(calls)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"cachegrind of {side} failed ({done.returncode}): {done.stderr[-500:]}")
    return int(found.group(1).replace(",", ""))


def _run(url: str, side: str, calls: int) -> None:
    headers = {"Authorization": "Bearer bench-key"}
    total = WARM_UP + calls
    if side == "bare_sync":
        with httpx.Client(base_url=url, headers=headers) as bare:
            for _ in range(total):
                response = bare.get(_PATH)
                response.raise_for_status()
                response.json()
    elif side == "ours_sync":
        with vozo.Vozo(api_key="bench-key", base_url=url) as ours:
            for _ in range(total):
                ours.lipsync.get("li-000001")
    else:
        asyncio.run(_run_async(url, side, total, headers))


async def _run_async(url: str, side: str, total: int, headers: dict[str, str]) -> None:
    if side == "bare_async":
        async with httpx.AsyncClient(base_url=url, headers=headers) as bare:
            for _ in range(total):
                response = await bare.get(_PATH)
                response.raise_for_status()
                response.json()
    else:
        async with vozo.AsyncVozo(api_key="bench-key", base_url=url) as ours:
            for _ in range(total):
                await ours.lipsync.get("li-000001")


if __name__ == "__main__":
    _run(sys.argv[1], sys.argv[2], int(sys.argv[3]))
