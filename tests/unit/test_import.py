"""`import vozo` stays light: the CLI, batch runs, the fake server and their libraries load only when used."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = [
    "vozo._cli",
    "vozo._cli_batch",
    "vozo._cli_common",
    "vozo.batch",
    "vozo.testing",
    "filelock",
    "sqlite3",
    "starlette",
    "uvicorn",
    "jsonschema",
    "yaml",
]


def loaded_after(statement: str) -> set[str]:
    script = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    return set(json.loads(out))


def test_import_vozo_loads_none_of_the_heavy_modules() -> None:
    assert loaded_after("import vozo") & set(HEAVY) == set()


def test_the_heavy_modules_load_when_asked_for() -> None:
    # the same probe sees them, so the test above can fail
    loaded = loaded_after("import vozo.batch, vozo.testing, vozo._cli")
    assert {"vozo.batch", "vozo.testing", "vozo._cli", "sqlite3", "starlette", "filelock"} <= loaded
