from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from spectools import build, generate

ROOT = Path(__file__).resolve().parents[2]
OPENAPI = ROOT / "openapi"
# Frozen pages, overlay and a stand-in wrapper (see fixtures/README.md): a real docs update never fails these tests.
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def upstream() -> Path:
    return FIXTURES / "upstream"


@pytest.fixture
def overlay_file() -> Path:
    return FIXTURES / "overlay.yaml"


@pytest.fixture(scope="session")
def fixture_checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkout built from the fixtures: their pages and overlay, the spec and client generated from them, the
    stand-in wrapper, and the checkout's generator settings and pyproject.toml (mypy's configuration)."""
    work = tmp_path_factory.mktemp("fixture-checkout")
    shutil.copytree(FIXTURES / "upstream", work / "openapi" / "upstream")
    shutil.copy(FIXTURES / "overlay.yaml", work / "openapi" / "overlay.yaml")
    shutil.copytree(OPENAPI / "generator", work / "openapi" / "generator")
    # The real wrapper, plus a module using generated names the way wrappers do (the vanished-name report's target).
    shutil.copytree(ROOT / "wrapper", work / "wrapper", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(FIXTURES / "wrapper" / "vozo" / "__init__.py", work / "wrapper" / "vozo" / "_fixture_uses.py")
    shutil.copy(ROOT / "pyproject.toml", work / "pyproject.toml")
    spec = work / "openapi" / "vozo.yaml"
    spec.write_text(build.render(build.build_spec(work / "openapi" / "upstream", work / "openapi" / "overlay.yaml")))
    (work / "generated").mkdir()
    generate.write_all(spec, work)
    return work


@pytest.fixture
def checkout(fixture_checkout: Path, tmp_path: Path, mypy_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh copy of the fixture checkout, for one test to change; the mypy that `spectools update` runs on it
    shares the session's cache."""
    monkeypatch.setenv("MYPY_CACHE_DIR", str(mypy_cache))
    work = tmp_path / "checkout"
    shutil.copytree(fixture_checkout, work)
    return work
