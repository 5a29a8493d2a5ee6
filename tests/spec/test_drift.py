"""`make check`: the committed spec and generated client must be exactly what their inputs produce."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from spectools import generate
from spectools.__main__ import main

from .conftest import OPENAPI, ROOT


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("checkout")
    shutil.copytree(OPENAPI, work / "openapi")
    shutil.copytree(ROOT / "generated", work / "generated", ignore=shutil.ignore_patterns("__pycache__"))
    return work


def _inputs(spec: Path, config: Path, templates: Path) -> str:
    """A digest of what the generator reads: the spec, its settings and every template."""
    digest = hashlib.sha256(spec.read_bytes() + config.read_bytes())
    for template in sorted(p for p in templates.rglob("*") if p.is_file()):
        digest.update(template.relative_to(templates).as_posix().encode() + template.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module", autouse=True)
def generate_once(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every check below generates from the same inputs (the edits are to the output or to the committed spec, not to
    what the spec is built from): the generator runs for the first, the others get a copy of what it made. Other
    inputs would run the generator again; the real `make check` always runs it."""
    made: dict[str, list[Path]] = {}
    store = tmp_path_factory.mktemp("generated-once")
    generate_all: Callable[[Path, Path, Path, Path], list[Path]] = generate.generate_all

    def once(spec: Path, config: Path, templates: Path, dest: Path) -> list[Path]:
        key = _inputs(spec, config, templates)
        if key not in made:
            made[key] = generate_all(spec, config, templates, store / key)
        return [Path(shutil.copytree(package, dest / package.name)) for package in made[key]]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(generate, "generate_all", once)
        yield


def check(work: Path) -> int:
    openapi = work / "openapi"
    return main([
        "check", "--upstream", str(openapi / "upstream"), "--overlay", str(openapi / "overlay.yaml"),
        "--spec", str(openapi / "vozo.yaml"), "--config", str(openapi / "generator/config.yaml"),
        "--templates", str(openapi / "generator/templates"), "--generated", str(work / "generated"),
    ])  # fmt: skip


def test_the_committed_output_has_no_drift(checkout: Path, capsys) -> None:
    assert check(checkout) == 0, capsys.readouterr().out


def test_a_hand_edit_in_generated_is_caught(checkout: Path, capsys, tmp_path: Path) -> None:
    work = tmp_path / "w"
    shutil.copytree(checkout, work)
    model = work / "generated/vozo_api_client/models/job.py"
    model.write_text(model.read_text() + "\n# patched by hand\n")
    (work / "generated/vozo_api_client/stray.py").write_text("")
    assert check(work) == 1
    out = capsys.readouterr().out
    assert "generated file differs: vozo_api_client/models/job.py" in out
    assert "generated file differs: vozo_api_client/stray.py" in out


def test_a_hand_edit_in_the_generated_resources_is_caught(checkout: Path, capsys, tmp_path: Path) -> None:
    work = tmp_path / "w"
    shutil.copytree(checkout, work)
    resources = work / "generated/vozo_jobs/_sync_resources.py"
    resources.write_text(resources.read_text().replace("check_file_types: bool = True", "check_file_types: bool = 0"))
    assert check(work) == 1
    assert "generated file differs: vozo_jobs/_sync_resources.py" in capsys.readouterr().out


def test_a_hand_edit_of_the_spec_is_caught(checkout: Path, capsys, tmp_path: Path) -> None:
    work = tmp_path / "w"
    shutil.copytree(checkout, work)
    spec = work / "openapi/vozo.yaml"
    spec.write_text(spec.read_text().replace("Query job status", "Query the job status"))
    assert check(work) == 1
    assert "vozo.yaml differs from what `make spec` builds" in capsys.readouterr().out
