"""`import vozo` stays light: the CLI, batch runs, the fake server and their libraries load only when used."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = [
    "vozo._cli",
    "vozo._cli_batch",
    "vozo._cli_common",
    "vozo.batch",
    "vozo.testing",
    "filelock",
    "sqlite3",
    "starlette",
    "uvicorn",
    "jsonschema",
    "yaml",
]


def loaded_after(statement: str) -> set[str]:
    script = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    return set(json.loads(out))


def test_import_vozo_loads_none_of_the_heavy_modules() -> None:
    assert loaded_after("import vozo") & set(HEAVY) == set()


def test_the_heavy_modules_load_when_asked_for() -> None:
    # the same probe sees them, so the test above can fail
    loaded = loaded_after("import vozo.batch, vozo.testing, vozo._cli")
    assert {"vozo.batch", "vozo.testing", "vozo._cli", "sqlite3", "starlette", "filelock"} <= loaded


def test_import_vozo_leaves_the_sync_request_slots_queue_for_the_first_client() -> None:
    # queue (with heapq and _queue) is ~1 ms, a twentieth of what `import vozo` adds to httpx's own import
    assert "queue" not in loaded_after("import vozo; vozo.Vozo")
    assert "queue" in loaded_after("import vozo; vozo.Vozo(api_key='k')")


# What a sync program that never creates a translation does not need: the async client with anyio, and the
# endpoints and request models of each kind (loaded when a kind is first used).
ON_DEMAND = [
    "anyio",
    "vozo._async._client",
    "vozo.callbacks",
    "vozo.types",
    "vozo_api_client.api.translations.create_translation_job",
    "vozo_api_client.models.media_translate_request",
    "vozo_api_client.models.video_generation_request",
]


def test_import_vozo_leaves_the_async_client_and_each_kinds_operations_for_later() -> None:
    assert loaded_after("import vozo; vozo.Vozo") & set(ON_DEMAND) == set()


def test_they_load_on_first_use_and_are_the_same_objects() -> None:
    script = """
import vozo
from vozo._async._client import AsyncVozo
from vozo_jobs.kinds import LIPSYNC
from vozo_api_client.models import VideoGenerationRequest
assert vozo.AsyncVozo is AsyncVozo and vozo.AsyncVozo.__module__ == "vozo"
assert LIPSYNC.request_model is VideoGenerationRequest and LIPSYNC.create.__name__.endswith("create_lipsync_job")
assert vozo.callbacks.parse and vozo.types.Unset
"""
    loaded = loaded_after(script)
    assert (
        set(ON_DEMAND)
        - {"vozo_api_client.api.translations.create_translation_job", "vozo_api_client.models.media_translate_request"}
        <= loaded
    )
