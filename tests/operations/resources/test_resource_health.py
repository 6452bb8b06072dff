"""Resource health, its history and runtime monitoring samples, from the monitor sampling a real
deployed process."""

import json
import os
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from api_helpers import created, error_code
from live_edge import serve_behind_edge
from sqlalchemy import select

from dockyard.domain.ids import new_id
from dockyard.operations.context import iso
from dockyard.pipeline.execute import run_deployment
from dockyard.services import Services
from dockyard.store.tables import AccessFailure, Deployment, HealthObservation, RuntimeSample
from dockyard.work.monitor import Monitor
from polling import poll


def target(api: Any, project: str, environment: str, resource: str) -> dict[str, str]:
    """A deployment's target on the local server."""
    server = next(s["id"] for s in api.get("/api/servers").json()["items"] if s["providerKey"] == "local")
    return {"projectId": project, "environmentId": environment, "resourceId": resource, "serverId": server}


@pytest.fixture
def live(
    api: Any, svc: Services, new_project: str, new_environment: str, new_resource: str, tmp_path: Path
) -> dict:
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "index.html").write_text("hi")
    api.post(
        f"/api/resources/{new_resource}/source",
        json={"source": {"kind": "local-folder", "locator": str(folder)}},
    )
    ids = target(api, new_project, new_environment, new_resource)
    dep = created(api.post("/api/deployments", json=ids))
    run_deployment(svc, dep)
    return {"resourceId": new_resource, "deploymentId": dep}


def test_a_sampled_resource_is_healthy_with_history_and_samples(api: Any, svc: Services, live: dict) -> None:
    rid = live["resourceId"]
    monitor = Monitor(svc)
    assert monitor.tick() == 1
    assert monitor.tick() == 1  # a second sample gives a CPU figure (a rate between two readings)
    health = api.get(f"/api/resources/{rid}/health").json()
    assert health["schemaVersion"] == "resources.health/v1" and health["overall"] == "healthy"
    assert health["runtime"]["lifecycle"] == "running" and health["runtime"]["health"] == "healthy"
    assert health["latestDeployment"]["id"] == live["deploymentId"]
    assert health["healthPolicy"]["status"] == "default" and health["publicAccess"]["status"] == "ready"
    assert {c["name"]: c["status"] for c in health["checks"]} == {
        "runtime": "passed",
        "health-check": "passed",
    }

    history = api.get(f"/api/resources/{rid}/health-history").json()
    assert history["schemaVersion"] == "resources.health-history/v1" and len(history["observations"]) == 2
    assert history["observations"][0]["overall"] == "healthy"
    narrow = api.get(f"/api/resources/{rid}/health-history", params={"window.to": "2000-01-01T00:00:00Z"})
    assert narrow.json()["observations"] == []

    samples = api.get("/api/runtime-monitoring/samples", params={"scope.resourceId": rid}).json()
    assert samples["scope"] == {"kind": "resource", "resourceId": rid} and len(samples["samples"]) == 2
    newest = samples["samples"][0]
    assert newest["totals"]["memory"]["containerUsedBytes"] > 1_000_000  # a Python http.server
    assert newest["totals"]["cpu"]["containerCpuPercent"] is not None and newest["warnings"] == []
    first = samples["samples"][1]  # one reading: no rate yet, and the sample says so
    assert first["totals"]["cpu"]["containerCpuPercent"] is None
    assert [(w["code"], w["signal"], w["scope"]) for w in first["warnings"]] == [
        ("missing-samples", "cpu", {"kind": "resource", "resourceId": rid})
    ]
    assert newest["totals"]["docker"] is None and newest["sourceErrors"] == []  # the engine is not read
    machine = newest["totals"]  # the machine's own reading at that moment
    assert machine["cpu"]["logicalCores"] == os.cpu_count() and machine["cpu"]["loadAverage1m"] >= 0
    memory, disk, inode = machine["memory"], machine["disk"], machine["inode"]
    assert memory["totalBytes"] > memory["usedBytes"] > memory["containerUsedBytes"] > 0
    assert memory["availableBytes"] > 0
    assert disk["totalBytes"] >= disk["usedBytes"] > 0 and disk["availableBytes"] > 0
    assert inode["total"] >= inode["used"] > 0
    assert set(machine["network"]) == {"rxBytes", "txBytes"}
    rolled = api.get(
        "/api/runtime-monitoring/rollup", params={"bucket": "minute", "scope.resourceId": rid}
    ).json()
    assert rolled["schemaVersion"] == "runtime-monitoring.rollup/v1"
    assert [x["signal"] for x in rolled["series"]] == ["cpu", "memory", "disk", "inode", "network"]
    assert rolled["totals"]["memory"]["totalBytes"] == memory["totalBytes"]
    assert rolled["totals"]["cpu"]["loadAverage15m"] is not None
    assert sum(p["sampleCount"] for p in rolled["series"][0]["points"]) == 2
    assert [m["deploymentId"] for m in rolled["deploymentMarkers"]] == [live["deploymentId"]]
    assert rolled["topContributors"][0]["scope"]["resourceId"] == rid
    bad = api.get("/api/runtime-monitoring/rollup", params={"bucket": "week"})
    assert bad.status_code == 422


def test_the_monitor_samples_only_what_this_machine_runs(
    api: Any, svc: Services, live: dict, new_project: str, new_environment: str
) -> None:
    """A deployment recorded as live whose instance this machine does not hold (another machine's, or
    long gone) is not sampled every tick: at scale that was a store-wide scan and a row per resource."""
    other = created(
        api.post(
            "/api/resources", json={"projectId": new_project, "environmentId": new_environment, "name": "Far"}
        )
    )
    with svc.db.session() as s:
        known = s.get(Deployment, live["deploymentId"])
        assert known is not None
        s.add(
            Deployment(
                id=new_id("deployment"),
                project_id=new_project,
                environment_id=new_environment,
                resource_id=other,
                server_id=known.server_id,
                status="succeeded",
                trigger_kind="manual",
                created_at=known.created_at,
            )
        )
    assert Monitor(svc).tick() == 1
    assert api.get(f"/api/resources/{other}/health-history").json()["observations"] == []
    assert len(api.get(f"/api/resources/{live['resourceId']}/health-history").json()["observations"]) == 1


def test_access_failures_past_their_24_hours_are_forgotten_by_the_monitor(
    api: Any, svc: Services, live: dict
) -> None:
    now = datetime.now(UTC)
    kept, old = new_id("access_failure"), new_id("access_failure")
    with svc.db.session() as s:
        for request_id, expires in ((old, now - timedelta(minutes=1)), (kept, now + timedelta(hours=1))):
            s.add(
                AccessFailure(
                    id=request_id,
                    resource_id=live["resourceId"],
                    hostname=None,
                    path="/",
                    captured_at=iso(now - timedelta(hours=24)),
                    expires_at=iso(expires),
                    evidence={},
                )
            )
    Monitor(svc).tick()
    with svc.db.session() as s:
        assert set(s.scalars(select(AccessFailure.id))) == {kept}


def test_scope_as_one_object_and_signals_narrow_what_monitoring_answers(
    api: Any, svc: Services, live: dict
) -> None:
    rid = live["resourceId"]
    monitor = Monitor(svc)
    monitor.tick()
    monitor.tick()
    dotted = api.get("/api/runtime-monitoring/samples", params={"scope.resourceId": rid}).json()
    scope = json.dumps({"kind": "resource", "resourceId": rid})
    whole = api.get("/api/runtime-monitoring/samples", params={"scope": scope}).json()
    assert whole["scope"] == dotted["scope"] == {"kind": "resource", "resourceId": rid}
    assert [x["sampleId"] for x in whole["samples"]] == [x["sampleId"] for x in dotted["samples"]]
    other = api.get(
        "/api/runtime-monitoring/samples", params={"scope": scope, "scope.resourceId": "res_" + "0" * 26}
    )
    assert other.status_code == 422 and error_code(other) == "validation_failed"

    cpu = api.get(
        "/api/runtime-monitoring/rollup",
        params={"bucket": "minute", "scope.resourceId": rid, "signals": ["cpu", "docker"]},
    ).json()
    assert [s["signal"] for s in cpu["series"]] == ["cpu"]
    assert cpu["totals"]["memory"] is None and cpu["totals"]["cpu"]["containerCpuPercent"] is not None
    assert [(w["code"], w["signal"]) for w in cpu["warnings"]] == [("signal-not-collected", "docker")]
    assert cpu["warnings"][0]["scope"] == {"kind": "resource", "resourceId": rid}
    assert cpu["totals"]["disk"] is None and cpu["totals"]["network"] is None
    memory = api.get(
        "/api/runtime-monitoring/samples", params={"scope.resourceId": rid, "signals": "memory"}
    ).json()
    assert memory["samples"][0]["totals"]["cpu"] is None
    assert memory["samples"][0]["totals"]["memory"]["containerUsedBytes"] > 1_000_000


def test_include_runtime_probe_answers_from_the_instance_now(api: Any, svc: Services, live: dict) -> None:
    """The monitor last saw it running; stopped since, the cached answer still says running, a
    runtime probe says what is true now."""
    rid = live["resourceId"]
    Monitor(svc).tick()
    assert api.post(f"/api/resources/{rid}/runtime/stop", json={}).status_code == 200
    cached = api.get(f"/api/resources/{rid}/health").json()
    probed = api.get(f"/api/resources/{rid}/health", params={"includeRuntimeProbe": "true"}).json()
    assert cached["runtime"]["lifecycle"] == "running" and probed["runtime"]["lifecycle"] == "stopped"
    assert cached["latestRuntimeControl"]["operation"] == "stop"  # what was asked since is not stale


def test_a_public_access_probe_proves_the_live_deployment_answers_on_its_direct_port(
    api: Any, live: dict
) -> None:
    """The local server has no edge: the public URL is the direct port, and the probe's request there
    reaches the live deployment (the runner names it)."""
    rid = live["resourceId"]
    health = api.get(f"/api/resources/{rid}/health", params={"includePublicAccessProbe": "true"}).json()
    access = health["publicAccess"]
    assert (access["status"], access["kind"], access["phase"]) == ("ready", "direct", "ready")
    assert access["latestAccessFailure"] is None
    intent = access["routeIntentStatus"]
    assert intent["schemaVersion"] == "route-intent-status/v1" and intent["intent"]["host"] is None
    assert intent["proxy"] == {"intent": "not-required", "applied": "not-configured", "providerKey": None}
    assert intent["context"]["deploymentId"] == live["deploymentId"] and intent["blockingReason"] is None


def test_a_public_access_probe_through_the_edge_keeps_the_failure_it_meets(
    api: Any, svc: Services, new_project: str, new_environment: str, new_resource: str, tmp_path: Path
) -> None:
    ids = target(api, new_project, new_environment, new_resource)
    edge = serve_behind_edge(api, svc, tmp_path / "site", ids, "the shop")
    url = f"/api/resources/{new_resource}/health"
    access = api.get(url, params={"includePublicAccessProbe": "true"}).json()["publicAccess"]
    assert (access["status"], access["kind"], access["phase"]) == ("ready", "generated", "ready")
    intent = access["routeIntentStatus"]
    assert intent["source"] == "generated-default-access" and intent["proxy"]["applied"] == "applied"
    assert intent["proxy"]["providerKey"] == "nginx" and intent["copySafeSummary"]["code"] == "route_ready"
    assert edge.get(intent["intent"]["host"]).text == "the shop"

    assert api.post(f"/api/resources/{new_resource}/runtime/stop", json={}).status_code == 200
    down = api.get(url, params={"includePublicAccessProbe": "true"}).json()["publicAccess"]
    failure = down["latestAccessFailure"]
    assert down["status"] == "not-ready" and down["reasonCode"] == failure["code"]
    assert failure["schemaVersion"] == "resource-access-failure/v1" and failure["ownerHint"] == "platform"
    assert failure["affected"]["hostname"] == intent["intent"]["host"]
    assert (
        failure["route"]["resourceId"] == new_resource
        and failure["route"]["routeSource"] == "generated-default"
    )
    # kept: the cached health and the lookup by request id both show it
    assert api.get(url).json()["publicAccess"]["latestAccessFailure"]["requestId"] == failure["requestId"]
    found = api.get(f"/api/resource-access-failures/{failure['requestId']}").json()
    assert found["status"] == "found" and found["evidence"] == failure
    assert found["relatedIds"]["resourceId"] == new_resource
    elsewhere = api.get(
        f"/api/resource-access-failures/{failure['requestId']}", params={"hostname": "other.example.com"}
    ).json()
    assert elsewhere["status"] == "not-found" and elsewhere["evidence"] is None


def test_a_stopped_resource_reads_stopped_live_and_nothing_deployed_says_so(
    api: Any, live: dict, new_project: str, new_environment: str
) -> None:
    rid = live["resourceId"]
    assert api.post(f"/api/resources/{rid}/runtime/stop", json={}).status_code == 200
    health = api.get(f"/api/resources/{rid}/health", params={"mode": "live"}).json()
    assert health["overall"] == "stopped" and health["runtime"]["lifecycle"] == "stopped"
    other = created(
        api.post(
            "/api/resources",
            json={"projectId": new_project, "environmentId": new_environment, "name": "Idle"},
        )
    )
    idle = api.get(f"/api/resources/{other}/health").json()
    assert idle["overall"] == "not-deployed" and idle["latestDeployment"] is None
    missing = api.get("/api/resources/res_" + "0" * 26 + "/health")
    assert missing.status_code == 404 and error_code(missing) == "resource_not_found"


def test_a_crashing_app_shows_as_degraded(api: Any, svc: Services, live: dict) -> None:
    rid = live["resourceId"]
    pid = svc.runtime.status(rid)["active"]["pid"]  # type: ignore[index]
    os.kill(pid, signal.SIGKILL)
    poll(lambda: (svc.runtime.status(rid) or {})["active"]["restarts"] == 1, "the runner to restart it")
    health = api.get(f"/api/resources/{rid}/health", params={"mode": "live"}).json()
    assert health["overall"] == "degraded" and health["runtime"]["reasonCode"] in (
        "recent-crash",
        "crash-loop",
    )
    assert health["runtime"]["restarts"] == 1


def test_a_runner_that_does_not_answer_is_a_source_error_naming_the_deployment(
    api: Any, svc: Services, live: dict
) -> None:
    rid = live["resourceId"]
    status = svc.runtime.status(rid)
    assert status is not None
    assert api.get(f"/api/resources/{rid}/health", params={"mode": "live"}).json()["sourceErrors"] == []
    os.kill(status["runnerPid"], signal.SIGKILL)
    os.killpg(status["active"]["pid"], signal.SIGKILL)
    poll(lambda: svc.runtime.status(rid) is None, "the runner to be gone")
    health = api.get(f"/api/resources/{rid}/health", params={"mode": "live"}).json()
    [error] = health["sourceErrors"]
    assert (error["source"], error["code"], error["retriable"]) == (
        "runtime-target",
        "runtime-target-unreachable",
        True,
    )
    assert error["relatedEntityId"] == live["deploymentId"] and error["relatedState"] == "running"
    assert "dockyard start" in error["message"]
    assert api.post(f"/api/resources/{rid}/runtime/start", json={}).status_code == 200
    assert api.get(f"/api/resources/{rid}/health", params={"mode": "live"}).json()["sourceErrors"] == []


def test_a_stored_observation_that_no_longer_reads_is_left_out_with_a_source_error(
    api: Any, svc: Services, live: dict
) -> None:
    rid = live["resourceId"]
    Monitor(svc).tick()
    Monitor(svc).tick()
    with svc.db.session() as s:
        newest = s.scalars(
            select(HealthObservation)
            .where(HealthObservation.resource_id == rid)
            .order_by(HealthObservation.id.desc())
        ).first()
        assert newest is not None
        newest.summary = {"overall": "a shape of another version"}
        damaged = newest.id
    health = api.get(f"/api/resources/{rid}/health")
    assert health.status_code == 200, health.text
    assert health.json()["overall"] == "healthy"  # observed live instead
    assert [(e["code"], e["relatedEntityId"]) for e in health.json()["sourceErrors"]] == [
        ("observation-unreadable", damaged)
    ]
    history = api.get(f"/api/resources/{rid}/health-history").json()
    assert [o["observationId"] for o in history["observations"]] != [] and damaged not in {
        o["observationId"] for o in history["observations"]
    }
    assert [e["code"] for e in history["sourceErrors"]] == ["observation-unreadable"]


def test_samples_that_stopped_coming_are_a_source_error_of_the_monitoring_store(
    api: Any, svc: Services, live: dict
) -> None:
    rid = live["resourceId"]
    Monitor(svc).tick()
    params = {"scope.resourceId": rid}
    assert api.get("/api/runtime-monitoring/samples", params=params).json()["sourceErrors"] == []
    with svc.db.session() as s:
        for row in s.scalars(select(RuntimeSample).where(RuntimeSample.resource_id == rid)):
            row.observed_at = iso(datetime.now(UTC) - timedelta(minutes=10))
    for path, extra in (("samples", {}), ("rollup", {"bucket": "minute"})):
        answer = api.get(f"/api/runtime-monitoring/{path}", params={**params, **extra}).json()
        assert answer["freshness"] == "stale"
        [error] = answer["sourceErrors"]
        assert (error["source"], error["code"]) == ("monitoring-store", "samples-stale")
        assert "dockyard serve" in error["message"]
    earlier = {**params, "window.to": iso(datetime.now(UTC) - timedelta(minutes=5))}
    assert api.get("/api/runtime-monitoring/samples", params=earlier).json()["sourceErrors"] == []


def test_health_checks_say_what_they_looked_at_and_the_proxy_names_no_realization_without_a_route(
    api: Any, live: dict
) -> None:
    health = api.get(f"/api/resources/{live['resourceId']}/health", params={"mode": "live"}).json()
    runtime, http = health["checks"]
    assert runtime["phase"] == "runtime-state" and runtime["exitCode"] is None
    assert runtime["metadata"] == {"state": "running", "restarts": "0"}
    assert http["phase"] == "http-response" and http["metadata"] == {"method": "GET", "path": "/"}
    # the local server has no edge proxy: nothing realized a route, so no deployment is named
    assert health["proxy"]["status"] == "not-configured"
    assert health["proxy"]["lastRouteRealizationDeploymentId"] is None
    assert health["sourceErrors"] == []
