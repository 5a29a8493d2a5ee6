"""A create answered with a task id another row already holds: the row is uncertain, never a copy of the other's job."""

from __future__ import annotations

import asyncio
import json

import httpx

import vozo
import vozo.batch

from .conftest import API_KEY, BASE_URL

MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64


def test_two_rows_answered_with_one_task_id_do_not_share_its_files(tmp_path) -> None:
    """Two rows polling one job would each 'complete' with its video: the second one's result would be forged."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, json={"task_id": "same-id"})
        if request.url.path.endswith("/file.mp4"):
            return httpx.Response(200, content=MP4, headers={"content-type": "video/mp4"})
        return httpx.Response(200, json={"status": "done", "video_url": f"{BASE_URL}/file.mp4"})

    manifest = tmp_path / "m.jsonl"
    rows = [
        {"id": name, "reference_file_url": f"https://e.com/{name}.mp4", "audio_url": f"https://e.com/{name}.mp3"}
        for name in ("a", "b")
    ]
    manifest.write_text("".join(json.dumps(row) + "\n" for row in rows))

    async def main() -> object:
        http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
        async with vozo.AsyncVozo(api_key=API_KEY, base_url=BASE_URL, http_client=http, max_retries=0) as client:
            return await vozo.batch.run(client, manifest, out=tmp_path / "out", poll_interval=0.01, concurrency=1)

    asyncio.run(main())
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    states = {row["id"]: (row["state"], row["task_id"]) for row in report["rows"]}
    assert states == {"a": ("completed", "same-id"), "b": ("uncertain", None)}
    assert "same-id" in report["rows"][1]["error"]
    assert "'a'" in report["rows"][1]["error"]
    assert not (tmp_path / "out" / "b.mp4").exists()
