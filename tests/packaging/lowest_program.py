"""Run by tests/packaging/test_lowest_dependencies.py in a venv holding each dependency at its floor: the whole job
lifecycle, sync and async, and the command line, against FakeVozo (whose clock only the program moves)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import vozo
from vozo.testing import FakeVozo, ManualClock

KEY = "test-key"
fake = FakeVozo(api_keys=[KEY], step_seconds=1.0, clock=ManualClock())
out = Path(sys.argv[1])


def moved(_: object) -> None:
    fake.advance(1.0)


async def translated(url: str) -> Path:
    async with vozo.AsyncVozo(api_key=KEY, base_url=url) as client:
        status = await client.translations.create_and_wait(
            media_url="https://media.test/talk.mp4", target_language="fr", on_update=moved, poll_interval=0.01
        )
        return await client.download(status, out, which="subtitle")


with fake.serve() as url:
    with vozo.Vozo(api_key=KEY, base_url=url) as client:
        status = client.lipsync.create_and_wait(
            reference_file_url="https://media.test/a.mp4",
            audio_url="https://media.test/a.mp3",
            on_update=moved,
            poll_interval=0.01,
        )
        video = client.download(status, out / "talking.mp4")
    subtitle = asyncio.run(translated(url))
    task_id = next(iter(fake.jobs))  # the lipsync job's
    command = [str(Path(sys.executable).with_name("vozo")), "--json", "--base-url", url, "status", task_id]
    shown = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "VOZO_API_KEY": KEY})
print(json.dumps({"video": video.stat().st_size, "subtitle": subtitle.name, "cli": shown.stdout, "err": shown.stderr}))
