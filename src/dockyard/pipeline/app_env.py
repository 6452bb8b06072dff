"""The environment an app's own commands run in (install, build, release, its process): what of the
control plane's environment they see, the app's own tools first on PATH, and what Dockyard tells the
app: where its persistent data folder is, and (Django) the hostnames it is reached by."""

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from dockyard.operations.context import utc_now
from dockyard.store.tables import AccessRoute, Resource, Server

if TYPE_CHECKING:
    from dockyard.services import Services

SAFE_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "USER", "LOGNAME", "SHELL")
DATA_DIR_VARIABLE = "DOCKYARD_APP_DATA_DIR"
CONTAINER_DATA_DIR = "/data"  # where a container finds its resource's data folder
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k in SAFE_ENV}


def with_app_tools(env: dict[str, str], venv: str | Path | None, workspace: str | Path) -> dict[str, str]:
    """`env` with the app's own executables first on PATH: its venv's bin (python, pip and every
    console script its requirements installed) and its node_modules/.bin."""
    first = [f"{venv}/bin"] if venv else []
    if (Path(workspace) / "node_modules").exists():
        first.append(f"{workspace}/node_modules/.bin")
    if not first:
        return env
    return {
        **env,
        **({"VIRTUAL_ENV": str(venv)} if venv else {}),
        "PATH": ":".join([*first, env.get("PATH", "")]),
    }


def app_data_root(data_dir: Path) -> Path:
    return data_dir / "appdata"


def app_data_dir(data_dir: Path, resource_id: str) -> Path:
    """The resource's persistent data folder (0700): kept across deploys and rollbacks, removed only
    with the resource (remove_app_data)."""
    root = app_data_root(data_dir)
    folder = root / resource_id
    folder.mkdir(parents=True, exist_ok=True)
    for path in (root, folder):
        os.chmod(path, 0o700)
    return folder


def remove_app_data(data_dir: Path, resource_id: str) -> None:
    shutil.rmtree(app_data_root(data_dir) / resource_id, ignore_errors=True)


def _with_port(scheme: str, host: str, port: int, default: int) -> str:
    return f"{scheme}://{host}" + ("" if port == default else f":{port}")


def django_env(svc: "Services", resource_id: str, server_id: str) -> dict[str, str]:
    """DJANGO_ALLOWED_HOSTS and DJANGO_CSRF_TRUSTED_ORIGINS (comma-separated) for a settings.py to
    read: loopback, the resource's generated hostname (assigned now when the server has an edge, so
    the first deploy knows it) and its custom domains. A domain bound later counts from the next deploy."""
    from dockyard.edge.sync import assign_route

    with svc.db.session() as s:
        server, resource = s.get(Server, server_id), s.get(Resource, resource_id)
        edge = dict(server.edge_proxy or {}) if server else {}
        if server is not None and resource is not None and edge.get("kind", "none") != "none":
            assign_route(s, resource, server, utc_now())
        names = sorted(
            set(s.scalars(select(AccessRoute.hostname).where(AccessRoute.resource_id == resource_id)))
        )
    http, https = int(edge.get("httpPort") or 80), int(edge.get("httpsPort") or 443)
    origins = [_with_port("https", n, https, 443) for n in names] + [
        _with_port("http", n, http, 80) for n in names
    ]
    return {
        "DJANGO_ALLOWED_HOSTS": ",".join([*LOOPBACK_HOSTS, *names]),
        "DJANGO_CSRF_TRUSTED_ORIGINS": ",".join(origins),
    }
