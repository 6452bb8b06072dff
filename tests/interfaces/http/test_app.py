"""The published OpenAPI of both families says what the server accepts and answers: both are valid
OpenAPI 3.1; every id (path parameter or body field) carries its kind's pattern, flags are booleans;
every operation documents its success status with its output's schema and every failure status with
its family's error envelope.

The fuzz test (tests/e2e/test_openapi_fuzz.py) checks the same promises by sending requests; these
read the documents, in-process and fast.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from openapi_spec_validator import validate
from pydantic import BaseModel

from dockyard.domain.ids import id_pattern
from dockyard.operations.catalog import Family, Operation, catalog
from dockyard.operations.common import IdKind
from interfaces.http.urls import path_kinds

OPERATIONS = catalog()


@pytest.fixture(scope="module")
def docs(shared_stack: Any) -> dict[Family, dict[str, Any]]:
    client = shared_stack.client()
    return {family: client.get(f"{family.prefix}/openapi.json").json() for family in Family}


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def patterns(doc: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    """Every pattern a value (or an item of it) must match, through anyOf/items/$ref."""
    schema = resolve(doc, schema)
    found = {schema["pattern"]} if "pattern" in schema else set()
    for branch in [*schema.get("anyOf", []), *([schema["items"]] if "items" in schema else [])]:
        found |= patterns(doc, branch)
    return found


def id_fields(model: type[BaseModel]) -> Iterator[tuple[str, str]]:
    """(wire name, id kind) of the model's id fields."""
    for name, field in model.model_fields.items():
        for meta in field.metadata:
            if isinstance(meta, IdKind):
                yield field.alias or name, meta.kind
        for arg in getattr(field.annotation, "__args__", ()):  # list[SomeId], SomeId | None
            for meta in getattr(arg, "__metadata__", ()):
                if isinstance(meta, IdKind):
                    yield field.alias or name, meta.kind


def operation_doc(docs: dict[Family, dict[str, Any]], op: Operation) -> dict[str, Any]:
    return docs[op.family]["paths"][op.family.prefix + op.path][op.method.lower()]  # type: ignore[no-any-return]


@pytest.mark.parametrize("op", [op for op in OPERATIONS if op.path_params], ids=lambda op: op.key)
def test_every_id_in_a_path_carries_its_kinds_pattern(docs: dict[Family, Any], op: Operation) -> None:
    params = {p["name"]: p for p in operation_doc(docs, op)["parameters"] if p["in"] == "path"}
    for name, kind in path_kinds(op).items():
        if kind:
            assert params[name]["schema"]["pattern"] == id_pattern(kind), params[name]


BODY_IDS = [
    (op, name, kind) for op in OPERATIONS for name, kind in id_fields(op.input) if name not in op.path_params
]


@pytest.mark.parametrize(("op", "name", "kind"), BODY_IDS, ids=lambda v: getattr(v, "key", v))
def test_every_id_in_a_query_or_body_carries_its_kinds_pattern(
    docs: dict[Family, Any], op: Operation, name: str, kind: str
) -> None:
    doc, spec = docs[op.family], operation_doc(docs, op)
    if op.method == "GET":
        schema = next(p["schema"] for p in spec["parameters"] if p["name"] == name)
    else:
        body = resolve(doc, spec["requestBody"]["content"]["application/json"]["schema"])
        schema = body["properties"][name]
    assert patterns(doc, schema) == {id_pattern(kind)}, schema


@pytest.mark.parametrize("family", list(Family), ids=lambda f: f.value)
def test_each_document_is_valid_openapi_3_1(docs: dict[Family, Any], family: Family) -> None:
    assert docs[family]["openapi"].startswith("3.1")
    validate(docs[family])  # raises, naming the first violation


@pytest.mark.parametrize("op", [op for op in OPERATIONS if op.method != "GET"], ids=lambda op: op.key)
def test_the_4xx_answers_are_documented(docs: dict[Family, Any], op: Operation) -> None:
    documented = set(operation_doc(docs, op)["responses"])
    assert {"400", "401", "403", "404", "409", "413", "422", "500"} <= documented, documented


ENVELOPE = {Family.API: "ApiError", Family.MCP_API: "McpApiError"}


@pytest.mark.parametrize("family", list(Family), ids=lambda f: f.value)
def test_each_document_holds_its_own_models_under_plain_names(
    docs: dict[Family, Any], family: Family
) -> None:
    """Two models of one name would be published under their module paths (and a generated client
    drops one of them); the other family's models have no place in this document."""
    names = set(docs[family]["components"]["schemas"])
    assert not [n for n in names if "__" in n]
    other = next(f for f in Family if f is not family)
    assert ENVELOPE[family] in names and ENVELOPE[other] not in names


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.key)
def test_every_answer_is_documented_with_its_schema(docs: dict[Family, Any], op: Operation) -> None:
    """A client generated from the document knows the shape of the success body and of every error."""
    responses = operation_doc(docs, op)["responses"]
    success = responses.pop(str(op.status_code))
    if op.stream:
        assert list(success["content"]) == ["text/event-stream"]
    elif op.status_code == 204:
        assert "content" not in success  # done, and nothing to read (never a JSON null)
    else:
        schema = success["content"]["application/json"]["schema"]
        assert schema == {"$ref": f"#/components/schemas/{op.output.__name__}"}, schema
    assert not [code for code in responses if code.startswith("2")], "one success status per operation"
    for code, answer in responses.items():
        schema = answer["content"]["application/json"]["schema"]
        assert schema == {"$ref": f"#/components/schemas/{ENVELOPE[op.family]}"}, (code, schema)


def test_a_map_with_patterned_keys_refuses_other_keys(docs: dict[Family, Any]) -> None:
    def maps(node: Any) -> Iterator[dict[str, Any]]:
        if isinstance(node, dict):
            if "patternProperties" in node:
                yield node
            for value in node.values():
                yield from maps(value)
        elif isinstance(node, list):
            for value in node:
                yield from maps(value)

    found = [m for doc in docs.values() for m in maps(doc)]
    assert found and all(m["additionalProperties"] is False for m in found)


def test_the_documents_say_text_never_contains_nul(docs: dict[Family, Any]) -> None:
    for doc in docs.values():
        assert "NUL" in doc["info"]["description"]
