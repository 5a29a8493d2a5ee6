"""A docs update end to end: Vozo's pages add a job kind, add and remove optional fields and add a status value;
`make update-spec` brings a copy of this checkout along, and then, with no Python file edited, the copy lints and
the new kind works through Vozo, AsyncVozo, `vozo batch run` and the `vozo` command against FakeVozo.

Everything after the update runs in subprocesses that import the copy (PYTHONPATH), never this checkout: the Python
ones say where they imported `vozo` from, the commands show it by knowing the new kind at all. The docs site is this
checkout's own pages (openapi/upstream) served on 127.0.0.1 with the changes applied, plus the two pages of
fixtures/docs_update (a new job operation pair).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from spectools.pages import fence_body, parse_page

pytestmark = pytest.mark.docs_update

ROOT = Path(__file__).resolve().parents[2]
NEW_PAGES = Path(__file__).resolve().parent / "fixtures" / "docs_update"
KEY = "docs-update-key"
# Safety nets only: every verdict below waits for an outcome, never for a moment.
SLOW = 600
# What the checkout copy leaves out: the environment (shared by symlink) and caches.
_NOT_COPIED = shutil.ignore_patterns(
    ".git", ".venv", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis",
    ".schemathesis", "*.pyc",
)  # fmt: skip

# The changes the docs make to today's translate pages.
ADDED_FIELDS = {
    "voice_style": {"description": "Voice style of the dubbing", "type": "string", "enum": ["calm", "lively"]},
    "glossary_ids": {"description": "Glossaries to apply", "type": "array", "items": {"type": "string"}},
}
REMOVED_FIELD = "user_prompt"
ADDED_STATUS = "proofreading"  # inserted before done


# --- the docs site ----------------------------------------------------------------------------------------------


def _edit_fence(text: str, change: Callable[[dict[str, Any]], None]) -> str:
    """The page with its fenced OpenAPI document changed by ``change`` (the rest of the page as it was)."""
    found = fence_body(text)
    assert found is not None
    body = found[0]
    document = yaml.safe_load(body)
    change(document)
    return text.replace(body, yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100), 1)


def _schema(document: dict[str, Any], reference: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = document["components"]["schemas"][reference["$ref"].rsplit("/", 1)[-1]]
    return schema


def _change_translate_create(document: dict[str, Any]) -> None:
    post = document["paths"]["/v1/media/translate"]["post"]
    request = _schema(document, post["requestBody"]["content"]["application/json"]["schema"])
    assert REMOVED_FIELD in request["properties"]
    assert REMOVED_FIELD not in request.get("required", ())  # the test removes an optional field
    del request["properties"][REMOVED_FIELD]
    request["properties"].update(ADDED_FIELDS)


def _change_translate_status(document: dict[str, Any]) -> None:
    get = document["paths"]["/v1/media/translate/{task_id}"]["get"]
    status = _schema(document, get["responses"]["200"]["content"]["application/json"]["schema"])
    values = status["properties"]["status"]["enum"]
    assert ADDED_STATUS not in values
    values.insert(values.index("done"), ADDED_STATUS)


_CHANGES = {
    "POST /v1/media/translate": _change_translate_create,
    "GET /v1/media/translate/{task_id}": _change_translate_status,
}


def _published_name(file_name: str) -> str:
    """Where a vendored page is published: fr__api_reference__x.md is the English api_reference/x.md."""
    parts = file_name.removesuffix(".md").split("__")
    if len(parts[0]) == 2:
        parts = parts[1:]
    return "/".join(parts) + ".md"


@pytest.fixture(scope="module")
def docs_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """This checkout's pages with the changes, plus the new operation pair, as a docs site (llms.txt + .md pages)."""
    root = tmp_path_factory.mktemp("docs-site")
    docs = root / "docs"
    pages = sorted((ROOT / "openapi" / "upstream").glob("*.md")) + sorted(NEW_PAGES.glob("api_reference__*.md"))
    changed = set()
    for page in pages:
        text = page.read_text(encoding="utf-8")
        parsed = parse_page(page.name, text)
        operation = f"{parsed.method.upper()} {parsed.path}"
        if operation in _CHANGES:
            text = _edit_fence(text, _CHANGES[operation])
            changed.add(operation)
        target = docs / _published_name(page.name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    assert changed == set(_CHANGES)
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}/docs"
    links = [f"- [{p.stem}]({base}/{p.relative_to(docs).as_posix()})" for p in sorted(docs.rglob("*.md"))]
    (docs / "llms.txt").write_text("# Vozo\n\n## Docs\n\n" + "\n".join(links) + "\n", encoding="utf-8")
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # keep test output readable
        pass


# --- the checkout copy, updated -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Copy:
    root: Path
    env: dict[str, str]  # imports the copy's wrapper and generated code, never this checkout's
    changed: frozenset[str]  # files the update wrote, relative to the root
    report: str  # what `make update-spec` printed

    def run(self, *command: str, **env: str) -> subprocess.CompletedProcess[str]:
        return _run(command, self.root, {**self.env, **env})

    def python(self, script: str, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``script`` with the copy's code; it must print where ``vozo`` came from (``imported_from``)."""
        return self.run(str(self.root / ".venv" / "bin" / "python"), "-c", textwrap.dedent(script), *args)


def _run(command: tuple[str, ...] | list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=SLOW, check=False)


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".venv" not in path.relative_to(root).parts
    }


@pytest.fixture(scope="module")
def updated(tmp_path_factory: pytest.TempPathFactory, docs_site: str, mypy_cache: Path) -> Copy:
    """A copy of this checkout (the environment shared through a .venv symlink, mypy's cache with the session's
    other mypy runs), after `make update-spec`."""
    root = tmp_path_factory.mktemp("checkout") / "vozo"
    shutil.copytree(ROOT, root, ignore=_NOT_COPIED, symlinks=True)
    (root / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    before = _snapshot(root)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root / "wrapper"), str(root / "generated")]),
        "PATH": os.pathsep.join([str(root / ".venv" / "bin"), os.environ.get("PATH", "")]),
        "MYPY_CACHE_DIR": str(mypy_cache),
    }
    env.pop("VOZO_API_KEY", None)
    env.pop("VOZO_BASE_URL", None)
    # -o: the shared environment counts as installed (make must not reinstall it from the copy).
    update = _run(["make", "-o", ".venv/.installed", "update-spec", f"SOURCE={docs_site}"], root, env)
    assert update.returncode == 0, update.stdout + update.stderr
    after = _snapshot(root)
    changed = frozenset(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
    return Copy(root, env, changed, update.stdout)


def test_the_update_reports_the_new_kind_and_writes_no_hand_written_file(updated: Copy) -> None:
    assert "+ job kind `dub_audio` (client.dub_audio): POST /v1/media/dub_audio" in updated.report
    assert "request: + field `voice_style` (string, optional, one of: calm, lively)" in updated.report
    assert f"request: - field `{REMOVED_FIELD}`" in updated.report
    assert f"response 200: `status` enum + {ADDED_STATUS}" in updated.report
    assert " is gone from the generated code" not in updated.report  # no hand-written code used the removed field
    written = ("openapi/upstream/", "openapi/vozo.yaml", "generated/")
    assert updated.changed
    assert sorted(name for name in updated.changed if not name.startswith(written)) == []


# A user's program, type-checked against the copy: the new kind's arguments and status are typed, the added fields
# are accepted, and an unneeded `type: ignore` is an error (strict), so each ignore below is an error mypy reports.
USER_PROGRAM = """
from pathlib import Path

import vozo
from vozo_api_client.models import DubAudioJobStatus, Job


def dub(client: vozo.Vozo) -> Path:
    status: DubAudioJobStatus = client.dub_audio.create_and_wait(
        audio_url="https://m.test/voice.mp3", target_language="es", voice="clone"
    )
    client.dub_audio.create(audio_url="https://m.test/v.mp3", target_language="es", voice="x")  # type: ignore[arg-type]
    return client.download(status, "dubbed.wav", which="audio")


async def translate(client: vozo.AsyncVozo) -> Job:
    await client.translations.create(media_url="https://m.test/t.mp4", user_prompt="formal")  # type: ignore[call-arg]
    return await client.translations.create(
        media_url="https://m.test/t.mp4", target_language="de", voice_style="calm", glossary_ids=["g-1"]
    )
"""


def test_the_updated_copy_passes_check_and_lint_and_types_the_new_surface(updated: Copy, tmp_path: Path) -> None:
    """`make check` (no drift) and `make lint` (ruff, mypy strict) in the copy, no Python edited."""
    for target in ("check", "lint"):
        made = updated.run("make", "-o", ".venv/.installed", target)
        assert made.returncode == 0, made.stdout + made.stderr
    program = tmp_path / "user_program.py"
    program.write_text(textwrap.dedent(USER_PROGRAM), encoding="utf-8")
    typed = updated.run(".venv/bin/mypy", "--strict", str(program), MYPYPATH=str(updated.root / "wrapper"))
    assert typed.returncode == 0, typed.stdout + typed.stderr


def _imported_from(result: subprocess.CompletedProcess[str], copy: Copy) -> dict[str, Any]:
    """The JSON a driver script printed last, after checking that it ran the copy's code."""
    assert result.returncode == 0, result.stdout + result.stderr
    found: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    for module in found.pop("imported_from"):
        assert Path(module).is_relative_to(copy.root), module
    return found


# Both clients against a FakeVozo of the copy, in one process: the fake's clock moves one step each time the client
# reports a new status (on_update), so every status value is seen once and in order, however loaded the machine is.
CLIENTS = """
import asyncio, json, sys, wave
from pathlib import Path

import vozo, vozo_api_client, vozo_jobs
from vozo.testing import FakeVozo

key, out = sys.argv[1], Path(sys.argv[2])
now = [0.0]
fake = FakeVozo(api_keys=[key], step_seconds=1.0, clock=lambda: now[0])
seen = {}

def walker(name):
    seen[name] = []
    def on_update(status):
        seen[name].append(str(getattr(status.status, "value", status.status)))
        now[0] += 1.0
    return on_update

def files(prefix):
    audio, subtitle = out / f"{prefix}.wav", out / f"{prefix}.srt"
    with wave.open(str(audio)) as track:
        frames = track.getnframes()
    return {"audio_frames": frames, "subtitle": subtitle.read_text()}

def sync_run(url):
    with vozo.Vozo(api_key=key, base_url=url) as client:
        status = client.dub_audio.create_and_wait(
            audio_url="https://m.test/voice.mp3", target_language="es", voice="clone",
            poll_interval=0.01, timeout=600, on_update=walker("sync dub_audio"),
        )
        client.download(status, out / "sync.wav")  # the kind's first result file (it has no video)
        client.download(status, out / "sync.srt", which="subtitle")
        plain = client.translations.create(media_url="https://m.test/talk.mp4", target_language="de")
        done = client.translations.wait(
            plain.task_id, poll_interval=0.01, timeout=600, on_update=walker("sync translations")
        )
        return {"sync": files("sync"), "sync translations": str(done.status)}

async def async_run(url):
    async with vozo.AsyncVozo(api_key=key, base_url=url) as client:
        status = await client.dub_audio.create_and_wait(
            audio_url="https://m.test/voice.wav", target_language="fr",
            poll_interval=0.01, timeout=600, on_update=walker("async dub_audio"),
        )
        await client.download(status, out / "async.wav")
        await client.download(status, out / "async.srt", which="subtitle")
        done = await client.translations.create_and_wait(
            media_url="https://m.test/talk.mp4", target_language="es", voice_style="calm", glossary_ids=["g-1"],
            poll_interval=0.01, timeout=600, on_update=walker("async translations"),
        )
        return {"async": files("async"), "async translations": str(done.status)}

with fake.serve() as url:
    found = {**sync_run(url), **asyncio.run(async_run(url))}
found["seen"] = seen
found["created"] = [(request["type"], request["body"]) for request in fake.create_requests]
found["imported_from"] = [vozo.__file__, vozo_api_client.__file__, vozo_jobs.__file__]
print(json.dumps(found))
"""


def _statuses(copy: Copy, schema: str) -> list[str]:
    """The status values the updated spec lists for ``schema``, in order."""
    spec = yaml.safe_load((copy.root / "openapi" / "vozo.yaml").read_text(encoding="utf-8"))
    values: list[str] = spec["components"]["schemas"][schema]["properties"]["status"]["enum"]
    return values


def test_the_new_kind_and_the_changed_one_work_through_vozo_and_async_vozo(updated: Copy, tmp_path: Path) -> None:
    found = _imported_from(updated.python(CLIENTS, KEY, str(tmp_path)), updated)
    dub_audio = [value for value in _statuses(updated, "DubAudioJobStatus") if value != "failed"]
    translations = [value for value in _statuses(updated, "MediaTranslateJobStatus") if value != "failed"]
    assert translations[-2:] == [ADDED_STATUS, "done"]
    # FakeVozo walks each kind's status enum, the added value included, and wait takes it in its stride.
    assert found["seen"] == {
        "sync dub_audio": dub_audio,
        "sync translations": translations,
        "async dub_audio": dub_audio,
        "async translations": translations,
    }
    assert found["sync translations"] == found["async translations"] == "done"
    for flavour in ("sync", "async"):  # client.download(status, path, which=...) for each result file of the kind
        assert found[flavour]["audio_frames"] > 0
        assert "Hello from the fake Vozo" in found[flavour]["subtitle"]
    created = found["created"]
    assert [kind for kind, _ in created] == ["dub_audio", "translations", "dub_audio", "translations"]
    # The removed field is not sent (the caller never used it); the added optional ones are, as given.
    assert all(REMOVED_FIELD not in body for _, body in created)
    assert created[1][1] == {
        "media_type": "video", "media_url": "https://m.test/talk.mp4", "source_language": "auto",
        "target_language": "de", "export_type": "auto",
    }  # fmt: skip
    assert created[3][1]["voice_style"] == "calm"
    assert created[3][1]["glossary_ids"] == ["g-1"]
    assert created[0][1] == {"audio_url": "https://m.test/voice.mp3", "target_language": "es", "voice": "clone"}


# --- the command line: `vozo dub-audio` and `vozo batch run`, against the copy's `vozo mock-server` -------------


@pytest.fixture(scope="module")
def fake_url(updated: Copy) -> Iterator[str]:
    """`vozo mock-server` of the copy (FakeVozo, reading the copy's openapi/vozo.yaml) on a free port."""
    command = [str(updated.root / ".venv" / "bin" / "vozo"), "mock-server", "--port", "0", "--step", "0.02"]
    server = subprocess.Popen(
        [*command, "--key", KEY], cwd=updated.root, env=updated.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        line = server.stdout.readline()  # the first line, or "" when it exited
        assert line.startswith("FakeVozo listening on "), line + server.communicate(timeout=SLOW)[1]
        yield line.split()[-1]
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=SLOW)


def _vozo(copy: Copy, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The copy's `vozo` command (that it has a dub-audio command at all shows it runs the copy's code)."""
    return copy.run(str(copy.root / ".venv" / "bin" / "vozo"), *args, VOZO_API_KEY=KEY, VOZO_BASE_URL=url)


def _is_wav(path: Path) -> bool:
    head = path.read_bytes()[:12]
    return head[:4] == b"RIFF" and head[8:12] == b"WAVE"


def test_the_new_kind_has_a_command_that_waits_and_downloads(updated: Copy, fake_url: str, tmp_path: Path) -> None:
    audio = ["--audio-url", "https://m.test/voice.mp3", "--target-language", "es"]
    waited = _vozo(updated, fake_url, "dub-audio", *audio, "--wait", "-o", str(tmp_path / "out.wav"))
    assert waited.returncode == 0, waited.stderr
    assert ": done -> " in waited.stdout
    assert _is_wav(tmp_path / "out.wav")  # the first result file of the kind, by default
    chosen = _vozo(
        updated, fake_url, "--json", "dub-audio", *audio, "--voice", "clone", "--which", "subtitle",
        "-o", str(tmp_path / "out.srt"),
    )  # fmt: skip
    assert chosen.returncode == 0, chosen.stderr
    report = json.loads(chosen.stdout.splitlines()[-1])  # after the task id line
    assert report["status"] == "done"
    assert report["output"] == str(tmp_path / "out.srt")
    assert "Hello from the fake Vozo" in (tmp_path / "out.srt").read_text()
    # `vozo download` and `vozo wait -o` of a task of the kind: its first result file, unless --which says otherwise
    downloaded = _vozo(updated, fake_url, "download", report["task_id"], str(tmp_path / "again.wav"))
    assert downloaded.returncode == 0, downloaded.stderr
    assert _is_wav(tmp_path / "again.wav")
    waited = _vozo(updated, fake_url, "wait", report["task_id"], "--kind", "dub-audio", "-o", str(tmp_path / "w.wav"))
    assert waited.returncode == 0, waited.stderr
    assert _is_wav(tmp_path / "w.wav")


def test_the_changed_kind_s_command_takes_the_added_fields_and_not_the_removed_one(
    updated: Copy, fake_url: str
) -> None:
    media = ["--media", "https://m.test/talk.mp4", "--target", "de"]
    created = _vozo(
        updated, fake_url, "--json", "translate", *media, "--voice-style", "calm", "--glossary-ids", '["g-1"]'
    )
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["task_id"]
    removed = _vozo(updated, fake_url, "translate", *media, "--prompt", "formal")
    assert removed.returncode == 2  # click's usage error: the option went with the field
    assert "No such option '--prompt'" in removed.stderr


def test_batch_runs_rows_of_the_new_kind(updated: Copy, fake_url: str, tmp_path: Path) -> None:
    manifest = tmp_path / "jobs.csv"
    manifest.write_text(
        "id,kind,audio_url,target_language,media_url,voice_style\n"
        "dub-1,dub_audio,https://m.test/one.mp3,es,,\n"
        "dub-2,dub_audio,https://m.test/two.wav,pt-BR,,\n"
        "talk,translations,,de,https://m.test/talk.mp4,lively\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    run = _vozo(
        updated, fake_url, "--json", "batch", "run", str(manifest), "--out", str(out), "--poll-interval", "0.01"
    )
    assert run.returncode == 0, run.stdout + run.stderr
    rows = {row["id"]: row for row in json.loads(run.stdout)["rows"]}
    assert {key: (row["kind"], row["state"]) for key, row in rows.items()} == {
        "dub-1": ("dub_audio", "completed"),
        "dub-2": ("dub_audio", "completed"),
        "talk": ("translations", "completed"),
    }
    for key in ("dub-1", "dub-2"):  # each result file of the kind, named after the row
        assert _is_wav(out / f"{key}.audio.wav")
        assert "Hello from the fake Vozo" in (out / f"{key}.subtitle.srt").read_text()
