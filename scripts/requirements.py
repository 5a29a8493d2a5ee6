"""Print the package's run-time requirements plus those of the extras named, one per line, from pyproject.toml.

`make demo` installs these and runs the checkout itself, so a fresh clone builds nothing and gets no dev tools.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
requirements = list(project["dependencies"])
for extra in sys.argv[1:]:
    requirements += project["optional-dependencies"][extra]
print("\n".join(dict.fromkeys(requirements)))  # filelock is in two extras
