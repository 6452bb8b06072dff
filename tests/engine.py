"""The container engine for tests: a Docker-compatible API at DOCKER_HOST, or a skip saying why.

`make test` runs under scripts/with-container-engine.sh, which starts Podman's API service (as root)
and builds the local base images below; it exports DOCKER_HOST when an engine answers, else
DOCKYARD_NO_ENGINE_REASON. Nothing is ever pulled: tests build FROM these images only.
"""

import os
from urllib.parse import urlsplit

import httpx
import pytest

BUSYBOX_IMAGE = "localhost/dockyard-busybox:1"
PYTHON_IMAGE = "localhost/dockyard-python:3.11"
TEST_LABEL = {"dockyard.test": "1"}


def _ping(url: str) -> str | None:
    """None when the engine at `url` answers `_ping`, else why not."""
    u = urlsplit(url)
    if u.scheme == "unix":
        transport, base = httpx.HTTPTransport(uds=u.path), "http://engine"
    elif u.scheme in ("tcp", "http"):
        transport, base = httpx.HTTPTransport(), f"http://{u.hostname}:{u.port or 2375}"
    else:
        return f"unsupported DOCKER_HOST scheme in {url!r}"
    try:
        with httpx.Client(transport=transport, base_url=base, timeout=3) as client:
            r = client.get("/_ping")
    except httpx.HTTPError as e:
        return f"no Docker-compatible engine answers at DOCKER_HOST={url} ({e})"
    return None if r.status_code == 200 else f"DOCKER_HOST={url} answered _ping with {r.status_code}"


def engine_or_skip() -> str:
    """The DOCKER_HOST url when an engine answers there; otherwise skips the test with the reason."""
    url = os.environ.get("DOCKER_HOST", "")
    if not url:
        pytest.skip(
            os.environ.get("DOCKYARD_NO_ENGINE_REASON")
            or "DOCKER_HOST is not set (run under scripts/with-container-engine.sh, as `make test` does)"
        )
    why = _ping(url)
    if why:
        pytest.skip(os.environ.get("DOCKYARD_NO_ENGINE_REASON") or why)
    return url
