"""Every operation but health and bootstrap needs a valid token, checked before any input is judged."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from dockyard.operations.catalog import Family, Operation, Permission, catalog
from interfaces.http.urls import url_of

OPERATIONS = [op for op in catalog() if op.family is Family.API]  # /mcp-api: test_mcp_api.py
GUARDED = [op for op in OPERATIONS if op.permission is not Permission.PUBLIC]
WRITES = [op for op in GUARDED if op.permission in (Permission.WRITE, Permission.ADMIN)]
READS = [op for op in GUARDED if op.permission is Permission.READ]

# (what is sent, body bytes, content-type): none of it may be judged before the caller is.
GARBAGE = [
    ("no body", None, None),
    ("malformed json", b'{"name": ', "application/json"),
    ("wrong json", b'[1, "two", {"three": null}]', "application/json"),
    ("unknown fields", b'{"zzz": 1, "limit": -5, "name": ""}', "application/json"),
    ("not json at all", b"\x00\xff binary", "application/octet-stream"),
]
BAD_TOKENS: dict[str, str | bytes | None] = {
    "no header": None,
    "empty bearer": "Bearer ",
    "unknown token": "Bearer dky_" + "x" * 43,
    "other scheme": "Basic YWRtaW46YWRtaW4=",
    "non-ascii": b"Bearer \xe9\xe9 t\xf6ken",
}


def send(
    client: TestClient, op: Operation, headers: dict[str, Any], body: bytes | None, ctype: str | None
) -> Any:
    headers = dict(headers)
    if ctype:
        headers["Content-Type"] = ctype
    params = {"limit": "abc", "projectId": "nope", "zzz": "1"} if body else None
    return client.request(op.method, url_of(op), content=body, headers=headers, params=params)


@pytest.fixture(scope="module")
def client(shared_stack: Any) -> TestClient:
    """No default Authorization header; errors inside the app come back as responses, not raised."""
    return shared_stack.client(raise_server_exceptions=False)


@pytest.fixture(scope="module")
def viewer(shared_stack: Any) -> dict[str, str]:
    """Headers carrying a valid token of role viewer."""
    return {"Authorization": f"Bearer {shared_stack.issue_token('viewer')}"}


def test_only_health_and_bootstrap_are_public() -> None:
    public = {op.key for op in OPERATIONS if op.permission is Permission.PUBLIC}
    assert public == {"system.health"} | {op.key for op in OPERATIONS if op.group == "bootstrap"}
    assert {op.group for op in OPERATIONS} > {"system", "bootstrap", "projects"}


@pytest.mark.parametrize("op", GUARDED, ids=lambda op: op.key)
def test_guarded_operation_answers_401_to_anyone_without_a_valid_token(
    client: TestClient, op: Operation
) -> None:
    failures = []
    for token_case, authorization in BAD_TOKENS.items():
        headers = {"Authorization": authorization} if authorization else {}
        for body_case, body, ctype in GARBAGE:
            resp = send(client, op, headers, body, ctype)
            err = (
                resp.json().get("error", {}) if resp.headers.get("content-type") == "application/json" else {}
            )
            if resp.status_code != 401 or err.get("code") not in ("unauthorized", "invalid_token"):
                failures.append(f"{token_case} + {body_case}: {resp.status_code} {resp.text[:200]}")
            elif "Authorization: Bearer" not in (err.get("nextAction") or ""):
                failures.append(f"{token_case} + {body_case}: no login hint in {err}")
    assert not failures, f"{op.method} {op.path}:\n" + "\n".join(failures)


@pytest.mark.parametrize("op", WRITES, ids=lambda op: op.key)
def test_viewer_token_gets_403_on_writes_whatever_it_sends(
    client: TestClient, viewer: dict[str, str], op: Operation
) -> None:
    for body_case, body, ctype in GARBAGE:
        resp = send(client, op, viewer, body, ctype)
        assert resp.status_code == 403, f"{body_case}: {resp.status_code} {resp.text[:300]}"
        err = resp.json()["error"]
        assert err["code"] == "forbidden" and err["details"]["role"] == "viewer"
        assert err["details"]["permission"] == op.permission.value


def test_viewer_can_read(client: TestClient, viewer: dict[str, str]) -> None:
    for path in ["/api/projects", "/api/projects/count", "/api/servers"]:
        assert client.get(path, headers=viewer).status_code == 200, path


@pytest.mark.parametrize("op", READS, ids=lambda op: op.key)
def test_viewer_reaching_a_read_is_judged_on_input_not_refused(
    client: TestClient, viewer: dict[str, str], op: Operation
) -> None:
    resp = client.request(op.method, url_of(op), headers=viewer)
    # A read is allowed: unknown ids are 404, reads without required filters 422 — never 401/403.
    assert resp.status_code in (200, 404, 422), f"{resp.status_code} {resp.text[:300]}"


def test_member_may_write_but_not_after_its_token_is_revoked(client: TestClient, shared_stack: Any) -> None:
    from sqlalchemy import update

    from dockyard.auth import hash_token
    from dockyard.store.tables import ApiToken

    member = shared_stack.issue_token("member")
    headers = {"Authorization": f"Bearer {member}"}
    made = client.post("/api/projects", json={"name": "member-made"}, headers=headers)
    assert made.status_code == 201, made.text
    with shared_stack.db.session() as s:
        s.execute(
            update(ApiToken)
            .where(ApiToken.token_hash == hash_token(member))
            .values(revoked_at="2024-01-01T00:00:00.000Z")
        )
    revoked = client.get("/api/projects", headers=headers)
    assert revoked.status_code == 401 and revoked.json()["error"]["code"] == "invalid_token"


def test_admin_token_is_accepted_with_any_scheme_case(client: TestClient, shared_stack: Any) -> None:
    for scheme in ("Bearer", "bearer", "BEARER"):
        headers = {"Authorization": f"{scheme} {shared_stack.admin_token}"}
        assert client.get("/api/projects/count", headers=headers).status_code == 200, scheme


def test_public_operations_answer_without_a_token(client: TestClient) -> None:
    assert client.get("/api/health").status_code == 200
    assert client.get("/api/bootstrap/auth/status").status_code == 200
