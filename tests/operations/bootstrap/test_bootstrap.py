from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dockyard.config import Settings
from dockyard.interfaces.http.app import build_app
from dockyard.startup import prepare
from dockyard.store.tables import User

STATUS_FIELDS = {
    "bootstrapRequired",
    "firstAdminConfigured",
    "organizationConfigured",
    "loginMethods",
    "firstAdminEmail",
    "loginUrl",
    "organizationId",
    "organizationSlug",
    "nextSteps",
}


@pytest.fixture
def unbootstrapped(settings: Settings) -> Iterator[tuple[TestClient, Any]]:
    """A control plane started without creating the first admin: a caller has no token at all."""
    db = prepare(settings, bootstrap_admin=False)
    with TestClient(build_app(settings, db)) as client:
        yield client, db
    db.engine.dispose()


def methods(status: dict[str, Any]) -> dict[str, bool]:
    return {m["key"]: m["configured"] for m in status["loginMethods"]}


def test_status_after_first_start_needs_no_token_and_points_at_the_token_file(anon: Any) -> None:
    resp = anon.get("/api/bootstrap/auth/status")
    assert resp.status_code == 200
    status = resp.json()
    assert set(status) == STATUS_FIELDS
    assert status["bootstrapRequired"] is False and status["firstAdminConfigured"] is True
    assert status["organizationConfigured"] is True and status["organizationSlug"] == "default"
    assert status["organizationId"].startswith("org_")
    assert status["firstAdminEmail"] == "admin@localhost"
    assert methods(status) == {"api-token": True, "local-password": False}
    assert any("admin.token" in step for step in status["nextSteps"])


def test_second_first_admin_is_refused_and_nothing_is_added(anon: Any, db: Any) -> None:
    refused = anon.post("/api/bootstrap/auth/first-admin", json={"email": "me@example.com"})
    assert refused.status_code == 409
    err = refused.json()["error"]
    assert err["code"] == "first_admin_exists" and "admin.token" in err["nextAction"]
    with db.session() as s:
        assert list(s.scalars(select(User.email))) == ["admin@localhost"]


def test_without_an_admin_status_says_bootstrap_is_required(unbootstrapped: Any) -> None:
    client, _ = unbootstrapped
    status = client.get("/api/bootstrap/auth/status").json()
    assert status["bootstrapRequired"] is True and status["firstAdminConfigured"] is False
    assert status["firstAdminEmail"] is None and status["organizationConfigured"] is True
    assert methods(status) == {"api-token": False, "local-password": False}
    assert status["nextSteps"] == ["Create the first admin: POST /api/bootstrap/auth/first-admin"]


def test_first_admin_is_created_once_with_a_password_shown_once(
    unbootstrapped: Any, settings: Settings
) -> None:
    client, db = unbootstrapped
    resp = client.post(
        "/api/bootstrap/auth/first-admin", json={"email": "  Ada@Example.COM ", "displayName": "Ada"}
    )
    assert resp.status_code == 201, resp.text
    out = resp.json()
    assert out["created"] is True and out["bootstrapRequired"] is False
    assert out["email"] == "ada@example.com" and out["userId"].startswith("usr_")
    assert out["organizationSlug"] == "default"
    password = out["generatedPassword"]
    assert isinstance(password, str) and len(password) >= 16
    assert {m["key"]: m["configured"] for m in out["loginMethods"]} == {
        "api-token": True,
        "local-password": True,
    }

    status = client.get("/api/bootstrap/auth/status").json()
    assert status["bootstrapRequired"] is False and status["firstAdminEmail"] == "ada@example.com"
    token = settings.token_file.read_text().strip()  # the API token a first start would have written
    assert token and token not in resp.text and oct(settings.token_file.stat().st_mode & 0o777) == "0o600"
    assert client.get("/api/projects", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    again = client.post("/api/bootstrap/auth/first-admin", json={"email": "eve@example.com"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "first_admin_exists"
    assert password not in again.text

    with db.session() as s:
        admin = s.scalars(select(User).where(User.role == "admin")).one()
        assert admin.email == "ada@example.com" and admin.display_name == "Ada"
        assert admin.password_hash and admin.password_hash.startswith("scrypt$")
        assert password not in admin.password_hash


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"email": ""},
        {"email": "not-an-email"},
        {"email": "two@@example.com"},
        {"email": "sp ace@example.com"},
        {"email": "a@" + "b" * 260},
        {"email": "a@example.com", "role": "admin"},
        {"email": "a@example.com", "displayName": ""},
    ],
)
def test_bad_first_admin_input_is_refused_and_nothing_is_created(unbootstrapped: Any, body: dict) -> None:
    client, db = unbootstrapped
    resp = client.post("/api/bootstrap/auth/first-admin", json=body)
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "validation_failed", resp.text
    assert client.get("/api/bootstrap/auth/status").json()["bootstrapRequired"] is True
    with db.session() as s:
        assert list(s.scalars(select(User.id))) == []
