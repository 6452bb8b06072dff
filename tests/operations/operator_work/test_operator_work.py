"""The work ledger over the API: every background job listed with its real outcome and lineage, and
the operator's actions (retry, dead-letter, cancel, mark-recovered, prune)."""

from pathlib import Path
from typing import Any

import pytest
from api_helpers import created, error_code
from sqlalchemy import update

from dockyard.domain.work import Outcome
from dockyard.services import Services
from dockyard.store.tables import Deployment, WorkItem
from dockyard.work import queue
from dockyard.work.reconcile import reconcile


@pytest.fixture
def context(api: Any, new_project: str, new_environment: str, new_resource: str, tmp_path: Path) -> dict:
    server = next(s["id"] for s in api.get("/api/servers").json()["items"] if s["providerKey"] == "local")
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "index.html").write_text("hi")
    source = {"source": {"kind": "local-folder", "locator": str(folder)}}
    api.post(f"/api/resources/{new_resource}/source", json=source)
    return {
        "projectId": new_project,
        "environmentId": new_environment,
        "resourceId": new_resource,
        "serverId": server,
    }


def item_of(api: Any, deployment_id: str) -> dict[str, Any]:
    (item,) = api.get("/api/operator-work", params={"deploymentId": deployment_id}).json()["items"]
    return item


def interrupt(stack: Any, item_id: str, deployment_id: str | None = None) -> None:
    """What a SIGKILL leaves: the item running under a lease nobody renews, the attempt mid-way."""
    with stack.db.session() as s:
        s.execute(
            update(WorkItem)
            .where(WorkItem.id == item_id)
            .values(status="running", lease_owner="gone:1:x", lease_expires_at="2000-01-01T00:00:00.000Z")
        )
        if deployment_id:
            s.execute(update(Deployment).where(Deployment.id == deployment_id).values(status="running"))


def test_a_deployment_is_a_pending_item_with_what_it_is_about(api: Any, context: dict) -> None:
    dep = created(api.post("/api/deployments", json=context))
    listed = api.get("/api/operator-work").json()
    assert listed["schemaVersion"] == "operator-work.list/v1"
    item = item_of(api, dep)
    assert (item["kind"], item["status"], item["operationKey"]) == (
        "deployment",
        "pending",
        "deployments.create",
    )
    assert item["resourceId"] == context["resourceId"] and item["projectId"] == context["projectId"]
    assert item["nextActions"] == ["wait", "cancel"] and item["attempts"] == 0
    assert api.get("/api/operator-work", params={"kind": "certificate"}).json()["items"] == []
    assert [i["id"] for i in api.get("/api/operator-work", params={"status": "pending"}).json()["items"]] == [
        item["id"]
    ]
    shown = api.get(f"/api/operator-work/{item['id']}").json()
    assert shown["schemaVersion"] == "operator-work.show/v1" and shown["item"]["deploymentId"] == dep
    missing = api.get("/api/operator-work/wrk_" + "0" * 26)
    assert missing.status_code == 404 and error_code(missing) == "work_not_found"
    assert api.get("/api/operator-work/dep_123").status_code == 404  # a malformed id names no work item


def test_an_interrupted_deployment_is_retry_scheduled_and_a_retry_keeps_the_lineage(
    api: Any, stack: Any, context: dict
) -> None:
    dep = created(api.post("/api/deployments", json=context))
    item = item_of(api, dep)
    interrupt(stack, item["id"], dep)
    assert reconcile(Services.create(stack.settings, stack.db)) == [dep]
    shown = api.get(f"/api/deployments/{dep}").json()["deployment"]
    assert shown["status"] == "failed" and shown["failure"]["code"] == "interrupted"
    after = api.get(f"/api/operator-work/{item['id']}").json()["item"]
    assert (after["status"], after["errorCode"], after["retriable"]) == (
        "retry-scheduled",
        "interrupted",
        True,
    )
    assert "retry" in after["nextActions"] and "interrupted" in after["safeDetails"]["message"]

    retried = api.post(f"/api/operator-work/{item['id']}/retry", json={})
    assert retried.status_code == 201 and retried.json()["retryOfWorkId"] == item["id"]
    new = api.get(f"/api/operator-work/{retried.json()['workId']}").json()["item"]
    assert new["status"] == "pending" and new["retryOfWorkId"] == item["id"] and new["deploymentId"] != dep
    assert (
        api.get(f"/api/deployments/{new['deploymentId']}").json()["deployment"]["sourceDeploymentId"] == dep
    )
    old = api.get(f"/api/operator-work/{item['id']}").json()["item"]
    assert old["status"] == "failed" and old["retriedByWorkIds"] == [new["id"]]


def test_an_interrupted_certificate_attempt_waits_for_the_scheduler(
    api: Any, stack: Any, verified_binding: dict[str, str]
) -> None:
    body = {"proxyKind": "nginx", "httpPort": 18080, "httpsPort": 18443}
    api.post(f"/api/servers/{verified_binding['serverId']}/edge-proxy/configuration", json=body)
    requested = api.post("/api/certificates/issue-or-renew", json={"domainBindingId": verified_binding["id"]})
    assert requested.status_code == 202, requested.text
    (item,) = api.get("/api/operator-work", params={"kind": "certificate"}).json()["items"]
    assert item["certificateId"] == requested.json()["certificateId"]
    assert item["domainBindingId"] == verified_binding["id"]
    interrupt(stack, item["id"])
    reconcile(Services.create(stack.settings, stack.db))
    after = api.get(f"/api/operator-work/{item['id']}").json()["item"]
    assert after["status"] == "retry-scheduled" and after["errorCode"] == "interrupted"
    attempt = api.get(f"/api/certificates/{item['certificateId']}").json()["latestAttempt"]
    assert attempt["status"] == "failed" and attempt["retriable"]


def test_dead_letter_cancel_and_mark_recovered_follow_the_status(api: Any, stack: Any, context: dict) -> None:
    dep = created(api.post("/api/deployments", json=context))
    item = item_of(api, dep)["id"]
    refused = api.post(f"/api/operator-work/{item}/mark-recovered", json={})
    assert refused.status_code == 409 and error_code(refused) == "operator_work_state_conflict"
    canceled = api.post(f"/api/operator-work/{item}/cancel", json={"reason": "wrong branch"}).json()
    assert canceled["status"] == "canceled" and canceled["canceledAt"]
    assert api.get(f"/api/deployments/{dep}").json()["deployment"]["status"] == "canceled"
    assert (
        api.get(f"/api/operator-work/{item}").json()["item"]["safeDetails"]["cancelReason"] == "wrong branch"
    )

    other = created(api.post("/api/deployments", json=context))
    failing = item_of(api, other)["id"]
    with stack.db.session() as s:  # what the worker records for a job that failed
        s.execute(update(WorkItem).where(WorkItem.id == failing).values(status="running"))
    queue.finish(
        stack.db, failing, Outcome("failed", "build-failed", "deployment", True, "npm broke", "build")
    )
    shown = api.get(f"/api/operator-work/{failing}").json()["item"]
    assert (shown["status"], shown["errorCode"], shown["phase"]) == ("failed", "build-failed", "build")
    dead = api.post(f"/api/operator-work/{failing}/dead-letter", json={"reason": "flaky mirror"}).json()
    assert dead["status"] == "dead-lettered"
    recovered = api.post(f"/api/operator-work/{failing}/mark-recovered", json={}).json()
    assert recovered["status"] == "succeeded" and recovered["recoveredAt"]
    assert (
        api.get(f"/api/operator-work/{failing}").json()["item"]["safeDetails"]["recoveredFrom"]
        == "dead-lettered"
    )


def test_a_running_job_that_cannot_stop_midway_is_not_canceled(api: Any, stack: Any) -> None:
    with stack.db.session() as s:
        job = queue.enqueue(s, "runtime-maintenance", "res_x", "2026-01-01T00:00:00.000Z")
        job.status, job_id = "running", job.id
    refused = api.post(f"/api/operator-work/{job_id}/cancel", json={})
    assert refused.status_code == 409 and error_code(refused) == "operator_work_not_cancelable"


def test_prune_is_a_dry_run_by_default(api: Any, context: dict) -> None:
    dep = created(api.post("/api/deployments", json=context))
    api.post(f"/api/operator-work/{item_of(api, dep)['id']}/cancel", json={})
    created(api.post("/api/deployments", json=context))  # pending: never pruned
    body = {"before": "2999-01-01T00:00:00Z"}
    dry = api.post("/api/operator-work/prune", json=body).json()
    assert dry["dryRun"] and dry["matchedCount"] == 1 and dry["prunedCount"] == 0
    assert dry["countsByStatus"]["canceled"] == 1
    done = api.post("/api/operator-work/prune", json={**body, "dryRun": False}).json()
    assert done["prunedCount"] == 1
    assert [i["status"] for i in api.get("/api/operator-work").json()["items"]] == ["pending"]
