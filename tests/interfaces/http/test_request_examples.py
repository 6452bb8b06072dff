"""The OpenAPI documents show the reference's request example for each operation that has one, fitted
to Dockyard's schema: an id placeholder becomes an id of the kind the field takes, a field Dockyard does
not take (or whose placeholder it refuses) is left out. Each published example is a body the server
accepts, so a client copying it, or a fuzzer replaying it, sends a valid request.

When the reference or an input model changes, write the file again:
    PYTHONPATH=tests .venv/bin/python tests/interfaces/http/test_request_examples.py
"""

import copy
import json
import re
import sys
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from pydantic import BaseModel, ValidationError

from dockyard.interfaces.http.routes import EXAMPLES_FILE, body_model
from dockyard.operations.catalog import Family, Operation, catalog

SPEC = Path(__file__).parent
FILES = {Family.API: "platform-api.json", Family.MCP_API: "mcp-api.json"}
ROUNDS = 40


def _shape(path: str) -> str:
    return re.sub(r"{[^}]+}", "{}", path)


def _drop(value: Any, loc: tuple[Any, ...]) -> bool:
    """Remove the item at `loc` from `value`; False when there is nothing there to remove."""
    for part in loc[:-1]:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return False
    try:
        del value[loc[-1]]
    except (KeyError, IndexError, TypeError):
        return False
    return True


def _set(value: Any, loc: tuple[Any, ...], new: Any) -> None:
    for part in loc[:-1]:
        value = value[part]
    value[loc[-1]] = new


def fit(model: type[BaseModel], example: dict[str, Any]) -> dict[str, Any] | None:
    """`example` made valid for `model`, or None when what is left is nothing or still refused."""
    candidate = copy.deepcopy(example)
    for _ in range(ROUNDS):
        try:
            model.model_validate(candidate)
        except ValidationError as exc:
            errors = exc.errors()
        else:
            return candidate or None
        for e in errors:
            loc = tuple(e["loc"])
            if e["type"] == "id_kind":
                _set(candidate, loc, f"{e['ctx']['prefix']}_{'0' * 26}")
            elif not loc or not _drop(candidate, loc):
                return None
    return None


def examples() -> dict[str, Any]:
    ours = {(op.family, op.method, _shape(op.path)): op for op in catalog()}
    found: dict[str, Any] = {}
    for family, name in FILES.items():
        for entry in json.loads((SPEC / name).read_text()):
            op = ours.get((family, entry["method"], _shape(entry["path"])))
            model = body_model(op) if op is not None else None
            if model is not None and isinstance(entry.get("request_example"), dict):
                fitted = fit(model, entry["request_example"])
                if fitted is not None:
                    found[op.key] = fitted  # type: ignore[union-attr]
    return dict(sorted(found.items()))


def test_the_published_examples_are_the_references_fitted_to_our_schemas() -> None:
    assert json.loads(EXAMPLES_FILE.read_text()) == examples(), __doc__
    assert len(examples()) > 40  # the reference was read


def test_each_body_operation_documents_its_example_and_it_is_accepted(shared_stack: Any) -> None:
    published = json.loads(EXAMPLES_FILE.read_text())
    client: TestClient = shared_stack.client(shared_stack.admin_token)
    by_key = {op.key: op for op in catalog()}
    for family in Family:
        doc = client.get(f"{family.prefix}/openapi.json").json()
        for key, example in published.items():
            op: Operation = by_key[key]
            if op.family is not family:
                continue
            body = doc["paths"][family.prefix + op.path][op.method.lower()]["requestBody"]
            assert body["content"]["application/json"]["example"] == example, key


if __name__ == "__main__":
    EXAMPLES_FILE.write_text(json.dumps(examples(), indent=1, sort_keys=True) + "\n")
    sys.stdout.write(f"wrote {EXAMPLES_FILE}\n")
