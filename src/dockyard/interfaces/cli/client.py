"""The CLI's HTTP client: where the control plane is, which token to send, errors as values."""

import functools
import json
import os
from collections.abc import Iterator
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


@functools.cache
def http_client(url: str) -> httpx.Client:
    """One client per process: each new one builds a TLS context (~20 ms loading the CA store), which
    a plain-HTTP control plane never uses."""
    return httpx.Client(verify=url.startswith("https://"), timeout=30)


def token() -> str | None:
    env = os.environ.get("DOCKYARD_TOKEN")
    if env:
        return env.strip()
    path = Settings.from_env().token_file
    return path.read_text().strip() if path.exists() else None


def _headers() -> dict[str, str]:
    headers = {"Accept": "application/json"}
    tok = token()
    if tok:
        headers["Authorization"] = f"Bearer {tok}"
    return headers


def _unreachable(url: str, exc: Exception) -> ApiError:
    return ApiError(
        0,
        "control_plane_unreachable",
        f"No Dockyard control plane answers at {url} ({exc}).",
        "Start it with `dockyard start` (or `dockyard serve`), or set DOCKYARD_URL.",
    )


def _raise_for(resp: httpx.Response) -> None:
    if resp.status_code >= 400:
        try:
            body = resp.json()
            err = body.get("error") or body  # /api: {"error": {...}}; /mcp-api: {ok: false, code, ...}
        except (ValueError, AttributeError):
            err = {}
        raise ApiError(
            resp.status_code,
            err.get("code", "http_error"),
            err.get("message", resp.text),
            err.get("nextAction") or err.get("hint"),
        )


def request(
    method: str, path: str, *, params: dict | None = None, body: Any = None, prefix: str = "/api"
) -> Any:
    url = base_url()
    try:
        resp = http_client(url).request(
            method, url + prefix + path, params=params, json=body, headers=_headers()
        )
    except httpx.TransportError as exc:
        raise _unreachable(url, exc) from exc
    _raise_for(resp)
    return resp.json() if resp.content else None


def stream(
    method: str, path: str, *, params: dict | None = None, body: Any = None, prefix: str = "/api"
) -> Iterator[Any]:
    """The JSON objects of a server-sent-event stream, as they arrive."""
    url = base_url()
    try:
        with http_client(url).stream(
            method,
            url + prefix + path,
            params=params,
            json=body,
            headers=_headers(),
            timeout=httpx.Timeout(30, read=None),
        ) as resp:
            if resp.status_code >= 400:
                resp.read()
                _raise_for(resp)
            for line in resp.iter_lines():
                if line.startswith("data: "):
                    yield json.loads(line[6:])
    except httpx.TransportError as exc:
        raise _unreachable(url, exc) from exc
