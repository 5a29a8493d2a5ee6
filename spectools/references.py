"""Names of the generated client that the hand-written wrapper uses and that a new spec makes disappear.

The generated packages are introspected by importing them in a child process (the old and the new one share the
name ``vozo_api_client``); the wrapper is read with ``ast``: its ``vozo_api_client`` imports, the attributes and
keyword arguments it reaches through them, and every ``.attribute`` it reads, which is matched against the fields
of the generated models (a status object's ``err_code`` is read off an instance, out of reach of the imports).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from spectools.generate import PACKAGE

# Run in a child process with the generated folder first on sys.path; prints {"names": [...], "fields": {...}}.
_INTROSPECT = """
import attrs, importlib, inspect, json, pkgutil, sys
root = sys.argv[1]
package = importlib.import_module(sys.argv[2])
if not package.__file__.startswith(root):
    sys.exit(f"imported {package.__file__}, not the package under {root}")
names, fields = set(), {}
for info in [None, *pkgutil.walk_packages(package.__path__, package.__name__ + ".")]:
    module = package if info is None else importlib.import_module(info.name)
    names.add(module.__name__)
    for attr in dir(module):  # not vars(): a lazy package (the models, PEP 562) lists in dir() what it loads
        if attr.startswith("_"):
            continue
        value = getattr(module, attr)
        names.add(f"{module.__name__}.{attr}")
        if inspect.isclass(value) and value.__module__.startswith(package.__name__):
            names.update(f"{module.__name__}.{attr}.{member}" for member in dir(value) if not member.startswith("_"))
            if attrs.has(value) and ".models" in module.__name__:
                for field in attrs.fields(value):
                    fields.setdefault(field.name, set()).add(value.__name__)
print(json.dumps({"names": sorted(names), "fields": {k: sorted(v) for k, v in fields.items()}}))
"""


class IntrospectionError(RuntimeError):
    """A generated package could not be imported to list its names."""


@dataclass(frozen=True)
class GeneratedNames:
    names: frozenset[str]  # dotted: modules, their public names, and the members of their classes
    fields: dict[str, frozenset[str]]  # attrs field name -> the model classes that have it


@dataclass(frozen=True)
class Use:
    where: str  # file:line
    name: str  # a dotted generated name, or ".field" for an attribute read off any object


def generated_names(generated: Path, package: str = PACKAGE) -> GeneratedNames:
    env = {**os.environ, "PYTHONPATH": str(generated)}
    command = [sys.executable, "-c", _INTROSPECT, str(generated.resolve()), package]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise IntrospectionError(f"could not import {package} from {generated}:\n{result.stderr.strip()}")
    found = json.loads(result.stdout)
    return GeneratedNames(frozenset(found["names"]), {k: frozenset(v) for k, v in found["fields"].items()})


def wrapper_uses(wrapper: Path, package: str = PACKAGE) -> list[Use]:
    """Every use of a generated name (and every attribute read) in the Python files under ``wrapper``."""
    uses: list[Use] = []
    for file in sorted(wrapper.rglob("*.py")):
        tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
        uses += _FileScan(f"{file.relative_to(wrapper.parent)}", package).scan(tree)
    return uses


def vanished(old_generated: Path, new_generated: Path, wrapper: Path) -> list[str]:
    """Report lines: each generated name the wrapper uses that the old code had and the new code lacks."""
    old, new = generated_names(old_generated), generated_names(new_generated)
    places: dict[str, list[str]] = defaultdict(list)
    for use in wrapper_uses(wrapper):
        if use.name.startswith("."):
            field = use.name[1:]
            if field in old.fields and field not in new.fields:
                places[f"field `{field}` (of {', '.join(sorted(old.fields[field]))})"].append(use.where)
        elif use.name in old.names and use.name not in new.names:
            places[f"`{use.name}`"].append(use.where)
    return [
        f"! {what} is gone from the generated code; hand-written code uses it at {', '.join(dict.fromkeys(where))}"
        for what, where in sorted(places.items())
    ]


# Hand-written argument rules declare the request fields they read: @_prose_rule("media_type", "export_type").
_RULE_DECORATOR = "_prose_rule"


def stale_rules(wrapper: Path, fields: set[str]) -> list[str]:
    """Report lines: each hand-written argument rule reading a request field that no job kind has (``fields``, by
    their JSON names): the rule does nothing now, and should go or follow the field's new name."""
    lines = []
    for file in sorted(wrapper.rglob("*.py")):
        tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef):
                continue
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Call) and getattr(decorator.func, "id", None) == _RULE_DECORATOR:
                    read = [arg.value for arg in decorator.args if isinstance(arg, ast.Constant)]
                    gone = [str(name) for name in read if name not in fields]
                    if gone:
                        where = f"{file.relative_to(wrapper.parent)}:{node.lineno}"
                        lines.append(
                            f"! hand-written argument rule `{node.name}` ({where}) reads "
                            f"{', '.join(f'`{name}`' for name in gone)}, which no job kind's request has any more"
                        )
    return lines


class _FileScan(ast.NodeVisitor):
    def __init__(self, file: str, package: str) -> None:
        self._file, self._package = file, package
        self._aliases: dict[str, str] = {}  # local name -> dotted generated name
        self._uses: list[Use] = []

    def scan(self, tree: ast.AST) -> list[Use]:
        self.visit(tree)
        return self._uses

    def _use(self, node: ast.AST, name: str) -> None:
        self._uses.append(Use(f"{self._file}:{getattr(node, 'lineno', 0)}", name))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level == 0 and (module == self._package or module.startswith(self._package + ".")):
            for alias in node.names:
                self._aliases[alias.asname or alias.name] = f"{module}.{alias.name}"
                self._use(node, f"{module}.{alias.name}")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name == self._package or alias.name.startswith(self._package + "."):
                bound = alias.name if alias.asname else alias.name.split(".")[0]  # what the local name refers to
                self._aliases[alias.asname or bound] = bound
                self._use(node, alias.name)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        dotted = self._dotted(node)
        if dotted:
            self._use(node, dotted)
        else:
            self._use(node, f".{node.attr}")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        callee = self._dotted(node.func)
        if callee:
            for keyword in node.keywords:
                if keyword.arg:
                    self._use(keyword, f"{callee}.{keyword.arg}")
        self.generic_visit(node)

    def _dotted(self, node: ast.expr) -> str | None:
        """The generated name an expression such as ``models.JobStatus.DONE`` stands for, if any."""
        if isinstance(node, ast.Name):
            return self._aliases.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self._dotted(node.value)
            return f"{base}.{node.attr}" if base else None
        return None
