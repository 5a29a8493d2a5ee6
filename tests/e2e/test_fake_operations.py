"""FakeVozo serves every operation of the spec it is given, not only the job kinds: an operation Vozo's docs add
(``GET /v1/account/credits``) answers a body valid against its 200 response schema (its example when the spec gives
one), its request body is checked against the spec, and keys are checked as for every other operation."""

from __future__ import annotations

import asyncio
import copy
import threading
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
import yaml
from jsonschema import Draft202012Validator

import vozo
from vozo.testing import FakeVozo, Faults, ManualClock
from vozo.testing._spec import packaged_spec

ROOT = Path(__file__).resolve().parents[2]
KEY = "ops-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
CREDITS = {
    "type": "object",
    "required": ["credits", "currency", "plan"],
    "properties": {
        "credits": {"type": "integer", "minimum": 10},
        "currency": {"type": "string", "enum": ["USD", "EUR"]},
        "renews_at": {"type": "string", "format": "date-time"},
        "plan": {"$ref": "#/components/schemas/Plan"},
        "history": {"type": "array", "minItems": 2, "items": {"type": "number", "exclusiveMinimum": 0}},
    },
}
PLAN = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "minLength": 3}}}
GLOSSARY = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": {"type": "string"}, "terms": {"type": "array", "items": {"type": "string"}}},
}
GLOSSARY_EXAMPLE = {"id": "g-1", "name": "Products"}


def _json(schema: dict[str, Any], **media: Any) -> dict[str, Any]:
    return {"description": "ok", "content": {"application/json": {"schema": schema, **media}}}


@cache
def updated_spec() -> dict[str, Any]:
    """The SDK's spec after a docs update that adds operations which are not jobs."""
    spec: dict[str, Any] = copy.deepcopy(yaml.safe_load((ROOT / "openapi" / "vozo.yaml").read_text(encoding="utf-8")))
    spec["components"]["schemas"].update({"Credits": CREDITS, "Plan": PLAN, "Glossary": GLOSSARY})
    spec["paths"]["/v1/account/credits"] = {
        "get": {
            "operationId": "get_credits",
            "responses": {"200": _json({"$ref": "#/components/schemas/Credits"})},
        }
    }
    spec["paths"]["/v1/glossaries"] = {
        "post": {
            "operationId": "create_glossary",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Glossary"}}},
            },
            "responses": {"200": _json({"type": "object"}, examples={"one": {"value": GLOSSARY_EXAMPLE}})},
        }
    }
    spec["paths"]["/v1/health"] = {  # public: no key needed
        "get": {"security": [], "responses": {"200": _json({"type": "object"}, example={"ok": True})}}
    }
    spec["paths"]["/v1/languages"] = {  # a key is optional: the empty requirement
        "get": {"security": [{}, {"bearerAuth": []}], "responses": {"200": _json({"type": "array"}, example=["en"])}}
    }
    spec["paths"]["/v1/glossaries/{glossary_id}"] = {
        "get": {"responses": {"200": _json({"type": "object"}, example={"id": "g-1", "terms": ["Vozo"]})}},
        "delete": {"responses": {"204": {"description": "deleted"}}},
    }
    return spec


def _call(fake: FakeVozo, method: str, path: str, **options: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=fake.transport(), base_url="http://fake.test") as http:
            return await http.request(method, path, **options)

    return asyncio.run(go())


@pytest.fixture
def fake() -> FakeVozo:
    return FakeVozo(api_keys=[KEY], revoked_keys=["revoked"], spec=updated_spec())


def test_an_operation_without_an_example_answers_a_body_valid_against_its_schema(fake: FakeVozo) -> None:
    response = _call(fake, "GET", "/v1/account/credits", headers=AUTH)
    assert response.status_code == 200
    body = response.json()
    validator = Draft202012Validator(
        {"$ref": "#/components/schemas/Credits", "components": updated_spec()["components"]}
    )
    assert list(validator.iter_errors(body)) == []
    assert (body["credits"], body["currency"], len(body["history"]), body["plan"]["name"]) == (10, "USD", 2, "string")
    assert fake.requests["GET /v1/account/credits"] == 1


def test_an_operation_with_an_example_answers_it(fake: FakeVozo) -> None:
    assert _call(fake, "GET", "/v1/glossaries/g-1", headers=AUTH).json() == {"id": "g-1", "terms": ["Vozo"]}
    created = _call(fake, "POST", "/v1/glossaries", headers=AUTH, json={"name": "Products", "terms": ["Vozo"]})
    assert (created.status_code, created.json()) == (200, GLOSSARY_EXAMPLE)
    deleted = _call(fake, "DELETE", "/v1/glossaries/g-1", headers=AUTH)
    assert (deleted.status_code, deleted.content) == (204, b"")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"json": {"terms": ["Vozo"]}}, "'name' is a required property"),
        ({"json": {"name": 5}}, "name: 5 is not of type 'string'"),
        ({"content": b"name=x", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, "must be JSON"),
        ({"content": b"{", "headers": {"Content-Type": "application/json"}}, "not valid JSON"),
        # deeper than Python's parser goes, and the constants Python takes but JSON has not: 400, not a crash
        ({"content": b"[" * 100_000 + b"]" * 100_000, "headers": {"Content-Type": "application/json"}}, "not valid"),
        ({"content": b'{"name": NaN}', "headers": {"Content-Type": "application/json"}}, "not valid JSON"),
        ({}, "must be JSON"),  # the spec requires a body
    ],
    ids=["missing", "mistyped", "form", "truncated", "deep", "nan", "none"],
)
def test_request_bodies_are_checked_against_the_spec(fake: FakeVozo, options: dict[str, Any], message: str) -> None:
    options = dict(options)  # the parameter is shared by reruns: never changed in place
    headers = {**AUTH, **options.pop("headers", {})}
    response = _call(fake, "POST", "/v1/glossaries", headers=headers, **options)
    assert response.status_code == 400
    assert response.json()["code"] == "5"
    assert message in response.json()["message"]


@pytest.mark.parametrize(
    ("headers", "code"),
    [({}, "7"), ({"Authorization": "Bearer nope"}, "7"), ({"Authorization": "Bearer revoked"}, "1302")],
)
def test_keys_are_checked_as_for_every_operation(fake: FakeVozo, headers: dict[str, str], code: str) -> None:
    response = _call(fake, "GET", "/v1/account/credits", headers=headers)
    assert (response.status_code, response.json()["code"]) == (401, code)


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Bearer revoked"}])
def test_an_operation_that_needs_no_key_is_answered_without_one(fake: FakeVozo, headers: dict[str, str]) -> None:
    assert _call(fake, "GET", "/v1/health", headers=headers).json() == {"ok": True}
    assert _call(fake, "GET", "/v1/languages", headers=headers).json() == ["en"]
    assert _call(fake, "GET", "/v1/account/credits", headers=headers).status_code == 401  # the spec-wide security


def test_faults_apply_to_them_too() -> None:
    fake = FakeVozo(api_keys=[KEY], spec=updated_spec(), faults=Faults(burst=1))
    assert _call(fake, "GET", "/v1/account/credits", headers=AUTH).status_code == 503
    assert _call(fake, "GET", "/v1/account/credits", headers=AUTH).status_code == 200


def test_the_client_reaches_them_through_request() -> None:
    fake = FakeVozo(api_keys=[KEY], spec=updated_spec())

    async def go() -> Any:
        http = httpx.AsyncClient(transport=fake.transport())
        async with vozo.AsyncVozo(api_key=KEY, base_url="http://127.0.0.1:9", http_client=http) as client:
            return await client.request("GET", "/v1/account/credits")

    assert asyncio.run(go())["currency"] == "USD"


def test_the_default_spec_is_the_packages_and_unknown_paths_are_404() -> None:
    fake = FakeVozo(api_keys=[KEY])
    assert _call(fake, "GET", "/v1/account/credits", headers=AUTH).status_code == 404
    created = _call(fake, "POST", "/v1/video_generation", headers=AUTH, json={"audio_url": "https://m.test/a.mp3"})
    assert (created.status_code, created.json()["code"]) == (400, "5")  # job creates: checked as before


def test_a_spec_without_the_sdks_job_operations_is_refused() -> None:
    spec = copy.deepcopy(updated_spec())
    del spec["paths"]["/v1/media/translate"]
    with pytest.raises(ValueError, match=r"POST /v1/media/translate \(translations\)"):
        FakeVozo(spec=spec)
    del spec["paths"]["/v1/video_generation/{task_id}"]
    with pytest.raises(ValueError, match=r"GET /v1/video_generation/\{task_id\} \(lipsync\)"):
        FakeVozo(spec=spec)


def test_a_spec_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "vozo.yaml"
    path.write_text(yaml.safe_dump(updated_spec()), encoding="utf-8")
    fake = FakeVozo(api_keys=[KEY], spec=path)
    assert _call(fake, "GET", "/v1/glossaries/x", headers=AUTH).status_code == 200


@pytest.mark.parametrize(
    ("spec", "said"),
    [
        ("missing.yaml", "cannot read"),
        (".", "cannot read"),
        ("broken.yaml", "is not YAML or JSON"),
        ("list.yaml", "is not an OpenAPI document (a mapping), got list"),
        (42, "spec= takes a mapping or the path of a YAML or JSON file, got int"),
        ({"paths": []}, "the spec's paths must be a mapping"),
    ],
)
def test_a_spec_the_fake_cannot_use_is_a_vozo_error_naming_it(tmp_path: Path, monkeypatch, spec, said) -> None:
    """FakeVozo(spec=...) raised FileNotFoundError, IsADirectoryError, yaml's ParserError, AttributeError or
    TypeError: raw errors from inside the fake, where every other refusal is an InvalidInputError."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "broken.yaml").write_text("paths: [\n", encoding="utf-8")
    (tmp_path / "list.yaml").write_text("- 1\n", encoding="utf-8")
    with pytest.raises(vozo.InvalidInputError, match="FakeVozo") as raised:
        FakeVozo(spec=spec)
    assert said in str(raised.value)


REFERENCE, AUDIO = "https://m.example.com/presenter.mp4", "https://m.example.com/voice.mp3"


def test_hold_creates_makes_the_job_and_holds_its_answer_until_released() -> None:
    fake = FakeVozo(api_keys=["k"], clock=ManualClock())
    with fake.serve() as url, vozo.Vozo(api_key="k", base_url=url) as client, fake.hold_creates() as hold:
        jobs: list[vozo.types.Job] = []

        def create() -> None:
            jobs.append(client.lipsync.create(reference_file_url=REFERENCE, audio_url=AUDIO))

        creating = threading.Thread(target=create)
        creating.start()
        assert hold.held.wait(20)  # only against a hung test: the event says when, not the clock
        assert jobs == []
        assert list(fake.jobs) == hold.task_ids  # the job exists while its answer is held
        hold.release()
        creating.join(20)
    assert [job.task_id for job in jobs] == hold.task_ids


@pytest.mark.parametrize(
    "settings",
    [
        {"step_seconds": 0},
        {"step_seconds": -1.0},
        {"step_seconds": float("nan")},
        {"step_seconds": float("inf")},
        {"step_seconds": True},
        {"max_active_jobs": -1},
        {"max_active_jobs": 2.5},
        {"api_keys": [""]},
        {"api_keys": ["has space"]},
        {"revoked_keys": ["new\nline"]},
        {"api_keys": "test-key"},  # its letters would each have been a key, and "test-key" refused with a 401
        {"revoked_keys": b"old-key"},
    ],
)
def test_fakevozo_refuses_settings_no_client_could_meet(settings: dict[str, object]) -> None:
    with pytest.raises(vozo.InvalidInputError) as refused:
        FakeVozo(**settings)  # type: ignore[arg-type]
    assert "has space" not in str(refused.value)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        # the class, not a clock: every status answer was a 500 (a ManualClock instance minus a float), retried
        ({"clock": ManualClock}, "clock must be a function returning seconds"),
        ({"clock": "monotonic"}, "clock must be a function returning seconds"),
        ({"faults": {"rate_limit": 0.5}}, "faults must be a Faults"),  # every request was a 500
        ({"spec": "/nonexistent/vozo.yaml"}, r"spec=\.\.\.\) cannot read"),  # a bare FileNotFoundError
        # Python, not YAML: a bare YAML error
        ({"spec": Path(__file__)}, r"spec=\.\.\.\): .* is not (an OpenAPI document|YAML or JSON)"),
    ],
)
def test_fakevozo_refuses_a_clock_faults_or_spec_it_cannot_use(settings: dict[str, object], message: str) -> None:
    with pytest.raises(vozo.InvalidInputError, match=message):
        FakeVozo(**settings)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fault", "value"),
    [("rate_limit", 2), ("truncate_downloads", -0.1), ("stall", float("nan")), ("slow", -1), ("burst", "3")],
)
def test_faults_refuse_what_would_inject_something_else_than_asked(fault: str, value: object) -> None:
    with pytest.raises(vozo.InvalidInputError, match=f"Faults.{fault} "):
        Faults(**{fault: value})  # type: ignore[arg-type]
    faults = Faults()
    with pytest.raises(vozo.InvalidInputError, match=f"Faults.{fault} "):
        setattr(faults, fault, value)  # as a test may change fake.faults between steps


def test_the_in_process_transport_serves_the_sync_client_too(tmp_path: Path) -> None:
    """fake.transport() was httpx's ASGITransport, async only: a sync Vozo over it failed with a raw AttributeError
    ('no attribute handle_request'), leaving sync users only the socket of serve()."""
    fake = FakeVozo(api_keys=[KEY], step_seconds=1.0, clock=ManualClock())
    with (
        httpx.Client(transport=fake.transport()) as http,  # the user's: closing it stops the transport's loop
        vozo.Vozo(api_key=KEY, base_url="https://vozo.test", http_client=http) as client,
    ):
        status = client.lipsync.create_and_wait(
            reference_file_url="https://x.test/a.mp4",
            audio_url="https://x.test/a.mp3",
            poll_interval=0.001,
            on_update=lambda _: fake.advance(1.0),
        )
        path = client.download(status, tmp_path / "talk.mp4")
        assert path.read_bytes()[4:8] == b"ftyp"  # the fake's sample MP4
        with pytest.raises(vozo.AuthenticationError):
            client.with_options(api_key="wrong").lipsync.get("x")
    threads = [thread for thread in threading.enumerate() if thread.name == "fake-vozo-in-process"]
    for thread in threads:
        thread.join(timeout=60)  # a safety net only: it ends as soon as the loop stops
    assert not any(thread.is_alive() for thread in threads)


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"reset_before": 1.0}, vozo.APIConnectionError),
        ({"reset_after": 1.0}, vozo.APIConnectionError),
        ({"truncate_downloads": 1.0}, vozo.DownloadError),
    ],
)
@pytest.mark.parametrize("side", ["sync", "asyncio", "trio"])
def test_a_dropped_connection_in_process_is_the_error_a_socket_gives(fault, error, side, tmp_path: Path) -> None:
    """In process there is no connection to drop: httpx's ASGITransport raised a bare AssertionError instead."""
    fake = FakeVozo(api_keys=[KEY], step_seconds=1.0, clock=ManualClock(), faults=Faults(seed=1, **fault))
    create = {"reference_file_url": "https://x.test/a.mp4", "audio_url": "https://x.test/a.mp3", "poll_interval": 0.001}

    def through_sync() -> None:
        with httpx.Client(transport=fake.transport()) as http:
            client = vozo.Vozo(api_key=KEY, base_url="https://vozo.test", http_client=http, max_retries=0)
            client.download(client.lipsync.create_and_wait(**create, on_update=lambda _: fake.advance(1.0)), tmp_path)

    async def through_async() -> None:
        async with httpx.AsyncClient(transport=fake.transport()) as http:
            client = vozo.AsyncVozo(api_key=KEY, base_url="https://vozo.test", http_client=http, max_retries=0)
            status = await client.lipsync.create_and_wait(**create, on_update=lambda _: fake.advance(1.0))
            await client.download(status, tmp_path)

    with pytest.raises(error, match="FakeVozo dropped the connection"):
        {
            "sync": through_sync,
            "asyncio": lambda: asyncio.run(through_async()),
            "trio": lambda: trio.run(through_async),
        }[side]()
    assert list(tmp_path.iterdir()) == []  # no file, not even a partial one


def test_the_in_process_transport_serves_async_vozo_under_trio_too(tmp_path: Path) -> None:
    """The app runs on asyncio: under trio, fake.transport() failed with a raw RuntimeError (no running event loop)
    at the first request. Trio's requests now go to the transport's own loop, as a sync client's do."""
    fake = FakeVozo(api_keys=[KEY], step_seconds=1.0, clock=ManualClock())

    async def through_trio() -> Path:
        async with (
            httpx.AsyncClient(transport=fake.transport()) as http,
            vozo.AsyncVozo(api_key=KEY, base_url="https://vozo.test", http_client=http) as client,
        ):
            status = await client.lipsync.create_and_wait(
                reference_file_url="https://x.test/a.mp4",
                audio_url="https://x.test/a.mp3",
                poll_interval=0.001,
                on_update=lambda _: fake.advance(1.0),
            )
            return await client.download(status, tmp_path)

    assert trio.run(through_trio).read_bytes()[4:8] == b"ftyp"  # the fake's sample MP4
    threads = [thread for thread in threading.enumerate() if thread.name == "fake-vozo-in-process"]
    for thread in threads:
        thread.join(timeout=60)  # a safety net only: closing the client stops the transport's loop
    assert not any(thread.is_alive() for thread in threads)


def test_a_status_carries_every_field_the_spec_requires_at_every_stage() -> None:
    """A kind whose status schema requires more than `status` (`progress`, `err_code`, a `result` from the start):
    FakeVozo answered `{"status": "queuing"}`, which the spec it serves refuses, and the client with it
    ("the required field 'err_code' is missing")."""
    spec = copy.deepcopy(packaged_spec())
    schemas = spec["components"]["schemas"]
    status = schemas["MediaTranslateJobStatus"]
    status["properties"]["progress"] = {"type": "integer", "minimum": 0, "maximum": 100}
    status["required"] = ["status", "err_code", "progress", "result"]
    schemas["MediaTranslateResult"]["required"] = ["video_url"]
    clock = ManualClock()
    fake = FakeVozo(api_keys=[KEY], step_seconds=1.0, clock=clock, spec=spec)
    validator = Draft202012Validator({**status, "components": spec["components"]})
    seen = []
    with fake.serve() as url, vozo.Vozo(api_key=KEY, base_url=url) as client:
        job = client.translations.create(media_url="https://m.test/t.mp4", target_language="es")
        while not seen or seen[-1]["status"] != "done":
            body = httpx.get(f"{url}/v1/media/translate/{job.task_id}", headers=AUTH).json()
            errors = [error.message for error in validator.iter_errors(body)]
            assert errors == [], (body, errors)
            seen.append(body)
            assert client.translations.get(job.task_id).status  # the client reads it as well
            fake.advance(1.0)
    assert seen[-1]["result"]["video_url"].endswith(".mp4")  # a real result link once done, not a placeholder


def test_a_create_answer_carries_every_field_the_job_schema_requires() -> None:
    """A Job requiring more than task_id: FakeVozo answered {"task_id": ...} alone, and every create through a
    client generated from that spec failed with "the required field 'created_at' is missing" after the fake had
    made the job."""
    spec = copy.deepcopy(packaged_spec())
    job = spec["components"]["schemas"]["Job"]
    job["properties"]["created_at"] = {"type": "string", "format": "date-time"}
    job["required"] = ["task_id", "created_at"]
    fake = FakeVozo(api_keys=[KEY], step_seconds=0.01, spec=spec)
    with fake.serve() as url, vozo.Vozo(api_key=KEY, base_url=url) as client:
        created = client.lipsync.create(reference_file_url="https://m.test/p.mp4", audio_url="https://m.test/v.mp3")
    assert created.task_id in fake.jobs
    answer = {"task_id": created.task_id, **created.additional_properties}  # this client's Job lists task_id only
    assert list(Draft202012Validator(job).iter_errors(answer)) == []


def test_closing_the_in_process_transport_under_a_sync_request_is_the_error_a_socket_gives() -> None:
    """The sync client's http_client closed while a create's answer is pending (another thread, a fixture's
    teardown): the transport's loop stopped and the create raised a bare concurrent.futures.CancelledError, no
    VozoError. It is now a dropped connection, so the create says the job may exist, as over a socket."""
    fake = FakeVozo(api_keys=[KEY], clock=ManualClock())
    http = httpx.Client(transport=fake.transport())
    client = vozo.Vozo(api_key=KEY, base_url="https://vozo.test", http_client=http, max_retries=0)
    outcome: list[object] = []

    def create() -> None:
        try:
            outcome.append(client.lipsync.create(reference_file_url=REFERENCE, audio_url=AUDIO))
        except BaseException as exc:  # what the user would see, whatever it is
            outcome.append(exc)

    with fake.hold_creates() as hold:
        creating = threading.Thread(target=create)
        creating.start()
        assert hold.held.wait(20)  # only against a hung test: the event says when, not the clock
        http.close()
        creating.join(20)
    [error] = outcome
    assert isinstance(error, vozo.APIConnectionError), error
    assert "FakeVozo" in str(error)


@pytest.mark.parametrize(
    ("media_url", "export_type", "results"),
    [
        ("https://m.test/talk.mp3", None, ["audio_url", "subtitle_url"]),
        ("https://m.test/talk.mp4", "audio", ["audio_url", "subtitle_url"]),
        ("https://m.test/talk.mp4", None, ["audio_url", "subtitle_url", "video_url"]),
        ("https://m.test/talk.mp4", "all", ["audio_url", "subtitle_url", "video_url"]),
    ],
    ids=["audio-input", "audio-export", "video-input", "all"],
)
def test_an_audio_only_translation_gives_no_video(media_url, export_type, results) -> None:
    """FakeVozo gave a dubbed video for an audio input (Vozo: "auto: match input type"; audio cannot be exported as
    video) and for export_type audio, so code downloading it passed its tests and would fail at Vozo."""
    fake = FakeVozo(api_keys=[KEY], step_seconds=1.0, clock=ManualClock())
    http = httpx.Client(transport=fake.transport())
    with vozo.Vozo(api_key=KEY, base_url="https://vozo.test", http_client=http) as client:
        extra = {} if export_type is None else {"export_type": export_type}
        job = client.translations.create(media_url=media_url, target_language="es", **extra)
        fake.advance(100)
        status = client.translations.get(job.task_id)
    assert str(status.status) == "done"
    assert sorted(status.result.to_dict()) == results


def test_a_job_create_the_spec_answers_with_202_is_answered_202() -> None:
    """A create documented as `202 Job queued` is answered as the spec says: a client generated from it parses
    the 202 (an undocumented 200 would be an `undocumented answer`)."""
    spec = copy.deepcopy(packaged_spec())
    responses = spec["paths"]["/v1/media/translate"]["post"]["responses"]
    responses["202"] = responses.pop("200")
    fake = FakeVozo(api_keys=[KEY], spec=spec)
    with fake.serve() as url:
        body = {"media_url": "https://m.test/a.mp4", "target_language": "es", "media_type": "video"}
        body |= {"source_language": "auto", "export_type": "auto"}
        answer = httpx.post(f"{url}/v1/media/translate", json=body, headers=AUTH)
    assert answer.status_code == 202, answer.text
    assert answer.json()["task_id"]


def test_serving_where_the_fake_cannot_listen_is_a_vozo_error_saying_what_to_do(capfd) -> None:
    """fake.serve(port=<in use>) raised a bare RuntimeError "FakeVozo did not start on ...", with neither why nor what
    to do; an out-of-range port also printed the server thread's traceback."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(vozo.VozoError, match=rf"cannot listen on 127\.0\.0\.1:{port}: .*pass port=0"):
            FakeVozo().serve(port=port).__enter__()
    for bad in (70000, -1, "80"):
        with pytest.raises(vozo.InvalidInputError, match="port must be a whole number from 0 to 65535"):
            FakeVozo().serve(port=bad).__enter__()  # type: ignore[arg-type]
    assert "Traceback" not in capfd.readouterr().err
