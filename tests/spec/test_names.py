"""The names spectools keeps a job kind, its resource classes and its fields' arguments from taking are every name
the SDK already uses there: these tests fail when the wrapper gains one the lists do not have."""

from __future__ import annotations

import ast
import inspect
import textwrap

import vozo
import vozo.types
import vozo_jobs.kinds
import vozo_jobs.types
from spectools.build import SDK_BASE_URL
from spectools.jobkinds import RESERVED_NAMES
from spectools.resources import SDK_ARGUMENTS, TAKEN_CLASS_NAMES
from vozo._cli import main
from vozo._config import DEFAULT_BASE_URL
from vozo._kinds import all_kinds
from vozo_jobs import _async_resources, _sync_resources

KIND_NAMES = {name for kind in all_kinds() for name in (kind.name, *kind.aliases)}


def test_no_kind_can_be_named_like_an_attribute_of_either_client() -> None:
    """A resource is client.<name>, held in client._<name>: neither may be one of the client's own."""
    found: set[str] = set()
    for client in (vozo.Vozo(api_key="k"), vozo.AsyncVozo(api_key="k")):
        names = {*dir(type(client)), *vars(client)}
        found |= {name.lstrip("_") for name in names if not name.startswith("__")}
    assert found - KIND_NAMES <= RESERVED_NAMES


def test_no_kind_can_be_named_like_a_command_or_a_name_of_the_kinds_module() -> None:
    commands = {name.replace("-", "_") for name in main.commands}
    assert commands - KIND_NAMES <= RESERVED_NAMES
    constants = {kind.name.upper() for kind in all_kinds()}
    module = {name.lower() for name in vars(vozo_jobs.kinds) if name.isupper() and name not in constants}
    assert module <= RESERVED_NAMES


def test_no_resource_class_can_take_a_name_vozo_types_or_the_resources_module_has() -> None:
    generated = {*vozo_jobs.types.__all__, *_async_resources.__all__, *_sync_resources.__all__}
    assert set(vozo.types.__all__) - generated <= TAKEN_CLASS_NAMES
    for module in (_async_resources, _sync_resources):
        # What the module imports besides models (checked against the models themselves) and could be a class name.
        imported = {
            name
            for name, value in vars(module).items()
            if name[0].isupper() and not name.isupper() and name not in module.__all__
            and not getattr(value, "__module__", "").startswith("vozo_api_client")
        }  # fmt: skip
        assert imported
        assert imported <= TAKEN_CLASS_NAMES


def test_no_field_argument_can_take_a_parameter_or_a_name_the_create_methods_use() -> None:
    """A field's argument beside the create methods' own parameters, or shadowing a name their bodies read."""
    for resource in (_async_resources.AsyncLipsync, _sync_resources.Lipsync):
        fields = {field.argument for field in resource.kind.fields}
        for method in (resource.create, resource.create_and_wait):
            parameters = set(inspect.signature(method).parameters)
            function = ast.parse(textwrap.dedent(inspect.getsource(method))).body[0]
            assert isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
            read = {
                node.id
                for statement in function.body
                for node in ast.walk(statement)
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
            }
            assert parameters - fields <= SDK_ARGUMENTS
            assert read - parameters <= SDK_ARGUMENTS
    assert {"id", "kind"} <= SDK_ARGUMENTS  # a manifest's own columns, beside the arguments


def test_the_server_spectools_holds_the_pages_to_is_the_sdk_s_default_base_url() -> None:
    assert SDK_BASE_URL == DEFAULT_BASE_URL
