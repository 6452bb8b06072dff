"""At start: work a dead control plane left `running` is closed, so nothing stays active forever.

- a deployment ends `failed` (code `interrupted`), its candidate is stopped, and its work item is
  `retry-scheduled` (a person decides when: `dockyard work retry`); the live version never stopped,
  since it runs in its own runner. One whose switch had already happened is finished instead
  (`succeeded`: it passed verification and serves), or, while the runner still holds the previous
  version, rolled back to it;
- a certificate attempt fails retriable; the certificate scheduler retries it after its backoff;
- an MCP server deployment fails, its running step too;
- idempotent jobs (proxy bootstrap, runtime maintenance) are simply queued again.

A command (install, build) an interrupted deployment was running is stopped with its whole process
group, when the group recorded on the attempt is still the one it started (pipeline.command_groups).

Then every deployment still active whose work will never run it again (its item ended or is gone:
a worker crashed, or recording the end failed while the store was briefly read-only) is closed the
same way; one asked to cancel ends `canceled`. Only work pending or running under a live worker
(another replica's) keeps its attempt active.
"""

import logging
import os
import socket
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dockyard.domain.deployment import ACTIVE
from dockyard.operations.context import utc_now
from dockyard.pipeline import command_groups
from dockyard.services import Services
from dockyard.store.mcp_tables import McpCustomDeployment, McpCustomVersion
from dockyard.store.tables import Deployment, WorkItem

log = logging.getLogger("dockyard.reconcile")
INTERRUPTED = "interrupted: the control plane stopped while this ran"
REQUEUED_KINDS = ("proxy-bootstrap", "runtime-maintenance")


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


@dataclass(frozen=True)
class _Interrupted:
    deployment_id: str
    resource_id: str
    item_id: str | None  # the work item reconciled with it (None: its work had already ended)
    cancel: bool = False  # a cancel was asked: it ends `canceled`, not `failed`
    command_group: dict[str, Any] | None = None  # the command it was running, if any

    @classmethod
    def of(cls, dep: Deployment, item_id: str | None) -> "_Interrupted":
        group = (dep.runtime_state or {}).get(command_groups.KEY)
        return cls(dep.id, dep.resource_id, item_id, dep.status == "cancel-requested", group)


def _abandoned(s: Session, seen: set[str]) -> list[Deployment]:
    """Active deployments that no work item will run: none is running, and none is pending for one
    the worker would still start (`created`) or finish canceling (`cancel-requested`)."""
    deployment_items = select(WorkItem.subject_id).where(WorkItem.kind == "deployment")
    running = deployment_items.where(WorkItem.status == "running")
    pending = deployment_items.where(WorkItem.status == "pending")
    stmt = select(Deployment).where(
        Deployment.status.in_(ACTIVE),
        Deployment.id.not_in(running),
        or_(
            Deployment.status.not_in(("created", "cancel-requested")),
            Deployment.id.not_in(pending),
        ),
    )
    return [dep for dep in s.scalars(stmt) if dep.id not in seen]


def reconcile(svc: Services) -> list[str]:
    """Close the work whose worker died; return the ids of the deployments it interrupted."""
    from dockyard.certificates import attempts as certificate_attempts

    now, interrupted = utc_now(), []
    with svc.db.session() as s:
        for item in s.scalars(select(WorkItem).where(WorkItem.status == "running")):
            if not _owner_dead(item.lease_owner, now, item.lease_expires_at):
                continue
            item.lease_owner, item.lease_expires_at, item.updated_at = None, None, now
            item.last_error, item.error_code, item.error_category = INTERRUPTED, "interrupted", "interrupted"
            item.retriable = True
            if item.kind in REQUEUED_KINDS:
                item.status, item.run_after = "pending", now
                continue
            if item.kind == "mcp_deployment":  # a person deploys the version again
                item.status, item.finished_at = "failed", now
                _interrupt_mcp(s, item.subject_id, now)
                continue
            item.status, item.finished_at = "retry-scheduled", now
            if item.kind == certificate_attempts.WORK_KIND:
                certificate_attempts.interrupted(s, item.subject_id, INTERRUPTED)
                s.flush()
                item.run_after = certificate_attempts.outcome_in(s, item.subject_id).run_after or now
                continue
            dep = s.get(Deployment, item.subject_id)
            if dep is not None and dep.status in ACTIVE:
                interrupted.append(_Interrupted.of(dep, item.id))
        s.flush()
        seen = {found.deployment_id for found in interrupted}
        interrupted += [_Interrupted.of(dep, None) for dep in _abandoned(s, seen)]
    for found in interrupted:
        _close(svc, found, now)
    return [i.deployment_id for i in interrupted]


def _close(svc: Services, found: _Interrupted, now: str) -> None:
    """End one interrupted deployment according to where its runner got to."""
    from dockyard.pipeline.timeline import Timeline

    if command_groups.stop(found.command_group):
        log.warning("deployment %s left a command running; its process group was killed", found.deployment_id)
    runtime = svc.runtime
    status = runtime.status(found.resource_id) or {}
    switched = (status.get("active") or {}).get("deploymentId") == found.deployment_id
    timeline = Timeline(svc.db, found.deployment_id)
    if switched and status.get("previous"):
        runtime.revert(found.resource_id, found.deployment_id)
        _end(svc, found, now, "rolled-back", "the previous version was restored")
        timeline.log("switch", f"{INTERRUPTED}; the previous version was restored", level="error")
        timeline.event("deployment-rolled-back", "switch", "rolled-back", INTERRUPTED, retriable=True)
    elif switched:
        _end(svc, found, now, "succeeded", None)
        timeline.log("switch", "the control plane stopped after the switch; the new version serves")
        timeline.event("deployment-succeeded", "switch", "succeeded", "resumed after a restart")
    elif found.cancel:
        runtime.discard(found.resource_id, found.deployment_id)
        _end(svc, found, now, "canceled", None)
        timeline.log("switch", f"{INTERRUPTED}; it was being canceled", level="warn")
        timeline.event("deployment-canceled", None, "canceled", "canceled; the live version was not touched")
    else:
        runtime.discard(found.resource_id, found.deployment_id)
        _end(svc, found, now, "failed", "the live version kept serving")
        timeline.log("switch", INTERRUPTED, level="error")
        timeline.event("deployment-failed", None, "failed", INTERRUPTED, retriable=True)
    log.warning("deployment %s was interrupted; reconciled", found.deployment_id)


def _end(svc: Services, found: _Interrupted, now: str, status: str, kept: str | None) -> None:
    with svc.db.session() as s:
        dep = s.get(Deployment, found.deployment_id)
        item = s.get(WorkItem, found.item_id) if found.item_id else None
        if dep is None:
            return
        dep.status, dep.finished_at = status, now
        if found.command_group is not None:
            state = dep.runtime_state or {}
            dep.runtime_state = {k: v for k, v in state.items() if k != command_groups.KEY}
        if status == "succeeded":
            dep.runtime_state = {**(dep.runtime_state or {}), "url": svc.runtime.url(found.resource_id)}
            if item is not None:
                item.status, item.error_code, item.error_category = "succeeded", None, None
                item.retriable, item.last_error = None, "resumed after a restart: the switch had completed"
            return
        if status == "canceled":
            if item is not None:
                item.status, item.error_category, item.retriable = "canceled", "canceled", False
            return
        dep.failure = {
            "phase": "switch" if status == "rolled-back" else None,
            "code": "interrupted",
            "message": f"{INTERRUPTED}; {kept}",
            "nextAction": f"Retry it: dockyard deployments retry {dep.id}",
        }
