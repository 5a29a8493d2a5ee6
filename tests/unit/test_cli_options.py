"""A job command's options after a docs update: a new field never takes an option another field's overlay alias
or the command itself has, so a documented command line keeps its meaning."""

from __future__ import annotations

import attrs
import click

from vozo._cli import accept_json_after_subcommands, job_command
from vozo._kinds import JobKind, kind_named


def _options(kind: JobKind) -> dict[str, list[str]]:
    """Each parameter's destination -> its option names."""
    return {str(param.name): list(param.opts) for param in job_command(kind).params}


def _with_fields(*names: str) -> JobKind:
    """translations with new plain string fields named ``names`` before its own (the spec's order is kept)."""
    kind = kind_named("translations")
    template = next(field for field in kind.fields if field.name == "target_language")
    added = tuple(
        attrs.evolve(
            template, name=name, argument=name, required=False, cli_aliases=(), accepts=(), value_aliases={},
            default=None, infer_from=None,
        )
        for name in names
    )  # fmt: skip
    return attrs.evolve(kind, fields=(*added, *kind.fields))


def test_a_new_field_named_like_another_field_s_alias_gets_field_prefixed() -> None:
    """`vozo translate --media URL --target es` (the README's command) set two new fields `media` and `target`
    once Vozo documented them first, instead of media_url and target_language."""
    options = _options(_with_fields("target", "media"))
    assert options["target"] == ["--field-target"]
    assert options["media"] == ["--field-media"]
    assert options["target_language"] == ["--target-language", "--target"]
    assert options["media_url"] == ["--media-url", "--media"]


def test_prefixed_names_never_repeat() -> None:
    """A field `field_timeout` before `timeout` took --field-timeout, and `timeout` got it again."""
    options = _options(_with_fields("field_timeout", "timeout"))
    names = [name for opts in options.values() for name in opts]
    assert len(names) == len(set(names))
    assert options["field_timeout"] == ["--field-timeout"]
    assert options["timeout"] == ["--field-field-timeout"]


def test_a_field_named_json_leaves_the_command_its_json_flag() -> None:
    """A field `json` took --json, so `vozo <kind> ... --json` (documented for every command) set that field, or
    failed asking for its value, instead of asking for JSON output."""
    command = job_command(_with_fields("json"))
    group = click.Group("vozo", commands=[command])
    accept_json_after_subcommands(group)
    flags = [param for param in command.params if "--json" in param.opts]
    assert [(param.opts, param.is_flag, param.expose_value) for param in flags] == [(["--json"], True, False)]
    assert next(param.opts for param in command.params if param.name == "json" and param.expose_value) == [
        "--field-json"
    ]


def _speaker_range_typed(type_: str) -> JobKind:
    """translations after a docs update that types speaker_number's min and max as ``type_``."""
    kind = kind_named("translations")
    fields = tuple(
        attrs.evolve(
            field,
            schema={
                **field.schema,
                "properties": {name: {**sub, "type": type_} for name, sub in field.schema["properties"].items()},
            },
        )
        if field.name == "speaker_number"
        else field
        for field in kind.fields
    )
    return attrs.evolve(kind, fields=fields)


def test_a_min_max_range_reads_its_two_values_as_the_spec_types_them() -> None:
    """`--speakers 1 2` gives the range's ends the type the spec gives them (today integers), not always int."""
    cases = {"integer": (("1", "2"), (1, 2)), "number": (("1.5", "2"), (1.5, 2.0)), "string": (("1", "2"), ("1", "2"))}
    for type_, (given, expected) in cases.items():
        option = next(p for p in job_command(_speaker_range_typed(type_)).params if p.name == "speaker_number")
        assert option.type_cast_value(click.Context(click.Command("x")), given) == expected


def test_a_boolean_field_with_an_enum_reads_true_and_false_as_every_boolean_field_does() -> None:
    """A field documented as `type: boolean, enum: [true]` (a consent Vozo requires) refused `--consent true`
    ("'true' is not 'True'"), though every other boolean option and a manifest's column take `true`."""
    kind = _with_fields("consent", "untyped")
    schemas = {"consent": {"type": "boolean", "enum": [True]}, "untyped": {"enum": [True, False]}}
    kind = attrs.evolve(kind, fields=tuple(attrs.evolve(f, schema=schemas.get(f.name, f.schema)) for f in kind.fields))
    context = click.Context(click.Command("x"))
    for name in schemas:
        option = next(p for p in job_command(kind).params if p.name == name)
        assert [option.type_cast_value(context, given) for given in ("true", "True", "1", "false")] == [
            True, True, True, False
        ]  # fmt: skip


def test_an_option_of_a_field_typed_only_by_its_values_reads_as_those_values() -> None:
    """`const: 3` with no `type` took --level 3 as the text '3', which the create refused: no command line could
    give the one value the field takes."""
    kind = _with_fields("level", "speed")
    schemas = {"level": {"const": 3}, "speed": {"enum": [1, 2]}}
    kind = attrs.evolve(kind, fields=tuple(attrs.evolve(f, schema=schemas.get(f.name, f.schema)) for f in kind.fields))
    context = click.Context(click.Command("x"))
    options = {p.name: p for p in job_command(kind).params}
    assert [options[name].type_cast_value(context, "2" if name == "speed" else "3") for name in schemas] == [3, 2]
