"""The control plane assembled: store, services, HTTP app, and the embedded worker."""

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import FastAPI

from dockyard.certificates.attempts import forget_challenges
from dockyard.certificates.scheduler import Scheduler
from dockyard.config import Settings
from dockyard.domain.work import Outcome, deployment_outcome
from dockyard.interfaces.http.app import build_app
from dockyard.services import Services
from dockyard.startup import prepare
from dockyard.work.monitor import Monitor
from dockyard.work.reconcile import reconcile
from dockyard.work.worker import Worker


@dataclass
class ControlPlane:
    services: Services
    worker: Worker
    app: FastAPI
    certificates: Scheduler
    monitor: Monitor

    def start(self) -> None:
        reconcile(self.services)
        forget_challenges(self.services.settings)
        self._edges()
        self.worker.start()
        self.certificates.start()
        self.monitor.start()

    def _edges(self) -> None:
        """Bring configured edge proxies back (after a reboot, say) with their current routes: one
        proxy-bootstrap job per server, run by the worker."""
        from sqlalchemy import select

        from dockyard.operations.context import utc_now
        from dockyard.store.tables import Server
        from dockyard.work import queue

        with self.services.db.session() as s:
            for server in s.scalars(select(Server)):
                if (server.edge_proxy or {}).get("kind", "none") != "none":
                    queue.enqueue(
                        s,
                        "proxy-bootstrap",
                        server.id,
                        utc_now(),
                        operation_key="system.start",
                        server_id=server.id,
                    )

    def stop(self) -> None:
        self.monitor.stop()
        self.certificates.stop()
        self.worker.stop()


def handlers(svc: Services) -> dict[str, Callable[[str], Outcome | None]]:
    """The worker's handler per work kind; each says how its job really ended."""

    def deployment(deployment_id: str) -> Outcome:
        from dockyard.pipeline import command_groups
        from dockyard.pipeline.execute import run_deployment  # the pipeline loads on first use

        with command_groups.recorded(svc.db, deployment_id):  # its commands, for a restart to stop
            return run_deployment(svc, deployment_id)

    def certificate_attempt(attempt_id: str) -> Outcome:
        from dockyard.certificates.attempts import run_and_report

        return run_and_report(svc, attempt_id)

    def mcp_deployment(deployment_id: str) -> Outcome:
        from dockyard.hosting.deploy import run_custom_deployment  # loads the MCP SDK on first use
        from dockyard.store.mcp_tables import McpCustomDeployment

        run_custom_deployment(svc, deployment_id)
        with svc.db.session() as s:
            dep = s.get(McpCustomDeployment, deployment_id)
            status, error = (dep.status, dict(dep.error or {})) if dep else (None, {})
        return deployment_outcome("succeeded" if status == "completed" else status, error)

    def proxy_bootstrap(server_id: str) -> Outcome:
        from dockyard.edge.sync import bootstrap

        return bootstrap(svc, server_id)

    def runtime_maintenance(resource_id: str) -> Outcome:
        from dockyard.pipeline.retention import prune_artifacts

        return prune_artifacts(svc, resource_id)

    return {
        "deployment": deployment,
        "certificate-attempt": certificate_attempt,
        "mcp_deployment": mcp_deployment,
        "proxy-bootstrap": proxy_bootstrap,
        "runtime-maintenance": runtime_maintenance,
    }


def assemble(settings: Settings) -> ControlPlane:
    db = prepare(settings)
    services = Services.create(settings, db)
    worker = Worker(db, handlers(services))
    services.wake_worker = worker.wake
    app = build_app(settings, db, services)
    return ControlPlane(
        services=services, worker=worker, app=app, certificates=Scheduler(services), monitor=Monitor(services)
    )
