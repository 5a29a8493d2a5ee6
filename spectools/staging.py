"""`make update-spec` as one transaction: build, generate and check the new pages in a staging copy of the checkout.

Only when the spec builds, every generated layer is written, the wrapper imports and mypy passes in the copy are
openapi/upstream, openapi/vozo.yaml and the generated code of the checkout replaced. Any failure writes nothing and
names the page (URL and line) and the schema path to blame.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spectools import build, generate
from spectools.jobkinds import JobKindError, find_job_kinds
from spectools.merge import MergeConflictError
from spectools.overlay import OverlayError
from spectools.pages import PageError
from spectools.sourcemap import Segment, SourceMap, generator_blames, json_path
from spectools.update import FetchedPage

# What the staging copy holds: the spec's inputs, the generated code, the wrapper and the mypy configuration.
STAGED = (Path("openapi"), Path("generated"), Path("wrapper"), Path("pyproject.toml"))
UPSTREAM = Path("openapi/upstream")
SPEC = Path("openapi/vozo.yaml")
_IGNORED = shutil.ignore_patterns("__pycache__", ".mypy_cache", ".ruff_cache", "*.pyc")
# Prints where vozo and vozo_api_client were imported from, so we know the staging copy was the one imported.
_IMPORT_CHECK = "import vozo, vozo_api_client; print(vozo.__file__); print(vozo_api_client.__file__)"


class StagingError(RuntimeError):
    """A step of the update failed in the staging copy; the checkout was not written."""


@dataclass(frozen=True)
class Staged:
    root: Path  # the staging copy
    spec: dict[str, Any]  # the new merged spec
    outputs: list[Path]  # what to replace in the checkout, relative to its root


def prepare(checkout: Path, pages: Sequence[FetchedPage], staging: Path) -> Staged:
    """Copy the checkout into ``staging``, put the new pages in, build the spec and generate every layer."""
    for relative in STAGED:
        source = checkout / relative
        if source.is_dir():
            shutil.copytree(source, staging / relative, ignore=_IGNORED)
        elif source.exists():
            shutil.copy2(source, staging / relative)
    upstream = staging / UPSTREAM
    shutil.rmtree(upstream, ignore_errors=True)
    upstream.mkdir(parents=True)
    for page in pages:
        (upstream / page.name).write_text(page.text, encoding="utf-8")
    spec = build_located(upstream, staging / "openapi" / "overlay.yaml", pages)
    build.write_atomic(staging / SPEC, build.render(spec))
    try:
        find_job_kinds(spec)  # a kind that cannot be named is refused before the generator's seconds are spent
        outputs = generate.write_all(staging / SPEC, staging)
    except generate.GeneratorError as exc:
        raise StagingError(_Blame(pages).explain(str(exc).rstrip(), generator_blames(exc.output, spec))) from exc
    except JobKindError as exc:
        raise StagingError(_Blame(pages).explain(str(exc), [exc.path] if exc.path else [])) from exc
    return Staged(staging, spec, [UPSTREAM, SPEC, *outputs])


def build_located(upstream: Path, overlay: Path, pages: Sequence[FetchedPage]) -> dict[str, Any]:
    """``build.build_spec``, with errors that name the page (its URL, the line) and the schema path."""
    where = _Blame(pages)
    try:
        return build.build_spec(upstream, overlay)
    except PageError as exc:
        raise StagingError(f"{exc}\n  in {where.page(exc.page, exc.line)}") from exc
    except MergeConflictError as exc:
        raise StagingError(where.explain(str(exc), [exc.path], exc.pages)) from exc
    except build.SpecInvalidError as exc:
        raise StagingError(where.explain(str(exc), [exc.path, *exc.also])) from exc
    except OverlayError as exc:  # names openapi/overlay.yaml and its actions: the staging copy's path would not help
        raise StagingError(str(exc)) from exc


def verify(staged: Staged) -> None:
    """The wrapper imports and passes mypy (the checkout's configuration) against the staged generated code."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(staged.root / p) for p in ("wrapper", "generated"))}
    imported = _run([sys.executable, "-c", _IMPORT_CHECK], staged.root, env)
    tracebacks = imported.stderr.replace(f"{staged.root}{os.sep}", "")  # name files as the checkout has them
    if imported.returncode != 0:
        raise StagingError(f"`import vozo` fails against the new generated code:\n{tracebacks.strip()}")
    foreign = [line for line in imported.stdout.splitlines() if not Path(line).is_relative_to(staged.root)]
    if foreign:
        raise StagingError(f"the import check read code outside the staging copy: {', '.join(foreign)}")
    checked = _run([sys.executable, "-m", "mypy"], staged.root, env)
    if checked.returncode != 0:
        said = "\n".join(part for part in (checked.stdout.strip(), checked.stderr.strip()) if part)
        said = said.replace(f"{staged.root}{os.sep}", "") or f"(mypy said nothing; exit status {checked.returncode})"
        raise StagingError(f"mypy fails on wrapper/ against the new generated code:\n{said}")


def publish(checkout: Path, staged: Staged) -> None:
    """Replace each output in the checkout by its staged version; if one swap fails, undo the ones done."""
    slots: list[tuple[Path, Path]] = []  # (target, a folder beside it holding the new copy, then the old one)
    try:
        for relative in staged.outputs:
            target = checkout / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            slot = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.update-"))
            slots.append((target, slot))
            _copy(staged.root / relative, slot / "new")
        done: list[tuple[Path, Path]] = []
        try:
            for target, slot in slots:
                if target.exists():
                    target.rename(slot / "old")
                done.append((target, slot))
                (slot / "new").rename(target)
        except BaseException:
            for target, slot in reversed(done):
                if target.exists():
                    target.rename(slot / "discarded")
                if (slot / "old").exists():
                    (slot / "old").rename(target)
            raise
    finally:
        for _, slot in slots:
            shutil.rmtree(slot, ignore_errors=True)


def _copy(source: Path, destination: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, destination, ignore=_IGNORED)
    else:
        shutil.copy2(source, destination)


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)


class _Blame:
    """Names the page (URL, line) behind a file name or a path in the merged spec."""

    def __init__(self, pages: Sequence[FetchedPage]) -> None:
        self._urls = {page.name: page.url for page in pages}
        self._sources = SourceMap([(page.url, page.text) for page in pages])

    def page(self, name: str, line: int | None) -> str:
        url = self._urls.get(name, name)
        return f"{url} line {line}" if line else url

    def explain(self, message: str, paths: Sequence[Sequence[Segment]], pages: Sequence[str] = ()) -> str:
        """``message`` and, for each path, where it is written: on the given pages, else on the page defining it."""
        lines = [message]
        for path in paths:
            found = [self._sources.locate(path, self._urls.get(name, name)) for name in pages]
            found = [location for location in found if location] or [self._sources.locate(path)]
            for location in found:
                lines.append(
                    f"  in {location}" if location else f"  at {json_path(path)} (not on any page: the overlay)"
                )
        return "\n".join(lines)
