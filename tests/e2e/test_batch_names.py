"""Nothing a server sends names a local file: a hostile status's result keys and links against vozo batch."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

import vozo
import vozo.batch
from vozo.batch import RowState

from .conftest import KEY
from .test_batch_faults import serve

CONTENT = b"result bytes"


class EvilVozo:
    """Creates succeed; every job is done at once, and its status offers links under names of the server's choice."""

    def __init__(self) -> None:
        self.base = ""
        self.hits: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # no lifespan events needed
        path = scope["path"]
        self.hits[path] += 1
        base = self.base
        if path in ("/v1/video_generation", "/v1/media/translate"):
            answer: Response = JSONResponse({"task_id": "tr-1" if "translate" in path else "ls-1"})
        elif path == "/v1/media/translate/tr-1":
            result = {
                "/../../escaped/pwned_url": f"{base}/payload.py",
                "../sneaky_url": f"{base}/payload.py",
                "video_url": f"{base}/files/video.py?name=x.mp4",  # not a media extension: the default is used
                "subtitle_url": f"{base}/files/track.VTT",  # a known one, kept (lower case)
            }
            answer = JSONResponse({"status": "done", "result": result})
        elif path == "/v1/video_generation/ls-1":
            answer = JSONResponse({"status": "done", "video_url": f"{base}/files/clip.mov", "x/../../y_url": base})
        elif path.startswith("/files/") or path == "/payload.py":
            answer = Response(CONTENT, media_type="application/octet-stream")
        else:
            answer = Response("not found", status_code=404)
        await answer(scope, receive, send)


def test_result_files_are_named_by_the_row_and_the_declared_result_kinds_only(tmp_path: Path) -> None:
    evil = EvilVozo()
    out = tmp_path / "work" / "out"
    manifest = tmp_path / "m.jsonl"
    rows: list[dict[str, Any]] = [
        {"id": "talk", "media_url": "https://m.test/talk.mp4", "target_language": "es"},
        {"id": "face", "reference_file_url": "https://m.test/p.mp4", "audio_url": "https://m.test/a.mp3"},
    ]
    manifest.write_text("".join(json.dumps(row) + "\n" for row in rows))

    async def go() -> vozo.batch.BatchSummary:
        async with vozo.AsyncVozo(api_key=KEY, base_url=evil.base) as client:
            return await vozo.batch.run(client, manifest, out, poll_interval=0.01)

    with serve(evil) as url:
        evil.base = url
        summary = asyncio.run(go())
    assert summary.counts == {RowState.COMPLETED: 2}
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file() and p.parent != out)
    assert written == ["m.jsonl"]  # nothing outside --out
    results = {p.name for p in out.iterdir()} - {"vozo-batch.sqlite", "vozo-batch.lock", "report.json", "report.csv"}
    assert {name for name in results if not name.startswith("vozo-batch.sqlite-")} == {
        "talk.video.mp4",
        "talk.subtitle.vtt",
        "face.mov",
    }
    assert evil.hits["/payload.py"] == 0  # an undeclared link is not even fetched
    by_key = {row.key: row.outputs for row in summary.rows}
    assert set(by_key["talk"]) == {"video", "subtitle"}
    assert all(Path(path).read_bytes() == CONTENT for outputs in by_key.values() for path in outputs.values())
