"""Finding and talking to a container engine through the Docker Engine API (Docker or Podman)."""

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import docker

# Where engines usually listen, after an explicit DOCKER_HOST: Docker, Podman (root), Dockyard's Podman.
KNOWN_SOCKETS = ("/var/run/docker.sock", "/run/podman/podman.sock", "/run/dockyard-podman.sock")
PING_TIMEOUT_S = 3


class EngineUnavailable(RuntimeError):
    """No container engine answers; the message names DOCKER_HOST and how to fix it."""


def engine_url() -> str | None:
    """DOCKER_HOST when set, else the first known socket that exists."""
    explicit = os.environ.get("DOCKER_HOST")
    if explicit:
        return explicit
    return next((f"unix://{p}" for p in KNOWN_SOCKETS if Path(p).exists()), None)


_clients: dict[str, "docker.DockerClient"] = {}


def connect(timeout: int = 600) -> "docker.DockerClient":
    """A client for the engine, checked with a ping; EngineUnavailable says what to do otherwise.

    Clients are kept per engine URL: a new one asks the engine for its API version (~0.3 s on
    Podman), a kept one only pings (~1 ms)."""
    import docker  # loaded only when a container is deployed

    url = engine_url()
    if url is None:
        raise EngineUnavailable(
            "No container engine found: DOCKER_HOST is not set and none of "
            f"{', '.join(KNOWN_SOCKETS)} exists. Start Docker or `podman system service --time=0 "
            "unix:///run/dockyard-podman.sock`, or set DOCKER_HOST for `dockyard serve`."
        )
    try:
        client = _clients.get(url) or docker.DockerClient(base_url=url, timeout=timeout)
        client.api.timeout = PING_TIMEOUT_S
        client.ping()
        client.api.timeout = timeout
        _clients[url] = client
        return client
    except Exception as exc:  # docker raises several kinds for an absent or refusing engine
        _clients.pop(url, None)
        raise EngineUnavailable(
            f"The container engine at {url} does not answer ({type(exc).__name__}). Start it, or point "
            "DOCKER_HOST at a running Docker or Podman service for `dockyard serve`."
        ) from exc


def available() -> bool:
    try:
        connect()
        return True
    except EngineUnavailable:
        return False
