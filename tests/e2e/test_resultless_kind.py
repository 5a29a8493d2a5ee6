"""A job kind whose status declares no result file (its links sit in a list, or there are none): what a docs update
makes of such a kind works through download, `vozo batch` and its command, instead of asking for a result named ''.

The kind here is translations with its results taken away (``vozo._kinds.all_kinds`` patched), against a FakeVozo
that still serves links: what the kind declares is what counts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anyio
import attrs
import pytest
from click.testing import CliRunner

import vozo
import vozo.batch
from vozo import _kinds
from vozo._cli import job_command
from vozo.batch import RowState
from vozo.testing import FakeVozo

from .conftest import KEY

MEDIA = {"media_url": "https://m.test/talk.mp4", "target_language": "de"}


@pytest.fixture
def resultless(monkeypatch: pytest.MonkeyPatch) -> _kinds.JobKind:
    kinds = tuple(
        attrs.evolve(kind, results=(), result_suffixes={}) if kind.name == "translations" else kind
        for kind in _kinds.all_kinds()
    )
    monkeypatch.setattr(_kinds, "all_kinds", lambda: kinds)
    return _kinds.kind_named("translations")


@pytest.fixture
def served() -> Iterator[tuple[FakeVozo, str]]:
    fake = FakeVozo(api_keys=[KEY], step_seconds=0.01)
    with fake.serve() as url:
        yield fake, url


def test_download_says_the_kind_has_no_result_file(resultless, served, tmp_path: Path) -> None:
    _, url = served
    with vozo.Vozo(api_key=KEY, base_url=url) as client:
        status = client.translations.create_and_wait(**MEDIA, poll_interval=0.01)
        with pytest.raises(vozo.InvalidInputError) as refused:
            client.download(status, tmp_path / "out.mp4")
    assert str(refused.value).startswith("a translations job has no result file to download")
    assert "''" not in str(refused.value)  # was: "has no '' result (its kind has: ; ...): pass which= one of: "
    assert list(tmp_path.iterdir()) == []


def test_batch_completes_rows_of_the_kind_with_no_outputs(resultless, served, tmp_path: Path) -> None:
    """They were download_failed, told to run again: a run that could never download anything."""
    _, url = served
    manifest = tmp_path / "jobs.csv"
    manifest.write_text("id,kind,media_url,target_language\nt1,translations,https://m.test/a.mp4,es\n")

    async def run() -> vozo.batch.BatchSummary:
        async with vozo.AsyncVozo(api_key=KEY, base_url=url) as client:
            return await vozo.batch.run(client, manifest, tmp_path / "out", poll_interval=0.01)

    summary = anyio.run(run)
    assert summary.counts == {RowState.COMPLETED: 1}
    [row] = summary.rows
    assert (row.status, row.outputs, row.error) == ("done", {}, None)


def test_its_command_refuses_an_output_before_creating_a_job(resultless, served) -> None:
    """-o was taken, the job created (and billed), and only then was nothing downloadable."""
    fake, url = served
    command = job_command(resultless)
    assert not {"--output", "-o", "--which"} & {name for param in command.params for name in param.opts}
    arguments = ["--media", MEDIA["media_url"], "--target", "de"]
    env = {"VOZO_API_KEY": KEY, "VOZO_BASE_URL": url}
    refused = CliRunner().invoke(command, [*arguments, "-o", "out.mp4"], env=env, obj=None)
    assert refused.exit_code == 2
    assert "No such option '-o'" in refused.output
    assert fake.create_requests == []
