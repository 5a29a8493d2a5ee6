"""The README's FakeVozo example, run as written (with each fault seed): Faults(rate_limit=0.2) must not sink it."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_fake_example() -> str:
    section = README.read_text().split("## Testing your code", 1)[1]
    (code,) = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)[:1]
    assert "Faults(rate_limit=0.2" in code, "the README's example changed: update this test"
    return code


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_readme_fake_example_completes_whatever_the_seed(seed: int, tmp_path: Path, monkeypatch) -> None:
    """A 429 on the create means Vozo created nothing: it is retried, never raised at the user (seed 1 did)."""
    code = readme_fake_example().replace("Faults(rate_limit=0.2,", f"Faults(seed={seed}, rate_limit=0.2,")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, str(README), "exec"), namespace)  # noqa: S102 - our own README's example
    assert namespace["status"].status.value == "done"  # type: ignore[attr-defined]
    fake = namespace["fake"]
    assert len(fake.create_requests) == 1  # type: ignore[attr-defined]  # one job, however many 429s before it
    assert printed.getvalue().startswith("1 Counter(")


def test_the_readme_in_process_client_works_as_written(tmp_path: Path) -> None:
    """The commented in-process line of the example, uncommented: it named no base_url, and plain http off loopback
    is refused, so a reader's first try failed."""
    import asyncio

    import httpx

    import vozo
    from vozo.testing import FakeVozo

    lines = readme_fake_example().split("# in-process", 1)[1].splitlines()[1:]
    code = "\n".join(line.removeprefix("# ") for line in lines if line.startswith("# "))
    assert code.startswith("vozo.AsyncVozo("), "the README's in-process line changed: update this test"
    fake = FakeVozo(api_keys=["test-key"], step_seconds=0.001)

    async def use() -> Path:
        namespace = {"vozo": vozo, "httpx": httpx, "fake": fake}
        async with eval(code, namespace) as client:  # noqa: S307 - our own README's example
            status = await client.lipsync.create_and_wait(
                reference_file_url="https://x.test/a.mp4", audio_url="https://x.test/a.mp3", poll_interval=0.01
            )
            return await client.download(status, tmp_path / "talk.mp4")

    assert asyncio.run(use()).stat().st_size > 0
