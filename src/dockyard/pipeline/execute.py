"""Run one deployment: detect → plan → package → install → build → release → start → verify → switch.

Every phase is written to the timeline. The live version keeps serving throughout: the candidate
runs next to it and receives traffic only after it passed verification; a failing candidate is
stopped and the deployment ends `failed` with the reason. The switch itself is confirmed through the
resource's live port; when that fails the previous version serves again and the deployment ends
`rolled-back`. What a candidate runs from (its workspace or image) is recorded as its artifact, so
a rollback (pipeline/rollback.py) can start it again without building anything.
"""

from dockyard.domain.work import Outcome, deployment_outcome
from dockyard.operations.context import utc_now
from dockyard.pipeline import retention
from dockyard.pipeline.execute_container import execute_container
from dockyard.pipeline.execute_workspace import execute_workspace
from dockyard.pipeline.execution import Canceled, Configuration, Execution, RolledBack, log
from dockyard.pipeline.failures import DeployFailure
from dockyard.pipeline.rollback import execute_rollback
from dockyard.runtimes.protocol import Superseded
from dockyard.services import Services
from dockyard.store.tables import Deployment, Resource, Server


def run(ex: Execution) -> None:
    """Run the attempt: a rollback restarts a retained artifact; otherwise detect and plan, then the
    container or workspace strategy; route the live app and record how it ended."""
    with ex.svc.db.session() as s:
        dep = s.get(Deployment, ex.id)
        if dep is None or dep.status not in ("created", "cancel-requested"):
            return
        superseded_early = dep.status == "cancel-requested"
        rollback_artifact = (
            (dep.runtime_state or {}).get("artifact") if dep.trigger_kind == "rollback" else None
        )
        resource = s.get(Resource, dep.resource_id)
        server = s.get(Server, dep.server_id)
        assert resource is not None and server is not None
        snapshot = dict(dep.source_snapshot or {})
        resource_id, project_id, server_id = resource.id, resource.project_id, server.id
        ex.server_id = server_id
        server_view = {"id": server.id, "providerKey": server.provider_key}
        ex.config = Configuration.of(s, ex.svc.settings, dep.environment_snapshot)
        ex.timeline.mask = ex.config.mask
    if superseded_early:
        ex.finish("canceled", "canceled before it started: a newer deployment superseded it")
        return
    try:
        ex.move("planning", started_at=utc_now())
        ex.timeline.event("deployment-started", "detect", "planning", "deployment started")
        if rollback_artifact is not None:
            ex.move("planned")
            ex.move("running")
            url = execute_rollback(ex, resource_id, project_id, snapshot, rollback_artifact)
        else:
            p, evidence_doc = ex.detect_and_plan(snapshot, server_view)
            ex.move("planned", runtime_plan=evidence_doc)
            ex.move("running")
            if p.runtime_kind == "container":
                url = execute_container(ex, resource_id, project_id, snapshot, p)
            else:
                url = execute_workspace(ex, resource_id, snapshot, p)
        routed = ex.route(resource_id, server_id, url)
        with ex.svc.db.session() as s:
            state = dict((s.get(Deployment, ex.id) or Deployment()).runtime_state or {})
        state.update(url=url, routedUrl=routed.url, proxyKind=routed.proxy_kind)
        ex.finish("succeeded", f"live at {routed.url or url}", runtime_state=state)
    except (Canceled, Superseded):
        if ex.candidate_started:
            ex.svc.runtime.discard(resource_id, ex.id)
        ex.finish("canceled", "canceled; the live version was not touched")
    except Exception as exc:
        if not _stopped_meanwhile(ex, resource_id, exc):
            _failed(ex, resource_id, exc)


def _stopped_meanwhile(ex: Execution, resource_id: str, exc: Exception) -> bool:
    """An attempt asked to stop (a newer deployment superseded it, or someone canceled it) that then
    failed ends canceled: stopping it is what failed it (its candidate replaced, its switch overtaken
    by the newer one's), and the failure is only noted in its timeline."""
    if not ex.canceled():
        return False
    if ex.candidate_started:
        ex.svc.runtime.discard(resource_id, ex.id)
    ex.timeline.log("switch", f"stopped while it was asked to: {exc}", level="warn")
    ex.finish("canceled", "canceled: it was asked to stop before it finished")
    return True


def _failed(ex: Execution, resource_id: str, exc: Exception) -> None:
    """Record how the attempt failed: rolled back, a deploy failure with its next action, or a crash."""
    if isinstance(exc, RolledBack):  # the previous version kept the front port: its routes stand
        ex.timeline.log("switch", exc.message, level="error")
        failure = {
            "phase": "switch",
            "code": "switch-failed",
            "message": exc.message,
            "nextAction": "Read the app's output above, fix it and deploy again.",
        }
        ex.finish("rolled-back", "the switch failed; the previous version serves again", failure=failure)
        return
    if ex.candidate_started:
        ex.svc.runtime.discard(resource_id, ex.id)
    if isinstance(exc, DeployFailure):
        ex.timeline.log(exc.phase, exc.message, level="error")
        if exc.next_action:
            ex.timeline.log(exc.phase, f"next: {exc.next_action}", level="info")
        ex.finish("failed", exc.message, failure=exc.record())
        return
    log.exception("deployment %s crashed", ex.id, exc_info=exc)
    message = f"internal error: {type(exc).__name__}: {exc}"
    ex.timeline.log("switch", message, level="error")
    failure = {
        "phase": None,
        "code": "internal_error",
        "message": message,
        "nextAction": "Retry; if it persists, read serve.log.",
    }
    ex.finish("failed", message, failure=failure)


def run_deployment(svc: Services, deployment_id: str) -> Outcome:
    """The worker's handler: run the attempt; after a success, queue the pruning of artifacts the
    resource no longer keeps. Returns how the attempt ended, for the work ledger."""
    run(Execution(svc, deployment_id))
    with svc.db.session() as s:
        dep = s.get(Deployment, deployment_id)
        if dep is None:
            return Outcome("canceled", "deployment_gone", "canceled", False, "the deployment was removed")
        if dep.status == "succeeded":
            retention.schedule(s, dep)
        outcome = deployment_outcome(dep.status, dep.failure)
    svc.wake_worker()
    return outcome
