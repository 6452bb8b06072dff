"""Every refusal leaves as one envelope {"error": {code, message, details, nextAction}} and writes nothing."""

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dockyard.domain.ids import ID_SHAPE, new_id
from dockyard.interfaces.http.routes import is_flag
from dockyard.operations.catalog import Family, Operation, catalog
from dockyard.store.tables import Base
from interfaces.http.urls import path_kinds, url_of

OPERATIONS = [op for op in catalog() if op.family is Family.API]  # /mcp-api: test_mcp_api.py
JSON = {"Content-Type": "application/json"}


def envelope(resp: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The error object of `resp`, after checking status, shape, and that no internals leak."""
    assert resp.status_code == status, f"{resp.status_code} {resp.text[:500]}"
    assert resp.headers["content-type"] == "application/json"
    assert "Traceback" not in resp.text and 'File "' not in resp.text
    body = resp.json()
    assert set(body) == {"error"}
    err = body["error"]
    assert set(err) == {"code", "message", "details", "nextAction"}
    assert isinstance(err["code"], str) and err["code"]
    assert isinstance(err["message"], str) and err["message"]
    assert isinstance(err["details"], dict)
    assert err["nextAction"] is None or isinstance(err["nextAction"], str)
    if code is not None:
        assert err["code"] == code, err
    return err


def fields(err: dict[str, Any]) -> list[str]:
    return [e["field"] for e in err["details"]["errors"]]


@pytest.fixture(scope="module")
def client(shared_stack: Any) -> TestClient:
    """Admin client that returns 500s as responses (the way a real caller sees them).

    One store per module: every test here either writes nothing or only checks relative counts.
    """
    return shared_stack.client(shared_stack.admin_token, raise_server_exceptions=False)


@pytest.fixture(scope="module")
def anon(shared_stack: Any) -> TestClient:
    return shared_stack.client(raise_server_exceptions=False)


@pytest.fixture
def unchanged(shared_stack: Any) -> Iterator[None]:
    """Fails the test if any table gained or lost a row."""

    def counts() -> dict[str, int]:
        with shared_stack.db.session() as s:
            return {
                t.name: s.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables
            }

    before = counts()
    yield
    assert counts() == before


@pytest.mark.parametrize(
    "raw",
    [b'{"name": ', b"{name: 'web'}", b'{"name": "web",}', b"nul", b'{"name": "web"} trailing', b"\x7b\x22"],
)
def test_malformed_json_is_400_malformed_json(client: TestClient, unchanged: None, raw: bytes) -> None:
    err = envelope(client.post("/api/projects", content=raw, headers=JSON), 400, "malformed_json")
    assert "application/json" in err["nextAction"]


def test_a_body_that_is_not_utf8_is_malformed_json_too(client: TestClient, unchanged: None) -> None:
    envelope(client.post("/api/projects", content=b'\xff\xfe{"name"', headers=JSON), 400, "malformed_json")


def test_unknown_field_is_422_naming_the_field(client: TestClient, unchanged: None) -> None:
    err = envelope(
        client.post("/api/projects", json={"name": "web", "colour": "red"}), 422, "validation_failed"
    )
    assert fields(err) == ["colour"] and "colour" in err["message"]
    assert err["details"]["errors"][0]["type"] == "extra_forbidden"
    assert "details.errors" in err["nextAction"]


def test_unknown_query_parameter_is_422(client: TestClient) -> None:
    err = envelope(client.get("/api/projects", params={"sort": "name"}), 422, "validation_failed")
    assert fields(err) == ["sort"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": 5}, "name"),
        ({"name": ["web"]}, "name"),
        ({"name": {"first": "web"}}, "name"),
        ({"name": True}, "name"),
        ({"name": "web", "description": 7}, "description"),
    ],
)
def test_wrong_type_is_422_naming_the_field(
    client: TestClient, unchanged: None, body: dict, field: str
) -> None:
    err = envelope(client.post("/api/projects", json=body), 422, "validation_failed")
    assert fields(err) == [field] and field in err["message"]


@pytest.mark.parametrize("body", [[{"name": "web"}], "web", 42, None])
def test_json_that_is_not_an_object_is_422(client: TestClient, unchanged: None, body: Any) -> None:
    envelope(client.post("/api/projects", json=body), 422, "validation_failed")


def test_field_errors_do_not_echo_the_value_back(client: TestClient, unchanged: None) -> None:
    secret = "hunter2-" * 70  # too long for a description; may well be a pasted secret
    resp = client.post("/api/projects", json={"name": "web", "description": secret})
    envelope(resp, 422, "validation_failed")
    assert "hunter2" not in resp.text


def test_a_path_id_of_another_kind_names_no_such_entity(client: TestClient, unchanged: None) -> None:
    """422 is for bodies and queries; a path that names no such project is a 404 (what an absent
    project id answers too), and says what a project id looks like."""
    env = new_id("environment")
    err = envelope(client.get(f"/api/projects/{env}"), 404, "project_not_found")
    assert "project id looks like prj_" in err["message"] and err["details"] == {"id": env}
    err = envelope(client.post(f"/api/projects/{env}/rename", json={"name": "x"}), 404, "project_not_found")


@pytest.mark.parametrize("malformed", ["prj_123", "my-project", "PRJ_X"])
def test_a_malformed_path_id_is_a_404_naming_the_kind_not_a_missing_route(
    client: TestClient, unchanged: None, malformed: str
) -> None:
    err = envelope(client.get(f"/api/projects/{malformed}"), 404, "project_not_found")
    assert "project id looks like prj_" in err["message"]
    envelope(client.post(f"/api/projects/{malformed}/rename", json={"name": "x"}), 404, "project_not_found")


def test_an_id_of_another_kind_in_a_body_is_422_naming_the_field(client: TestClient, unchanged: None) -> None:
    env = new_id("environment")
    err = envelope(client.post("/api/environments", json={"projectId": env, "name": "x"}), 422)
    assert "expected a project id" in err["message"] and fields(err) == ["projectId"]


ID_IN_PATH = [op for op in OPERATIONS if op.path_params and all(path_kinds(op).values())]


@pytest.mark.parametrize("op", ID_IN_PATH, ids=lambda op: op.key)
def test_every_path_id_of_another_kind_is_a_404_of_its_kind(
    client: TestClient, unchanged: None, op: Operation
) -> None:
    resp = client.request(op.method, url_of(op, wrong_kind=True), json=None if op.method == "GET" else {})
    expected = path_kinds(op)[op.path_params[0]]
    assert resp.status_code == 404, resp.text
    body = resp.json()
    code = body["error"]["code"] if op.family is Family.API else body["code"]
    assert code == f"{expected}_not_found", body


@pytest.mark.parametrize(
    ("limit", "field_type"),
    [(501, "less_than_equal"), (0, "greater_than"), (-1, "greater_than"), ("ten", "int_parsing")],
)
def test_limit_outside_1_to_500_is_422(client: TestClient, limit: Any, field_type: str) -> None:
    lists = [op for op in OPERATIONS if op.method == "GET" and "limit" in op.input.model_fields]
    assert lists, "no list operation takes a limit"
    for op in lists:
        err = envelope(client.get(url_of(op), params={"limit": limit}), 422, "validation_failed")
        about_limit = [e["type"] for e in err["details"]["errors"] if e["field"] == "limit"]
        assert about_limit == [field_type], (op.key, err)


@pytest.mark.parametrize("limit", [1, 500])
def test_limit_at_the_bounds_is_accepted(client: TestClient, limit: int) -> None:
    for name in ("bound-a", "bound-b"):
        client.post("/api/projects", json={"name": name})
    total = client.get("/api/projects/count").json()["count"]
    page = client.get("/api/projects", params={"limit": limit})
    assert page.status_code == 200
    assert len(page.json()["items"]) == min(limit, total)


def test_overlong_cursor_is_422(client: TestClient) -> None:
    err = envelope(client.get("/api/projects", params={"cursor": "x" * 61}), 422, "validation_failed")
    assert fields(err) == ["cursor"]


@pytest.mark.parametrize("path", ["/api/nope", "/api/projects/count/extra", "/nope", "/api", "/"])
def test_unknown_route_is_404_envelope(client: TestClient, anon: Any, path: str) -> None:
    err = envelope(client.get(path), 404, "route_not_found")
    assert "/api/docs" in err["nextAction"]
    envelope(anon.get(path), 404, "route_not_found")


def test_wrong_method_is_405_envelope(client: TestClient, unchanged: None) -> None:
    resp = client.put("/api/projects", json={"name": "web"})
    envelope(resp, 405, "method_not_allowed")
    assert set(resp.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}
    envelope(client.patch("/api/projects/count"), 405, "method_not_allowed")


def test_not_found_entity_is_404_envelope(client: TestClient) -> None:
    err = envelope(client.get(f"/api/projects/{new_id('project')}"), 404, "project_not_found")
    assert err["nextAction"]


def test_conflict_is_409_envelope_and_writes_nothing_more(client: TestClient) -> None:
    client.post("/api/projects", json={"name": "taken"})
    with_one = client.get("/api/projects/count").json()["count"]
    envelope(client.post("/api/projects", json={"name": "TAKEN"}), 409, "project_slug_conflict")
    assert client.get("/api/projects/count").json()["count"] == with_one


def test_a_crash_inside_an_operation_is_a_500_envelope_that_leaks_nothing_and_writes_nothing(
    client: TestClient, unchanged: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dockyard.operations.projects.handlers as projects

    def explode(name: str) -> str:
        raise RuntimeError("secret internal detail /etc/dockyard")

    monkeypatch.setattr(projects, "slugify", explode)
    resp = client.post("/api/projects", json={"name": "web"})
    err = envelope(resp, 500, "internal_error")
    assert "secret internal detail" not in resp.text and "RuntimeError" not in resp.text
    assert err["nextAction"]


def test_refused_writes_leave_the_store_untouched(client: TestClient, unchanged: None) -> None:
    pid = new_id("project")
    env = new_id("environment")
    attempts = [
        ("POST", "/api/projects", {"content": b'{"name": "x"', "headers": JSON}),
        ("POST", "/api/projects", {"json": {"name": "x", "extra": 1}}),
        ("POST", "/api/projects", {"json": {"name": 1}}),
        ("POST", "/api/projects", {"json": {"name": "!!!"}}),
        ("POST", f"/api/projects/{env}/rename", {"json": {"name": "x"}}),
        ("POST", f"/api/projects/{pid}/archive", {"json": {"reason": "gone"}}),
        ("DELETE", f"/api/projects/{pid}", {"json": {"confirmation": {"projectId": pid}}}),
    ]
    for method, url, kwargs in attempts:
        resp = client.request(method, url, **kwargs)
        assert 400 <= resp.status_code < 500, (method, url, resp.status_code)
        envelope(resp, resp.status_code)


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("POST", "/api/projects", {"json": {"name": "nul\x00name"}}),
        ("POST", "/api/projects", {"json": {"name": "nul-description", "description": "x\x00"}}),
        ("GET", "/api/projects", {"params": {"cursor": "\x00"}}),
    ],
    ids=["name", "description", "cursor"],
)
def test_nul_characters_in_text_are_refused_by_name(
    client: TestClient, unchanged: None, method: str, path: str, kwargs: dict
) -> None:
    err = envelope(client.request(method, path, **kwargs), 422, "validation_failed")
    assert "NUL" in err["message"]


def field_errors(resp: Any) -> list[str]:
    """The fields a 422 names, in either family's envelope."""
    body = resp.json()
    details = body["error"]["details"] if "error" in body else body["details"]
    return [e["field"] for e in details["errors"]]


FLAGS = [
    (op, f.alias or n) for op in catalog() for n, f in op.field_split()[1].items() if is_flag(f.annotation)
]


@pytest.mark.parametrize(("op", "flag"), FLAGS, ids=lambda v: getattr(v, "key", v))
@pytest.mark.parametrize("value", ["yes", "1", "on", "True", 1])
def test_a_flag_is_only_ever_a_boolean(
    client: TestClient, unchanged: None, op: Operation, flag: str, value: Any
) -> None:
    """`dryRun: "yes"` must not read as true (nor as anything): a string or a number is a 422."""
    if op.method == "GET":
        resp = client.get(url_of(op), params={flag: str(value)})
    else:
        resp = client.request(op.method, url_of(op), json={flag: value})
    assert resp.status_code == 422, f"{op.key} {flag}={value!r}: {resp.status_code} {resp.text[:200]}"
    assert flag in field_errors(resp), resp.text[:300]


def test_a_query_flag_reads_true_and_false(client: TestClient) -> None:
    for value in ("true", "false"):
        resp = client.get("/api/deployments/count", params={"includeArchived": value})
        assert resp.status_code == 200, (value, resp.text)


TEMPLATES: dict[tuple[Family, str], list[Operation]] = {}
for _op in catalog():
    TEMPLATES.setdefault((_op.family, _op.path), []).append(_op)


def answers_at(url: str) -> set[str]:
    """The methods of every operation whose path matches `url`: an id placeholder takes only an
    id-shaped segment (routes refuse only sibling literals there), any other placeholder any segment."""

    def pattern(op: Operation) -> str:
        kinds = path_kinds(op)
        path = re.sub(r"{(\w+)}", lambda m: ID_SHAPE if kinds[m[1]] else "[^/]+", op.path)
        return re.escape(op.family.prefix) + path

    return {op.method for op in catalog() if re.fullmatch(pattern(op), url)}


@pytest.mark.parametrize("ops", list(TEMPLATES.values()), ids=lambda ops: ops[0].family.prefix + ops[0].path)
def test_a_405_allows_exactly_the_methods_that_answer_there(client: TestClient, ops: list[Operation]) -> None:
    """`/api/projects/count` answers GET only: its Allow may not list what `/projects/{projectId}`
    answers (and DELETE there is a 405, not an id refused with 422)."""
    url = url_of(ops[0])
    allowed = answers_at(url)
    method = next(m for m in ("PUT", "PATCH", "DELETE", "POST", "GET") if m not in allowed)
    resp = client.request(method, url)
    assert resp.status_code == 405, f"{method} {url}: {resp.status_code} {resp.text[:200]}"
    assert set(resp.headers["allow"].replace(" ", "").split(",")) == allowed
