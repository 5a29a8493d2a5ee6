from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OPENAPI = ROOT / "openapi"


@pytest.fixture
def upstream() -> Path:
    return OPENAPI / "upstream"


@pytest.fixture
def overlay_file() -> Path:
    return OPENAPI / "overlay.yaml"
