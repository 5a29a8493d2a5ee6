"""`make update-spec` against a local HTTP server serving a mirror of Vozo's docs site."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from spectools import build
from spectools.__main__ import main

from .conftest import OPENAPI

# Our upstream pages, published at the English URLs the real docs site uses.
PAGES = {
    "api_reference/endpoints/lipsync/create": "fr__api_reference__endpoints__lipsync__create.md",
    "api_reference/endpoints/lipsync/get": "fr__api_reference__endpoints__lipsync__get.md",
    "api_reference/endpoints/reusable_lipsync/create": "fr__api_reference__endpoints__reusable_lipsync__create.md",
    "api_reference/endpoints/translate_dub/create": "api_reference__endpoints__translate_dub__create.md",
    "api_reference/endpoints/translate_dub/get": "api_reference__endpoints__translate_dub__get.md",
}


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A docs site on 127.0.0.1: llms.txt plus the .md of each page, an overview and a translated copy."""
    root = tmp_path / "site"
    docs = root / "docs"
    for relative, name in PAGES.items():
        target = docs / f"{relative}.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(OPENAPI / "upstream" / name, target)
    (docs / "api_reference/endpoints/lipsync/overview.md").write_text("# LipSync API\nNo OpenAPI here.\n")
    (docs / "fr/api_reference/endpoints/lipsync").mkdir(parents=True)
    shutil.copy(
        OPENAPI / "upstream" / PAGES["api_reference/endpoints/lipsync/create"],
        docs / "fr/api_reference/endpoints/lipsync/create.md",
    )
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}/docs"
    links = [f"- [{rel}]({base}/{rel}.md): endpoint" for rel in PAGES]
    links += [
        f"- [Overview]({base}/api_reference/endpoints/lipsync/overview.md)",
        f"- [Créer]({base}/fr/api_reference/endpoints/lipsync/create.md)",
        "- [Blog](https://example.com/blog)",
        "- [Guide](translate_dub/use_existing_subtitles.md)",
    ]
    (docs / "llms.txt").write_text("# Vozo\n\n## Docs\n\n" + "\n".join(links) + "\n")
    try:
        yield base, docs
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # keep test output readable
        pass


@pytest.fixture
def workspace(tmp_path: Path) -> dict[str, Path]:
    """A copy of openapi/ to update, so the test never touches the checkout."""
    work = tmp_path / "openapi"
    shutil.copytree(OPENAPI, work)
    return {"upstream": work / "upstream", "spec": work / "vozo.yaml", "overlay": work / "overlay.yaml"}


def run_update(source: str, ws: dict[str, Path]) -> int:
    return main(
        [
            "update",
            "--source",
            source,
            "--upstream",
            str(ws["upstream"]),
            "--spec",
            str(ws["spec"]),
            "--overlay",
            str(ws["overlay"]),
        ]
    )


def test_update_fetches_the_reference_pages_and_reports_no_change(site, workspace, capsys) -> None:
    base, _ = site
    before = workspace["spec"].read_text()
    assert run_update(base, workspace) == 0
    out = capsys.readouterr().out
    assert "fetched 5 API reference pages" in out
    assert "no changes to operations or fields" in out
    assert sorted(p.name for p in workspace["upstream"].iterdir()) == sorted(
        rel.replace("/", "__") + ".md" for rel in PAGES
    )  # the overview (no OpenAPI), the French copy and links off the site are skipped; old fr__ files are gone
    assert workspace["spec"].read_text() == before  # same documents, same bytes


def test_update_reports_a_changed_page(site, workspace, capsys) -> None:
    base, docs = site
    page = docs / "api_reference/endpoints/lipsync/get.md"
    page.write_text(
        page.read_text()
        .replace("            - pending\n", "            - queued\n            - pending\n")
        .replace("        video_url:\n", "        progress:\n          type: integer\n        video_url:\n")
    )
    create = docs / "api_reference/endpoints/translate_dub/create.md"
    create.write_text(create.read_text().replace("        - export_type\n", ""))
    assert run_update(base, workspace) == 0
    out = capsys.readouterr().out
    assert "~ GET /v1/video_generation/{task_id}" in out
    assert "response 200: + field `progress` (integer, optional)" in out
    assert "response 200: `status` enum + queued" in out
    assert "request: `export_type` no longer required" in out
    assert (
        "queued"
        in build.yamlio.load(workspace["spec"])["components"]["schemas"]["JobStatus"]["properties"]["status"]["enum"]
    )


def test_update_from_a_local_folder(site, workspace, capsys) -> None:
    _, docs = site
    assert run_update(str(docs), workspace) == 0
    assert "fetched 5 API reference pages" in capsys.readouterr().out


def test_a_failed_update_changes_nothing(site, workspace, capsys) -> None:
    base, docs = site
    (docs / "api_reference/endpoints/translate_dub/get.md").unlink()  # our overlay still targets it
    before = {p.name: p.read_bytes() for p in workspace["upstream"].iterdir()}
    spec_before = workspace["spec"].read_bytes()
    assert run_update(base, workspace) == 1
    assert "could not fetch" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in workspace["upstream"].iterdir()} == before
    assert workspace["spec"].read_bytes() == spec_before


def test_a_removed_page_that_the_overlay_targets_is_an_error(site, workspace, capsys) -> None:
    base, docs = site
    llms = docs / "llms.txt"
    llms.write_text("\n".join(line for line in llms.read_text().splitlines() if "translate_dub/get" not in line))
    assert run_update(base, workspace) == 1
    assert "selects nothing" in capsys.readouterr().err
    assert (workspace["upstream"] / "fr__api_reference__endpoints__lipsync__create.md").exists()


def test_an_unreachable_source_is_a_clear_error(workspace, capsys) -> None:
    assert run_update("http://127.0.0.1:9/docs", workspace) == 1
    assert "could not fetch http://127.0.0.1:9/docs/llms.txt" in capsys.readouterr().err
