"""A real `dockyard serve` checks the caller before it reads a body, and reads at most
DOCKYARD_MAX_BODY_BYTES of it (declared or streamed): oversize bodies are 413 in the family's envelope.

Memory is read from /proc: the server's peak resident size (VmHWM, reset through clear_refs before
each request) may not grow by more than a few MB whatever size of body arrives.
"""

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from dockyard.config import DEFAULT_MAX_BODY_BYTES, Settings
from dockyard.interfaces.http.app import build_app
from dockyard.store.db import Database

MB = 1024 * 1024
HUGE = 50 * MB
GROWTH_ALLOWED_KIB = 6 * 1024  # a few MB: nothing of a refused body may be held
JSON = {"Content-Type": "application/json"}


def json_body(size: int) -> bytes:
    """A syntactically valid JSON object of `size` bytes (one long string field)."""
    head, tail = b'{"name": "', b'"}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


def chunks(body: bytes, size: int = 256 * 1024) -> Iterator[bytes]:
    """The body as a generator: httpx sends it chunked, without a Content-Length."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


class Memory:
    """The server's peak RSS growth over one request (the kernel's high-water mark, reset first)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def __enter__(self) -> "Memory":
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")  # VmHWM := current VmRSS
        self.before = status_kib(self.pid, "VmRSS")
        return self

    def __exit__(self, *exc: object) -> None:
        self.growth_kib = status_kib(self.pid, "VmHWM") - self.before


@pytest.fixture(scope="module")
def server(live_server: Any) -> Any:
    return live_server


def test_the_limit_is_a_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKYARD_MAX_BODY_BYTES", "2048")
    assert Settings.from_env(tmp_path).max_body_bytes == 2048
    monkeypatch.setenv("DOCKYARD_MAX_BODY_BYTES", "lots")
    with pytest.raises(SystemExit, match="DOCKYARD_MAX_BODY_BYTES"):
        Settings.from_env(tmp_path)


def test_the_app_reads_no_more_than_the_setting_allows(settings: Settings, db: Database) -> None:
    app = build_app(replace(settings, max_body_bytes=2048), db)
    token = settings.token_file.read_text().strip()
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        assert client.post("/api/projects", json={"name": "small"}).status_code == 201
        err = api_error(
            client.post("/api/projects", content=json_body(4096), headers=JSON), 413, "body_too_large"
        )
        assert err["details"] == {"maxBytes": 2048}


@pytest.fixture(scope="module")
def http(server: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


def auth(server: Any) -> dict[str, str]:
    return {**JSON, "Authorization": f"Bearer {server.token}"}


def api_error(resp: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text[:300]
    err = resp.json()["error"]
    assert set(err) == {"code", "message", "details", "nextAction"} and err["code"] == code, err
    return err


def mcp_api_error(resp: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text[:300]
    body = resp.json()
    assert body["ok"] is False and body["status"] == status and body["code"] == code, body
    assert body["message"] and body["hint"], body
    return body


def post_unheld(server: Any, http: httpx.Client, path: str, content: Any) -> httpx.Response:
    """POST without a token, checking that the server held none of the body."""
    with Memory(server.proc.pid) as memory:
        resp = http.post(path, content=content, headers=JSON)
    assert memory.growth_kib < GROWTH_ALLOWED_KIB, f"the server grew by {memory.growth_kib} KiB"
    return resp


@pytest.mark.e2e
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_unauthenticated_huge_post_is_401_without_the_server_holding_it(
    server: Any, http: httpx.Client, chunked: bool
) -> None:
    body = json_body(HUGE)
    api_error(
        post_unheld(server, http, "/api/projects", chunks(body) if chunked else body), 401, "unauthorized"
    )


@pytest.mark.e2e
def test_an_unauthenticated_huge_post_under_mcp_api_is_401_in_its_envelope_without_growth(
    server: Any, http: httpx.Client
) -> None:
    resp = post_unheld(server, http, "/mcp-api/custom-servers", json_body(HUGE))
    mcp_api_error(resp, 401, "unauthorized")


@pytest.mark.e2e
def test_an_unauthenticated_huge_post_to_the_mcp_gateway_is_401_without_growth(
    server: Any, http: httpx.Client
) -> None:
    session = "/mcp/ses_00000000000000000000000000"
    assert http.post(session, json={}).status_code == 401  # the gateway loads on first use: not counted
    resp = post_unheld(server, http, session, json_body(HUGE))
    assert resp.status_code == 401, resp.text[:300]


@pytest.mark.e2e
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_authenticated_oversize_body_is_413_and_is_not_held(
    server: Any, http: httpx.Client, chunked: bool
) -> None:
    body = json_body(DEFAULT_MAX_BODY_BYTES + MB)
    with Memory(server.proc.pid) as memory:
        resp = http.post("/api/projects", content=chunks(body) if chunked else body, headers=auth(server))
    err = api_error(resp, 413, "body_too_large")
    assert err["details"] == {"maxBytes": DEFAULT_MAX_BODY_BYTES}
    assert "DOCKYARD_MAX_BODY_BYTES" in err["nextAction"]
    # What was read before the cut (at most the limit) is the most the server may have held.
    assert memory.growth_kib < GROWTH_ALLOWED_KIB + DEFAULT_MAX_BODY_BYTES // 1024
    names = [p["name"] for p in http.get("/api/projects", headers=auth(server)).json()["items"]]
    assert not any(name.startswith("xxx") for name in names)


@pytest.mark.e2e
def test_an_oversize_body_under_mcp_api_is_413_in_its_envelope(server: Any, http: httpx.Client) -> None:
    body = json_body(DEFAULT_MAX_BODY_BYTES + MB)
    resp = http.post("/mcp-api/custom-servers", content=chunks(body), headers=auth(server))
    assert mcp_api_error(resp, 413, "body_too_large")["details"] == {"max_bytes": DEFAULT_MAX_BODY_BYTES}


@pytest.mark.e2e
def test_a_body_just_under_the_limit_is_judged_on_its_content(server: Any, http: httpx.Client) -> None:
    body = json_body(DEFAULT_MAX_BODY_BYTES - 1024)
    resp = http.post("/api/projects", content=chunks(body), headers=auth(server))
    assert resp.status_code == 422, resp.text[:300]  # the name is too long, not the body
    assert resp.json()["error"]["code"] == "validation_failed"


@pytest.mark.e2e
def test_the_server_still_answers_on_the_same_connection_after_a_refusal(
    server: Any, http: httpx.Client
) -> None:
    resp = http.post("/api/projects", content=chunks(json_body(HUGE)), headers=auth(server))
    assert resp.status_code == 413
    made = http.post("/api/projects", json={"name": "after the refusal"}, headers=auth(server))
    assert made.status_code == 201, made.text
