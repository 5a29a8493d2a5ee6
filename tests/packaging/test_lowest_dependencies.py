"""The floors pyproject.toml declares are versions the SDK runs on, not guesses: with click 8.1 (the floor of the cli
extra) every command died on click.ParameterSource, which click exports only in later versions."""

from __future__ import annotations

import json
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.packaging.conftest import UserVenv, floors

PROGRAM = Path(__file__).with_name("lowest_program.py")


def test_the_venv_holds_each_dependency_at_its_floor(user_venv_lowest: UserVenv) -> None:
    versions = "{d.name.lower(): d.version for d in m.distributions()}"
    script = f"import importlib.metadata as m, json; print(json.dumps({versions}))"
    installed = json.loads(user_venv_lowest.run("-c", script).stdout)
    wanted = {canonicalize_name(name): Version(floor) for name, floor in floors(user_venv_lowest.wheel).items()}
    assert {name: Version(installed.get(name, "0")) for name in wanted} == wanted


def test_the_job_lifecycle_and_the_command_line_work_at_the_floors(user_venv_lowest: UserVenv, tmp_path: Path) -> None:
    result = user_venv_lowest.run(str(PROGRAM), str(tmp_path))
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["video"] > 0
    assert seen["subtitle"].endswith(".subtitle.srt")
    assert json.loads(seen["cli"])["status"] == "done", seen["err"]
