"""Deployment recovery over the API: retry, redeploy, rollback, cancel, archive, prune, readiness.

Attempts are run in-process (`run_deployment`, what the worker calls) on real host processes.
"""

from pathlib import Path
from typing import Any

import httpx
import pytest
from api_helpers import created, error_code

from dockyard.domain.ids import new_id
from dockyard.pipeline.execute import run_deployment
from dockyard.services import Services


@pytest.fixture
def context(api: Any, new_project: str, new_environment: str, new_resource: str) -> dict[str, str]:
    server = next(s["id"] for s in api.get("/api/servers").json()["items"] if s["providerKey"] == "local")
    return {
        "projectId": new_project,
        "environmentId": new_environment,
        "resourceId": new_resource,
        "serverId": server,
    }


def site(api: Any, resource: str, folder: Path, text: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "index.html").write_text(text)
    source = {"source": {"kind": "local-folder", "locator": str(folder)}}
    assert api.post(f"/api/resources/{resource}/source", json=source).status_code == 200


def deployed(api: Any, svc: Services, dep: str) -> dict[str, Any]:
    run_deployment(svc, dep)
    return api.get(f"/api/deployments/{dep}").json()["deployment"]


def test_retry_makes_a_new_attempt_from_the_same_snapshot(api: Any, context: dict, tmp_path: Path) -> None:
    missing = tmp_path / "gone"
    site(api, context["resourceId"], missing, "x")
    first = created(api.post("/api/deployments", json=context))
    missing.joinpath("index.html").unlink()
    missing.rmdir()
    retry = api.post(f"/api/deployments/{first}/retry", json={})
    assert retry.status_code == 409 and error_code(retry) == "retry_not_allowed"  # still active
    api.post(f"/api/deployments/{first}/cancel", json={"confirm": first})
    again = created(api.post(f"/api/deployments/{first}/retry", json={}))
    shown = api.get(f"/api/deployments/{again}", params={"includeSnapshot": True}).json()
    assert (
        shown["deployment"]["triggerKind"] == "retry" and shown["deployment"]["sourceDeploymentId"] == first
    )
    assert shown["snapshot"]["source"]["locator"] == str(missing)
    work = api.get("/api/operator-work", params={"deploymentId": again}).json()["items"]
    old = api.get("/api/operator-work", params={"deploymentId": first}).json()["items"]
    assert work[0]["retryOfWorkId"] == old[0]["id"] and work[0]["operationKey"] == "deployments.retry"
    assert api.post(f"/api/deployments/{new_id('deployment')}/retry", json={}).status_code == 404


def test_a_succeeded_attempt_is_redeployed_not_retried(
    api: Any, svc: Services, context: dict, tmp_path: Path
) -> None:
    site(api, context["resourceId"], tmp_path / "s", "one")
    first = created(api.post("/api/deployments", json=context))
    assert deployed(api, svc, first)["status"] == "succeeded"
    refused = api.post(f"/api/deployments/{first}/retry", json={})
    assert refused.status_code == 409 and "redeploy" in refused.json()["error"]["nextAction"]
    site(api, context["resourceId"], tmp_path / "s", "two")
    again = created(api.post(f"/api/resources/{context['resourceId']}/redeploy", json={}))
    shown = deployed(api, svc, again)
    assert shown["triggerKind"] == "redeploy" and shown["status"] == "succeeded"
    assert httpx.get(shown["url"]).text == "two"


def test_rollback_serves_an_earlier_artifact_and_refuses_what_cannot_be(
    api: Any, svc: Services, context: dict, tmp_path: Path
) -> None:
    folder = tmp_path / "s"
    site(api, context["resourceId"], folder, "one")
    v1 = created(api.post("/api/deployments", json=context))
    url = deployed(api, svc, v1)["url"]
    site(api, context["resourceId"], folder, "two")
    v2 = created(api.post("/api/deployments", json=context))
    deployed(api, svc, v2)
    assert httpx.get(url).text == "two"

    ready = api.get(f"/api/deployments/{v2}/recovery-readiness").json()
    assert ready["schemaVersion"] == "deployments.recovery-readiness/v1"
    assert ready["rollbackReady"] and ready["rollback"]["recommendedCandidateId"] == v1
    live = next(c for c in ready["rollback"]["candidates"] if c["deploymentId"] == v2)
    assert not live["rollbackReady"] and live["reasons"][0]["code"] == "candidate-is-live"
    assert not ready["retryable"] and ready["retry"]["reasons"][0]["code"] == "attempt-succeeded"

    wrong = api.post(
        f"/api/deployments/{v2}/rollback", json={"rollbackCandidateDeploymentId": new_id("deployment")}
    )
    assert wrong.status_code == 422 and error_code(wrong) == "rollback_candidate_invalid"
    back = created(api.post(f"/api/deployments/{v2}/rollback", json={"rollbackCandidateDeploymentId": v1}))
    shown = deployed(api, svc, back)
    assert shown["status"] == "succeeded" and httpx.get(url).text == "one"
    assert shown["rollbackOfDeploymentId"] == v2 and shown["rollbackCandidateDeploymentId"] == v1


def test_cancel_needs_the_id_as_confirmation_and_an_active_attempt(
    api: Any, context: dict, tmp_path: Path
) -> None:
    site(api, context["resourceId"], tmp_path / "s", "x")
    dep = created(api.post("/api/deployments", json=context))
    wrong = api.post(f"/api/deployments/{dep}/cancel", json={"confirm": "yes"})
    assert wrong.status_code == 422 and error_code(wrong) == "confirmation_mismatch"
    assert api.get(f"/api/deployments/{dep}").json()["deployment"]["status"] == "created"  # nothing written
    done = api.post(f"/api/deployments/{dep}/cancel", json={"confirm": dep}).json()
    assert done["status"] == "canceled" and done["canceledAt"]
    (item,) = api.get("/api/operator-work", params={"deploymentId": dep}).json()["items"]
    assert item["status"] == "canceled"
    again = api.post(f"/api/deployments/{dep}/cancel", json={"confirm": dep})
    assert again.status_code == 409 and error_code(again) == "cancel_not_allowed"


def test_archive_then_prune_is_a_dry_run_by_default_and_keeps_what_serves(
    api: Any, svc: Services, context: dict, tmp_path: Path
) -> None:
    site(api, context["resourceId"], tmp_path / "s", "x")
    old = created(api.post("/api/deployments", json=context))
    api.post(f"/api/deployments/{old}/cancel", json={"confirm": old})
    live = created(api.post("/api/deployments", json=context))
    deployed(api, svc, live)
    for dep in (old, live):
        archived = api.post(f"/api/deployments/{dep}/archive", json={"confirm": dep})
        assert archived.status_code == 200 and archived.json()["archivedAt"]
    assert api.get("/api/deployments").json()["items"] == []  # archived attempts leave the list
    body = {"before": "2999-01-01T00:00:00Z", "resourceId": context["resourceId"]}
    dry = api.post("/api/deployments/prune", json=body).json()
    assert dry["dryRun"] and dry["matchedCount"] == 2 and dry["prunedCount"] == 0
    assert dry["affectedDeploymentIds"] == [old] and dry["guardedDeploymentIds"] == [live]
    assert api.get(f"/api/deployments/{old}").status_code == 200
    done = api.post("/api/deployments/prune", json={**body, "dryRun": False}).json()
    assert done["prunedCount"] == 1 and done["prunedAt"]
    assert api.get(f"/api/deployments/{old}").status_code == 404
    assert api.get(f"/api/deployments/{live}").status_code == 200
    bad = api.post("/api/deployments/prune", json={"before": "yesterday"})
    assert bad.status_code == 422


def test_log_lines_are_pruned_without_the_attempts(
    api: Any, svc: Services, context: dict, tmp_path: Path
) -> None:
    site(api, context["resourceId"], tmp_path / "s", "x")
    dep = created(api.post("/api/deployments", json=context))
    deployed(api, svc, dep)
    count = len(api.get(f"/api/deployments/{dep}/logs").json()["logs"])
    body = {"before": "2999-01-01T00:00:00Z", "deploymentId": dep}
    dry = api.post("/api/deployments/logs/prune", json=body).json()
    assert dry["schemaVersion"] == "deployments.logs.prune/v1" and dry["matchedCount"] == count > 0
    assert len(api.get(f"/api/deployments/{dep}/logs").json()["logs"]) == count
    done = api.post("/api/deployments/logs/prune", json={**body, "dryRun": False}).json()
    assert done["prunedCount"] == count and done["affectedDeploymentCount"] == 1
    assert api.get(f"/api/deployments/{dep}/logs").json()["logs"] == []
    assert api.get(f"/api/deployments/{dep}").json()["deployment"]["status"] == "succeeded"


def test_show_summarises_recovery_as_readiness_reports_it(api: Any, context: dict, tmp_path: Path) -> None:
    site(api, context["resourceId"], tmp_path / "site", "hello")
    dep = created(api.post("/api/deployments", json=context))
    api.post(f"/api/deployments/{dep}/cancel", json={"confirm": dep})
    shown = api.get(f"/api/deployments/{dep}", params={"includeRecoverySummary": True}).json()
    ready = api.get(f"/api/deployments/{dep}/recovery-readiness").json()
    summary = shown["recoverySummary"]
    assert summary["source"] == "deployments.recovery-readiness"
    assert summary["retryable"] is ready["retryable"] is True
    assert summary["redeployable"] == ready["redeployable"]
    assert summary["rollbackReady"] is ready["rollbackReady"] is False
    assert summary["rollbackCandidateCount"] == ready["rollbackCandidateCount"] == 0
    assert summary["blockedReasonCodes"] == sorted(summary["blockedReasonCodes"])
    assert shown["sectionErrors"] == []
    assert api.get(f"/api/deployments/{dep}").json()["recoverySummary"] is None
