"""At start: work a dead control plane left `running` is closed, so nothing stays active forever."""

import logging
import os
import socket
from typing import Any

from sqlalchemy import select

from dockyard.domain.deployment import ACTIVE
from dockyard.operations.context import utc_now
from dockyard.services import Services
from dockyard.store.tables import Deployment, McpCustomDeployment, McpCustomVersion, WorkItem

log = logging.getLogger("dockyard.reconcile")
INTERRUPTED = "interrupted: the control plane stopped while this ran"


def _owner_dead(owner: str | None, now: str, lease_expires_at: str | None) -> bool:
    if lease_expires_at is None or lease_expires_at < now:
        return True
    host, _, rest = (owner or "").partition(":")
    if host != socket.gethostname():
        return False
    pid = int(rest.split(":", 1)[0] or 0)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return pid == os.getpid()  # our own pid in an old lease: a previous process reused it


def _interrupt_mcp(s: Any, deployment_id: str, now: str) -> None:
    """An MCP server deployment its worker left half-done: failed, its running step too."""
    dep = s.get(McpCustomDeployment, deployment_id)
    if dep is None or dep.status not in ("queued", "deploying"):
        return
    steps = [dict(step) for step in dep.steps]
    for step in steps:
        if step["status"] == "running":
            step["status"], step["ended_at"] = "failed", now
            step["logs"] = [*step["logs"], {"type": "error", "timestamp": now, "line": INTERRUPTED}]
    dep.steps, dep.status, dep.ended_at, dep.updated_at = steps, "failed", now, now
    dep.error = {"code": "interrupted", "message": INTERRUPTED}
    version = s.get(McpCustomVersion, dep.version_id)
    version.status, version.updated_at = "deployment_failed", now
    log.warning("MCP deployment %s was interrupted; marked failed", deployment_id)


def reconcile(svc: Services) -> list[str]:
    """Fail the deployments whose worker died; return their ids."""
    from dockyard.issuance import attempts as certificate_attempts
    from dockyard.pipeline.timeline import Timeline

    now, failed = utc_now(), []
    with svc.db.session() as s:
        for item in s.scalars(select(WorkItem).where(WorkItem.status == "running")):
            if not _owner_dead(item.lease_owner, now, item.lease_expires_at):
                continue
            item.status, item.last_error, item.lease_owner, item.updated_at = "failed", INTERRUPTED, None, now
            if item.kind == certificate_attempts.WORK_KIND:
                certificate_attempts.interrupted(s, item.subject_id, INTERRUPTED)
                continue
            if item.kind == "mcp_deployment":
                _interrupt_mcp(s, item.subject_id, now)
                continue
            dep = s.get(Deployment, item.subject_id)
            if dep is not None and dep.status in ACTIVE:
                dep.status, dep.finished_at = "failed", now
                dep.failure = {
                    "phase": None,
                    "code": "interrupted",
                    "message": INTERRUPTED,
                    "nextAction": "Deploy again; the live version kept serving.",
                }
                failed.append((dep.id, dep.resource_id))
    for dep_id, resource_id in failed:
        svc.runtime.discard(resource_id, dep_id)
        timeline = Timeline(svc.db, dep_id)
        timeline.log("switch", INTERRUPTED, level="error")
        timeline.event("deployment-failed", None, "failed", INTERRUPTED, retriable=True)
        log.warning("deployment %s was interrupted; marked failed", dep_id)
    return [d for d, _ in failed]
