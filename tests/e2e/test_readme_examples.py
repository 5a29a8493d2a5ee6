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
