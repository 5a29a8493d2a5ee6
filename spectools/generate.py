"""Run openapi-python-client on openapi/vozo.yaml into a clean folder, and check committed output for drift."""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PACKAGE = "vozo_api_client"


class GeneratorError(RuntimeError):
    """openapi-python-client refused the spec, or warned about part of it (we run it with --fail-on-warning)."""

    def __init__(self, output: str) -> None:
        super().__init__(f"openapi-python-client failed:\n{output}")
        self.output = output  # what it printed: names the refused operations and schemas


def generate_all(spec: Path, root: Path) -> list[Path]:
    """Write every layer derived from ``spec`` into ``root`` (the checkout, or a staging copy of it).

    Returns the paths written, relative to ``root``: `spectools update` replaces exactly these in the checkout.
    """
    generator = root / "openapi" / "generator"
    client = Path("generated") / PACKAGE
    generate(spec, generator / "config.yaml", generator / "templates", root / client)
    return [client]


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


def generate(spec: Path, config: Path, templates: Path, target: Path) -> None:
    """Regenerate ``target`` from scratch: the generator's --overwrite would keep stray files."""
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        fresh = generate_into(spec, config, templates, Path(tmp))
        if target.exists():
            shutil.rmtree(target)
        fresh.rename(target)


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
