"""The container engine for tests: a Docker-compatible API at DOCKER_HOST, or a skip saying why.

`make test` runs under scripts/with-container-engine.sh, which starts Podman's API service (as root)
and builds the local base images below; it exports DOCKER_HOST when an engine answers, else
DOCKYARD_NO_ENGINE_REASON. Nothing is ever pulled: tests build FROM these images only.

The engine may be shared with a real Dockyard or another test run: everything a run makes carries
`dockyard.installation=<this run's id>` (the product's installation label: tests/conftest.py gives the
run its own DOCKYARD_INSTALLATION_ID, and the images tests build themselves carry RUN_LABEL), and a
run removes only what carries its own id.
"""

import contextlib
import os
import secrets
from collections.abc import Iterator
from urllib.parse import urlsplit

import docker
import httpx
import pytest

BUSYBOX_IMAGE = "localhost/dockyard-busybox:1"
PYTHON_IMAGE = "localhost/dockyard-python:3.11"
RUN_ID = f"test-run-{os.getpid()}-{secrets.token_hex(4)}"  # this pytest process's installation id
RUN_LABEL = {"dockyard.installation": RUN_ID}
TEST_LABEL = RUN_LABEL


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
def engine_client() -> Iterator[docker.DockerClient]:
    """A docker-py client for the test engine; on exit removes this run's containers, images and
    networks (what carries RUN_LABEL), and nothing else."""
    client = docker.DockerClient(base_url=engine_or_skip())
    mine = {"label": f"dockyard.installation={RUN_ID}"}
    try:
        yield client
    finally:
        for container in client.containers.list(all=True, filters=mine):
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True)
        for image in client.images.list(filters=mine):
            with contextlib.suppress(docker.errors.NotFound):
                client.images.remove(image.id, force=True)
        for network in client.networks.list(filters=mine):
            with contextlib.suppress(docker.errors.APIError):
                network.remove()
        client.close()
