"""Retained artifacts: each resource keeps the workspaces and built images of its last N successful
deployments (`DOCKYARD_RETAINED_ARTIFACTS`, default 3) as rollback targets; older ones, and those of
attempts that never succeeded, are removed by a runtime-maintenance job after each success.

What an attempt that is still active or a running instance uses is never removed.
"""

import logging
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dockyard.domain.deployment import ACTIVE
from dockyard.domain.work import SUCCEEDED, Outcome
from dockyard.operations.context import seconds_since, utc_now
from dockyard.services import Services
from dockyard.store.tables import Deployment
from dockyard.work import queue

log = logging.getLogger("dockyard.retention")
MAINTENANCE = "runtime-maintenance"
DRAIN_WAIT_S = 25.0  # a retired instance drains for 10 s at most, then has 10 s to stop
RECHECK_S = 3.0


def artifact_of(dep: Deployment) -> dict[str, Any] | None:
    return (dep.runtime_state or {}).get("artifact")


def missing(artifact: dict[str, Any]) -> str | None:
    """Why the artifact cannot be started again (None when it can): a workspace folder that is gone."""
    if artifact.get("kind") == "workspace" and not Path(artifact.get("path") or "/nonexistent").is_dir():
        return f"the workspace of {artifact.get('deploymentId')} was pruned"
    if artifact.get("retained") is False:
        return f"the artifact of {artifact.get('deploymentId')} was pruned"
    return None


def kept(deployments: list[Deployment], keep: int, running: set[str]) -> set[str]:
    """Ids of the deployments whose artifacts stay: referenced by the newest `keep` successful
    deployments (a rollback references the artifact it reused), by active attempts, or running."""
    succeeded = [d for d in deployments if d.status == "succeeded"]
    succeeded.sort(key=lambda d: d.id, reverse=True)
    holders = succeeded[:keep] + [d for d in deployments if d.status in ACTIVE]
    refs = {(artifact_of(d) or {}).get("deploymentId") or d.id for d in holders}
    return refs | running


def _running(svc: Services, resource_id: str) -> set[str]:
    """The deployments whose instances run: live, candidate, held, or draining (a retired instance
    still answers the requests of connections opened before the switch: its files must stay)."""
    status = svc.runtime.status(resource_id) or {}
    held = [status.get(k) for k in ("active", "candidate", "previous")] + list(status.get("draining") or [])
    return {i["deploymentId"] for i in held if i}


def schedule(session: Session, dep: Deployment, delay_s: float = 0.0) -> None:
    """Queue the pruning of `dep`'s resource (after its success, or again once what drains stopped)."""
    now = utc_now()
    queue.enqueue(
        session,
        MAINTENANCE,
        dep.resource_id,
        now,
        run_after=queue.later(delay_s) if delay_s else None,
        operation_key="resources.prune-artifacts",
        project_id=dep.project_id,
        resource_id=dep.resource_id,
        deployment_id=dep.id,
        server_id=dep.server_id,
    )


def prune_artifacts(svc: Services, resource_id: str) -> Outcome:
    """The runtime-maintenance job: remove the artifacts a resource no longer keeps. Those of retired
    instances still draining stay, and the job comes back for them in a few seconds (while the
    newest success is less than DRAIN_WAIT_S old) instead of holding a worker while they drain."""
    with svc.db.session() as s:
        deployments = list(s.scalars(select(Deployment).where(Deployment.resource_id == resource_id)))
        known = {d.id for d in deployments}
        referenced = kept(deployments, svc.settings.recovery.retained_artifacts, set())
        imaged = any(ran_as_container(d) for d in deployments)
    running = _running(svc, resource_id)
    keep = referenced | running
    removed = _workspaces(svc, resource_id, keep, known) + (_images(resource_id, keep) if imaged else [])
    with svc.db.session() as s:
        for dep in s.scalars(select(Deployment).where(Deployment.id.in_(removed))):
            artifact = artifact_of(dep)
            if artifact is not None and artifact.get("deploymentId") == dep.id:
                dep.runtime_state = {**(dep.runtime_state or {}), "artifact": {**artifact, "retained": False}}
        newest = _newest_success(deployments)
        if (
            running - referenced
            and newest is not None
            and seconds_since(newest.finished_at or utc_now()) < DRAIN_WAIT_S
        ):
            schedule(s, newest, RECHECK_S)
    if removed:
        log.info("resource %s: removed the artifacts of %d deployment(s)", resource_id, len(set(removed)))
    return SUCCEEDED


def _newest_success(deployments: list[Deployment]) -> Deployment | None:
    return max((d for d in deployments if d.status == "succeeded"), key=lambda d: d.id, default=None)


def ran_as_container(dep: Deployment) -> bool:
    """Planned or run as a container: only then can the resource have images (a host-process app's
    pruning need not load the engine's client, 14 MB resident)."""
    planned = ((dep.runtime_plan or {}).get("runtimeArtifact") or {}).get("kind")
    return "image" in (planned, (artifact_of(dep) or {}).get("kind"))


def _workspaces(svc: Services, resource_id: str, keep: set[str], known: set[str]) -> list[str]:
    folder = svc.settings.data_dir / "workspaces" / resource_id
    removed = []
    for path in folder.glob("dep_*"):
        if path.is_dir() and path.name in known and path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    return removed


def _images(resource_id: str, keep: set[str]) -> list[str]:
    """Built images of deployments not kept (an image a container still uses stays)."""
    from dockyard.runtimes import engine

    if not engine.available():
        return []
    from docker.errors import APIError

    client = engine.connect()
    wanted = {k.lower() for k in keep}
    removed = []
    for image in client.images.list(filters={"label": f"dockyard.resource={resource_id}"}):
        tags = [t.rsplit(":", 1)[-1] for t in image.tags]
        if not tags or any(t in wanted for t in tags):
            continue
        try:
            client.images.remove(image.id)
        except APIError:
            continue
        removed += [f"dep_{t[4:]}" for t in tags if t.startswith("dep_")]
    return removed
