"""Schemathesis schemas bound to the Prism servers started in tests/conftest.py."""

from __future__ import annotations

import pytest
import schemathesis

from tests.prism import SPEC, Prism

MAX_EXAMPLES = 40  # per operation and mode: the whole contract suite stays well under a minute on 2 cores


def bound_schema(server: Prism) -> schemathesis.schemas.BaseSchema:
    schema = schemathesis.openapi.from_path(SPEC)
    schema.config.update(base_url=server.url)
    schema.config.generation.update(max_examples=MAX_EXAMPLES)
    return schema


@pytest.fixture(scope="session")
def vozo_schema(prism: Prism) -> schemathesis.schemas.BaseSchema:
    return bound_schema(prism)


@pytest.fixture(scope="session")
def vozo_schema_dynamic(prism_dynamic: Prism) -> schemathesis.schemas.BaseSchema:
    return bound_schema(prism_dynamic)
