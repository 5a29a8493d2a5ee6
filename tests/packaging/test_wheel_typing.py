"""mypy --strict on a user's program, against the wheel installed in a fresh venv (not our source folders).

Without py.typed mypy refuses the import ("missing library stubs or py.typed marker") and every type is Any.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.packaging.conftest import UserVenv

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mypy-cache")


def mypy_strict(user_venv: UserVenv, program: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    """The dev venv's mypy, resolving imports in the user's venv only, with no configuration from this checkout."""
    config = program.parent / "mypy.ini"
    config.write_text("[mypy]\n")
    options = ["--strict", "--config-file", str(config), "--cache-dir", str(cache), "--show-error-codes"]
    return subprocess.run(
        [sys.executable, "-m", "mypy", *options, "--python-executable", str(user_venv.python), program.name],
        capture_output=True,
        text=True,
        check=False,
        cwd=program.parent,
        env={"PATH": "/usr/bin:/bin"},
    )


def test_the_readme_program_type_checks_with_precise_public_returns(
    user_venv: UserVenv, tmp_path: Path, mypy_cache: Path
) -> None:
    program = tmp_path / "readme_program.py"
    shutil.copy(HERE / "readme_program.py", program)
    result = mypy_strict(user_venv, program, mypy_cache)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found in 1 source file" in result.stdout


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        ("lipsync.create", 'model="precison"'),
        ("translations.create", 'export_type="video_only"'),
        ("translations.create", 'media_type="movie"'),
        ("translations.create", 'subtitle_usage_type="translated"'),
    ],
)
def test_a_misspelt_enum_value_fails_type_checking(
    user_venv: UserVenv, tmp_path: Path, mypy_cache: Path, call: str, argument: str
) -> None:
    """Enum fields are Literals of the spec's values (and friendly names), so a typo never reaches Vozo."""
    required = {
        "lipsync.create": 'reference_file_url="https://example.com/p.mp4", audio_url="https://example.com/v.mp3"',
        "translations.create": 'media_url="https://example.com/talk.mp4", target_language="es"',
    }[call]
    program = tmp_path / "typo.py"
    program.write_text(f"from vozo import Vozo\n\nVozo().{call}(\n    {required},\n    {argument},\n)\n")
    result = mypy_strict(user_venv, program, mypy_cache)
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1, result.stdout + result.stderr
    assert errors[0].startswith("typo.py:5:")
    assert "[arg-type]" in errors[0]
    assert argument.split("=")[0] in errors[0]
