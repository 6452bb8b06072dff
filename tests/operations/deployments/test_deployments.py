"""Deployment operations over the API (no worker runs here: attempts stay where create left them)."""

import sys
from pathlib import Path
from typing import Any

import pytest
from api_helpers import created, error_code

from dockyard.domain.ids import new_id
from dockyard.pipeline.execute import run_deployment
from dockyard.services import Services
from dockyard.store.tables import Deployment


@pytest.fixture
def local_server(api: Any) -> str:
    return next(s["id"] for s in api.get("/api/servers").json()["items"] if s["providerKey"] == "local")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "index.html").write_text("<h1>hi</h1>")
    return folder


def with_source(api: Any, resource: str, folder: Path) -> None:
    resp = api.post(
        f"/api/resources/{resource}/source", json={"source": {"kind": "local-folder", "locator": str(folder)}}
    )
    assert resp.status_code == 200, resp.text


def ids(project: str, environment: str, resource: str, server: str) -> dict[str, str]:
    return {"projectId": project, "environmentId": environment, "resourceId": resource, "serverId": server}


@pytest.fixture
def context(api: Any, new_project: str, new_environment: str, new_resource: str, local_server: str) -> dict:
    return ids(new_project, new_environment, new_resource, local_server)


def test_create_records_the_attempt_and_its_first_event(api: Any, context: dict, site: Path) -> None:
    with_source(api, context["resourceId"], site)
    dep = created(api.post("/api/deployments", json=context))
    shown = api.get(f"/api/deployments/{dep}").json()
    assert (
        shown["deployment"]["status"] == "created"
        and shown["deployment"]["resourceId"] == context["resourceId"]
    )
    assert shown["deployment"]["url"] is None and shown["nextActions"] == [
        f"dockyard deployments logs {dep} --follow"
    ]
    events = api.get(f"/api/deployments/{dep}/events").json()
    assert [e["event"]["eventType"] for e in events["envelopes"]] == ["deployment-requested"]
    assert api.get("/api/deployments/count", params={"resourceId": context["resourceId"]}).json() == {
        "count": 1
    }
    for statuses, count in ([["created", "planning"], 1], [["succeeded", "failed"], 0]):
        counted = api.get("/api/deployments/count", params={"statuses": statuses}).json()
        assert counted == {"count": count}, (statuses, counted)
    both = api.get("/api/deployments/count", params={"statuses": ["created"], "status": "failed"})
    assert both.json() == {"count": 0}  # both must hold
    assert [d["id"] for d in api.get("/api/deployments").json()["items"]] == [dep]


def test_a_plan_recorded_in_an_older_shape_leaves_the_deployment_readable(
    api: Any, stack: Any, context: dict, site: Path
) -> None:
    """Documents an older Dockyard recorded read as null; the list and the detail still answer."""
    with_source(api, context["resourceId"], site)
    dep = created(api.post("/api/deployments", json=context))
    with stack.db.session() as s:
        row = s.get(Deployment, dep)
        row.runtime_plan, row.environment_snapshot = {"strategy": "static", "port": 8080}, {"variables": {}}
    shown = api.get(f"/api/deployments/{dep}")
    assert shown.status_code == 200, shown.text
    assert (shown.json()["deployment"]["runtimePlan"], shown.json()["deployment"]["environmentSnapshot"]) == (
        None,
        None,
    )
    listed = api.get("/api/deployments")
    assert listed.status_code == 200 and [d["id"] for d in listed.json()["items"]] == [dep]


def test_a_new_attempt_supersedes_the_active_one(api: Any, stack: Any, context: dict, site: Path) -> None:
    with_source(api, context["resourceId"], site)
    first = created(api.post("/api/deployments", json=context))
    second = created(api.post("/api/deployments", json=context))
    older = api.get(f"/api/deployments/{first}").json()["deployment"]
    assert older["status"] == "cancel-requested" and second in older["failure"]["message"]
    run_deployment(Services.create(stack.settings, stack.db), first)  # the worker picks it up
    assert api.get(f"/api/deployments/{first}").json()["deployment"]["status"] == "canceled"
    assert api.get(f"/api/deployments/{second}").json()["deployment"]["status"] == "created"


def test_a_resource_without_source_is_refused_with_the_fix(api: Any, context: dict) -> None:
    before = api.get("/api/deployments/count").json()["count"]
    resp = api.post("/api/deployments", json=context)
    assert resp.status_code == 422 and error_code(resp) == "resource_source_missing"
    assert "dockyard resources source" in resp.json()["error"]["nextAction"]
    assert api.get("/api/deployments/count").json()["count"] == before


def test_ids_that_do_not_belong_together_are_named(api: Any, context: dict, site: Path) -> None:
    other = created(api.post("/api/projects", json={"name": "other"}))
    resp = api.post("/api/deployments", json={**context, "projectId": other})
    assert resp.status_code == 422 and error_code(resp) == "deployment_context_mismatch"
    assert resp.json()["error"]["details"]["errors"][0]["field"] == "environmentId"


def test_unknown_and_wrong_kind_ids(api: Any, context: dict) -> None:
    assert api.get(f"/api/deployments/{new_id('deployment')}").status_code == 404
    assert api.get(f"/api/deployments/{new_id('deployment')}/logs").status_code == 404
    wrong_kind = api.get(f"/api/deployments/{context['resourceId']}")  # a path naming no deployment
    assert wrong_kind.status_code == 404 and wrong_kind.json()["error"]["code"] == "deployment_not_found"
    assert api.post("/api/deployments", json={**context, "serverId": new_id("server")}).status_code == 404
    assert (
        api.post("/api/deployments", json={**context, "serverId": context["resourceId"]}).status_code == 422
    )


def test_plan_previews_a_static_site_without_running_anything(api: Any, context: dict, site: Path) -> None:
    with_source(api, context["resourceId"], site)
    plan = api.get("/api/deployments/plan", params=context).json()
    assert plan["readiness"] == {"status": "ready", "ready": True, "reasonCodes": []}
    assert plan["planner"]["buildStrategy"] == "static" and plan["source"]["runtimeFamily"] == "static"
    assert [c["kind"] for c in plan["commands"]] == ["start"]
    assert plan["context"]["resourceName"] == "Web" and plan["health"]["path"] == "/"
    assert plan["context"]["projectId"] == context["projectId"] and plan["context"]["serverName"]
    assert plan["source"]["kind"] == "local-folder" and plan["source"]["locator"] == str(site)
    assert plan["planner"]["packagingMode"] == "host-process-workspace"
    assert plan["artifact"]["kind"] == "workspace" and plan["buildpack"] is None
    assert plan["dependencyBindings"] == {
        "status": "ready",
        "references": [],
        "runtimeInjection": {"status": "ready", "reason": None},
    }
    assert api.get("/api/deployments/count").json()["count"] == 0


def test_plan_of_a_folder_with_nothing_to_run_is_blocked_with_next_actions(
    api: Any, context: dict, tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("just notes")
    with_source(api, context["resourceId"], tmp_path)
    plan = api.get("/api/deployments/plan", params=context).json()
    assert plan["readiness"]["ready"] is False and plan["readiness"]["reasonCodes"] == ["source-not-detected"]
    assert plan["nextActions"][0]["targetOperation"] == "resources.configure-runtime"
    assert plan["unsupportedReasons"][0]["affectedProfileField"] == "runtimeProfile.startCommand"


def test_plan_of_a_missing_folder_says_the_source_is_missing(api: Any, context: dict, tmp_path: Path) -> None:
    with_source(api, context["resourceId"], tmp_path / "gone")
    plan = api.get("/api/deployments/plan", params=context).json()
    assert plan["readiness"]["reasonCodes"] == ["resource-source-missing"]


def test_events_after_a_cursor_and_the_follow_flag(api: Any, context: dict, site: Path) -> None:
    with_source(api, context["resourceId"], site)
    dep = created(api.post("/api/deployments", json=context))
    page = api.get(f"/api/deployments/{dep}/events").json()
    again = api.get(f"/api/deployments/{dep}/events", params={"cursor": page["cursor"]}).json()
    assert again["envelopes"] == [] and again["cursor"] == page["cursor"]
    resp = api.get(f"/api/deployments/{dep}/events", params={"follow": True})
    assert resp.status_code == 422 and "events/stream" in resp.json()["error"]["nextAction"]
    bad = api.get(f"/api/deployments/{dep}/events", params={"cursor": "nonsense"})
    assert bad.status_code == 422


def test_app_output_in_the_timeline_is_masked_and_says_so(
    api: Any, svc: Services, context: dict, tmp_path: Path
) -> None:
    secret = "tok-3b9e51c0d7a2"
    rid = context["resourceId"]
    assert (
        api.post(f"/api/resources/{rid}/secrets", json={"key": "API_TOKEN", "value": secret}).status_code
        == 201
    )
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "app.py").write_text(
        'import os\nprint("token", os.environ["API_TOKEN"], flush=True)\nraise SystemExit(3)\n'
    )
    with_source(api, rid, folder)
    profile = {"runtimeProfile": {"startCommand": f"exec {sys.executable} app.py"}}
    assert api.post(f"/api/resources/{rid}/runtime-profile", json=profile).status_code == 200
    dep = created(api.post("/api/deployments", json=context))
    run_deployment(svc, dep)
    lines = api.get(f"/api/deployments/{dep}/logs").json()["logs"]
    printed = [x for x in lines if x["source"] == "application"]
    assert printed and all(x["masked"] for x in printed if "token" in x["message"]), printed
    assert "app: token ****" in [x["message"] for x in printed]
    assert not any(x["masked"] for x in lines if x["source"] != "application")
    assert secret not in api.get(f"/api/deployments/{dep}/events").text
    shown = api.get(f"/api/deployments/{dep}")
    assert secret not in shown.text and secret not in api.get("/api/deployments").text
    snapshot = shown.json()["deployment"]["environmentSnapshot"]
    assert snapshot["environmentId"] == context["environmentId"] and snapshot["precedence"]
    token = next(v for v in snapshot["variables"] if v["key"] == "API_TOKEN")
    assert token["isSecret"] is True and token["value"] != secret
    plan = shown.json()["deployment"]["runtimePlan"]
    assert plan["id"].startswith("plan_") and plan["packagingMode"] == "host-process-workspace"
    assert plan["execution"]["kind"] == "host-process" and plan["execution"]["startCommand"].endswith(
        "app.py"
    )
    assert plan["target"]["serverIds"] == [context["serverId"]] and plan["steps"] and plan["generatedAt"]
    listed = api.get("/api/deployments").json()["items"]
    assert next(i for i in listed if i["id"] == dep)["runtimePlan"] == plan
    snap = api.get(f"/api/deployments/{dep}", params={"includeSnapshot": True}).json()["snapshot"]
    assert snap["runtimePlan"] == plan and snap["environmentSnapshot"] == snapshot
    assert snap["dependencyBindings"]["references"] == [] and snap["source"]["locator"] == str(folder)
    related = api.get(f"/api/deployments/{dep}", params={"includeRelatedContext": True}).json()[
        "relatedContext"
    ]
    assert related["project"]["id"] == context["projectId"] and related["project"]["slug"]
    assert related["environment"]["id"] == context["environmentId"] and related["environment"]["kind"]
    assert related["resource"]["id"] == rid and related["resource"]["kind"] == "application"
    assert related["server"]["id"] == context["serverId"] and related["server"]["providerKey"] == "local"
