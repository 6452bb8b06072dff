"""The control plane assembled: store, services, HTTP app, and the embedded worker."""

import logging
import threading
from dataclasses import dataclass

from fastapi import FastAPI

from dockyard.config import Settings
from dockyard.interfaces.http.app import build_app
from dockyard.issuance.attempts import forget_challenges
from dockyard.issuance.scheduler import Scheduler
from dockyard.services import Services
from dockyard.startup import prepare
from dockyard.work.reconcile import reconcile
from dockyard.work.worker import Worker


@dataclass
class ControlPlane:
    services: Services
    worker: Worker
    app: FastAPI
    certificates: Scheduler

    def start(self) -> None:
        reconcile(self.services)
        forget_challenges(self.services.settings)
        self.worker.start()
        self.certificates.start()
        threading.Thread(target=self._edges, name="dockyard-edge", daemon=True).start()

    def _edges(self) -> None:
        """Bring configured edge proxies back (after a reboot, say) with their current routes."""
        from sqlalchemy import select

        from dockyard.edge.sync import sync
        from dockyard.store.tables import Server

        with self.services.db.session() as s:
            servers = [
                sv.id
                for sv in s.scalars(select(Server))
                if (sv.edge_proxy or {}).get("kind", "none") != "none"
            ]
        for server_id in servers:
            try:
                sync(self.services, server_id)
            except Exception:
                logging.getLogger("dockyard.edge").exception("bringing the edge of %s back failed", server_id)

    def stop(self) -> None:
        self.certificates.stop()
        self.worker.stop()


def handlers(svc: Services) -> dict:
    def deployment(deployment_id: str) -> None:
        from dockyard.pipeline.execute import run_deployment  # the pipeline loads on first use

        run_deployment(svc, deployment_id)

    def certificate_attempt(attempt_id: str) -> None:
        from dockyard.issuance.attempts import run_attempt

        run_attempt(svc, attempt_id)

    def mcp_deployment(deployment_id: str) -> None:
        from dockyard.hosting.deploy import run_custom_deployment  # loads the MCP SDK on first use

        run_custom_deployment(svc, deployment_id)

    return {
        "deployment": deployment,
        "certificate-attempt": certificate_attempt,
        "mcp_deployment": mcp_deployment,
    }


def assemble(settings: Settings) -> ControlPlane:
    db = prepare(settings)
    services = Services.create(settings, db)
    worker = Worker(db, handlers(services))
    services.wake_worker = worker.wake
    app = build_app(settings, db, services)
    return ControlPlane(services=services, worker=worker, app=app, certificates=Scheduler(services))
