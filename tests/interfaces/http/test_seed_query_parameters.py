"""Every query parameter the seed reference documents for an operation Dockyard implements is
accepted: a request naming it is never refused as an unknown parameter (`extra_forbidden`).

What each does is tested beside its operation; this walks the reference so none is left out.
"""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dockyard.operations.catalog import Family, Operation, catalog
from interfaces.http.urls import url_of

SPEC = Path(__file__).parent  # copies of the reference's spec/*.json, as test_mcp_api reads them
FILES = {Family.API: "platform-api.json", Family.MCP_API: "mcp-api.json"}
# A value of the documented type for the parameters whose type alone says too little.
VALUES = {
    "statuses": "succeeded",
    "signals": "cpu",
    "scope": json.dumps({"kind": "server", "serverId": "tgt_00000000000000000000000000"}),
    "created_at": json.dumps({"gte": "2026-01-01T00:00:00Z"}),
    "updated_at": json.dumps({"lt": "2027-01-01T00:00:00Z"}),
}
BY_TYPE = {"integer": "1", "array<>": "x", "boolean|string|string": "true", "boolean": "true"}


def _shape(path: str) -> str:
    return re.sub(r"{[^}]+}", "{}", path)


def seed_parameters() -> list[tuple[Operation, str, str]]:
    ours = {(op.family, op.method, _shape(op.path)): op for op in catalog()}
    found = []
    for family, name in FILES.items():
        for entry in json.loads((SPEC / name).read_text()):
            op = ours.get((family, entry["method"], _shape(entry["path"])))
            # A stream answers until closed: its parameters are its non-stream twin's, walked there.
            for param in entry.get("query_params") or []:
                if op is not None and not op.stream:
                    value = VALUES.get(param["name"], BY_TYPE.get(param.get("type", ""), "x"))
                    found.append((op, param["name"], value))
    return found


SEED_PARAMETERS = seed_parameters()
# The values the reference lists for a query parameter ("Value in …" in its text; the parsed spec
# leaves them out), extracted once from seeds/004 into this file.
ENUMS = json.loads((SPEC / "seed-query-enums.json").read_text())


def seed_enum_values() -> list[tuple[Operation, str, str]]:
    ours = {(op.method, _shape(op.path)): op for op in catalog() if op.family is Family.API}
    return [
        (ours[(e["method"], _shape(e["path"]))], e["name"], value)
        for e in ENUMS
        if (e["method"], _shape(e["path"])) in ours
        for value in e["values"]
    ]


SEED_ENUM_VALUES = seed_enum_values()


@pytest.fixture(scope="module")
def client(shared_stack: Any) -> TestClient:
    return shared_stack.client(shared_stack.admin_token, raise_server_exceptions=False)


def test_the_reference_names_query_parameters_of_implemented_operations() -> None:
    assert len(SEED_PARAMETERS) > 40  # the walk below reads the reference, not an empty list


@pytest.mark.parametrize(
    ("op", "name", "value"), SEED_PARAMETERS, ids=[f"{op.key}-{name}" for op, name, _ in SEED_PARAMETERS]
)
def test_each_seed_query_parameter_is_accepted(
    client: TestClient, op: Operation, name: str, value: str
) -> None:
    resp = client.request(op.method, url_of(op), params={name: value})
    assert resp.status_code < 500, resp.text
    body = resp.json()
    error = body.get("error", body) if resp.status_code >= 400 else {}
    unknown = [
        e for e in (error.get("details") or {}).get("errors", []) if e.get("type") == "extra_forbidden"
    ]
    assert not unknown, f"{op.key} refuses the seed's `{name}`: {unknown}"


@pytest.mark.parametrize(
    ("op", "name", "value"),
    SEED_ENUM_VALUES,
    ids=[f"{op.key}-{name}-{value}" for op, name, value in SEED_ENUM_VALUES],
)
def test_each_value_the_seed_lists_for_a_query_parameter_is_accepted(
    client: TestClient, op: Operation, name: str, value: str
) -> None:
    """A listed value is never refused as invalid for that parameter (an operation may still answer
    that it needs another parameter with it, by its own error code)."""
    resp = client.request(op.method, url_of(op), params={name: value})
    assert resp.status_code < 500, resp.text
    error = resp.json().get("error", {}) if resp.status_code >= 400 else {}
    refused = [e for e in (error.get("details") or {}).get("errors", []) if e.get("field") == name]
    assert not refused, f"{op.key} refuses the seed's {name}={value}: {refused}"


def test_the_reference_lists_values_for_query_parameters_of_implemented_operations() -> None:
    assert len(SEED_ENUM_VALUES) > 10
