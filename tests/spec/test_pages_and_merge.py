from __future__ import annotations

import copy
from typing import Any

import pytest

from spectools.merge import MergeConflictError, merge_pages
from spectools.pages import Page, PageError, fence_body, load_pages, parse_page

FENCE = "````"


def page_text(method: str, path: str, body: str) -> str:
    return f"# Title\n\n> Description\n\n## OpenAPI\n\n{FENCE}yaml {method} {path}\n{body}\n{FENCE}\n"


def fragment(path: str, method: str = "get", schemas: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Vozo API", "version": "1.0.0"},
        "paths": {path: {method: {"responses": {"200": {"description": "ok"}}}}},
        "components": {"schemas": schemas or {}},
    }


def page(name: str, frag: dict[str, Any]) -> Page:
    path, item = next(iter(frag["paths"].items()))
    return Page(name, next(iter(item)), path, frag)


ERROR = {"type": "object", "required": ["code"], "properties": {"code": {"type": "string"}}}


def test_parse_page_extracts_the_fenced_document() -> None:
    body = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /v1/x:\n    post: {responses: {}}\n"
    parsed = parse_page("x.md", page_text("POST", "/v1/x", body))
    assert (parsed.method, parsed.path) == ("post", "/v1/x")
    assert parsed.fragment["paths"]["/v1/x"]["post"] == {"responses": {}}


def test_fence_body_says_on_which_page_line_the_document_starts() -> None:
    text = page_text("GET", "/a", "openapi: 3.1.0\npaths: {/a: {get: {}}}")
    body, first_line = fence_body(text) or ("", 0)
    assert text.splitlines()[first_line - 1] == "openapi: 3.1.0"
    assert body.startswith("openapi: 3.1.0\n")
    assert fence_body("# no fence\n") is None


def test_a_yaml_error_names_the_page_line() -> None:
    text = page_text("GET", "/a", "openapi: 3.1.0\npaths:\n  /a: [unclosed\n")
    with pytest.raises(PageError) as info:
        parse_page("bad.md", text)
    assert info.value.page == "bad.md"
    broken = next(n for n, line in enumerate(text.splitlines(), 1) if "[unclosed" in line)
    assert info.value.line is not None
    assert broken <= info.value.line <= broken + 2  # YAML stops where it gives up, at or just after the line


def test_a_merge_conflict_names_its_path_and_pages() -> None:
    other = copy.deepcopy(ERROR)
    other["properties"]["code"]["type"] = "integer"
    with pytest.raises(MergeConflictError) as info:
        merge_pages(
            [
                page("a.md", fragment("/v1/a", schemas={"Error": ERROR})),
                page("b.md", fragment("/v1/b", schemas={"Error": other})),
            ]
        )
    assert (info.value.path, info.value.pages) == (("components", "schemas", "Error"), ("a.md", "b.md"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# no fence here\n", "no ````yaml METHOD /path fence"),
        (page_text("GET", "/a", "openapi: 3.1.0\npaths: {/a: {get: {}}}") * 2, "2 OpenAPI fences"),
        (page_text("GET", "/a", "openapi: 3.1.0\npaths: {/b: {get: {}}}"), "does not define it"),
        (page_text("GET", "/a", "openapi: [unclosed"), "does not parse"),
    ],
)
def test_parse_page_rejects_pages_without_one_usable_document(text: str, message: str) -> None:
    with pytest.raises(PageError, match=r"bad\.md") as info:
        parse_page("bad.md", text)
    assert message in str(info.value)


def test_merge_is_the_union_of_paths_and_methods() -> None:
    merged = merge_pages(
        [page("a.md", fragment("/v1/a")), page("b.md", fragment("/v1/a", "post")), page("c.md", fragment("/v1/c"))]
    )
    assert list(merged["paths"]) == ["/v1/a", "/v1/c"]
    assert set(merged["paths"]["/v1/a"]) == {"get", "post"}


def test_identical_shared_components_are_merged_once() -> None:
    merged = merge_pages(
        [
            page("a.md", fragment("/v1/a", schemas={"Error": ERROR})),
            page("b.md", fragment("/v1/b", schemas={"Error": ERROR})),
        ]
    )
    assert merged["components"]["schemas"] == {"Error": ERROR}


def test_a_component_defined_differently_is_an_error_naming_both_pages() -> None:
    other = copy.deepcopy(ERROR)
    other["properties"]["code"]["type"] = "integer"
    pages = [
        page("a.md", fragment("/v1/a", schemas={"Error": ERROR})),
        page("b.md", fragment("/v1/b", schemas={"Error": other})),
    ]
    with pytest.raises(MergeConflictError, match=r"component schemas/Error is defined differently in a\.md and b\.md"):
        merge_pages(pages)


def test_the_same_operation_on_two_pages_must_agree() -> None:
    first, second = fragment("/v1/a"), fragment("/v1/a")
    second["paths"]["/v1/a"]["get"]["description"] = "changed"
    assert (
        merge_pages([page("a.md", first), page("b.md", copy.deepcopy(first))])["paths"]["/v1/a"]["get"]
        == first["paths"]["/v1/a"]["get"]
    )
    with pytest.raises(MergeConflictError, match=r"operation GET /v1/a .* a\.md and b\.md"):
        merge_pages([page("a.md", first), page("b.md", second)])


def test_pages_that_disagree_on_servers_are_an_error() -> None:
    first, second = fragment("/v1/a"), fragment("/v1/b")
    first["servers"], second["servers"] = [{"url": "https://api.vozo.ai"}], [{"url": "https://other"}]
    with pytest.raises(MergeConflictError, match="top-level 'servers'"):
        merge_pages([page("a.md", first), page("b.md", second)])


def test_merge_output_does_not_depend_on_page_order() -> None:
    pages = [
        page("a.md", fragment("/v1/z", schemas={"Z": ERROR, "Error": ERROR})),
        page("b.md", fragment("/v1/a", schemas={"A": ERROR, "Error": ERROR})),
    ]
    assert merge_pages(pages) == merge_pages(list(reversed(pages)))
    assert list(merge_pages(pages)["components"]["schemas"]) == ["A", "Error", "Z"]


def test_an_empty_folder_is_a_page_error(tmp_path) -> None:
    with pytest.raises(PageError, match=r"no \.md pages"):
        load_pages(tmp_path)


def test_a_conflict_names_where_the_two_definitions_first_differ() -> None:
    """Two pages' copies of a 40-line schema that differ in one nested type: the error named only the schema."""
    other = copy.deepcopy(ERROR)
    other["properties"]["code"]["type"] = "integer"
    pages = [
        page("a.md", fragment("/v1/a", schemas={"Error": ERROR})),
        page("b.md", fragment("/v1/b", schemas={"Error": other})),
    ]
    with pytest.raises(MergeConflictError) as conflict:
        merge_pages(pages)
    assert "first differing at $.components.schemas.Error.properties.code.type ('string' and 'integer')" in str(
        conflict.value
    )
    extra = copy.deepcopy(ERROR)
    extra["properties"]["hint"] = {"type": "string"}
    with pytest.raises(MergeConflictError) as conflict:
        merge_pages([pages[0], page("b.md", fragment("/v1/b", schemas={"Error": extra}))])
    assert "first differing at $.components.schemas.Error.properties.hint (only in b.md)" in str(conflict.value)
