"""mypy --strict and pyright strict (VS Code's Pylance) on users' programs, against the wheel installed in a fresh
venv (not our source folders).

Without py.typed mypy refuses the import ("missing library stubs or py.typed marker") and every type is Any; pyright
strict reports every ``Unknown`` type our surface lets through (reportUnknownMemberType, ...).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.packaging.conftest import ROOT, UserVenv

HERE = Path(__file__).parent
PYRIGHT = ROOT / "node_modules" / ".bin" / "pyright"  # pinned in package.json, installed by `make install`
# Each program, and the venv it needs: the README's examples need only the wheel, the whole surface its extras too.
PROGRAMS = [("readme_program.py", "user_venv"), ("surface_program.py", "user_venv_with_extras")]


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


def pyright_strict(user_venv: UserVenv, program: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """pyright in strict mode, resolving imports in the user's venv only, with no configuration from this checkout."""
    if not PYRIGHT.exists():
        pytest.fail(f"{PYRIGHT} is missing: run `make install` (npm ci installs pyright)")
    config = {"typeCheckingMode": "strict", "pythonVersion": "3.11"}
    (program.parent / "pyrightconfig.json").write_text(json.dumps(config))
    env = {name: value for name, value in os.environ.items() if name not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        [str(PYRIGHT), "--pythonpath", str(user_venv.python), *options, program.name],
        capture_output=True,
        text=True,
        check=False,
        cwd=program.parent,
        env=env,
    )


@pytest.mark.parametrize(("name", "venv"), PROGRAMS)
def test_a_user_program_passes_mypy_strict_with_precise_public_types(
    name: str, venv: str, tmp_path: Path, mypy_cache: Path, request: pytest.FixtureRequest
) -> None:
    program = tmp_path / name
    shutil.copy(HERE / name, program)
    result = mypy_strict(request.getfixturevalue(venv), program, mypy_cache)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found in 1 source file" in result.stdout


@pytest.mark.parametrize(("name", "venv"), PROGRAMS)
def test_a_user_program_passes_pyright_strict_with_no_unknown_type(
    name: str, venv: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    program = tmp_path / name
    shutil.copy(HERE / name, program)
    result = pyright_strict(request.getfixturevalue(venv), program)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 errors, 0 warnings, 0 informations" in result.stdout, result.stdout


def test_pyright_reports_what_users_would_see_red(user_venv: UserVenv, tmp_path: Path) -> None:
    """The pyright runs above can fail: it reads the installed wheel (a misspelt Literal is an error, not an
    unresolved import) in strict mode (an Unknown type is an error, as basic mode would let it be)."""
    program = tmp_path / "red.py"
    program.write_text(
        "from vozo import Vozo\n\n"
        'Vozo().lipsync.create(reference_file_url="https://e.com/a.mp4", audio_url="https://e.com/a.mp3", '
        'model="precison")\n\n\n'
        "def untyped(value):\n"
        "    return value.anything\n"
    )
    result = pyright_strict(user_venv, program, "--outputjson")
    assert result.returncode == 1, result.stdout + result.stderr
    # (line, rule) of each error, lines counted from 0
    errors = {(d["range"]["start"]["line"], d.get("rule")) for d in json.loads(result.stdout)["generalDiagnostics"]}
    assert (2, "reportArgumentType") in errors, errors
    assert (6, "reportUnknownMemberType") in errors, errors
    assert not {rule for _, rule in errors if rule and "Import" in rule}, errors


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
