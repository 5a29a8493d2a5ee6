"""Where a row's results go: names built from the row id and the result names the spec declares, nothing else.

Nothing a server sends names a local file. A status's result links are read only where the spec declares them
(``JobKind.results``, generated from the spec, so a result the spec gains arrives with ``make generate``); any
other ``*_url`` key in a status is ignored, whatever it says, and logged. A link's extension is kept only when it
is a plain, known media, subtitle or data extension; otherwise the result's file type as the spec tells it is used
(``JobKind.result_suffixes``: ``srt_url`` -> ``.srt``, ``preview_video_url`` -> ``.mp4``), else ``.bin``.

    lipsync ``talk`` (one result)         -> talk.mp4
    translations ``talk`` (three results) -> talk.video.mp4, talk.audio.wav, talk.subtitle.srt

The part of a name before its extension (its *stem*) is therefore fixed by the row alone, which lets the manifest
refuse ids whose rows could write the same file (``stems``).
"""

from __future__ import annotations

from typing import Any

from vozo._download import names_a_device, result_suffix
from vozo._kinds import JobKind, kind_named
from vozo._logging import logger

# The batch's own files, beside the results: no row may write one of them.
JOURNAL_NAME = "vozo-batch.sqlite"
LOCK_NAME = "vozo-batch.lock"
REPORT_JSON = "report.json"
REPORT_CSV = "report.csv"
BATCH_FILES = (JOURNAL_NAME, f"{JOURNAL_NAME}-wal", f"{JOURNAL_NAME}-shm", LOCK_NAME, REPORT_JSON, REPORT_CSV)


def result_links(kind: JobKind, status: Any) -> dict[str, str]:
    """The status's result links by declared result name; undeclared ``*_url`` keys are ignored (and logged)."""
    declared = {keys for _, keys in kind.results}
    data = status.to_dict() if hasattr(status, "to_dict") else {}
    ignored = sorted(
        repr("/".join(path))
        for path in _url_keys(data)
        if path not in declared  # a later spec may declare it: until then, it names nothing
    )
    if ignored:
        logger.warning(
            "%s status: result keys the spec does not declare were ignored: %s", kind.name, ", ".join(ignored)
        )
    return kind.result_urls(status)


def _url_keys(data: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Paths to the ``*_url`` keys of a status, one object deep (where Vozo's statuses hold their results)."""
    found: list[tuple[str, ...]] = []
    for key, value in data.items():
        if isinstance(value, dict) and not prefix:
            found += _url_keys(value, (str(key),))
        elif str(key).endswith("_url"):
            found.append((*prefix, str(key)))
    return found


def unusable_stem(stem: str) -> str | None:
    """Why a file name starting ``stem.`` cannot be one of a row's results (a device, a file of the batch), or None."""
    if names_a_device(stem):
        return f"{stem.split('.')[0]}.* names a device on Windows, not a file"
    taken = [name for name in BATCH_FILES if name.casefold().startswith(stem.casefold() + ".")]
    return f"{taken[0]} is the batch's own file" if taken else None


def stems(key: str, kind_name: str) -> tuple[str, ...]:
    """Every file name a row may write, less its extension."""
    names = kind_named(kind_name).result_names
    return (key,) if len(names) == 1 else tuple(f"{key}.{which}" for which in names)


def output_name(key: str, kind_name: str, which: str, url: str) -> str:
    """The file name of one result of a row; ``key`` is a checked manifest id, ``which`` a declared result name."""
    kind = kind_named(kind_name)
    if which not in kind.result_names:
        raise ValueError(f"{which!r} is not a result the spec declares for a {kind_name} job")
    return (key if len(kind.result_names) == 1 else f"{key}.{which}") + result_suffix(kind, which, url)
