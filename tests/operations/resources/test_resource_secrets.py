"""Resource secrets over the API: create, read masked, rotate, delete; and key rotation at rest."""

import sqlite3
from pathlib import Path
from typing import Any

from api_helpers import error_code
from sqlalchemy import MetaData, select

from dockyard.secrets import vault
from dockyard.store.tables import SecretValue

CANARY = "secret-canary-a1b2c3d4e5"


def test_create_show_rotate_delete_never_return_the_value(api: Any, new_resource: str) -> None:
    base = f"/api/resources/{new_resource}/secrets"
    made = api.post(base, json={"key": "API_SECRET", "value": CANARY})
    assert made.status_code == 201 and made.json() == {
        "resourceId": new_resource,
        "key": "API_SECRET",
        "exposure": "runtime",
    }
    listed = api.get(base).json()
    assert listed["schemaVersion"] == "resources.secrets.list/v1"
    (item,) = listed["items"]
    assert (item["key"], item["value"], item["kind"], item["scope"]) == (
        "API_SECRET",
        "****",
        "secret",
        "resource",
    )
    assert api.get(base, params={"exposure": "build-time"}).json()["items"] == []
    shown = api.get(f"{base}/API_SECRET").json()
    assert shown["schemaVersion"] == "resources.secrets.show/v1" and shown["secret"]["value"] == "****"
    twice = api.post(base, json={"key": "API_SECRET", "value": CANARY})
    assert twice.status_code == 409 and error_code(twice) == "secret_exists"
    rotated = api.post(f"{base}/API_SECRET", json={"value": CANARY + "-2"})
    assert rotated.status_code == 200 and CANARY not in rotated.text
    gone = api.request("DELETE", f"{base}/API_SECRET", json={})
    assert gone.status_code == 200 and api.get(base).json()["items"] == []
    missing = api.get(f"{base}/API_SECRET")
    assert missing.status_code == 404 and error_code(missing) == "secret_not_found"
    for resp in (listed, shown):
        assert CANARY not in str(resp)


def test_bad_secrets_are_refused(api: Any, new_resource: str) -> None:
    base = f"/api/resources/{new_resource}/secrets"
    for body, code in (
        ({"key": "1BAD", "value": CANARY}, "variable_key_invalid"),
        ({"key": "PIN", "value": "123"}, "secret_value_too_short"),
    ):
        resp = api.post(base, json=body)
        assert resp.status_code == 422 and error_code(resp) == code and CANARY not in resp.text
    assert api.post(f"{base}/NOPE", json={"value": CANARY}).status_code == 404


def test_secret_values_are_stored_encrypted_and_survive_a_key_rotation(
    api: Any, stack: Any, new_resource: str
) -> None:
    api.post(f"/api/resources/{new_resource}/secrets", json={"key": "API_SECRET", "value": CANARY})
    with stack.db.session() as s:
        (row,) = s.scalars(select(SecretValue)).all()
        assert CANARY not in row.ciphertext
        old_key = row.key_id
    key_before = (stack.settings.data_dir / "secret.key").read_text()
    resp = api.post("/api/secrets/rotate-key", json={})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["reencryptedCount"] == 1 and body["keySource"] == "file"
    assert body["retiredKeyIds"] == [old_key] and body["keyId"] != old_key
    key_after = (stack.settings.data_dir / "secret.key").read_text()
    assert key_after != key_before and len(key_after.splitlines()) == 1, "the old key leaves the file"
    with stack.db.session() as s:
        (row,) = s.scalars(select(SecretValue)).all()
        assert row.key_id == body["keyId"]
        assert vault.open_values(s, stack.settings, [row.id]) == {row.id: CANARY}


def test_rotating_the_key_needs_an_admin(stack: Any) -> None:
    member = stack.client(stack.issue_token("member"))
    resp = member.post("/api/secrets/rotate-key", json={})
    assert resp.status_code == 403


def stored_rows(stack: Any) -> str:
    """Every row of every table, as the database hands it out (either backend)."""
    tables = MetaData()
    tables.reflect(bind=stack.db.engine)
    with stack.db.engine.connect() as conn:
        return "\n".join(str(row) for t in tables.sorted_tables for row in conn.execute(t.select()))


def test_the_database_never_holds_the_plaintext(api: Any, stack: Any, new_resource: str) -> None:
    api.post(f"/api/resources/{new_resource}/secrets", json={"key": "API_SECRET", "value": CANARY})
    api.post(f"/api/resources/{new_resource}/variables/import", json={"content": f"DB_PASSWORD={CANARY}-x\n"})
    rows = stored_rows(stack)
    assert "API_SECRET" in rows and "DB_PASSWORD" in rows, "both were stored, under their keys"
    assert CANARY not in rows
    if stack.settings.database_url.startswith("sqlite"):  # nor in the file's free pages or its WAL
        sqlite3.connect(stack.settings.database_url.removeprefix("sqlite:///")).execute(
            "PRAGMA wal_checkpoint(FULL)"
        )
        for path in Path(stack.settings.data_dir).glob("dockyard.db*"):
            assert CANARY.encode() not in path.read_bytes(), path
