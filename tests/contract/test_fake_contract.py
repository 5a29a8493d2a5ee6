"""FakeVozo is held to the spec like the mock: schemathesis, positive and negative cases, every check.

Unlike Prism, the fake checks keys and answers undeclared methods with 405 and Allow, so nothing is excluded.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis

from tests.prism import SPEC
from vozo.testing import FakeVozo

from .conftest import MAX_EXAMPLES

KEY = "contract-key"


@pytest.fixture(scope="module")
def fake_schema() -> Iterator[schemathesis.schemas.BaseSchema]:
    fake = FakeVozo(api_keys=[KEY], step_seconds=0.01, max_active_jobs=1_000_000)
    with fake.serve() as url:
        schema = schemathesis.openapi.from_path(SPEC)
        schema.config.update(base_url=url, headers={"Authorization": f"Bearer {KEY}"})
        schema.config.generation.update(max_examples=MAX_EXAMPLES)
        yield schema


fake = schemathesis.pytest.from_fixture("fake_schema")


@fake.parametrize()
def test_the_fake_honours_the_spec(case: schemathesis.Case) -> None:
    case.call_and_validate()
