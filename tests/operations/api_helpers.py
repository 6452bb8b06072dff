"""Small helpers for reading API answers in operation tests."""

from typing import Any


def created(response: Any) -> str:
    assert response.status_code == 201, response.text
    return response.json()["id"]


def error_code(response: Any) -> str:
    return response.json()["error"]["code"]


def local_server_id(api: Any) -> str:
    return next(s["id"] for s in api.get("/api/servers").json()["items"] if s["providerKey"] == "local")
