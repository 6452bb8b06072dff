import re
from typing import Any

import pytest

from dockyard import __version__
from dockyard.operations.catalog import Family, catalog

UTC_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_health_answers_without_a_token(anon: Any) -> None:
    resp = anon.get("/api/health")
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/json"
    body = resp.json()
    assert set(body) == {"status", "version", "checkedAt"}
    assert body["status"] == "ok" and body["version"] == __version__
    assert UTC_TIMESTAMP.match(body["checkedAt"]), body["checkedAt"]


def test_health_answers_with_a_token_too(api: Any) -> None:
    assert api.get("/api/health").json()["status"] == "ok"


def test_health_ignores_query_parameters_it_does_not_know(anon: Any) -> None:
    assert anon.get("/api/health", params={"verbose": "1"}).status_code == 200


@pytest.mark.parametrize("family", list(Family), ids=lambda f: f.value)
def test_openapi_document_of_each_family_lists_its_operations_once(anon: Any, family: Family) -> None:
    doc = anon.get(f"{family.prefix}/openapi.json")
    assert doc.status_code == 200
    spec = doc.json()
    assert spec["info"]["version"] == __version__
    served = {
        (method.upper(), path): op["operationId"]
        for path, item in spec["paths"].items()
        for method, op in item.items()
    }
    expected = {(op.method, family.prefix + op.path): op.key for op in catalog() if op.family is family}
    assert served == expected


def test_api_docs_page_is_served(anon: Any) -> None:
    page = anon.get("/api/docs")
    assert page.status_code == 200 and "/api/openapi.json" in page.text
