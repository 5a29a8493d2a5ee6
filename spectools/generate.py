"""openapi/vozo.yaml -> generated/: the openapi-python-client package, then the job kinds and resources read from
it (spectools.resources). Each is written into a clean folder; ``differences`` finds drift in committed output."""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from spectools import resources, unasync, yamlio

PACKAGE = "vozo_api_client"


class GeneratorError(RuntimeError):
    """openapi-python-client refused the spec, or warned about part of it (we run it with --fail-on-warning)."""

    def __init__(self, output: str) -> None:
        super().__init__(f"openapi-python-client failed:\n{output}")
        self.output = output  # what it printed: names the refused operations and schemas


def write_all(spec: Path, root: Path) -> list[Path]:
    """Write every layer derived from ``spec`` into ``root`` (the checkout, or a staging copy of it): the generated
    packages, then the sync twins of the async sources.

    Returns the paths written, relative to ``root``: `spectools update` replaces exactly these in the checkout.
    """
    generator = root / "openapi" / "generator"
    written = generate(spec, generator / "config.yaml", generator / "templates", root / "generated")
    unasync.write(root)
    return [path.relative_to(root) for path in written] + [unasync.SYNC]


def generate_into(spec: Path, config: Path, templates: Path, dest: Path) -> Path:
    """Generate the client package into ``dest / PACKAGE`` (which must not exist yet) and return that path."""
    out = dest / PACKAGE
    command = [
        sys.executable, "-m", "openapi_python_client", "generate",
        "--path", str(spec), "--config", str(config), "--custom-template-path", str(templates),
        "--meta", "none", "--output-path", str(out), "--fail-on-warning",
    ]  # fmt: skip
    # The post-hooks run `ruff`: take the one installed beside this interpreter (the pinned dev version).
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if result.returncode != 0 or not out.is_dir():
        raise GeneratorError(f"{result.stdout}\n{result.stderr}")
    (out / "py.typed").write_text("")  # --meta none writes none; the package is typed
    return out


def generate_all(spec: Path, config: Path, templates: Path, dest: Path) -> list[Path]:
    """Every generated package, into ``dest`` (where none of them exists yet); returns their folders."""
    client = generate_into(spec, config, templates, dest)
    return [client, resources.generate_into(yamlio.load(spec), client, dest)]


def generate(spec: Path, config: Path, templates: Path, generated: Path) -> list[Path]:
    """Regenerate every package under ``generated`` from scratch (the generator's --overwrite keeps stray files);
    nothing is replaced unless every one of them was generated. Returns their folders."""
    written = []
    generated.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=generated) as tmp:
        for fresh in generate_all(spec, config, templates, Path(tmp)):
            target = generated / fresh.name
            if target.exists():
                shutil.rmtree(target)
            fresh.rename(target)
            written.append(target)
    return written


def differences(left: Path, right: Path) -> list[str]:
    """Relative paths that differ between two trees (missing on either side, or different bytes)."""
    found: list[str] = []

    def walk(cmp: filecmp.dircmp[str], prefix: str) -> None:
        found.extend(f"{prefix}{name}" for name in cmp.left_only + cmp.right_only + cmp.funny_files)
        _, mismatch, errors = filecmp.cmpfiles(cmp.left, cmp.right, cmp.common_files, shallow=False)
        found.extend(f"{prefix}{name}" for name in mismatch + errors)
        for name, sub in cmp.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    walk(filecmp.dircmp(left, right, ignore=["__pycache__"]), "")
    return sorted(found)
