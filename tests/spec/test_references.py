"""spectools.references: generated names the hand-written code uses and a new spec makes disappear."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from spectools.references import IntrospectionError, generated_names, vanished, wrapper_uses

MODEL = """
from enum import Enum
from attrs import define


class Status(str, Enum):
    DONE = "done"
{extra_member}

@define
class Request:
    media_url: str
{extra_field}
"""


def package(root: Path, *, with_prompt: bool, with_failed: bool, with_legacy: bool) -> Path:
    models = root / "vozo_api_client" / "models"
    models.mkdir(parents=True)
    (root / "vozo_api_client" / "__init__.py").write_text("")
    (models / "__init__.py").write_text("from .request import Request, Status\n")
    member = '    FAILED = "failed"' if with_failed else ""
    field = "    user_prompt: str = ''" if with_prompt else ""
    (models / "request.py").write_text(MODEL.format(extra_member=member, extra_field=field))
    if with_legacy:
        (models / "legacy.py").write_text("def helper() -> None: ...\n")
    return root


WRAPPER = """
from vozo_api_client.models import Request, Status
from vozo_api_client.models import legacy as old_helpers
import vozo_api_client.models as m


def build(url: str, status: object) -> Request:
    old_helpers.helper()
    if status == Status.FAILED or status is m.Status.DONE:
        pass
    return Request(media_url=url, user_prompt="short")


def prompt(request: Request) -> str:
    return request.user_prompt
"""


@pytest.fixture
def trees(tmp_path: Path) -> tuple[Path, Path, Path]:
    old = package(tmp_path / "old", with_prompt=True, with_failed=True, with_legacy=True)
    new = package(tmp_path / "new", with_prompt=False, with_failed=False, with_legacy=False)
    wrapper = tmp_path / "wrapper"
    (wrapper / "vozo").mkdir(parents=True)
    (wrapper / "vozo" / "_rules.py").write_text(textwrap.dedent(WRAPPER))
    return old, new, wrapper


def test_the_generated_names_are_modules_their_names_class_members_and_model_fields(trees) -> None:
    old, _, _ = trees
    found = generated_names(old)
    assert {
        "vozo_api_client.models",
        "vozo_api_client.models.Request",
        "vozo_api_client.models.Request.user_prompt",
        "vozo_api_client.models.Status.FAILED",
        "vozo_api_client.models.legacy",
    } <= found.names
    assert found.fields == {"media_url": frozenset({"Request"}), "user_prompt": frozenset({"Request"})}


def test_the_wrapper_uses_are_found_through_imports_aliases_keywords_and_attributes(trees) -> None:
    _, _, wrapper = trees
    names = {use.name for use in wrapper_uses(wrapper)}
    assert {
        "vozo_api_client.models.Request",
        "vozo_api_client.models.Status.FAILED",
        "vozo_api_client.models.Status.DONE",
        "vozo_api_client.models.legacy.helper",
        "vozo_api_client.models.Request.user_prompt",  # the keyword argument
        ".user_prompt",  # read off an instance
    } <= names


def test_each_vanished_name_the_wrapper_uses_is_reported_with_where(trees) -> None:
    old, new, wrapper = trees
    lines = vanished(old, new, wrapper)
    source = (wrapper / "vozo" / "_rules.py").read_text().splitlines()

    def line_of(text: str) -> str:
        return f"wrapper/vozo/_rules.py:{next(n for n, line in enumerate(source, 1) if text in line)}"

    assert lines == [
        f"! `vozo_api_client.models.Request.user_prompt` is gone from the generated code; "
        f"hand-written code uses it at {line_of('user_prompt=')}",
        f"! `vozo_api_client.models.Status.FAILED` is gone from the generated code; "
        f"hand-written code uses it at {line_of('Status.FAILED')}",
        f"! `vozo_api_client.models.legacy.helper` is gone from the generated code; "
        f"hand-written code uses it at {line_of('old_helpers.helper()')}",
        f"! `vozo_api_client.models.legacy` is gone from the generated code; "
        f"hand-written code uses it at {line_of('import legacy')}",
        f"! field `user_prompt` (of Request) is gone from the generated code; "
        f"hand-written code uses it at {line_of('request.user_prompt')}",
    ]


def test_nothing_is_reported_when_nothing_the_wrapper_uses_vanished(trees) -> None:
    old, _, wrapper = trees
    assert vanished(old, old, wrapper) == []


def test_a_package_that_does_not_import_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "vozo_api_client"
    broken.mkdir()
    (broken / "__init__.py").write_text("raise ImportError('half written')\n")
    with pytest.raises(IntrospectionError, match="half written"):
        generated_names(tmp_path)
