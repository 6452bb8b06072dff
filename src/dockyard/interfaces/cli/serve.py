"""`dockyard serve`: the control plane (API + console) on one port."""

import logging

import uvicorn

from dockyard.config import Settings
from dockyard.interfaces.http.app import build_app
from dockyard.startup import prepare


def run_server(host: str, port: int, data_dir: str | None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env(data_dir)
    db = prepare(settings)
    app = build_app(settings, db)
    print(f"Dockyard listening on http://{host}:{port}  (data: {settings.data_dir})", flush=True)
    print(f"Admin token: {settings.token_file}  API docs: http://{host}:{port}/api/docs", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
