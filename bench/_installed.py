"""``import vozo`` as a user meets it: the wheel in a fresh venv holding only its runtime dependencies, against
``import httpx, attrs`` in a venv holding only httpx and attrs. The dev venv is no baseline: its test and build
tools (click, rich, pygments among them) are what httpx imports for its own CLI whenever they are installed.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path

from bench._measure import PYTHON, Run, child

ROOT = Path(__file__).resolve().parents[1]
BASELINE_PACKAGES = ("httpx", "attrs")


@dataclass(frozen=True)
class Offender:
    module: str
    self_us: float  # median over the runs: the module's own top-level code
    cumulative_us: float  # including everything it imported first


def _pip(python: Path, *args: str) -> None:
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", *args], check=True, capture_output=True)


def _fresh_venv(folder: Path) -> Path:
    venv.EnvBuilder(with_pip=True, clear=True).create(folder)
    return folder / "bin" / "python"


def build(folder: Path, deps: list[str] | None) -> tuple[Path, Path]:
    """(python with the vozo wheel, python with httpx and attrs only). ``deps``: install the wheel with these
    instead of the dependencies it declares."""
    wheels = folder / "wheel"
    subprocess.run(
        [PYTHON, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--quiet", "-w", str(wheels)],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("vozo-*.whl")
    ours = _fresh_venv(folder / "vozo")
    if deps is None:
        _pip(ours, str(wheel))
    else:
        _pip(ours, "--no-deps", str(wheel))
        _pip(ours, *deps)
    baseline = _fresh_venv(folder / "baseline")
    _pip(baseline, *BASELINE_PACKAGES)
    return ours, baseline


def installed(python: Path) -> list[str]:
    listing = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=freeze", "--exclude", "pip", "--exclude", "setuptools"],
        check=True,
        capture_output=True,
        text=True,
    )
    return listing.stdout.split()


def time_imports(ours: Path, baseline: Path, runs: int) -> tuple[list[Run], list[Run]]:
    mine, theirs = [], []
    for _ in range(runs):  # alternating, so drift in the machine's load hits both sides alike
        mine.append(child(str(ours), "-c", "import vozo"))
        theirs.append(child(str(baseline), "-c", "import httpx, attrs"))
    return mine, theirs


def _importtime(python: Path, statement: str, runs: int) -> dict[str, tuple[float, float]]:
    """module -> (median self us, median cumulative us) from ``python -X importtime -c statement``."""
    samples: dict[str, list[tuple[int, int]]] = {}
    for _ in range(runs):
        report = subprocess.run(
            [str(python), "-X", "importtime", "-c", statement], check=True, capture_output=True, text=True
        ).stderr
        for line in report.splitlines()[1:]:  # "import time: self [us] | cumulative | imported package"
            own, cumulative, module = line.removeprefix("import time:").split("|")
            samples.setdefault(module.strip(), []).append((int(own), int(cumulative)))
    return {
        module: (statistics.median(s for s, _ in times), statistics.median(c for _, c in times))
        for module, times in samples.items()
    }


def offenders(ours: Path, baseline: Path, runs: int = 5, top: int = 12) -> list[Offender]:
    """The modules ``import vozo`` loads beyond ``import httpx, attrs``, costliest own import code first."""
    shared = set(_importtime(baseline, "import httpx, attrs", 1))
    extra = [
        Offender(module, own, cumulative)
        for module, (own, cumulative) in _importtime(ours, "import vozo", runs).items()
        if module not in shared
    ]
    return sorted(extra, key=lambda o: o.self_us, reverse=True)[:top]


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory(prefix="vozo-bench-") as tmp:
        ours, baseline = build(Path(tmp), sys.argv[1].split(",") if len(sys.argv) > 1 else None)
        print(installed(ours), installed(baseline))
        for offender in offenders(ours, baseline):
            print(offender)
