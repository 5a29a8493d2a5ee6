"""Optional parts of the SDK: importing one without its extra names the ``pip install`` that fixes it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from vozo._errors import MissingExtraError

# The third-party import names each extra installs (pyproject.toml's [project.optional-dependencies]).
EXTRA_MODULES = {
    "cli": ("click", "rich", "filelock"),
    "batch": ("filelock",),
    "testing": ("starlette", "uvicorn", "jsonschema", "yaml"),
}


def install_hint(extra: str) -> str:
    return f"pip install 'vozo[{extra}]'"


@contextmanager
def requires_extra(extra: str, feature: str) -> Iterator[None]:
    """Turn a missing library of ``extra`` into a MissingExtraError; any other missing module stays as it is."""
    try:
        yield
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").partition(".")[0]
        if missing not in EXTRA_MODULES[extra]:
            raise
        raise MissingExtraError(
            f"{feature} needs the '{extra}' extra ({missing} is not installed): {install_hint(extra)}", name=exc.name
        ) from exc
