"""The control plane process: `python -m dockyard.server --host H --port P [--data-dir D]`.

`dockyard serve` replaces itself with this module, so the running server does not carry the CLI's
libraries (Typer, Rich) in memory.
"""

import argparse
import dataclasses
import gc
import logging

import uvicorn

from dockyard.config import DEFAULT_PORT, Settings
from dockyard.control_plane import assemble
from dockyard.secrets.files import private_umask
from dockyard.startup import ensure_writable
from dockyard.store import migrate


def run_server(host: str, port: int, data_dir: str | None, bootstrap_admin: bool = True) -> None:
    private_umask()  # the database, logs, workspaces and runners' files: the owner's only
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env(data_dir, listen=(host, port))
    if not bootstrap_admin:
        settings = dataclasses.replace(settings, bootstrap_admin=False)
    ensure_writable(settings)
    settings.egress_policy()  # a bad DOCKYARD_EGRESS_* setting stops the start, naming the setting
    migrate.apart(settings)
    plane = assemble(settings)
    plane.start()
    gc.collect()
    print(f"Dockyard listening on http://{host}:{port}  (data: {settings.data_dir})", flush=True)
    if settings.token_file.exists():
        print(f"Admin token: {settings.token_file}  API docs: {settings.public_url}/api/docs", flush=True)
    else:
        print(
            f"No admin yet: POST {settings.public_url}/api/bootstrap/auth/first-admin creates one "
            f"(and {settings.token_file})",
            flush=True,
        )
    try:
        uvicorn.run(plane.app, host=host, port=port, log_level="warning", access_log=False)
    finally:
        plane.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="dockyard serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--no-bootstrap-admin", action="store_true")
    args = parser.parse_args()
    run_server(args.host, args.port, args.data_dir, bootstrap_admin=not args.no_bootstrap_admin)


if __name__ == "__main__":
    main()
