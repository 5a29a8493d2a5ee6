"""`make demo`'s script end to end: the vozo command against `vozo mock-server`, and talking.mp4 kept afterwards."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from vozo.testing._media import is_playable_mp4

DEMO = Path(__file__).resolve().parents[2] / "scripts" / "demo.py"


def test_the_demo_leaves_a_playable_talking_mp4_and_says_how_to_play_it(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(DEMO)], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert is_playable_mp4((tmp_path / "talking.mp4").read_bytes())
    assert "Play it: " in result.stdout
    assert "talking.mp4" in result.stdout
