"""The wheel as users get it: built once per session, installed with only its runtime dependencies in a fresh venv.

The venv has no pip of its own (the test run's pip installs into it with --python). Runtime dependencies come from a
wheelhouse kept in pytest's cache, so later runs install offline; it is filled from pip's cache or the index the
first time, and again whenever the wheel asks for something it lacks.
"""

from __future__ import annotations

import fcntl
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(item.path).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.packaging)


@dataclass(frozen=True)
class UserVenv:
    wheel: Path
    python: Path
    bin: Path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The venv's python with ``args``."""
        return self.script("python", *args)

    def script(self, name: str, *args: str) -> subprocess.CompletedProcess[str]:
        """A command the venv installed (``vozo``), as a user's shell would run it."""
        return subprocess.run(
            [str(self.bin / name), *args], capture_output=True, text=True, check=False, env=_clean_env()
        )


def _clean_env() -> dict[str, str]:
    # No PYTHONPATH or MYPYPATH from the test run: the checkout must not stand in for the installed wheel.
    return {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}


def _pip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pip", "-q", *args], capture_output=True, text=True, check=False)


def _must(result: subprocess.CompletedProcess[str]) -> None:
    if result.returncode != 0:
        pytest.fail(f"{' '.join(map(str, result.args))} exited {result.returncode}:\n{result.stdout}{result.stderr}")


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of this checkout, built with the hatchling of the dev venv (no build isolation: offline, quick)."""
    out = tmp_path_factory.mktemp("dist")
    _must(_pip("wheel", str(ROOT), "--no-deps", "--no-build-isolation", "--wheel-dir", str(out)))
    (built,) = out.glob("vozo-*.whl")
    return built


@pytest.fixture(scope="session")
def wheel_files(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


@pytest.fixture(scope="session")
def user_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> UserVenv:
    """A fresh venv holding the wheel and its runtime dependencies, nothing else."""
    return _user_venv(wheel, str(wheel), tmp_path_factory, pytestconfig)


@pytest.fixture(scope="session")
def user_venv_with_extras(
    wheel: Path, tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> UserVenv:
    """A fresh venv holding the wheel with the extras of its Python API (``testing``, ``batch``), nothing else."""
    return _user_venv(wheel, f"{wheel}[testing,batch]", tmp_path_factory, pytestconfig)


@pytest.fixture(scope="session")
def user_venv_lowest(wheel: Path, tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> UserVenv:
    """The wheel with every extra, each dependency at the lowest version its requirement allows (``>=X``: ``==X``):
    what a user whose other packages hold them back gets."""
    constraints = tmp_path_factory.mktemp("lowest") / "constraints.txt"
    constraints.write_text("".join(f"{name}=={floor}\n" for name, floor in floors(wheel).items()))
    return _user_venv(wheel, f"{wheel}[cli,testing,batch]", tmp_path_factory, pytestconfig, constraints)


def floors(wheel: Path) -> dict[str, str]:
    """Each dependency of the wheel (extras' included) and the version its ``>=`` names, from its metadata."""
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = (name for name in archive.namelist() if name.endswith(".dist-info/METADATA"))
        lines = archive.read(metadata).decode().splitlines()
    found = {}
    for line in lines:
        if line.startswith("Requires-Dist: "):
            requirement = Requirement(line.removeprefix("Requires-Dist: "))
            floor = next((spec.version for spec in requirement.specifier if spec.operator == ">="), None)
            assert floor is not None, f"{line}: a dependency without a floor cannot be tested at its floor"
            found[requirement.name] = floor
    return found


def _user_venv(
    wheel: Path,
    requirement: str,
    tmp_path_factory: pytest.TempPathFactory,
    pytestconfig: pytest.Config,
    constraints: Path | None = None,
) -> UserVenv:
    venv = tmp_path_factory.mktemp("user-venv")
    _must(subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], capture_output=True, text=True))
    python = venv / "bin" / "python"
    assert pytestconfig.cache is not None
    wheelhouse = pytestconfig.cache.mkdir("vozo-wheelhouse")
    pinned = ("--constraint", str(constraints)) if constraints is not None else ()
    install = ("--python", str(python), "install", "--no-index", "--find-links", str(wheelhouse), *pinned, requirement)
    # One pytest-xdist worker at a time: another's half-downloaded wheel must not be read as a broken dependency.
    with (wheelhouse / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _pip(*install).returncode != 0:
            _must(_pip("download", "--only-binary=:all:", "--dest", str(wheelhouse), *pinned, requirement))
            (wheelhouse / wheel.name).unlink(missing_ok=True)  # the next build of the same version must not lose to it
            _must(_pip(*install))
    return UserVenv(wheel=wheel, python=python, bin=venv / "bin")
