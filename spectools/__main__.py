"""python -m spectools {build,generate,check,update,report}: the Makefile's spec targets."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import httpx

from spectools import build, generate, references, report, staging, unasync, update, yamlio
from spectools.jobkinds import JobKindError, find_job_kinds
from spectools.merge import MergeConflictError
from spectools.overlay import OverlayError
from spectools.pages import PageError

ROOT = Path(__file__).resolve().parent.parent
OPENAPI = ROOT / "openapi"


def _paths(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--upstream", type=Path, default=OPENAPI / "upstream")
    parser.add_argument("--overlay", type=Path, default=OPENAPI / "overlay.yaml")
    parser.add_argument("--spec", type=Path, default=OPENAPI / "vozo.yaml")
    parser.add_argument("--config", type=Path, default=OPENAPI / "generator" / "config.yaml")
    parser.add_argument("--templates", type=Path, default=OPENAPI / "generator" / "templates")
    parser.add_argument("--generated", type=Path, default=ROOT / "generated")


def cmd_build(args: argparse.Namespace) -> int:
    pages = [
        update.FetchedPage(file.name, str(file), file.read_text(encoding="utf-8"))
        for file in sorted(args.upstream.glob("*.md"))
    ]
    spec = staging.build_located(args.upstream, args.overlay, pages)
    build.write_atomic(args.spec, build.render(spec))
    print(f"wrote {args.spec} ({len(spec['paths'])} paths)")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    generate.generate(args.spec, args.config, args.templates, args.generated)
    unasync.main([])
    print(f"wrote {args.generated} and wrapper/vozo/_sync")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Fail when the committed spec or generated client differ from what the committed inputs produce."""
    problems = []
    expected_spec = build.render(build.build_spec(args.upstream, args.overlay))
    if not args.spec.exists() or args.spec.read_text(encoding="utf-8") != expected_spec:
        problems.append(f"{args.spec} differs from what `make spec` builds")
    with tempfile.TemporaryDirectory() as tmp:
        spec_file = Path(tmp) / "vozo.yaml"
        spec_file.write_text(expected_spec, encoding="utf-8")
        for fresh in generate.generate_all(spec_file, args.config, args.templates, Path(tmp)):
            committed = args.generated / fresh.name
            if not committed.is_dir():
                problems.append(f"{committed} is missing")
            else:
                problems += [
                    f"generated file differs: {fresh.name}/{name}" for name in generate.differences(fresh, committed)
                ]
    if unasync.main(["--check"]) != 0:
        problems.append("wrapper/vozo/_sync differs from what scripts/unasync.py derives from wrapper/vozo/_async")
    if problems:
        print("drift: " + "\n  ".join(["committed output is not what `make spec generate` produces:", *problems]))
        print("fix: change openapi/overlay.yaml or the generator config, then run `make spec generate`.")
        return 1
    print("no drift: openapi/vozo.yaml and generated/ match their inputs")
    return 0


def cmd_update(args: argparse.Namespace) -> int:
    """Fetch the pages, then build, generate and check in a staging copy; replace the checkout's files only then."""
    root: Path = args.root
    source = args.source
    if "://" not in source:  # a local mirror of the docs site
        source = Path(source).resolve().as_uri()
    with httpx.Client(timeout=30, follow_redirects=True) as client:
        fetch = update.file_fetcher if source.startswith("file:") else update.http_fetcher(client)
        pages = update.download_pages(source, fetch)
    print(f"fetched {len(pages)} API reference pages from {args.source}")
    old = yamlio.load(root / staging.SPEC) if (root / staging.SPEC).exists() else {}
    with tempfile.TemporaryDirectory(prefix="vozo-update-spec-") as tmp:
        try:
            staged = staging.prepare(root, pages, Path(tmp))
            lines = report.change_report(old, staged.spec)
            # The staged wrapper: a generated layer inside it is already the new one, only hand-written uses count.
            lines += references.vanished(root / "generated", staged.root / "generated", staged.root / "wrapper")
            fields = {field.name for kind in find_job_kinds(staged.spec) for field in kind.fields}
            lines += references.stale_rules(staged.root / "wrapper", fields)
            print(report.format_report(lines))
            staging.verify(staged)
        except (staging.StagingError, JobKindError, references.IntrospectionError) as exc:
            raise staging.StagingError(f"{exc}\nnothing was written: {root} is as it was.") from exc
        staging.publish(root, staged)
    print("replaced " + ", ".join(str(path) for path in staged.outputs))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    print(report.format_report(report.change_report(yamlio.load(args.old), yamlio.load(args.new))))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m spectools", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, func, text in (
        ("build", cmd_build, "merge the upstream pages, apply the overlay, validate, write the spec"),
        ("generate", cmd_generate, "regenerate the client package from the spec into a clean folder"),
        ("check", cmd_check, "fail when the committed spec or generated client drifted from their inputs"),
    ):
        sub = commands.add_parser(name, help=text)
        _paths(sub)
        sub.set_defaults(func=func)
    refresh = commands.add_parser(
        "update", help="fetch the docs, then build, generate and type-check in a staging copy; write all or nothing"
    )
    refresh.add_argument("--source", default=update.DEFAULT_SOURCE, help="docs base URL or folder")
    refresh.add_argument("--root", type=Path, default=ROOT, help="the checkout to update")
    refresh.set_defaults(func=cmd_update)
    diff = commands.add_parser("report", help="print the API change report between two spec files")
    diff.add_argument("old", type=Path)
    diff.add_argument("new", type=Path)
    diff.set_defaults(func=cmd_report)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (
        PageError,
        MergeConflictError,
        OverlayError,
        build.SpecInvalidError,
        update.UpdateError,
        JobKindError,
        RuntimeError,
    ) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
