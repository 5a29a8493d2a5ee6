"""FakeVozo checks keys on the job routes as the spec's ``security`` says, like on every other operation, and reads
the key where the spec's security scheme puts it."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from vozo._kinds import kind_named
from vozo.testing import FakeVozo, ManualClock

ROOT = Path(__file__).resolve().parents[2]
KEY = "sec-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
LIPSYNC = kind_named("lipsync")
BODY = {
    "reference_file_url": "https://m.example.com/presenter.mp4",
    "audio_url": "https://m.example.com/voice.mp3",
    "model": "standard_v1",
    "reference_file_type": "video",
}
NO_KEYS: list[dict[str, str]] = [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Bearer revoked"}]


def _spec(change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    spec: dict[str, Any] = copy.deepcopy(yaml.safe_load((ROOT / "openapi" / "vozo.yaml").read_text(encoding="utf-8")))
    change(spec)
    return spec


def _open(*methods: str) -> Callable[[dict[str, Any]], None]:
    """Marks the lipsync create ("post") and/or status ("get") operations `security: []`."""

    def change(spec: dict[str, Any]) -> None:
        paths = {"post": LIPSYNC.create_path, "get": LIPSYNC.status_path}
        for method in methods:
            spec["paths"][paths[method]][method]["security"] = []

    return change


def _fake(spec: dict[str, Any] | None = None) -> FakeVozo:
    return FakeVozo(api_keys=[KEY], revoked_keys=["revoked"], clock=ManualClock(), step_seconds=1.0, spec=spec)


def _call(fake: FakeVozo, method: str, path: str, **options: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=fake.transport(), base_url="http://fake.test") as http:
            return await http.request(method, path, **options)

    return asyncio.run(go())


def _run_to_done(fake: FakeVozo, task_id: str, **options: Any) -> list[str]:
    """The statuses the status route answers, the fake's clock moved one step after each, until done."""
    seen: list[str] = []
    for _ in range(10):  # a bound, should the job never end
        response = _call(fake, "GET", LIPSYNC.status_path.format(task_id=task_id), **options)
        assert response.status_code == 200, response.text
        seen.append(response.json()["status"])
        if seen[-1] in ("done", "failed"):
            break
        fake.advance(1.0)
    return seen


def _created(fake: FakeVozo, **options: Any) -> str:
    response = _call(fake, "POST", LIPSYNC.create_path, json=BODY, **options)
    assert response.status_code == 200, response.text
    task_id: str = response.json()["task_id"]
    return task_id


def _no_security(spec: dict[str, Any]) -> None:
    del spec["security"]


def _null_security(spec: dict[str, Any]) -> None:
    spec["security"] = None  # not valid OpenAPI, but nothing to require


@pytest.mark.parametrize(
    "change", [_open("post", "get"), _no_security, _null_security], ids=["security: []", "no security", "null"]
)
@pytest.mark.parametrize("headers", NO_KEYS)
def test_a_job_whose_routes_the_spec_opens_runs_to_done_without_a_key(
    change: Callable[[dict[str, Any]], None], headers: dict[str, str]
) -> None:
    fake = _fake(_spec(change))
    task_id = _created(fake, headers=headers)
    assert _run_to_done(fake, task_id, headers=headers) == ["pending", "processing", "done"]


@pytest.mark.parametrize("headers", NO_KEYS)
def test_an_open_status_answers_without_a_key_for_a_job_created_with_one(headers: dict[str, str]) -> None:
    fake = _fake(_spec(_open("get")))
    response = _call(fake, "POST", LIPSYNC.create_path, json=BODY, headers=headers)
    assert response.status_code == 401  # the create still needs a key
    task_id = _created(fake, headers=AUTH)
    assert _run_to_done(fake, task_id, headers=headers) == ["pending", "processing", "done"]


@pytest.mark.parametrize(("headers", "code"), zip(NO_KEYS, ["7", "7", "1302"], strict=True))
def test_the_default_spec_refuses_job_routes_without_a_valid_key(headers: dict[str, str], code: str) -> None:
    fake = _fake()
    task_id = _created(fake, headers=AUTH)
    created = _call(fake, "POST", LIPSYNC.create_path, json=BODY, headers=headers)
    status = _call(fake, "GET", LIPSYNC.status_path.format(task_id=task_id), headers=headers)
    assert [(r.status_code, r.json()["code"]) for r in (created, status)] == [(401, code)] * 2
    assert list(fake.jobs) == [task_id]


def _scheme(scheme: dict[str, str]) -> Callable[[dict[str, Any]], None]:
    def change(spec: dict[str, Any]) -> None:
        spec["components"]["securitySchemes"] = {"vozoKey": scheme}
        spec["security"] = [{"vozoKey": []}]

    return change


@pytest.mark.parametrize(
    ("scheme", "presented"),
    [
        ({"type": "apiKey", "in": "header", "name": "X-Vozo-Key"}, {"headers": {"x-vozo-key": KEY}}),
        ({"type": "apiKey", "in": "query", "name": "api_key"}, {"params": {"api_key": KEY}}),
        ({"type": "apiKey", "in": "cookie", "name": "vozo_key"}, {"headers": {"Cookie": f"vozo_key={KEY}"}}),
        ({"type": "http", "scheme": "Token"}, {"headers": {"Authorization": f"token {KEY}"}}),
    ],
)
def test_the_key_is_read_where_the_specs_security_scheme_puts_it(
    scheme: dict[str, str], presented: dict[str, Any]
) -> None:
    fake = _fake(_spec(_scheme(scheme)))
    response = _call(fake, "POST", LIPSYNC.create_path, json=BODY, headers=AUTH)  # the Bearer header: not the scheme
    assert (response.status_code, response.json()["code"]) == (401, "7")
    task_id = _created(fake, **presented)
    assert _run_to_done(fake, task_id, **presented) == ["pending", "processing", "done"]
