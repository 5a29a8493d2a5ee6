"""`pip install vozo` alone: a light import, and the optional parts name the extra to install."""

from __future__ import annotations

import json

from tests.packaging.conftest import UserVenv

# What the extras bring; a plain install must neither hold nor load any of them. httpx imports its own command
# line whenever click and rich are installed, so their absence is what keeps `import vozo` light.
EXTRAS_LIBRARIES = {
    "click",
    "rich",
    "pygments",
    "markdown_it",
    "filelock",
    "starlette",
    "uvicorn",
    "jsonschema",
    "yaml",
}


def test_a_plain_install_holds_only_runtime_libraries(user_venv: UserVenv) -> None:
    script = "import importlib.metadata as m, json; print(json.dumps([d.metadata['Name'] for d in m.distributions()]))"
    installed = {name.lower().replace("-", "_") for name in json.loads(user_venv.run("-c", script).stdout)}
    assert {"vozo", "httpx", "attrs", "anyio"} <= installed
    assert installed & {"click", "rich", "pygments", "markdown_it_py", "filelock", "starlette", "uvicorn"} == set()


def test_import_vozo_loads_no_cli_or_testing_library(user_venv: UserVenv) -> None:
    result = user_venv.run("-c", "import sys, json, vozo; print(json.dumps(sorted(sys.modules)))")
    assert result.returncode == 0, result.stderr
    loaded = {name.partition(".")[0] for name in json.loads(result.stdout)}
    assert {"vozo", "vozo_api_client", "httpx", "attrs"} <= loaded  # the probe sees imports (anyio: on first use)
    assert loaded & EXTRAS_LIBRARIES == set()


def test_the_vozo_command_without_the_cli_extra_says_what_to_install(user_venv: UserVenv) -> None:
    for result in (user_venv.script("vozo", "--help"), user_venv.run("-m", "vozo", "status", "x")):
        assert result.returncode == 2
        assert result.stdout == ""
        assert result.stderr == (
            "vozo: the vozo command needs the 'cli' extra (click is not installed): pip install 'vozo[cli]'\n"
        )


def test_vozo_testing_and_vozo_batch_without_their_extras_name_the_pip_install(user_venv: UserVenv) -> None:
    script = """
import vozo
for module, extra in (("vozo.testing", "testing"), ("vozo.batch", "batch")):
    try:
        __import__(module)
    except ImportError as exc:
        assert isinstance(exc, vozo.VozoError) and not isinstance(exc, ModuleNotFoundError), type(exc).__mro__
        assert f"pip install 'vozo[{extra}]'" in str(exc), str(exc)
        print(module, "->", type(exc).__name__)
    else:
        raise SystemExit(f"{module} imported without its extra")
"""
    result = user_venv.run("-c", script)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == ["vozo.testing -> MissingExtraError", "vozo.batch -> MissingExtraError"]
