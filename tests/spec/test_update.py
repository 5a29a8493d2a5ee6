"""`make update-spec` against a docs site on 127.0.0.1, in a checkout built from the fixtures: all or nothing."""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from spectools import generate, staging, yamlio
from spectools.__main__ import main
from spectools.pages import fence_body
from spectools.update import FetchedPage
from tests.sockets import closed_port

from .conftest import FIXTURES

# The fixture pages, published at the English URLs the real docs site uses.
PAGES = {
    "api_reference/endpoints/lipsync/create": "fr__api_reference__endpoints__lipsync__create.md",
    "api_reference/endpoints/lipsync/get": "fr__api_reference__endpoints__lipsync__get.md",
    "api_reference/endpoints/reusable_lipsync/create": "fr__api_reference__endpoints__reusable_lipsync__create.md",
    "api_reference/endpoints/translate_dub/create": "api_reference__endpoints__translate_dub__create.md",
    "api_reference/endpoints/translate_dub/get": "api_reference__endpoints__translate_dub__get.md",
}
TRANSLATE_CREATE = "api_reference/endpoints/translate_dub/create"


class Site:
    def __init__(self, base: str, docs: Path) -> None:
        self.base, self.docs = base, docs

    def page(self, relative: str) -> Path:
        return self.docs / f"{relative}.md"

    def edit(self, relative: str, old: str, new: str) -> None:
        page = self.page(relative)
        assert old in page.read_text(), old
        page.write_text(page.read_text().replace(old, new, 1))

    def link(self, relative: str, title: str) -> None:
        """List the page ``relative`` in the site's index (llms.txt), as a new page of the docs is."""
        index = self.docs / "llms.txt"
        index.write_text(index.read_text() + f"- [{title}]({self.base}/{relative}.md)\n")

    def line_of(self, relative: str, text: str) -> int:
        return self.page(relative).read_text().split(text)[0].count("\n") + 1


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """A docs site on 127.0.0.1: llms.txt plus the .md of each page, an overview and a translated copy."""
    root = tmp_path / "site"
    docs = root / "docs"
    for relative, name in PAGES.items():
        target = docs / f"{relative}.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(FIXTURES / "upstream" / name, target)
    (docs / "api_reference/endpoints/lipsync/overview.md").write_text("# LipSync API\nNo OpenAPI here.\n")
    (docs / "fr/api_reference/endpoints/lipsync").mkdir(parents=True)
    shutil.copy(
        docs / "api_reference/endpoints/lipsync/create.md", docs / "fr/api_reference/endpoints/lipsync/create.md"
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
        yield Site(base, docs)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # keep test output readable
        pass


def snapshot(checkout: Path) -> dict[str, bytes]:
    return {str(p.relative_to(checkout)): p.read_bytes() for p in sorted(checkout.rglob("*")) if p.is_file()}


def run_update(source: str, checkout: Path) -> int:
    return main(["update", "--source", source, "--root", str(checkout)])


def test_an_unchanged_site_reports_no_change_and_rewrites_the_same_bytes(site: Site, checkout: Path, capsys) -> None:
    before = snapshot(checkout)
    assert run_update(site.base, checkout) == 0
    out = capsys.readouterr().out
    assert "fetched 5 API reference pages" in out
    assert "no changes to operations or fields" in out
    assert sorted(p.name for p in (checkout / "openapi/upstream").iterdir()) == sorted(
        rel.replace("/", "__") + ".md" for rel in PAGES
    )  # the overview (no OpenAPI), the French copy and links off the site are skipped; old fr__ files are gone
    after = snapshot(checkout)
    changed = {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}
    assert {name for name in changed if not name.startswith("openapi/upstream/")} == set()
    assert not list(checkout.rglob(".*update-*"))  # no staging leftovers beside the replaced files


def test_a_changed_site_is_reported_and_the_spec_and_generated_code_follow(site: Site, checkout: Path, capsys) -> None:
    site.edit(
        "api_reference/endpoints/lipsync/get",
        "            - pending\n",
        "            - queued\n            - pending\n",
    )
    site.edit(TRANSLATE_CREATE, "        - export_type\n", "")
    site.edit(
        TRANSLATE_CREATE,
        "        user_prompt:\n",
        "        voice_style:\n          type: string\n          enum:\n            - calm\n            - lively\n"
        "        user_prompt:\n",
    )
    assert run_update(str(site.docs), checkout) == 0  # a local folder works as the source too
    out = capsys.readouterr().out
    assert "response 200: `status` enum + queued" in out
    assert "request: `export_type` no longer required" in out
    assert "request: + field `voice_style` (string, optional, one of: calm, lively)" in out
    spec = yamlio.load(checkout / "openapi/vozo.yaml")
    assert "queued" in spec["components"]["schemas"]["JobStatus"]["properties"]["status"]["enum"]
    model = checkout / "generated" / generate.PACKAGE / "models" / "media_translate_request.py"
    assert "voice_style" in model.read_text()


def test_a_generator_failure_after_the_fetch_writes_nothing_and_names_page_line_and_path(
    site: Site, checkout: Path, capsys
) -> None:
    site.edit(
        TRANSLATE_CREATE,
        "        required: true\n",
        "          text/csv:\n            schema:\n              type: string\n        required: true\n",
    )
    before = snapshot(checkout)
    assert run_update(site.base, checkout) == 1
    err = capsys.readouterr().err
    assert "openapi-python-client failed" in err
    line = site.line_of(TRANSLATE_CREATE, "          text/csv:")
    page = f"{site.base}/{TRANSLATE_CREATE}.md"
    assert f"in {page} line {line}, at $.paths['/v1/media/translate'].post.requestBody.content['text/csv']" in err
    assert "nothing was written" in err
    assert snapshot(checkout) == before


def test_a_wrapper_the_new_code_breaks_writes_nothing_and_the_report_names_the_vanished_field(
    site: Site, checkout: Path, capsys
) -> None:
    site.edit(
        TRANSLATE_CREATE,
        "        user_prompt:\n          description: Optional translation or dubbing prompt to guide style\n"
        "          type: string\n",
        "",
    )
    before = snapshot(checkout)
    assert run_update(site.base, checkout) == 1
    captured = capsys.readouterr()
    assert "request: - field `user_prompt`" in captured.out
    use = (FIXTURES / "wrapper/vozo/__init__.py").read_text().split("user_prompt=")[0].count("\n") + 1
    assert (
        "! `vozo_api_client.models.MediaTranslateRequest.user_prompt` is gone from the generated code; "
        f"hand-written code uses it at wrapper/vozo/_fixture_uses.py:{use}"
    ) in captured.out
    assert "mypy fails on wrapper/" in captured.err
    mypy_error = r"wrapper/vozo/_fixture_uses\.py:\d+: error: Unexpected keyword argument \"user_prompt\""
    assert re.search(mypy_error, captured.err)
    assert snapshot(checkout) == before


def test_a_renamed_schema_is_reported_and_keeps_its_public_name(site: Site, checkout: Path, capsys) -> None:
    """vozo.types binds its names by where a model sits in a job kind, so `import vozo` survives the rename."""
    get = "api_reference/endpoints/translate_dub/get"
    page = site.page(get)
    page.write_text(page.read_text().replace("MediaTranslateResult", "TranslationOutputs"))
    assert run_update(site.base, checkout) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "~ schema `MediaTranslateResult` renamed `TranslationOutputs` (same shape)" in out
    assert "is gone from the generated code" not in out
    types = (checkout / "generated" / "vozo_jobs" / "types.py").read_text()
    assert "from vozo_api_client.models import TranslationOutputs as TranslationResult" in types


def test_a_page_whose_yaml_does_not_parse_is_named_by_url_and_line(site: Site, checkout: Path, capsys) -> None:
    site.edit(TRANSLATE_CREATE, "        media_url:\n", "        media_url: [unclosed\n")
    before = snapshot(checkout)
    assert run_update(site.base, checkout) == 1
    err = capsys.readouterr().err
    line = site.line_of(TRANSLATE_CREATE, "        media_url: [unclosed")
    assert "the fenced YAML does not parse" in err
    # YAML reports the line where it gave up: at or just after the broken one
    found = re.search(rf"in {re.escape(site.base)}/{TRANSLATE_CREATE}\.md line (\d+)", err)
    assert found, err
    assert line <= int(found[1]) <= line + 2
    assert snapshot(checkout) == before


def test_a_reference_to_a_schema_no_page_defines_is_named_by_url_line_and_path(
    site: Site, checkout: Path, capsys
) -> None:
    site.edit(TRANSLATE_CREATE, "$ref: '#/components/schemas/SpeakerNumber'", "$ref: '#/components/schemas/Speakers'")
    before = snapshot(checkout)
    assert run_update(site.base, checkout) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "'#/components/schemas/Speakers' points at no schema any page defines" in err
    line = site.line_of(TRANSLATE_CREATE, "$ref: '#/components/schemas/Speakers'")
    where = "$.components.schemas.MediaTranslateRequest.properties.speaker_number"
    assert f"in {site.base}/{TRANSLATE_CREATE}.md line {line}, at {where}" in err
    assert "nothing was written" in err
    assert snapshot(checkout) == before


def test_pages_that_disagree_are_both_named_with_their_lines(site: Site, checkout: Path, capsys) -> None:
    get = "api_reference/endpoints/translate_dub/get"
    site.edit(get, "        serverTs:\n          type: string\n", "        serverTs:\n          type: integer\n")
    assert run_update(site.base, checkout) == 1
    err = capsys.readouterr().err
    first = "api_reference/endpoints/lipsync/create"  # the first page, by file name, to define Error
    assert "component schemas/Error is defined differently in api_reference__endpoints__lipsync__create.md" in err
    for relative in (first, get):
        line = site.line_of(relative, "    Error:\n")
        assert f"in {site.base}/{relative}.md line {line}, at $.components.schemas.Error" in err


def test_a_failed_fetch_changes_nothing(site: Site, checkout: Path, capsys) -> None:
    site.page("api_reference/endpoints/translate_dub/get").unlink()
    before = snapshot(checkout)
    assert run_update(site.base, checkout) == 1
    assert "could not fetch" in capsys.readouterr().err
    assert snapshot(checkout) == before


def test_a_removed_page_that_the_overlay_targets_is_an_error(site: Site, checkout: Path, capsys) -> None:
    llms = site.docs / "llms.txt"
    llms.write_text("\n".join(line for line in llms.read_text().splitlines() if "translate_dub/get" not in line))
    before = snapshot(checkout)
    assert run_update(site.base, checkout) == 1
    err = capsys.readouterr().err
    # Every action decorating the operation, at once, with what to do (it said "target ... selects nothing" of
    # the first action only, and not that nothing was written).
    assert "the overlay decorates operations no page documents any more (Vozo removed or renamed them)" in err
    assert [line.split(" decorates ")[1] for line in err.splitlines() if line.startswith("  action ")] == [
        "GET /v1/media/translate/{task_id}",
        "GET /v1/media/translate/{task_id}",
    ]
    assert "delete those actions from openapi/overlay.yaml" in err
    assert f"nothing was written: {checkout} is as it was." in err
    assert snapshot(checkout) == before


def test_an_unreachable_source_is_a_clear_error(checkout: Path, capsys) -> None:
    with closed_port() as port:
        assert run_update(f"http://127.0.0.1:{port}/docs", checkout) == 1
    assert f"could not fetch http://127.0.0.1:{port}/docs/llms.txt" in capsys.readouterr().err


def test_publish_puts_back_what_it_replaced_when_a_swap_fails(checkout: Path, tmp_path: Path, monkeypatch) -> None:
    staged_root = tmp_path / "staged"
    shutil.copytree(checkout, staged_root)
    (staged_root / "openapi/vozo.yaml").write_text("new spec\n")
    (staged_root / "openapi/upstream/new.md").write_text("new page\n")
    before = snapshot(checkout)
    real_rename = Path.rename
    spec = checkout / "openapi/vozo.yaml"
    failed: list[Path] = []

    def rename(self: Path, target: Path) -> Path:
        if Path(target) == spec and self.name == "new" and not failed:  # the second swap: new spec into place
            failed.append(self)
            raise OSError("disk full")
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    staged = staging.Staged(staged_root, {}, [staging.UPSTREAM, staging.SPEC])
    with pytest.raises(OSError, match="disk full"):
        staging.publish(checkout, staged)
    monkeypatch.undo()
    assert failed
    assert snapshot(checkout) == before
    assert not list(checkout.rglob(".*update-*"))


def test_prepare_names_the_page_of_an_invalid_document(checkout: Path, tmp_path: Path) -> None:
    name = "api_reference__endpoints__translate_dub__create.md"
    text = (
        (FIXTURES / "upstream" / name)
        .read_text()
        .replace("        '400':\n", "        '299': not a response\n        '400':\n", 1)
    )
    pages = [FetchedPage(name, "https://docs.test/create.md", text)]
    pages += [
        FetchedPage(p.name, f"https://docs.test/{p.name}", p.read_text())
        for p in sorted((FIXTURES / "upstream").glob("*.md"))
        if p.name != name
    ]
    with pytest.raises(staging.StagingError) as info:
        staging.prepare(checkout, pages, tmp_path / "staging")
    line = text.split("        '299'")[0].count("\n") + 1
    assert "not valid OpenAPI" in str(info.value)
    assert (
        f"in https://docs.test/create.md line {line}, at $.paths['/v1/media/translate'].post.responses['299']"
        in str(info.value)
    )


def test_job_kinds_that_clash_refuse_the_update(site: Site, checkout: Path, capsys) -> None:
    overlay = checkout / "openapi/overlay.yaml"
    overlay.write_text(
        overlay.read_text()
        + "  - target: $.paths['/v1/video_generation'].post\n    update:\n      x-vozo-aliases: [translate]\n"
    )
    before = snapshot(checkout)
    assert run_update(site.base, checkout) == 1
    err = capsys.readouterr().err
    assert "job kind name 'translate' is used by POST /v1/media/translate and POST /v1/video_generation" in err
    assert "nothing was written" in err
    assert snapshot(checkout) == before


def test_a_mypy_that_fails_on_stderr_alone_is_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """mypy crashing (a damaged cache, an internal error) prints to stderr only: the refusal said nothing more than
    "mypy fails on wrapper/ against the new generated code:"."""

    def run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        if command[1:3] == ["-m", "mypy"]:
            return subprocess.CompletedProcess(command, 2, "", f"{tmp_path}/wrapper/vozo/x.py: error: INTERNAL ERROR")
        return subprocess.CompletedProcess(command, 0, f"{tmp_path}/a.py\n{tmp_path}/b.py\n", "")

    monkeypatch.setattr(staging, "_run", run)
    with pytest.raises(staging.StagingError) as refused:
        staging.verify(staging.Staged(tmp_path, {}, []))
    assert str(refused.value).endswith("code:\nwrapper/vozo/x.py: error: INTERNAL ERROR")


def test_a_page_whose_fence_is_never_closed_is_refused_not_skipped(site: Site, checkout: Path, capsys) -> None:
    """An API reference page that opens its OpenAPI fence and never closes it was taken for a guide (no fence) and
    left out: its operations vanished from the spec without a word. It is refused, naming the page and the line."""
    page = site.page(TRANSLATE_CREATE)
    text = page.read_text()
    page.write_text(text[: text.rindex("````")])
    before = snapshot(checkout)
    assert run_update(site.base, checkout) == 1
    err = capsys.readouterr().err
    line = site.line_of(TRANSLATE_CREATE, "````yaml POST")
    assert f"the ````yaml fence opened on line {line} is never closed" in err
    assert f"in {site.base}/{TRANSLATE_CREATE}.md line {line}" in err
    assert snapshot(checkout) == before


def _as_json_fence(site: Site, broken: bool = False) -> None:
    """The translate create page with its OpenAPI document fenced as JSON (````json POST /v1/media/translate)."""
    page = site.page(TRANSLATE_CREATE)
    text = page.read_text()
    found = fence_body(text)
    assert found is not None
    document = json.dumps(yaml.safe_load(found[0]), indent=2)
    if broken:
        document = document.replace('"media_url": {', '"media_url": {,', 1)
    page.write_text(text.replace(found[0], document + "\n", 1).replace("````yaml POST", "````json POST", 1))


def test_a_page_that_fences_its_document_as_json_is_read_like_yaml(site: Site, checkout: Path, capsys) -> None:
    _as_json_fence(site)
    assert run_update(site.base, checkout) == 0
    out = capsys.readouterr().out
    assert "API change report: no changes to operations or fields." in out, out


def test_a_json_fenced_page_that_does_not_parse_is_named_by_url_and_line(site: Site, checkout: Path, capsys) -> None:
    _as_json_fence(site, broken=True)
    before = snapshot(checkout)
    assert run_update(site.base, checkout) == 1
    err = capsys.readouterr().err
    line = site.line_of(TRANSLATE_CREATE, '"media_url": {,')
    assert "does not parse" in err, err
    found = re.search(rf"in {re.escape(site.base)}/{TRANSLATE_CREATE}\.md line (\d+)", err)
    assert found, err
    assert line <= int(found[1]) <= line + 2
    assert snapshot(checkout) == before


def test_two_pages_that_would_share_one_file_name_are_refused_naming_both(site: Site, checkout: Path, capsys) -> None:
    """api_reference/a/b and api_reference/a__b are both stored as api_reference__a__b.md: one page silently
    replaced the other, and its operations left the spec unreported."""
    clash = "api_reference/endpoints/translate_dub__create"
    shutil.copy(site.page("api_reference/endpoints/lipsync/create"), site.page(clash))
    site.link(clash, "Clash")
    before = snapshot(checkout)
    assert run_update(site.base, checkout) == 1
    err = capsys.readouterr().err
    assert "api_reference__endpoints__translate_dub__create.md" in err, err
    assert f"{site.base}/{TRANSLATE_CREATE}.md" in err, err
    assert f"{site.base}/{clash}.md" in err, err
    assert snapshot(checkout) == before


def test_a_guide_showing_a_json_request_is_not_taken_for_an_api_reference_page(
    site: Site, checkout: Path, capsys
) -> None:
    """A json fence titled like an operation but holding a request sample, not an OpenAPI document, is prose."""
    guide = "api_reference/endpoints/translate_dub/examples"
    site.page(guide).write_text(
        "# Examples\n\n```json POST /v1/media/translate\n"
        '{"media_url": "https://m.test/a.mp4", "target_language": "es"}\n```\n'
    )
    site.link(guide, "Examples")
    assert run_update(site.base, checkout) == 0
    assert "API change report: no changes to operations or fields." in capsys.readouterr().out


def test_a_mirrored_page_that_is_not_utf8_is_refused_naming_it(site: Site, checkout: Path, capsys) -> None:
    """A local mirror's page saved in Latin-1 ended `make update-spec` in a UnicodeDecodeError traceback."""
    page = site.page(TRANSLATE_CREATE)
    page.write_bytes(page.read_bytes().replace(b"description", "d\xe9scription".encode("latin-1"), 1))
    before = snapshot(checkout)
    assert run_update(str(site.docs), checkout) == 1
    err = capsys.readouterr().err
    assert f"{TRANSLATE_CREATE}.md is not UTF-8 text" in err, err
    assert snapshot(checkout) == before


def test_a_page_whose_file_name_would_be_too_long_is_refused_naming_it(site: Site, checkout: Path, capsys) -> None:
    """A page linked at a path whose stored name passes the file system's 255 bytes ended the update in an
    OSError traceback (File name too long) from the staging copy."""
    deep = "api_reference/" + "/".join(["a" * 120] * 3)
    site.page(deep).parent.mkdir(parents=True)
    shutil.copy(site.page("api_reference/endpoints/lipsync/create"), site.page(deep))
    site.link(deep, "Deep")
    before = snapshot(checkout)
    assert run_update(site.base, checkout) == 1
    err = capsys.readouterr().err
    assert f"the page {site.base}/{deep}.md would be stored under a file name too long" in err, err
    assert "nothing was written" in err, err
    assert snapshot(checkout) == before


class _RedirectingHandler(QuietHandler):
    """Answers GET <path>.md?moved (as linked) with a redirect to Location taken from the path's `.location` file."""

    def do_GET(self) -> None:
        target = Path(self.translate_path(self.path.split("?")[0]) + ".location")
        if target.is_file():
            self.send_response(302)
            self.send_header("Location", target.read_text())
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()


@pytest.fixture
def redirecting_site(site: Site) -> Iterator[Site]:
    """The same docs served by a second server (the one the index names) that can redirect any page."""
    handler = functools.partial(_RedirectingHandler, directory=str(site.docs.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}/docs"
    index = site.docs / "llms.txt"
    index.write_text(index.read_text().replace(site.base, base))
    try:
        yield Site(base, site.docs)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_page_redirected_to_another_host_is_refused_naming_both(
    site: Site, redirecting_site: Site, checkout: Path, capsys
) -> None:
    """A page the docs site redirected elsewhere was read from wherever the redirect said, silently: another host
    wrote the SDK's spec. The update is refused, naming the page and where it was sent, with nothing written."""
    elsewhere = site.base.replace("127.0.0.1", "localhost") + f"/{TRANSLATE_CREATE}.md"
    site.docs.joinpath(f"{TRANSLATE_CREATE}.md.location").write_text(elsewhere)
    before = snapshot(checkout)
    assert run_update(redirecting_site.base, checkout) == 1
    err = capsys.readouterr().err
    assert f"could not fetch {redirecting_site.base}/{TRANSLATE_CREATE}.md: it redirects to {elsewhere}" in err, err
    assert "nothing was written" in err, err
    assert snapshot(checkout) == before


def test_a_page_redirected_within_the_docs_site_is_read(site: Site, redirecting_site: Site, checkout: Path) -> None:
    shutil.copy(site.page(TRANSLATE_CREATE), site.docs / "moved.md")
    site.docs.joinpath(f"{TRANSLATE_CREATE}.md.location").write_text(f"{redirecting_site.base}/moved.md")
    assert run_update(redirecting_site.base, checkout) == 0
