"""One side of the many-jobs benchmark, run as its own process: N lipsync jobs created and waited for.

    python -m bench._many naive|bounded|wrapper BASE_URL N INTERVAL

``naive`` is what one writes by hand with asyncio and httpx.AsyncClient: create all, then poll each job every
INTERVAL seconds. ``bounded`` is the same script with an asyncio.Semaphore keeping requests in flight under httpx's
connection limit, so it never queues in httpx's pool: fixed-interval polling at its best. ``wrapper`` is
AsyncVozo's create_and_wait starting at the same interval (it then grows).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from typing import Any

import httpx

KEY = "bench-key"
BODY = {
    "reference_file_url": "https://media.example.com/presenter.mp4",
    "audio_url": "https://media.example.com/voiceover.mp3",
    "model": "standard_v1",
    "reference_file_type": "video",
}


async def naive(base_url: str, jobs: int, interval: float, in_flight: asyncio.Semaphore | None = None) -> None:
    slot = in_flight or contextlib.nullcontext()

    async def one(client: httpx.AsyncClient) -> Any:
        async with slot:
            created = await client.post("/v1/video_generation", json=BODY)
        created.raise_for_status()
        task_id = created.json()["task_id"]
        while True:
            await asyncio.sleep(interval)
            async with slot:
                status = (await client.get(f"/v1/video_generation/{task_id}")).json()
            if status["status"] in ("done", "failed"):
                return status

    headers = {"Authorization": f"Bearer {KEY}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=120) as client:
        await asyncio.gather(*(one(client) for _ in range(jobs)))


async def bounded(base_url: str, jobs: int, interval: float) -> None:
    await naive(base_url, jobs, interval, asyncio.Semaphore(100))  # httpx's default max_connections


async def wrapper(base_url: str, jobs: int, interval: float) -> None:
    import vozo

    async with vozo.AsyncVozo(api_key=KEY, base_url=base_url, timeout=120) as client:
        await asyncio.gather(*(client.lipsync.create_and_wait(**BODY, poll_interval=interval) for _ in range(jobs)))


if __name__ == "__main__":
    mode, url, count, every = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    asyncio.run({"naive": naive, "bounded": bounded, "wrapper": wrapper}[mode](url, count, every))
