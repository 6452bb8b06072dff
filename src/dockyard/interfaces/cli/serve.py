"""`dockyard serve`: the control plane (API + worker) on one port."""

import logging

import uvicorn

from dockyard.config import Settings
from dockyard.control_plane import assemble


def run_server(host: str, port: int, data_dir: str | None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env(data_dir)
    plane = assemble(settings)
    plane.start()
    print(f"Dockyard listening on http://{host}:{port}  (data: {settings.data_dir})", flush=True)
    print(f"Admin token: {settings.token_file}  API docs: http://{host}:{port}/api/docs", flush=True)
    try:
        uvicorn.run(plane.app, host=host, port=port, log_level="warning", access_log=False)
    finally:
        plane.stop()
