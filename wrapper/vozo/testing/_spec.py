"""Request validation against openapi/vozo.yaml itself, so the fake refuses exactly what the spec refuses."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

# The wheel carries the spec next to this module; a checkout reads it from openapi/.
_CHECKOUT_SPEC = Path(__file__).resolve().parents[3] / "openapi" / "vozo.yaml"


@cache
def spec() -> dict[str, Any]:
    packaged = resources.files("vozo.testing").joinpath("vozo.yaml")
    text = packaged.read_text(encoding="utf-8") if packaged.is_file() else _CHECKOUT_SPEC.read_text(encoding="utf-8")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


@cache
def validator(create_path: str) -> Draft202012Validator:
    """The JSON schema of the request body of ``POST create_path``, components included for its $refs."""
    operation = spec()["paths"][create_path]["post"]
    schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    return Draft202012Validator({**schema, "components": spec()["components"]})


def first_error(create_path: str, body: Any) -> str | None:
    """The first way ``body`` breaks the request schema of ``POST create_path``, in words, or None when valid."""
    error = next(iter(sorted(validator(create_path).iter_errors(body), key=lambda e: list(e.path))), None)
    if error is None:
        return None
    where = ".".join(str(p) for p in error.path)
    return f"{where}: {error.message}" if where else error.message
