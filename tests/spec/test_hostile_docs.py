"""Docs a hostile or merely surprising Vozo could publish: after `make update-spec` the SDK either works with no
Python edited, or the update is refused, naming the page (URL, line) and the schema path, with nothing written.

The building blocks are exercised directly. The pages of fixtures/hostile (a `remix` job kind whose request fields are
named like Python keywords and builtins, hyphenated, dotted, camelCased, led by a digit or named like the SDK's own
arguments, typed nullable, oneOf/anyOf, integer enums, odd enum values, with a status enum in mixed case, result URLs
nested, and its status path's parameter named {remixId}, not {task_id}) are built and generated once beside the
fixture pages; the generated code is then imported, type-checked and driven in subprocesses. The refusals are checked
on the pages and the spec, before any generator runs.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from spectools import build, generate, references, resources, staging, yamlio
from spectools.jobkinds import JobKindError, find_job_kinds, not_job_kinds, stale_hints
from spectools.pages import PageError, parse_page
from spectools.report import change_report
from spectools.update import FetchedPage

from .conftest import FIXTURES, OPENAPI, ROOT

HOSTILE = FIXTURES / "hostile"
CREATE_PAGE = "api_reference__endpoints__remix__create.md"
GET_PAGE = "api_reference__endpoints__remix__get.md"
SLOW = 600  # a safety net only: every verdict waits for an outcome


def _pages() -> list[FetchedPage]:
    """The fixture pages plus the hostile pair, as fetched from a docs site."""
    files = sorted([*(FIXTURES / "upstream").glob("*.md"), *HOSTILE.glob("*.md")], key=lambda file: file.name)
    return [FetchedPage(f.name, f"https://docs.test/{f.name}", f.read_text(encoding="utf-8")) for f in files]


def _build(pages: list[FetchedPage], folder: Path) -> dict[str, Any]:
    """``pages`` built into a spec the way `make update-spec` does (errors name the page, line and path)."""
    folder.mkdir(parents=True, exist_ok=True)
    for page in pages:
        (folder / page.name).write_text(page.text, encoding="utf-8")
    return staging.build_located(folder, FIXTURES / "overlay.yaml", pages)


@pytest.fixture(scope="module")
def hostile_spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _build(_pages(), tmp_path_factory.mktemp("hostile-pages"))


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory, hostile_spec: dict[str, Any]) -> Path:
    """The hostile spec generated: ``spec.yaml`` and ``generated/`` (openapi-python-client, then vozo_jobs)."""
    root = tmp_path_factory.mktemp("hostile")
    spec = root / "spec.yaml"
    spec.write_text(build.render(hostile_spec), encoding="utf-8")
    generator = OPENAPI / "generator"
    generate.generate(spec, generator / "config.yaml", generator / "templates", root / "generated")
    return root


def _python(root: Path, script: str, *args: str) -> Any:
    """Run ``script`` against the generated code of ``root`` and this checkout's wrapper; the JSON it printed."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "wrapper"), str(root / "generated")])}
    env.pop("VOZO_API_KEY", None)
    env.pop("VOZO_BASE_URL", None)
    command = [sys.executable, "-c", textwrap.dedent(script), str(root), *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=SLOW, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- what works, with no Python edited ------------------------------------------------------------------------

# Every hostile field by its create() argument, with a value of its type.
ARGUMENTS = {
    "video_url": "https://m.test/v.mp4", "class_": "a", "from_": 1.5, "async_": True, "type_": "t", "id_": "i",
    "json": {"a": 1}, "self_": False, "voice_style": "calm", "speaker_count": 2, "field_2pass": True,
    "target_language": "de", "extra_body_": "x", "check_file_types_": "y", "timeout_": 5, "poll_interval_": 6,
    "on_update_": "z", "kind_": "k", "wait": True, "output": "o", "which": "w", "job": "j", "note": "n",
    "segments": [{"start": 1.0, "end": None}], "seed": 7, "tone": "warm", "quality": 2, "mood": "",
}  # fmt: skip
# ... and the JSON body Vozo gets for them.
BODY = {
    "video_url": "https://m.test/v.mp4", "class": "a", "from": 1.5, "async": True, "type": "t", "id": "i",
    "json": {"a": 1}, "self": False, "voice-style": "calm", "speaker.count": 2, "2pass": True,
    "targetLanguage": "de", "extra_body": "x", "check_file_types": "y", "timeout": 5, "poll_interval": 6,
    "on_update": "z", "kind": "k", "wait": True, "output": "o", "which": "w", "job": "j", "note": "n",
    "segments": [{"start": 1.0, "end": None}], "seed": 7, "tone": "warm", "quality": 2, "mood": "",
}  # fmt: skip

# Both clients against FakeVozo serving the built spec; its clock moves one step per status the client reports.
CLIENTS = """
import asyncio, inspect, json, sys
from pathlib import Path

import vozo
import vozo.callbacks
from vozo._kinds import kind_named
from vozo.testing import FakeVozo
from vozo.types import Remix
from vozo_api_client.models import RemixRequestQuality

root, arguments, out = Path(sys.argv[1]), json.loads(sys.argv[2]), Path(sys.argv[3])
now = [0.0]
fake = FakeVozo(api_keys=["k"], step_seconds=1.0, clock=lambda: now[0], spec=root / "spec.yaml")
seen = []
def on_update(status):
    seen.append(str(status.status))
    now[0] += 1.0

kind = kind_named("remix")
found = {"parameters": list(inspect.signature(Remix.create).parameters)[1:]}
found["results"] = {name: ".".join(keys) for name, keys in kind.results}
bad = {"quality": 7, "mood": "sad", "segments": [{"end": 1}], "seed": 1.5, "note": 3, "json": [1]}
with fake.serve() as url:
    with vozo.Vozo(api_key="k", base_url=url) as client:
        status = client.remix.create_and_wait(**arguments, poll_interval=0.01, timeout=600, on_update=on_update)
        found["downloaded"] = {
            name: client.download(status, out / name, which=name).stat().st_size > 0 for name in kind.result_names
        }
        found["refused"] = {}
        for name, value in bad.items():
            try:
                client.remix.create(**{**arguments, name: value})
            except vozo.InvalidInputError as exc:
                found["refused"][name] = str(exc)
    async def run():
        async with vozo.AsyncVozo(api_key="k", base_url=url) as client:
            return (await client.remix.create(**arguments)).task_id
    found["async"] = asyncio.run(run())
found["seen"] = seen
found["bodies"] = [request["body"] for request in fake.create_requests]
found["unknown_quality"] = RemixRequestQuality(9).value  # a value Vozo adds later still parses
nullable = {"status": "RENDERING", "result": {"renditions": {"audio_url": None}}}
found["callback"] = str(vozo.callbacks.parse(nullable, kind="remix").status)
nulls = {"status": "done", "result": {"video_url": None, "renditions": {"audio_url": None}}}
result = vozo.callbacks.parse(nulls, kind="remix").result
found["callback_nulls"] = [repr(result.video_url), repr(result.renditions.audio_url)]
lists = {"status": "done", "result": {"clip_urls": ["a", 1], "clips": [{"video_url": 5}, "b"]}}
result = vozo.callbacks.parse(lists, kind="remix").result
found["callback_lists"] = [repr(result.clip_urls), repr(result.clips)]
clip = vozo.callbacks.parse({"status": "done", "result": {"clips": [{"video_url": 5}]}}, kind="remix").result.clips[0]
found["callback_list_item"] = repr(clip.video_url)
print(json.dumps(found))
"""


def test_a_kind_with_hostile_field_names_and_types_works_through_both_clients(hostile: Path, tmp_path: Path) -> None:
    found = _python(hostile, CLIENTS, json.dumps(ARGUMENTS), str(tmp_path))
    # The keyword arguments are the request model's attribute names, and the SDK's own arguments keep theirs.
    assert found["parameters"] == [*ARGUMENTS, "check_file_types", "extra_body"]
    assert found["bodies"] == [BODY, BODY]  # each field under its JSON name, whatever its argument
    assert found["async"]
    # Extra and odd-cased values are in progress; `cancelled` names an end (a wait stops there): the fake walks past it.
    assert found["seen"] == ["Queued", "RENDERING", "done"]
    assert found["results"] == {
        "preview": "preview_url",
        "video": "result.video_url",
        "low_video": "result.renditions.low_video_url",
        "audio": "result.renditions.audio_url",  # nullable, two objects deep
    }  # lists of URLs (clip_urls, clips[].video_url) name no single file: not results
    assert found["downloaded"] == dict.fromkeys(found["results"], True)
    refused = found["refused"]
    assert sorted(refused) == ["json", "mood", "note", "quality", "seed", "segments"]
    assert refused["quality"].startswith("quality must be one of 1, 2, 3, got 7")
    assert refused["segments"] == "segments[0] needs start"
    assert refused["note"] == "note must be a JSON string or null, got int 3"
    assert found["unknown_quality"] == 9
    # A callback may carry null where the spec allows it; elsewhere a null field reads as absent.
    assert found["callback"] == "RENDERING"
    assert found["callback_nulls"] == ["UNSET", "None"]
    assert found["callback_lists"] == ["UNSET", "UNSET"]  # an array holding an item of another type
    assert found["callback_list_item"] == "UNSET"  # an item's own fields are its model's to check


CLI_AND_BATCH = """
import json, re, sys
from pathlib import Path

from click.testing import CliRunner
from vozo._cli import main
from vozo.testing import FakeVozo

root, out = Path(sys.argv[1]), Path(sys.argv[2])
fake = FakeVozo(api_keys=["k"], step_seconds=0.01, spec=root / "spec.yaml")
found = {}
with fake.serve() as url:
    env = {"VOZO_API_KEY": "k", "VOZO_BASE_URL": url}
    help = CliRunner().invoke(main, ["remix", "--help"], env=env)
    found["options"] = re.findall(r"^  (?:-\\w, )?(--[\\w-]+)", help.output, re.MULTILINE)
    created = CliRunner().invoke(main, [
        "--json", "remix", "--video-url", "https://m.test/v.mp4", "--class", "c", "--type", "t", "--id", "i",
        "--voice-style", "v", "--field-2pass", "true", "--field-timeout", "3", "--field-output", "o", "--kind", "k",
        "--seed", "abc", "--quality", "2", "--mood", "", "--segments", '[{"start": 1}]',
    ], env=env)
    found["cli"] = [created.exit_code, created.output]
    manifest = out / "jobs.csv"
    manifest.write_text(
        "id,kind,video_url,class_,id_,kind_,check_file_types_,quality,segments\\n"
        'r1,remix,https://m.test/a.mp4,c1,their-id,their-kind,yes,3,"[{""start"": 2}]"\\n'
    )
    run = ["--json", "batch", "run", str(manifest), "--out", str(out / "batch"), "--poll-interval", "0.01"]
    batch = CliRunner().invoke(main, run, env=env)
    found["batch"] = [batch.exit_code, batch.output]
    found["bodies"] = [request["body"] for request in fake.create_requests]
found["written"] = sorted(path.name for path in (out / "batch").glob("r1.*"))
print(json.dumps(found))
"""


def test_the_command_and_batch_take_the_hostile_fields(hostile: Path, tmp_path: Path) -> None:
    found = _python(hostile, CLI_AND_BATCH, str(tmp_path))
    options = found["options"]
    for option in ("--class", "--from", "--type", "--id", "--self", "--voice-style", "--speaker-count"):
        assert option in options
    # A field named like one of the command's own options gets --field-...; the command's keep their meaning.
    for field in ("--field-2pass", "--field-timeout", "--field-wait", "--field-output", "--field-which"):
        assert field in options
    for own in ("--wait", "--output", "--which", "--timeout", "--no-check-file-types"):
        assert options.count(own) == 1
    code, output = found["cli"]
    assert code == 0, output
    assert json.loads(output)["task_id"]
    code, output = found["batch"]
    assert code == 0, output
    assert json.loads(output)["counts"] == {"completed": 1}
    assert found["written"] == ["r1.audio.wav", "r1.low_video.mp4", "r1.preview.png", "r1.video.mp4"]
    cli, batch = found["bodies"]
    assert cli == {
        "video_url": "https://m.test/v.mp4", "class": "c", "type": "t", "id": "i", "voice-style": "v", "2pass": True,
        "timeout": 3, "output": "o", "kind": "k", "seed": "abc", "quality": 2, "mood": "", "segments": [{"start": 1}],
    }  # fmt: skip
    assert batch == {
        "video_url": "https://m.test/a.mp4", "class": "c1", "id": "their-id", "kind": "their-kind",
        "check_file_types": "yes", "quality": 3, "segments": [{"start": 2}],
    }  # fmt: skip


# A user's program: the hostile kind's arguments are typed (strict mypy; each ignore is an error mypy reports).
USER_PROGRAM = """
import vozo
from vozo_api_client.models import RemixJobStatus


def remix(client: vozo.Vozo) -> RemixJobStatus:
    client.remix.create(video_url="https://m.test/v.mp4", class_="a", quality=4)  # type: ignore[arg-type]
    client.remix.create(video_url="https://m.test/v.mp4", class_="a", timeout=3)  # type: ignore[call-arg]
    return client.remix.create_and_wait(
        video_url="https://m.test/v.mp4", class_="a", from_=1.5, type_="t", id_="i", self_=True, timeout_=3,
        segments=[{"start": 1.0}], seed="x", quality=2, mood="", note=None, json={"a": 1}, timeout=60.0,
    )
"""


def test_the_generated_code_and_a_program_using_it_pass_mypy_strict(hostile: Path, tmp_path: Path) -> None:
    program = tmp_path / "user_program.py"
    program.write_text(textwrap.dedent(USER_PROGRAM), encoding="utf-8")
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\nstrict = True\n[mypy-vozo_api_client.*]\nignore_errors = True\n", encoding="utf-8")
    env = {**os.environ, "MYPYPATH": os.pathsep.join([str(ROOT / "wrapper"), str(hostile / "generated")])}
    command = [sys.executable, "-m", "mypy", "--config-file", str(config), "--cache-dir", str(tmp_path / "cache")]
    command += [str(program), str(hostile / "generated" / "vozo_jobs")]
    checked = subprocess.run(command, env=env, capture_output=True, text=True, timeout=SLOW, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr


# --- refused, naming the page, the line and the schema path -----------------------------------------------------


def _renamed(new_segment: str) -> dict[str, str]:
    """The hostile pair with its path's last segment renamed (``/v1/media/<new_segment>``)."""
    return {
        name: (HOSTILE / name).read_text(encoding="utf-8").replace("/v1/media/remix", f"/v1/media/{new_segment}")
        for name in (CREATE_PAGE, GET_PAGE)
    }


@pytest.mark.parametrize(
    ("segment", "why"),
    [
        ("class", "not a Python identifier"),
        ("3d_remix", "not a Python identifier"),
        ("request", "a name the SDK already uses (client.request or `vozo request`)"),
        ("download", "a name the SDK already uses"),
        ("close", "a name the SDK already uses"),
        ("with_options", "a name the SDK already uses"),
        ("jobs", "a name the SDK already uses"),  # client.jobs, the governor
        ("http", "a name the SDK already uses"),  # client._http
        ("mock-server", "a name the SDK already uses"),  # `vozo mock-server`
    ],
)
def test_a_kind_named_like_a_keyword_or_the_sdk_s_own_names_is_refused_naming_its_page(
    segment: str, why: str, tmp_path: Path
) -> None:
    (tmp_path / "checkout" / "openapi").mkdir(parents=True)
    shutil.copy(FIXTURES / "overlay.yaml", tmp_path / "checkout" / "openapi" / "overlay.yaml")
    pages = [page for page in _pages() if page.name not in (CREATE_PAGE, GET_PAGE)]
    texts = _renamed(segment)
    pages += [FetchedPage(name, f"https://docs.test/{name}", text) for name, text in texts.items()]
    with pytest.raises(staging.StagingError) as refused:
        staging.prepare(tmp_path / "checkout", pages, tmp_path / "staging")
    message = str(refused.value)
    assert why in message
    assert "x-vozo-resource" in message  # how to fix it
    line = texts[CREATE_PAGE].split(f"  /v1/media/{segment}:")[0].count("\n") + 1
    assert f"in https://docs.test/{CREATE_PAGE} line {line + 1}, at $.paths['/v1/media/{segment}'].post" in message


ALL_CAPS_KIND = """
import asyncio, json, sys
from pathlib import Path

import vozo
import vozo.types
from vozo._kinds import kind_named
from vozo.testing import FakeVozo

root, name = Path(sys.argv[1]), sys.argv[2]
fake = FakeVozo(api_keys=["k"], step_seconds=0.01, spec=root / "spec.yaml")
arguments = {"video_url": "https://m.test/v.mp4", "class_": "a"}
with fake.serve() as url:
    with vozo.Vozo(api_key="k", base_url=url) as client:
        status = getattr(client, name).create_and_wait(**arguments, poll_interval=0.01, timeout=600)
    async def run():
        async with vozo.AsyncVozo(api_key="k", base_url=url) as client:
            return (await getattr(client, name).create(**arguments)).task_id
    task_id = asyncio.run(run())
kind = kind_named(name)
print(json.dumps({
    "status": str(status.status), "async": bool(task_id), "model": kind.status_model.__name__,
    "resource": type(getattr(vozo.Vozo(api_key="k"), name)).kind is kind, "any_status": str(vozo.types.AnyStatus),
}))
"""


@pytest.mark.parametrize(
    ("segment", "status_schema", "name"),
    [
        ("remix/v2", "RemixJobStatus", "v2"),  # the constant V2 of vozo_jobs.kinds, and the resource class V2
        ("remix", "REMIX", "remix"),  # the constant REMIX, and the status model class REMIX
    ],
    ids=["version-segment", "status-schema-in-capitals"],
)
def test_a_kind_whose_constant_is_spelled_like_a_generated_class_works(
    segment: str, status_schema: str, name: str, tmp_path: Path
) -> None:
    """`POST /v1/media/remix/v2` (a kind named v2) was refused with "the generated vozo_jobs/_sync_resources.py would
    bind 'V2' twice: a schema of the spec is generated as class V2", naming no page: the kind's constant (V2) and
    its resource class (V2) are spelled alike; so are a kind's constant and a status schema named in capitals."""
    texts = {page: text.replace("RemixJobStatus", status_schema) for page, text in _renamed(segment).items()}
    pages = [page for page in _pages() if page.name not in texts]
    pages += [FetchedPage(page, f"https://docs.test/{page}", text) for page, text in texts.items()]
    spec = tmp_path / "spec.yaml"
    spec.write_text(build.render(_build(pages, tmp_path / "pages")), encoding="utf-8")
    generator = OPENAPI / "generator"
    generate.generate(spec, generator / "config.yaml", generator / "templates", tmp_path / "generated")
    found = _python(tmp_path, ALL_CAPS_KIND, name)
    assert found["status"] == "done"
    assert found["async"]
    assert found["model"] == status_schema
    assert found["resource"]
    assert status_schema in found["any_status"]


def test_a_kind_whose_resource_classes_take_a_name_already_bound_is_refused(hostile: Path) -> None:
    spec = yamlio.load(hostile / "spec.yaml")
    spec["paths"]["/v1/media/remix"]["post"]["x-vozo-resource"] = "job"  # classes Job and AsyncJob
    with pytest.raises(JobKindError, match=r"resource classes AsyncJob and Job, a name the SDK") as refused:
        resources.render(spec, hostile / "generated" / "vozo_api_client")
    assert refused.value.path == ("paths", "/v1/media/remix", "post")


def test_a_model_named_like_a_name_a_generated_module_imports_is_refused(hostile: Path) -> None:
    """A status schema Vozo calls ``Field`` would be the class Field, which vozo_jobs/kinds.py imports from the SDK."""
    spec = yamlio.load(hostile / "spec.yaml")
    spec["components"]["schemas"]["Field"] = spec["components"]["schemas"]["RemixJobStatus"]
    namer = resources._Namer(spec, hostile / "generated" / "vozo_api_client")
    namer.classes["field"] = "Field"  # what openapi-python-client names that schema's model
    source = "from vozo._kinds import Field, JobKind\nfrom vozo_api_client.models import Field, JobStatus\n"
    with pytest.raises(JobKindError, match=r"vozo_jobs/kinds.py would bind 'Field' twice") as refused:
        resources._check_bindings("kinds.py", source, spec, namer)
    assert refused.value.path == ("components", "schemas", "Field")
    resources._check_bindings("kinds.py", source.replace("Field, JobStatus", "JobStatus"), spec, namer)


def _with_status_values(spec: dict[str, Any], *values: str) -> dict[str, Any]:
    changed = copy.deepcopy(spec)
    changed["components"]["schemas"]["RemixJobStatus"]["properties"]["status"]["enum"] = list(values)
    return changed


@pytest.mark.parametrize(
    "values", [("queued", "done"), ("queued", "failed"), ("Queued", "DONE", "FAILED"), ("Done", "Failed"), ()]
)
def test_a_status_without_done_and_failed_makes_no_kind_and_the_report_says_why(
    hostile_spec: dict[str, Any], values: tuple[str, ...]
) -> None:
    old = _with_status_values(hostile_spec, "queued", "done", "failed")
    new = _with_status_values(hostile_spec, *values)
    assert "remix" in [kind.name for kind in find_job_kinds(old)]
    assert "remix" not in [kind.name for kind in find_job_kinds(new)]
    why = not_job_kinds(new)["/v1/media/remix"]
    assert f"lists {', '.join(values) or 'no values'}" in why
    lines = change_report(old, new)
    assert "- job kind `remix` (POST /v1/media/remix)" in lines
    assert f"! POST /v1/media/remix is not a job kind: {why}" in lines


def test_fields_the_overlay_hints_at_and_the_argument_rules_read_are_reported_when_gone() -> None:
    old = build.build_spec(FIXTURES / "upstream", FIXTURES / "overlay.yaml")
    new = copy.deepcopy(old)
    schemas = new["components"]["schemas"]
    translate = schemas["MediaTranslateRequest"]["properties"]
    for name in ("user_prompt", "media_url", "export_type", "ocr_text_box"):  # cli-aliases, infer-from, a rule, a type
        del translate[name]
    schemas["MediaTranslateRequest"]["required"].remove("media_url")
    schemas["VideoGenerationRequest"]["properties"]["model"]["enum"] = ["precision_v1"]  # the default's value gone
    kinds = {kind.name: kind for kind in find_job_kinds(new)}
    lines = [line for line in change_report(old, new) if line.startswith("! overlay")]
    where = "x-vozo-fields of POST /v1/media/translate"
    assert lines == [
        "! overlay: x-vozo-fields of POST /v1/video_generation: `model` alias 'standard' stands for 'standard_v1', "
        "which its enum no longer lists",
        "! overlay: x-vozo-fields of POST /v1/video_generation: `model` default 'standard' is not one of its values "
        "any more",
        f"! overlay: {where}: `media_url` is no request field any more; its hints do nothing",
        f"! overlay: {where}: `media_type` is inferred from `media_url`, which is no field any more",
        f"! overlay: {where}: `export_type` is no request field any more; its hints do nothing",
        f"! overlay: {where}: `ocr_text_box` is no request field any more; its hints do nothing "
        "(vozo.types.OcrTextBox goes with them)",
        f"! overlay: {where}: `user_prompt` is no request field any more; its hints do nothing",
    ]
    # A stale hint is dropped, not applied: the model is required again, as the spec says, and nothing is inferred.
    [model] = [field for field in kinds["lipsync"].fields if field.name == "model"]
    assert (model.default, model.value_aliases) == (None, {"precision": "precision_v1"})
    [media_type] = [field for field in kinds["translations"].fields if field.name == "media_type"]
    assert media_type.infer_from is None
    assert stale_hints(old) == []
    fields = {field.name for kind in kinds.values() for field in kind.fields}
    rules = references.stale_rules(ROOT / "wrapper", fields)
    assert [rule.split("`")[1] for rule in rules] == ["_audio_exports", "_subtitles_or_ocr", "_ocr_box"]
    assert rules[0].startswith("! hand-written argument rule `_audio_exports` (wrapper/vozo/_arguments.py:")
    assert rules[0].endswith("reads `export_type`, which no job kind's request has any more")
    assert rules[1].endswith("reads `ocr_text_box`, which no job kind's request has any more")
    assert references.stale_rules(ROOT / "wrapper", fields | {"export_type", "ocr_text_box"}) == []


# --- malformed pages: refused naming the page and the line ------------------------------------------------------

_CREATE = (HOSTILE / CREATE_PAGE).read_text(encoding="utf-8")
_FIELD = "        class:\n          description: Remix class\n"
_DEEP = "x-deep: " + "[" * 600 + "]" * 600 + "\n"  # past what PyYAML's recursive composer can read


@pytest.mark.parametrize(
    ("change", "message", "marker"),
    [
        (lambda t: t.replace(_FIELD, _FIELD + '          example: {"a": 1,, }\n'), "does not parse", "example:"),
        (lambda t: t.replace(_FIELD, _FIELD.replace("  desc", "\tdesc")), "does not parse", "\tdesc"),
        (lambda t: t.replace(_FIELD, _FIELD + "        class:\n"), "key 'class' is written twice", "class:"),
        (lambda t: t.replace("components:\n", "x-a: &a [1, 1]\nx-b: [*a, *a]\ncomponents:\n"), "an alias", "x-b"),
        (lambda t: t.replace("components:\n", _DEEP + "components:\n"), "nests too deeply", "````yaml"),
        (lambda t: t.replace("paths:\n", "paths: []\nx-paths:\n"), "`paths` is a list, not a mapping", "paths: []"),
        (lambda t: t.replace("  /v1/media/remix:\n", "  /v1/media/remix: 5\n  /v1/x:\n"), "is a int", "remix: 5"),
        (lambda t: t[: t.rindex("````")], "fence opened on line 13 is never closed", "````yaml"),
        (lambda t: t + "\n````yaml GET /v1/x\nopenapi: 3.1.0\n````\n", "2 OpenAPI fences", "````yaml GET /v1/x"),
    ],
    ids=["bad-json-example", "tab", "duplicate-key", "alias", "deep", "paths-list", "path-item-int", "cut", "two"],
)
def test_a_malformed_page_is_refused_naming_the_line(change: Any, message: str, marker: str) -> None:
    text = change(_CREATE)
    with pytest.raises(PageError) as refused:
        parse_page(CREATE_PAGE, text)
    assert message in str(refused.value)
    line = text.count("\n", 0, text.rindex(marker)) + 1
    assert refused.value.line is not None
    assert line <= refused.value.line <= line + 1  # YAML names the line it gave up on: at or just after the fault


def test_a_page_with_windows_line_endings_or_a_markdown_table_reads_as_any_other() -> None:
    table = "| field | type |\n|---|\n| class | string | extra |\n\n## OpenAPI\n"
    for text in (_CREATE.replace("\n", "\r\n"), _CREATE.replace("## OpenAPI\n", table)):
        assert parse_page(CREATE_PAGE, text).fragment == parse_page(CREATE_PAGE, _CREATE).fragment


# (the page's text, its replacement, the refusal, the schema path it names, the text on the line it names)
INVALID = {
    "external-ref": (
        "$ref: '#/components/schemas/RemixSegment'",
        "$ref: 'https://evil.test/s.yaml#/S'",
        "points outside the document",
        "$.components.schemas.RemixRequest.properties.segments.items['$ref']",
        "$ref: 'https://evil.test",
    ),
    "null-schema": (
        "        from:\n          description: Start offset in seconds\n          type: number\n",
        "        from: null\n",
        "not valid OpenAPI: None is not of type",
        "$.components.schemas.RemixRequest.properties.from",
        "        from: null",
    ),
    "required-not-a-list": (
        "      required:\n        - video_url\n        - class\n",
        "      required: video_url\n",
        "not valid OpenAPI: 'video_url' is not of type 'array'",
        "$.components.schemas.RemixRequest.required",
        "      required: video_url",
    ),
    "model-method": (
        "        from:\n",
        "        toDict:\n          type: string\n        from:\n",
        "field 'toDict' would be the attribute 'to_dict' of its generated model",
        "$.components.schemas.RemixRequest.properties.toDict",
        "        toDict:",
    ),
    "model-local": (
        "        start:\n",
        "        D:\n          type: string\n        start:\n",
        "field 'D' would be the attribute 'd' of its generated model",  # a local of the model's from_dict
        "$.components.schemas.RemixSegment.properties.D",
        "        D:",
    ),
    # A page steering the SDK: every job's status (result links included) went to the docs' host, unreported.
    "sdk-key-on-a-page": (
        "    post:\n",
        "    post:\n      x-vozo-fields:\n        callback_url:\n          default: https://evil.test/hook\n",
        "a page sets 'x-vozo-fields': x-vozo-* keys steer the SDK",
        "$.paths['/v1/media/remix'].post['x-vozo-fields']",
        "      x-vozo-fields:",
    ),
    # The validator named one of the two operations and blamed the document root ("at $").
    "operation-id-shared": (
        "    post:\n",
        "    post:\n      operationId: create_translation_job\n",
        "operationId 'create_translation_job' is given to POST /v1/media/remix and to POST /v1/media/translate",
        "$.paths['/v1/media/remix'].post.operationId",
        "      operationId: create_translation_job",
    ),
    # The generator's own refusal named the schema but not the fields ("<UntrustedString object at 0x...>").
    "fields-one-attribute": (
        "        start:\n",
        "        start:\n          type: number\n        s-tart:\n          type: number\n        s.tart:\n",
        "fields 's-tart' and 's.tart' would both be the attribute 'start' of their generated model",
        "$.components.schemas.RemixSegment.properties['s.tart']",
        "        s.tart:",
    ),
    # Two values one member name: openapi-python-client died with a 60-line traceback naming no page.
    "enum-values-one-member": (
        "            - café\n",
        "            - café\n            - Café\n",
        "enum values 'café' and 'Café' would both be the member CAFÉ of its generated enum class",
        "$.components.schemas.RemixRequest.properties.mood.enum",
        "          enum:\n            - ''",
    ),
    # Two members Python reads as one (identifiers are NFKC-normalised): `import vozo` failed with a TypeError.
    "enum-values-one-member-nfkc": (
        "            - café\n",
        "            - café\n            - h\n            - \u210c\n",
        "enum values 'h' and '\u210c' would both be the member H of its generated enum class",
        "$.components.schemas.RemixRequest.properties.mood.enum",
        "          enum:\n            - ''",
    ),
    "enum-values-one-member-dashed": (
        "                - warm\n",
        "                - warm-ish\n                - warm_ish\n",
        "enum values 'warm-ish' and 'warm_ish' would both be the member WARM_ISH",
        "$.components.schemas.RemixRequest.properties.tone.anyOf[0].enum",
        "              enum:\n                - warm-ish",
    ),
    # A create documented at another host: generated and called at the SDK's base_url, where it fails every time.
    "operation-server": (
        "    post:\n",
        "    post:\n      servers:\n        - url: https://upload.vozo.test\n",
        "POST /v1/media/remix is documented at https://upload.vozo.test, not at the API's",
        "$.paths['/v1/media/remix'].post.servers",
        "      servers:",
    ),
    # The validator's path-parameter check gives no path: the page of lipsync's POST ("line 14, at $") was blamed.
    "path-parameter-unresolved": (
        "paths:\n",
        "paths:\n  /v1/media/remix/{clip}/cancel:\n    post:\n      description: Cancel a clip\n"
        "      responses:\n        '200':\n          description: cancelled\n",
        "Path parameter 'clip' for 'post' operation in '/v1/media/remix/{clip}/cancel' was not resolved",
        "$.paths['/v1/media/remix/{clip}/cancel'].post",
        "    post:\n      description: Cancel a clip",
    ),
}


@pytest.mark.parametrize(("old", "new", "message", "path", "marker"), INVALID.values(), ids=INVALID.keys())
def test_an_invalid_schema_is_refused_naming_page_line_and_full_path(
    old: str, new: str, message: str, path: str, marker: str, tmp_path: Path
) -> None:
    assert old in _CREATE
    text = _CREATE.replace(old, new, 1)
    pages = [page for page in _pages() if page.name != CREATE_PAGE]
    pages.append(FetchedPage(CREATE_PAGE, f"https://docs.test/{CREATE_PAGE}", text))
    with pytest.raises(staging.StagingError) as refused:
        _build(pages, tmp_path)
    assert message in str(refused.value)
    line = text.count("\n", 0, text.index(marker)) + 1
    assert f"in https://docs.test/{CREATE_PAGE} line {line}, at {path}" in str(refused.value)


# --- a job kind the SDK could not read back: refused before anything is generated --------------------------------

_GET = (HOSTILE / GET_PAGE).read_text(encoding="utf-8")
_JOB = "    Job:\n      required:\n        - task_id\n"
_STATUS_REQUIRED = "    RemixJobStatus:\n      required:\n        - status\n"

# (which page, the text, its replacement, the refusal, the schema path it names, the text on the line it names)
UNREADABLE = {
    "status-optional": (
        GET_PAGE, _STATUS_REQUIRED, "    RemixJobStatus:\n",
        "GET /v1/media/remix/{task_id} does not list `status` as required",
        "$.components.schemas.RemixJobStatus", "    RemixJobStatus:",
    ),
    "status-nullable": (
        GET_PAGE, "          description: Current job status\n          type: string\n",
        "          description: Current job status\n          type:\n            - string\n            - 'null'\n",
        "the `status` of GET /v1/media/remix/{task_id} may also be null",
        "$.components.schemas.RemixJobStatus.properties.status", "        status:\n          description: Current job",
    ),
    "task-id-optional": (
        CREATE_PAGE, _JOB, "    Job:\n      required: []\n",
        "POST /v1/media/remix does not list `task_id` as required",
        "$.components.schemas.Job", "    Job:",
    ),
    "other-job-schema": (
        CREATE_PAGE, "$ref: '#/components/schemas/Job'", "$ref: '#/components/schemas/RemixJob'",
        "POST /v1/media/remix answers a task_id with schema 'RemixJob', not the 'Job' schema",
        "$.paths['/v1/media/remix'].post.responses['200'].content['application/json'].schema",
        "schema:\n                $ref: '#/components/schemas/RemixJob'",
    ),
}  # fmt: skip


@pytest.mark.parametrize(
    ("page", "old", "new", "message", "path", "marker"), UNREADABLE.values(), ids=UNREADABLE.keys()
)
def test_a_kind_whose_answers_the_sdk_cannot_read_is_refused_naming_page_line_and_path(
    page: str, old: str, new: str, message: str, path: str, marker: str, tmp_path: Path
) -> None:
    """A status whose ``status`` may be absent broke mypy on the wrapper (a traceback-like refusal naming no page);
    a create answering another schema than ``Job`` passed the update, and then every create failed after Vozo had
    made (and billed) the job."""
    texts = {CREATE_PAGE: _CREATE, GET_PAGE: _GET}
    assert old in texts[page]
    texts[page] = texts[page].replace(old, new, 1)
    if page == CREATE_PAGE and "RemixJob'" in new:  # the renamed answer schema, defined on the page
        texts[page] = texts[page].replace("    Job:\n", "    RemixJob:\n", 1)
    (tmp_path / "checkout" / "openapi").mkdir(parents=True)
    shutil.copy(FIXTURES / "overlay.yaml", tmp_path / "checkout" / "openapi" / "overlay.yaml")
    pages = [page for page in _pages() if page.name not in texts]
    if old == _JOB:  # every page defines the shared Job schema: all of them change it, or they would disagree
        pages = [FetchedPage(p.name, p.url, p.text.replace(old, new)) for p in pages]
    pages += [FetchedPage(name, f"https://docs.test/{name}", text) for name, text in texts.items()]
    with pytest.raises(staging.StagingError) as refused:
        staging.prepare(tmp_path / "checkout", pages, tmp_path / "staging")
    assert message in str(refused.value)
    line = texts[page].count("\n", 0, texts[page].index(marker)) + 1
    if old == _JOB:  # named where the first page defining it defines it
        assert re.search(rf"in https://docs\.test/\S+\.md line \d+, at {re.escape(path)}$", str(refused.value))
    else:
        assert f"in https://docs.test/{page} line {line}, at {path}" in str(refused.value)
    assert not (tmp_path / "staging" / "generated").exists()  # refused before the generator ran


def test_prose_with_characters_python_refuses_in_source_still_generates(hostile: Path) -> None:
    """A NUL in a description (YAML writes it "\\0") stopped the update: "the generated vozo_jobs/_async_resources.py
    would not parse (source code string cannot contain null bytes, line None)", naming no page."""
    spec = yamlio.load(hostile / "spec.yaml")
    create = spec["paths"]["/v1/media/remix"]["post"]
    create["description"] = 'Remix\x00 it\r\nnow\u2028then \x1b[31m """ \\N{BULLET}'
    create["summary"] = "Sum\x00mary \\u12"
    request = spec["components"]["schemas"]["RemixRequest"]["properties"]
    request["tone"]["description"] = "nul\x00 and\rcarriage"
    files = resources.render(spec, hostile / "generated" / "vozo_api_client")
    for name, source in files.items():
        compile(source, name, "exec")  # raises on a NUL, an unterminated string, a bad escape
    assert "Remix it now then [31m" in files["_async_resources.py"]  # one line, its control characters dropped
    assert "\x1b" not in files["_async_resources.py"]
    assert "\\\\N{BULLET}" in files["_async_resources.py"]  # a backslash stays a backslash


def test_a_key_asked_for_otherwise_than_as_a_bearer_token_is_refused_naming_the_scheme(tmp_path: Path) -> None:
    """An operation whose key goes in a header or the query passed the update, lint and mypy; then every call was
    refused as unauthenticated (the SDK sends Authorization: Bearer only), FakeVozo's included."""
    scheme = "    keyAuth:\n      type: apiKey\n      in: header\n      name: X-Api-Key\n"
    text = _CREATE.replace("  securitySchemes:\n", "  securitySchemes:\n" + scheme, 1)
    text = text.replace("    post:\n", "    post:\n      security:\n        - keyAuth: []\n", 1)
    pages = [page for page in _pages() if page.name != CREATE_PAGE]
    pages.append(FetchedPage(CREATE_PAGE, f"https://docs.test/{CREATE_PAGE}", text))
    with pytest.raises(staging.StagingError) as refused:
        _build(pages, tmp_path)
    message = str(refused.value)
    assert message.startswith("POST /v1/media/remix asks for the API key as header 'X-Api-Key' (security scheme")
    line = text.count("\n", 0, text.index("    keyAuth:")) + 1
    assert f"in https://docs.test/{CREATE_PAGE} line {line}, at $.components.securitySchemes.keyAuth" in message


def test_a_task_id_vozo_retypes_is_refused_naming_page_line_and_path(tmp_path: Path) -> None:
    """Every page's Job says `task_id: integer`: each job kind silently stopped being one, and the refusal ("the
    spec holds no job kind") named no page, line or reason; with a new kind alone so typed, it just went missing."""
    string_id = "        task_id:\n          description: ID of the task\n          type: string\n"
    (tmp_path / "checkout" / "openapi").mkdir(parents=True)
    shutil.copy(FIXTURES / "overlay.yaml", tmp_path / "checkout" / "openapi" / "overlay.yaml")
    pages = [
        FetchedPage(p.name, p.url, p.text.replace(string_id, string_id.replace("string", "integer"))) for p in _pages()
    ]
    assert all("type: integer" in p.text for p in pages if string_id.replace("string", "integer") in p.text)
    with pytest.raises(staging.StagingError) as refused:
        staging.prepare(tmp_path / "checkout", pages, tmp_path / "staging")
    message = str(refused.value)
    assert re.search(r"POST /v1/\S+ answers its task_id as integer", message), message
    found = re.search(
        r"in https://docs\.test/(\S+\.md) line (\d+), at \$\.components\.schemas\.Job\.properties\.task_id", message
    )
    assert found, message
    text = next(p.text for p in pages if p.name == found[1])
    assert text.splitlines()[int(found[2]) - 1] == "        task_id:"
    assert not (tmp_path / "staging" / "generated").exists()


@pytest.mark.parametrize("moved_to", ["https://api.vozo.ai/v2", "https://api.vozo.com"])
def test_an_api_the_pages_move_to_another_server_is_refused_naming_page_line_and_path(
    moved_to: str, tmp_path: Path
) -> None:
    """Every page saying `servers: - url: https://api.vozo.ai/v2` built, generated and passed with an empty change
    report; then every call still went to https://api.vozo.ai (the SDK's base_url), where the paths are not."""
    own = "  - url: https://api.vozo.ai\n"
    pages = [FetchedPage(p.name, p.url, p.text.replace(own, f"  - url: {moved_to}\n")) for p in _pages()]
    assert all(f"url: {moved_to}\n" in page.text for page in pages)
    with pytest.raises(staging.StagingError) as refused:
        _build(pages, tmp_path)
    message = str(refused.value)
    assert message.startswith(f"the pages place Vozo's API at {moved_to}, but the SDK calls https://api.vozo.ai")
    found = re.search(r"in https://docs\.test/(\S+\.md) line (\d+), at \$\.servers$", message)
    assert found, message
    text = next(p.text for p in pages if p.name == found[1])
    assert text.splitlines()[int(found[2]) - 1] == "servers:"


def test_a_server_the_pages_add_beside_the_api_s_is_accepted(tmp_path: Path) -> None:
    own = "  - url: https://api.vozo.ai\n"
    pages = [
        FetchedPage(p.name, p.url, p.text.replace(own, "  - url: https://sandbox.vozo.ai\n" + own)) for p in _pages()
    ]
    assert _build(pages, tmp_path)["servers"] == [{"url": "https://sandbox.vozo.ai"}, {"url": "https://api.vozo.ai"}]


# --- a request schema that refers to itself ---------------------------------------------------------------------

_TREE = "        tree:\n          $ref: '#/components/schemas/RemixNode'\n        mood:\n"
_NODE = (
    "    RemixNode:\n      type: object\n      properties:\n        name:\n          type: string\n"
    "        children:\n          type: array\n          items:\n            $ref: '#/components/schemas/RemixNode'\n"
)

DEEP_TREE = """
import json, sys
from pathlib import Path

import vozo
from vozo.testing import FakeVozo

root = Path(sys.argv[1])
def tree(depth):
    node = {"name": "leaf"}
    for _ in range(depth):
        node = {"name": "node", "children": [node]}
    return node

found = {}
fake = FakeVozo(api_keys=["k"], spec=root / "spec.yaml")
with fake.serve() as url, vozo.Vozo(api_key="k", base_url=url, max_retries=0) as client:
    try:
        client.remix.create(video_url="https://m.test/v.mp4", class_="a", tree=tree(5000))
    except vozo.InvalidInputError as exc:
        found["refused"] = str(exc)
    found["sent"] = len(fake.create_requests)
    try:  # within what the client reads, past what the fake's schema validator follows
        client.remix.create(video_url="https://m.test/v.mp4", class_="a", tree=tree(400))
    except vozo.APIStatusError as exc:
        found["fake"] = [exc.status_code, exc.message]
print(json.dumps(found))
"""


def test_an_argument_nested_past_python_s_limit_in_a_self_referring_schema_is_refused(tmp_path: Path) -> None:
    """A request field whose schema refers to itself (a tree of nodes) made create() of a deeply nested value end in
    a bare RecursionError from the generated model, no VozoError."""
    text = _CREATE.replace("        mood:\n", _TREE, 1).replace("    RemixSegment:\n", _NODE + "    RemixSegment:\n", 1)
    pages = [page for page in _pages() if page.name != CREATE_PAGE]
    pages.append(FetchedPage(CREATE_PAGE, f"https://docs.test/{CREATE_PAGE}", text))
    spec = tmp_path / "spec.yaml"
    spec.write_text(build.render(_build(pages, tmp_path / "pages")), encoding="utf-8")
    generator = OPENAPI / "generator"
    generate.generate(spec, generator / "config.yaml", generator / "templates", tmp_path / "generated")
    found = _python(tmp_path, DEEP_TREE)
    assert found["sent"] == 0, found
    assert "the remix request is nested too deeply to send (in tree)" in found["refused"], found
    # FakeVozo answered 500 (its validator's RecursionError): "Vozo may have created (and billed) the job".
    assert found["fake"] == [400, "Invalid request parameters: the body is nested too deeply"], found


TUPLES = """
import json, sys
from pathlib import Path

import vozo
from vozo.testing import FakeVozo

root = Path(sys.argv[1])
fake = FakeVozo(api_keys=["k"], spec=root / "spec.yaml")
with fake.serve() as url, vozo.Vozo(api_key="k", base_url=url) as client:
    client.remix.create(video_url="https://m.test/v.mp4", class_="a", segments=({"start": 1.0},))
print(json.dumps([request["body"].get("segments") for request in fake.create_requests]))
"""


def test_a_tuple_given_for_an_array_field_is_sent(hostile: Path) -> None:
    """create() types an array field as a Sequence, yet a tuple was dropped from the body (logged as a field Vozo
    may have changed): the job was created, and paid for, without it."""
    assert _python(hostile, TUPLES) == [[{"start": 1.0}]]
