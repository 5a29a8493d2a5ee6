"""What the wheel publishes: typing markers, licence, classifiers, URLs, and a light set of requirements."""

from __future__ import annotations

import email
import zipfile
from email.message import Message
from pathlib import Path

import pytest

RUNTIME = {"httpx", "httpcore", "anyio", "attrs"}  # httpcore: imported directly; httpx installs it anyway


@pytest.fixture(scope="module")
def metadata(wheel: Path, wheel_files: set[str]) -> Message:
    (name,) = (f for f in wheel_files if f.endswith(".dist-info/METADATA"))
    with zipfile.ZipFile(wheel) as archive:
        return email.message_from_bytes(archive.read(name))


def requirement_name(requirement: str) -> str:
    for stop in "<>=!~[; (":
        requirement = requirement.split(stop)[0]
    return requirement.strip().lower()


def test_both_import_packages_ship_their_py_typed_marker(wheel_files: set[str]) -> None:
    assert {"vozo/py.typed", "vozo_api_client/py.typed"} <= wheel_files


def test_the_licence_ships_and_the_metadata_names_it(metadata: Message, wheel_files: set[str]) -> None:
    assert metadata["License-Expression"] == "MIT"
    assert metadata.get_all("License-File") == ["LICENSE"]
    assert any(f.endswith(".dist-info/licenses/LICENSE") for f in wheel_files)


def test_classifiers_say_typed_and_urls_point_at_the_docs(metadata: Message) -> None:
    classifiers = metadata.get_all("Classifier") or []
    assert "Typing :: Typed" in classifiers
    assert "Programming Language :: Python :: 3.11" in classifiers
    assert "Documentation, https://www.vozo.ai/docs" in (metadata.get_all("Project-URL") or [])


def test_only_httpx_httpcore_attrs_and_anyio_are_required_and_there_is_no_dev_extra(metadata: Message) -> None:
    requires = metadata.get_all("Requires-Dist") or []
    unconditional = {requirement_name(r) for r in requires if "extra ==" not in r}
    assert unconditional == RUNTIME
    assert set(metadata.get_all("Provides-Extra") or []) == {"batch", "cli", "testing"}
    cli = {requirement_name(r) for r in requires if "extra == 'cli'" in r or 'extra == "cli"' in r}
    assert {"click", "rich", "filelock"} <= cli
