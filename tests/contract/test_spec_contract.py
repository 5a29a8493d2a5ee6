"""The spec and the mock agree: schemathesis (positive and negative cases, every check) against Prism.

Excluded, because Prism cannot honour them and saying so is more honest than a fake pass:
- ignored_auth: Prism accepts any bearer token;
- unsupported_method: Prism answers undeclared methods 405 without an Allow header;
- response_schema_conformance for negative cases only: Prism answers a body it cannot parse with its own shape;
- not_a_server_error for negative cases whose Content-Type is not a media type at all: Prism's content-type
  parser throws and it answers 500 ("invalid media type").
Cases this mock cannot answer at all are not sent to it (hypothesis.assume; Hypothesis generates others): a
Content-Type that is no media type ("DQ") can kill Prism (whatwg-mimetype throws uncaught: every later test then
fails), and Node's HTTP parser answers a Content-Length it cannot frame ("1bAw") with a bare 400 before Prism sees it.
Anything else that fails is a spec defect, fixed in openapi/overlay.yaml.
"""

from __future__ import annotations

import re
from typing import Any

import hypothesis
import pytest
import schemathesis
from schemathesis import checks

from .conftest import bound_schema

pytestmark = pytest.mark.prism  # needs Prism (node_modules/.bin/prism)

PRISM_CANNOT = [checks.ignored_auth, checks.unsupported_method]


_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MEDIA_TYPE = re.compile(rf'^\s*{_TOKEN}/{_TOKEN}\s*(;\s*{_TOKEN}=({_TOKEN}|"[^"]*")\s*)*$')


def excluded_for(case: schemathesis.Case) -> list[Any]:
    if case.meta is None or not case.meta.generation.mode.is_negative:
        return PRISM_CANNOT
    excluded = [*PRISM_CANNOT, checks.response_schema_conformance]
    content_type = next((v for k, v in (case.headers or {}).items() if k.lower() == "content-type"), None)
    if content_type is not None and not _MEDIA_TYPE.match(content_type):
        excluded.append(checks.not_a_server_error)
    return excluded


def mock_can_answer(case: schemathesis.Case) -> bool:
    headers = {name.lower(): value for name, value in (case.headers or {}).items()}
    content_type = headers.get("content-type")
    if content_type is not None and not _MEDIA_TYPE.match(content_type):
        return False
    return "content-length" not in headers and "transfer-encoding" not in headers


static = schemathesis.pytest.from_fixture("vozo_schema")
dynamic = schemathesis.pytest.from_fixture("vozo_schema_dynamic")


@static.parametrize()
def test_prism_static_honours_the_spec(case: schemathesis.Case) -> None:
    hypothesis.assume(mock_can_answer(case))
    case.call_and_validate(excluded_checks=excluded_for(case))


@dynamic.parametrize()
def test_prism_dynamic_honours_the_spec(case: schemathesis.Case) -> None:
    hypothesis.assume(mock_can_answer(case))
    case.call_and_validate(excluded_checks=excluded_for(case))


def test_the_stateful_workflow_follows_the_task_id_links(prism) -> None:
    """create -> get through the OpenAPI links the overlay declares; asserts the links were really followed."""
    followed: list[tuple[str, str]] = []

    class Workflow(bound_schema(prism).as_state_machine()):  # type: ignore[misc]
        def after_call(self, response: Any, case: schemathesis.Case) -> None:
            super().after_call(response, case)
            if case.method == "GET" and case.path_parameters:
                followed.append((case.path, case.path_parameters["task_id"]))

        def validate_response(self, response: Any, case: schemathesis.Case, **kwargs: Any) -> None:
            case.validate_response(response, excluded_checks=excluded_for(case), transport_kwargs=kwargs or None)

    Workflow.run(settings=hypothesis.settings(max_examples=25, stateful_step_count=6, deadline=None, database=None))
    linked = {path for path, task_id in followed if task_id == "6f1c2b9e-3a52-4d8e-9b7a-2c4f0e1d8a37"}
    assert linked == {"/v1/video_generation/{task_id}", "/v1/media/translate/{task_id}"}, followed
