"""The client holds to the same contract as the spec and the mock: what protects our users.

- every body schemathesis generates as valid survives the generated models (to_dict(from_dict(x)) == x) and,
  sent by the wrapper, passes Prism's request validation (no sl-violations);
- every response Prism's dynamic mode produces, with extra properties added, is parsed by the wrapper and the
  extra properties survive;
- every operation in the spec is reached by some wrapper method, so a new endpoint cannot go unnoticed;
- and the net works: against a deliberately broken copy of the spec, these same checks fail.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.generation.modes import GenerationMode

import vozo
from tests.prism import SPEC, Prism
from vozo_api_client.api.lipsync import create_lipsync_job
from vozo_api_client.api.reusable_lipsync import create_reusable_lipsync_job
from vozo_api_client.api.translations import create_translation_job
from vozo_api_client.models import (
    Job,
    MediaTranslateRequest,
    ReusableModelVideoGenerationRequest,
    VideoGenerationRequest,
)

pytestmark = pytest.mark.prism  # needs Prism (node_modules/.bin/prism)

GENERATION_SCHEMA = schemathesis.openapi.from_path(SPEC)
SPEC_DOC = yaml.safe_load(SPEC.read_text())
CREATES = {
    "create_lipsync_job": ("/v1/video_generation", VideoGenerationRequest, create_lipsync_job),
    "create_reusable_lipsync_job": (
        "/v1/reusable_lipsync_model_video_generation",
        ReusableModelVideoGenerationRequest,
        create_reusable_lipsync_job,
    ),
    "create_translation_job": ("/v1/media/translate", MediaTranslateRequest, create_translation_job),
}
HYPOTHESIS = settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**31), 2**31) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
EXTRAS = st.dictionaries(st.from_regex(r"x_[a-z]{1,10}", fullmatch=True), JSON_VALUES, max_size=3)
# One TLS context for every example's transport: each new one reads the CA bundle again (~40 ms of CPU, more than
# the exchange with Prism itself), and Prism is plain http on 127.0.0.1 anyway.
TLS = httpx.create_ssl_context()


class Exchange:
    """What one wrapper call sent and got back, as seen on the wire."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.responses: list[httpx.Response] = []
        self.bodies: list[Any] = []


class InjectingTransport(httpx.BaseTransport):
    """Passes requests to the server; adds ``extras`` to every JSON object of a 200 body; records everything."""

    def __init__(self, exchange: Exchange, extras: dict[str, Any] | None = None) -> None:
        self._inner = httpx.HTTPTransport(verify=TLS)
        self._exchange = exchange
        self._extras = extras or {}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        response.read()
        self._exchange.requests.append(request)
        body = response.content
        if response.status_code == 200 and self._extras:
            data = _with_extras(json.loads(body), self._extras)
            body = json.dumps(data).encode()
        self._exchange.responses.append(response)
        self._exchange.bodies.append(json.loads(body) if body else None)
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() != "content-length"]
        return httpx.Response(response.status_code, headers=headers, content=body)


def _with_extras(data: Any, extras: dict[str, Any]) -> Any:
    if isinstance(data, dict):
        return {**{k: _with_extras(v, extras) for k, v in data.items()}, **extras}
    return data


def wrapper(server_url: str, exchange: Exchange, extras: dict[str, Any] | None = None) -> vozo.Vozo:
    http = httpx.Client(transport=InjectingTransport(exchange, extras))
    return vozo.Vozo(api_key="vz-contract", base_url=server_url, http_client=http, max_retries=0)


# --- requests ---------------------------------------------------------------------------------------------------


def check_request(server_url: str, operation_id: str, body: dict[str, Any]) -> None:
    """A valid body survives the generated model and, sent by the wrapper, passes Prism's request validation."""
    _, model_class, endpoint = CREATES[operation_id]
    model = model_class.from_dict(copy.deepcopy(body))
    assert model.to_dict() == body, f"{operation_id}: the generated model does not round-trip {body!r}"
    exchange = Exchange()
    with wrapper(server_url, exchange) as client:
        client.call(endpoint.sync_detailed, Job, creates_job=True, body=model)
    sent = json.loads(exchange.requests[0].content)
    assert sent == body, f"{operation_id}: the wrapper sent {sent!r} for {body!r}"
    violations = exchange.responses[0].headers.get("sl-violations")
    assert violations is None, f"{operation_id}: Prism found the request invalid: {violations}"


@pytest.mark.parametrize("operation_id", sorted(CREATES))
def test_valid_request_bodies_pass_through_the_models_and_the_wrapper(prism: Prism, operation_id: str) -> None:
    path = CREATES[operation_id][0]
    strategy = GENERATION_SCHEMA[path]["POST"].as_strategy(generation_mode=GenerationMode.POSITIVE)

    @HYPOTHESIS
    @given(case=strategy)
    def run(case: schemathesis.Case) -> None:
        check_request(prism.url, operation_id, case.body)

    run()


# --- responses --------------------------------------------------------------------------------------------------

STATUS_CALLS: dict[str, Callable[[vozo.Vozo], Any]] = {
    "create_lipsync_job": lambda c: c.lipsync.create(
        reference_file_url="https://m.example.com/p.mp4", audio_url="https://m.example.com/a.mp3"
    ),
    "get_lipsync_job": lambda c: c.lipsync.get("6f1c2b9e"),
    "create_reusable_lipsync_job": lambda c: c.reusable_lipsync.create(
        model_id="mdl_1", audio_url="https://m.example.com/a.wav"
    ),
    "create_translation_job": lambda c: c.translations.create(
        media_url="https://m.example.com/k.mp4", target_language="es"
    ),
    "get_translation_job": lambda c: c.translations.get("6f1c2b9e"),
}


def check_response(server_url: str, operation_id: str, extras: dict[str, Any]) -> None:
    """Prism's random response, with extra properties added, parses; to_dict gives back exactly what came."""
    exchange = Exchange()
    with wrapper(server_url, exchange, extras) as client:
        parsed = STATUS_CALLS[operation_id](client)
    assert parsed.to_dict() == exchange.bodies[-1], f"{operation_id}: fields were lost or changed in parsing"


@pytest.mark.parametrize("operation_id", sorted(STATUS_CALLS))
def test_dynamic_responses_with_extra_properties_parse_and_keep_them(prism_dynamic: Prism, operation_id: str) -> None:
    @HYPOTHESIS
    @given(extras=EXTRAS)
    def run(extras: dict[str, Any]) -> None:
        check_response(prism_dynamic.url, operation_id, extras)

    run()


# --- coverage -----------------------------------------------------------------------------------------------------

WRAPPER_METHODS: list[Callable[[Any], Any]] = [
    *STATUS_CALLS.values(),
    lambda c: c.reusable_lipsync.get("6f1c2b9e"),
    lambda c: c.lipsync.wait("6f1c2b9e", poll_interval=0.01),
    lambda c: c.translations.wait("6f1c2b9e", poll_interval=0.01),
]


def spec_operations() -> set[tuple[str, str]]:
    methods = {"get", "put", "post", "delete", "patch"}
    return {(m.upper(), path) for path, item in SPEC_DOC["paths"].items() for m in item if m in methods}


def operation_of(request: httpx.Request) -> tuple[str, str]:
    for method, template in spec_operations():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if request.method == method and re.match(pattern, request.url.path):
            return method, template
    raise AssertionError(f"the wrapper called {request.method} {request.url.path}, which the spec does not have")


def test_every_spec_operation_is_reached_by_a_wrapper_method(prism: Prism) -> None:
    exchange = Exchange()
    with wrapper(prism.url, exchange) as client:
        for call in WRAPPER_METHODS:
            call(client)
    reached = {operation_of(request) for request in exchange.requests}
    missing = spec_operations() - reached
    assert not missing, f"operations in openapi/vozo.yaml with no wrapper method: {sorted(missing)}"
    ids = {op["operationId"] for item in SPEC_DOC["paths"].values() for op in item.values()}
    assert ids == set(STATUS_CALLS), "a spec operationId has no wrapper call in this test: add the wrapper method"


def test_the_async_client_reaches_the_same_operations(prism: Prism) -> None:
    async def run() -> set[tuple[str, str]]:
        requests: list[httpx.Request] = []
        http = httpx.AsyncClient(event_hooks={"request": [_append(requests)]})
        async with vozo.AsyncVozo(api_key="vz-contract", base_url=prism.url, http_client=http) as client:
            await client.lipsync.create(
                reference_file_url="https://m.example.com/p.mp4", audio_url="https://m.example.com/a.mp3"
            )
            await client.lipsync.get("t")
            await client.reusable_lipsync.create(model_id="mdl_1", audio_url="https://m.example.com/a.wav")
            await client.translations.create(media_url="https://m.example.com/k.mp4", target_language="es")
            await client.translations.get("t")
        return {operation_of(request) for request in requests}

    assert asyncio.run(run()) == spec_operations()


def _append(requests: list[httpx.Request]) -> Callable[[httpx.Request], Any]:
    async def hook(request: httpx.Request) -> None:
        requests.append(request)

    return hook


# --- the net works ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def broken_prism(tmp_path_factory: pytest.TempPathFactory):
    """Prism --dynamic serving a spec with a required request field renamed and a response field retyped."""
    doc = copy.deepcopy(SPEC_DOC)
    schemas = doc["components"]["schemas"]
    request = schemas["VideoGenerationRequest"]
    request["properties"]["audio_file_url"] = request["properties"].pop("audio_url")
    request["required"] = ["audio_file_url" if f == "audio_url" else f for f in request["required"]]
    schemas["JobStatus"]["properties"]["status"] = {"type": "integer", "minimum": 0}
    folder = tmp_path_factory.mktemp("broken")
    spec = Path(folder) / "broken.yaml"
    spec.write_text(yaml.safe_dump(doc))
    with Prism(spec, Path(folder) / "prism.log", dynamic=True) as server:
        yield server


def test_a_renamed_required_request_field_is_caught(broken_prism: Prism) -> None:
    body = {
        "reference_file_url": "https://m.example.com/p.mp4",
        "audio_url": "https://m.example.com/a.mp3",
        "model": "standard_v1",
        "reference_file_type": "video",
    }
    with pytest.raises((AssertionError, vozo.APIStatusError)) as caught:
        check_request(broken_prism.url, "create_lipsync_job", body)
    assert "audio_file_url" in str(caught.value) or getattr(caught.value, "status_code", None) in (400, 422)


def test_a_retyped_response_field_is_caught(broken_prism: Prism) -> None:
    with pytest.raises(vozo.APIResponseValidationError):
        check_response(broken_prism.url, "get_lipsync_job", {})
