"""The /mcp-api family: every endpoint of spec/mcp-api.json is served with the document's fields,
errors are {ok: false, status, code, message, hint?}, lists page by cursor with {items, pagination}."""

import json
import re
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from dockyard.domain.ids import PREFIXES, new_id
from dockyard.operations.catalog import Family, Operation, catalog

SPEC = Path("/work/shared/spec/mcp-api.json")
LOCAL_SPEC = Path(__file__).with_name("mcp-api.json")
MCP_OPS = [op for op in catalog() if op.family is Family.MCP_API]


def spec() -> list[dict[str, Any]]:
    return json.loads((LOCAL_SPEC if LOCAL_SPEC.exists() else SPEC).read_text())


def kind_of(placeholder: str) -> str:
    kind = placeholder.removesuffix("_id")
    return kind if kind in PREFIXES else f"mcp_{kind}"


def url_of(path: str) -> str:
    for name in re.findall(r"{(\w+)}", path):
        path = path.replace("{" + name + "}", new_id(kind_of(name)))
    return "/mcp-api" + path


def find(method: str, path: str) -> Operation:
    return next(op for op in MCP_OPS if op.method == method and op.path == path)


def fields_of(model: type[BaseModel]) -> set[str]:
    return {f.alias or name for name, f in model.model_fields.items()}


def item_model(model: type[BaseModel]) -> type[BaseModel]:
    items = model.model_fields.get("items")
    if items is None:
        return model
    (inner,) = get_args(items.annotation) if get_origin(items.annotation) is list else (items.annotation,)
    return inner


@pytest.fixture(scope="module")
def client(shared_stack: Any) -> TestClient:
    return shared_stack.client(shared_stack.admin_token, raise_server_exceptions=False)


@pytest.mark.parametrize("endpoint", spec(), ids=lambda e: f"{e['method']} {e['path']}")
def test_every_documented_endpoint_is_served(client: TestClient, endpoint: dict[str, Any]) -> None:
    body = {} if endpoint["method"] in ("POST", "PATCH") else None
    resp = client.request(endpoint["method"], url_of(endpoint["path"]), json=body)
    assert resp.status_code != 405, resp.text
    assert resp.json().get("code") != "route_not_found", resp.text
    assert resp.status_code < 500, resp.text


@pytest.mark.parametrize("endpoint", spec(), ids=lambda e: f"{e['method']} {e['path']}")
def test_every_documented_endpoint_has_the_documents_fields(endpoint: dict[str, Any]) -> None:
    op = find(endpoint["method"], endpoint["path"])
    out = fields_of(item_model(op.output))
    if endpoint["method"] != "DELETE":
        assert set(endpoint.get("object_example", {})) <= out, set(endpoint["object_example"]) - out
    accepted = fields_of(op.input)
    documented = {q["name"] for q in endpoint.get("query_params", [])}
    # date-range objects (`created_at`) are taken in bracket form: created_at[gte], created_at[lt], …
    assert documented <= accepted | {name.split("[")[0] for name in accepted}, documented - accepted
    assert set(endpoint.get("request_example", {})) <= accepted


@pytest.mark.parametrize("op", MCP_OPS, ids=lambda op: op.key)
def test_every_operation_answers_401_in_the_family_envelope_without_a_token(
    shared_stack: Any, op: Operation
) -> None:
    anon = shared_stack.client(raise_server_exceptions=False)
    resp = anon.request(op.method, url_of(op.path), json={} if op.method != "GET" else None)
    assert resp.status_code == 401
    body = resp.json()
    assert body["ok"] is False and body["status"] == 401 and body["code"] in ("unauthorized", "invalid_token")
    assert "Bearer" in body["hint"]


def test_bad_input_is_a_4xx_naming_the_field(client: TestClient) -> None:
    resp = client.post("/mcp-api/provider-deployments", json={"name": "x"})
    body = resp.json()
    assert resp.status_code == 422 and body["code"] == "validation_failed"
    assert "provider_id" in body["message"]
    resp = client.post("/mcp-api/custom-servers", json={"name": "x", "from": {"type": "stdio"}})
    assert resp.status_code == 422 and "from.stdio.command" in resp.json()["message"]
    resp = client.get(f"/mcp-api/server-runs/{new_id('project')}")
    assert resp.status_code == 404 and resp.json()["code"] == "server_run_not_found"
    assert "server run id looks like srr_" in resp.json()["message"]
    resp = client.get(f"/mcp-api/server-runs/{new_id('server_run')}")
    assert resp.status_code == 404 and resp.json()["code"] == "server_run_not_found"


def test_unknown_path_under_the_family_is_a_404_in_its_envelope(client: TestClient) -> None:
    resp = client.get("/mcp-api/nothing-here")
    assert resp.status_code == 404 and resp.json() == {
        "ok": False,
        "status": 404,
        "code": "route_not_found",
        "message": "Not Found",
        "hint": "See /mcp-api/docs for the operations and their paths.",
    }


@pytest.mark.parametrize("limit", [0, 101, "x"])
def test_limit_outside_1_to_100_is_422(client: TestClient, limit: Any) -> None:
    resp = client.get("/mcp-api/server-runs", params={"limit": limit})
    assert resp.status_code == 422 and "limit" in resp.json()["message"]


def test_lists_page_by_cursor_both_ways(client: TestClient) -> None:
    made = [
        client.post(
            "/mcp-api/custom-servers",
            json={"name": f"s{i}", "from": {"type": "remote_mcp_server", "url": "http://127.0.0.1:9/mcp"}},
        ).json()["id"]
        for i in range(5)
    ]
    newest_first = made[::-1]

    def page(**params: Any) -> dict[str, Any]:
        resp = client.get("/mcp-api/custom-servers", params={"limit": 2, **params})
        assert resp.status_code == 200, resp.text
        got = resp.json()
        got["ids"] = [i["id"] for i in got["items"] if i["id"] in made]
        return got

    first = page()
    assert first["ids"] == newest_first[:2]
    assert first["pagination"] == {"has_more_before": False, "has_more_after": True}
    second = page(after=first["ids"][-1])
    assert second["ids"] == newest_first[2:4]
    assert second["pagination"] == {"has_more_before": True, "has_more_after": True}
    assert page(cursor=first["ids"][-1])["ids"] == second["ids"]
    back = page(before=second["ids"][0])
    assert back["ids"] == newest_first[:2] and back["pagination"]["has_more_after"] is True
    oldest = page(order="asc")
    assert oldest["ids"][0] == made[0]
    one = client.get("/mcp-api/custom-servers", params={"limit": 1, "order": "desc"}).json()["items"][0]
    assert one["object"] == "custom_server"


def test_list_filters_take_one_value_or_a_list(client: TestClient) -> None:
    for params in (
        {"status": "queued"},
        {"status": "queued,deploying"},
        [("status", "queued"), ("status", "x")],
    ):
        resp = client.get("/mcp-api/custom-provider-versions", params=params)
        assert resp.status_code == 200, resp.text
