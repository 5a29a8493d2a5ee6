"""What help() shows users names public modules only: no vozo._sync, vozo_jobs._sync_resources or _download."""

from __future__ import annotations

import inspect
import pydoc
import re
import subprocess
import sys
import typing

import pytest

import vozo
import vozo.types
from vozo._kinds import all_kinds

# A dotted name with a private segment, as pydoc prints base classes, annotations and docstrings.
PRIVATE = re.compile(r"[\w.]*\b_[a-z][a-z0-9_]*\.[\w.]*")


def public_classes() -> list[type]:
    client, async_client = vozo.Vozo(api_key="k"), vozo.AsyncVozo(api_key="k")
    found = [vozo.Vozo, vozo.AsyncVozo, type(client.jobs), type(async_client.jobs)]
    found += [type(getattr(c, name)) for c in (client, async_client) for name in ("lipsync", "translations")]
    found += [getattr(vozo.types, name) for name in vozo.types.__all__ if isinstance(getattr(vozo.types, name), type)]
    found += [getattr(vozo, name) for name in vozo.__all__ if isinstance(getattr(vozo, name), type)]
    return found


@pytest.mark.parametrize("cls", public_classes(), ids=lambda cls: cls.__qualname__)
def test_help_names_no_private_module(cls: type) -> None:
    text = pydoc.render_doc(cls, renderer=pydoc.plaintext)
    assert PRIVATE.findall(text) == []
    assert cls.__module__ in ("vozo", "vozo.types") or not cls.__module__.rpartition(".")[2].startswith("_")


def test_every_resource_class_is_reachable_under_the_name_help_gives() -> None:
    client = vozo.Vozo(api_key="k")
    for resource in (client.lipsync, client.reusable_lipsync, client.translations, client.jobs):
        cls = type(resource)
        assert getattr(vozo.types, cls.__qualname__) is cls
        assert cls.__module__ == "vozo.types"


def test_help_of_the_client_names_no_private_module_before_vozo_types_is_imported() -> None:
    # vozo.types loads on first use: the classes must say where they live by themselves
    script = "import pydoc, vozo; print(pydoc.render_doc(vozo.Vozo, renderer=pydoc.plaintext))"
    text = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert "vozo.types.Resources" in text
    assert PRIVATE.findall(text) == []


@pytest.mark.parametrize("client", [vozo.Vozo, vozo.AsyncVozo], ids=lambda cls: cls.__name__)
def test_help_of_the_client_lists_each_job_resource_with_its_summary_from_the_spec(client: type) -> None:
    text = pydoc.render_doc(client, renderer=pydoc.plaintext)
    for kind in all_kinds():
        entry = rf"^ \|  {kind.name}\n \|      {re.escape(kind.summary)} \(``POST {re.escape(kind.create_path)}``\)\.$"
        assert re.search(entry, text, re.MULTILINE), f"help() does not list {kind.name}"


@pytest.mark.parametrize("client", [vozo.Vozo, vozo.AsyncVozo], ids=lambda cls: cls.__name__)
def test_the_arguments_of_every_create_resolve_at_run_time(client: type) -> None:
    """get_type_hints and inspect.signature(eval_str=True), as pydantic's validate_call or typer read them: every
    name an annotation uses is importable where the method lives, not only under TYPE_CHECKING."""
    instance = client(api_key="k")
    for kind in all_kinds():
        resource = getattr(instance, kind.name)
        for method in (resource.create, resource.create_and_wait):
            hints = typing.get_type_hints(method)
            assert hints["return"] in (vozo.types.Job, kind.status_model)
            parameters = inspect.signature(method, eval_str=True).parameters
            assert {field.argument for field in kind.fields} <= set(parameters)
            assert all(parameters[name].annotation == hints[name] for name in parameters)
