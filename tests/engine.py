"""The container engine for tests: a Docker-compatible API at DOCKER_HOST, or a skip saying why.

`make test` runs under scripts/with-container-engine.sh, which starts Podman's API service (as root)
and builds the local base images below; it exports DOCKER_HOST when an engine answers, else
DOCKYARD_NO_ENGINE_REASON. Nothing is ever pulled: tests build FROM these images only.
"""

import contextlib
import os
from collections.abc import Iterator
from urllib.parse import urlsplit

import docker
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


def _skip(reason: str) -> None:
    if os.environ.get("DOCKYARD_REQUIRE_ENGINE") == "1":
        pytest.fail(f"a container engine is required here (DOCKYARD_REQUIRE_ENGINE=1): {reason}")
    pytest.skip(reason)


def engine_or_skip() -> str:
    """The DOCKER_HOST url when an engine answers there; otherwise skips the test with the reason
    (fails instead under DOCKYARD_REQUIRE_ENGINE=1, as `make test` sets when run as root)."""
    url = os.environ.get("DOCKER_HOST", "")
    if not url:
        _skip(
            os.environ.get("DOCKYARD_NO_ENGINE_REASON")
            or "DOCKER_HOST is not set (run under scripts/with-container-engine.sh, as `make test` does)"
        )
    why = _ping(url)
    if why:
        _skip(os.environ.get("DOCKYARD_NO_ENGINE_REASON") or why)
    return url


# A static site served by busybox httpd on 8080: the smallest real app an engine can build and run.
SITE_DOCKERFILE = f"""FROM {BUSYBOX_IMAGE}
COPY index.html /www/index.html
EXPOSE 8080
CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]
"""


@contextlib.contextmanager
def engine_client(label: str) -> Iterator[docker.DockerClient]:
    """A docker-py client for the test engine; on exit removes the images carrying `label`."""
    client = docker.DockerClient(base_url=engine_or_skip())
    try:
        yield client
    finally:
        for image in client.images.list(filters={"label": label}):
            client.images.remove(image.id, force=True)
        client.close()
