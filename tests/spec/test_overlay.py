from __future__ import annotations

from typing import Any

import pytest

from spectools.overlay import OverlayError, apply_overlay


def overlay(*actions: dict[str, Any]) -> dict[str, Any]:
    return {"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": list(actions)}


DOC = {
    "paths": {
        "/v1/a": {"post": {"responses": {"200": {"description": "ok"}}}},
        "/v1/b": {"get": {"responses": {"200": {"description": "ok"}}}},
    },
    "tags": [{"name": "one"}],
}


def test_update_merges_into_every_selected_node_without_touching_the_input() -> None:
    result = apply_overlay(DOC, overlay({"target": "$.paths.*.*.responses", "update": {"401": {"description": "no"}}}))
    assert result["paths"]["/v1/a"]["post"]["responses"] == {"200": {"description": "ok"}, "401": {"description": "no"}}
    assert result["paths"]["/v1/b"]["get"]["responses"]["401"] == {"description": "no"}
    assert "401" not in DOC["paths"]["/v1/a"]["post"]["responses"]


def test_update_merges_objects_recursively_and_appends_to_arrays() -> None:
    result = apply_overlay(
        DOC,
        overlay(
            {"target": "$", "update": {"tags": [{"name": "two"}], "paths": {"/v1/a": {"post": {"operationId": "x"}}}}},
            {"target": "$.tags", "update": {"name": "three"}},
        ),
    )
    assert result["tags"] == [{"name": "one"}, {"name": "two"}, {"name": "three"}]
    assert result["paths"]["/v1/a"]["post"] == {"responses": {"200": {"description": "ok"}}, "operationId": "x"}


def test_filter_expressions_follow_rfc_9535() -> None:
    result = apply_overlay(DOC, overlay({"target": "$.paths[?@.post].post", "update": {"tags": ["posts"]}}))
    assert result["paths"]["/v1/a"]["post"]["tags"] == ["posts"]
    assert "tags" not in result["paths"]["/v1/b"]["get"]


def test_a_target_that_selects_nothing_is_an_error() -> None:
    with pytest.raises(OverlayError, match=r"selects nothing"):
        apply_overlay(DOC, overlay({"target": "$.paths['/v1/a'].post.tags", "update": {"summary": "x"}}))


@pytest.mark.parametrize("target", ["$.paths['/v1/gone'].get", "$.paths['/v1/a'].get.responses", '$.paths["/v1/x"]'])
def test_a_target_naming_an_operation_no_page_has_is_an_error_naming_the_operation(target: str) -> None:
    with pytest.raises(OverlayError, match=r"decorates operations no page documents any more") as refused:
        apply_overlay(DOC, overlay({"target": target, "update": {"summary": "x"}}))
    assert f"action 1 ({target}) decorates " in str(refused.value)


def test_the_additive_rule_refuses_to_change_or_remove_what_upstream_documents() -> None:
    with pytest.raises(OverlayError, match=r"would change /paths//v1/a/post/responses/200/description"):
        apply_overlay(
            DOC,
            overlay({"target": "$.paths['/v1/a'].post", "update": {"responses": {"200": {"description": "changed"}}}}),
        )
    with pytest.raises(OverlayError, match="may only add"):
        apply_overlay(DOC, overlay({"target": "$.tags", "remove": True}))


def test_without_the_additive_rule_update_replaces_and_remove_removes() -> None:
    changed = apply_overlay(
        DOC,
        overlay(
            {"target": "$.paths['/v1/a'].post.responses['200']", "update": {"description": "changed"}},
            {"target": "$.paths['/v1/b']", "remove": True},
        ),
        additive_only=False,
    )
    assert changed["paths"] == {"/v1/a": {"post": {"responses": {"200": {"description": "changed"}}}}}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"overlay": "2.0.0", "info": {"title": "t", "version": "1"}, "actions": [{"target": "$", "update": {}}]},
            "1.0.x",
        ),
        ({"overlay": "1.0.0", "info": {"title": "t"}, "actions": [{"target": "$", "update": {}}]}, "'info'"),
        ({"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": []}, "non-empty"),
        (overlay({"target": "paths", "update": {}}), "starting with '$'"),
        (overlay({"target": "$"}), "needs 'update' or 'remove: true'"),
        (overlay({"target": "$.paths[", "update": {}}), "invalid JSONPath"),
    ],
)
def test_malformed_overlays_are_refused(document: dict[str, Any], message: str) -> None:
    with pytest.raises(OverlayError, match=message.replace("$", r"\$").replace("[", r"\[")):
        apply_overlay(DOC, document)
