"""The CLI's HTTP client: where the control plane is, which token to send, errors as values."""

import os
from dataclasses import dataclass
from typing import Any

import httpx

from dockyard.config import Settings

DEFAULT_URL = "http://127.0.0.1:8420"


@dataclass
class ApiError(Exception):
    status: int
    code: str
    message: str
    next_action: str | None = None


def base_url() -> str:
    return os.environ.get("DOCKYARD_URL", DEFAULT_URL).rstrip("/")


def token() -> str | None:
    env = os.environ.get("DOCKYARD_TOKEN")
    if env:
        return env.strip()
    path = Settings.from_env().token_file
    return path.read_text().strip() if path.exists() else None


def request(method: str, path: str, *, params: dict | None = None, body: Any = None) -> Any:
    headers = {"Accept": "application/json"}
    tok = token()
    if tok:
        headers["Authorization"] = f"Bearer {tok}"
    url = base_url()
    try:
        resp = httpx.request(
            method, url + "/api" + path, params=params, json=body, headers=headers, timeout=30
        )
    except httpx.TransportError as exc:
        raise ApiError(
            0,
            "control_plane_unreachable",
            f"No Dockyard control plane answers at {url} ({exc}).",
            "Start it with `dockyard start` (or `dockyard serve`), or set DOCKYARD_URL.",
        ) from exc
    data = resp.json() if resp.content else None
    if resp.status_code >= 400:
        err = (data or {}).get("error", {}) if isinstance(data, dict) else {}
        raise ApiError(
            resp.status_code,
            err.get("code", "http_error"),
            err.get("message", resp.text),
            err.get("nextAction"),
        )
    return data
