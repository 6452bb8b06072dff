"""Finding and talking to a container engine through the Docker Engine API (Docker or Podman)."""

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import docker

# Where engines usually listen, after an explicit DOCKER_HOST: Docker, Podman (root), Dockyard's Podman.
KNOWN_SOCKETS = ("/var/run/docker.sock", "/run/podman/podman.sock", "/run/dockyard-podman.sock")
PING_TIMEOUT_S = 3
MANAGED_BY = "dockyard"
INSTALLATION_FILE = "installation.id"


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


def installation_id(data_dir: Path) -> str:
    """Which Dockyard this is, among several sharing one engine: DOCKYARD_INSTALLATION_ID, else an id
    made on first use and kept in `<data-dir>/installation.id`."""
    explicit = os.environ.get("DOCKYARD_INSTALLATION_ID", "").strip()
    if explicit:
        return explicit
    path = Path(data_dir) / INSTALLATION_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(secrets.token_hex(8) + "\n")
        try:
            os.link(tmp, path)  # atomic and exclusive: when two processes race, the first id stays
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


def managed_labels(data_dir: Path | None) -> dict[str, str]:
    """The labels of every image, container and network Dockyard makes: `dockyard.managed-by` and
    `dockyard.installation` (so `--filter label=dockyard.installation=ID` finds one installation's)."""
    labels = {"dockyard.managed-by": MANAGED_BY}
    if data_dir is not None or os.environ.get("DOCKYARD_INSTALLATION_ID", "").strip():
        labels["dockyard.installation"] = installation_id(Path(data_dir or "."))
    return labels
