"""Runtime control and logs over the API, against a real deployment of a small app (a real runner)."""

import json
import os
import signal
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_helpers import created, error_code

from dockyard.domain.ids import is_id_of, new_id
from dockyard.operations.context import Context
from dockyard.operations.resources import runtime as resource_runtime
from dockyard.operations.resources.runtime_models import RuntimeLogsStreamQuery
from dockyard.pipeline.execute import run_deployment
from dockyard.runtimes.host_process import HostProcessRuntime
from dockyard.services import Services
from leaks import parts_shown
from polling import poll

SERVE = """
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        on_hit(self.path)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass

http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
"""
APP = (
    """\
import http.server, os
print("booting on", os.environ["PORT"], flush=True)

def on_hit(path):
    print("hit", path, flush=True)
"""
    + SERVE
)


@pytest.fixture
def services(stack: Any) -> Iterator[Services]:
    svc = Services.create(stack.settings, stack.db)
    yield svc
    HostProcessRuntime(stack.settings.data_dir).shutdown_all()


def deploy(api: Any, services: Services, ids: tuple[str, str, str], folder: Path, app: str) -> dict:
    """The resource after a real deployment of `app`: {resourceId, deploymentId, url}."""
    project, environment, rid = ids
    folder.mkdir(exist_ok=True)
    (folder / "app.py").write_text(app)
    assert (
        api.post(
            f"/api/resources/{rid}/source", json={"source": {"kind": "local-folder", "locator": str(folder)}}
        ).status_code
        == 200
    )
    profile = {"runtimeProfile": {"startCommand": f"exec {sys.executable} app.py"}}
    assert api.post(f"/api/resources/{rid}/runtime-profile", json=profile).status_code == 200
    server = next(s["id"] for s in api.get("/api/servers").json()["items"] if s["providerKey"] == "local")
    dep = created(
        api.post(
            "/api/deployments",
            json={"projectId": project, "environmentId": environment, "resourceId": rid, "serverId": server},
        )
    )
    run_deployment(services, dep)
    shown = api.get(f"/api/deployments/{dep}").json()["deployment"]
    assert shown["status"] == "succeeded", shown["failure"]
    return {"resourceId": rid, "deploymentId": dep, "url": shown["url"]}


@pytest.fixture
def deployed(
    api: Any, services: Services, new_project: str, new_environment: str, new_resource: str, tmp_path: Path
) -> dict:
    """The resource after a real deployment of APP."""
    return deploy(api, services, (new_project, new_environment, new_resource), tmp_path / "app", APP)


def drift(api: Any, rid: str) -> list[dict]:
    shown = api.get(f"/api/resources/{rid}", params={"includeProfileDiagnostics": "true"})
    assert shown.status_code == 200, shown.text
    codes = {"resource-config-drift", "entry-profile-overridden"}
    return [d for d in shown.json()["diagnostics"] if d["code"] in codes]


def runtime_view(api: Any, rid: str) -> dict:
    return api.get(f"/api/resources/{rid}").json()["runtime"]


def refused(url: str) -> bool:
    try:
        httpx.get(url, timeout=2)
    except httpx.TransportError:
        return True
    return False


def log_lines(api: Any, rid: str, **params: Any) -> dict:
    resp = api.get(f"/api/resources/{rid}/runtime-logs", params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


def messages(answer: dict) -> list[str]:
    return [line["message"] for line in answer["logs"]]


def test_a_resource_never_deployed_is_409_with_the_way_to_deploy(api: Any, new_resource: str) -> None:
    for op in ("stop", "start", "restart"):
        resp = api.post(f"/api/resources/{new_resource}/runtime/{op}", json={})
        assert resp.status_code == 409 and error_code(resp) == "runtime_not_deployed", resp.text
        assert "dockyard up" in resp.json()["error"]["nextAction"]
    for path in ("runtime-logs", "runtime-logs/stream"):
        resp = api.get(f"/api/resources/{new_resource}/{path}")
        assert resp.status_code == 409 and error_code(resp) == "runtime_not_deployed", resp.text
    assert api.post(f"/api/resources/{new_id('resource')}/runtime/stop", json={}).status_code == 404


def test_stop_start_restart_round_trip_shows_in_the_resource(api: Any, deployed: dict) -> None:
    rid, url = deployed["resourceId"], deployed["url"]
    assert httpx.get(url).text == "ok"
    assert runtime_view(api, rid)["state"] == "running"

    stopped = api.post(f"/api/resources/{rid}/runtime/stop", json={})
    assert stopped.status_code == 200, stopped.text
    body = stopped.json()
    assert is_id_of("runtime_control", body["runtimeControlAttemptId"])
    assert (body["operation"], body["status"], body["runtimeState"]) == ("stop", "succeeded", "stopped")
    assert body["phases"] == [{"phase": "stop", "status": "succeeded", "errorCode": None}]
    assert body["completedAt"] >= body["startedAt"] and body["deploymentId"] == deployed["deploymentId"]
    view = runtime_view(api, rid)
    assert (view["state"], view["pid"]) == ("stopped", None)
    assert refused(url)
    # the resource and its health remember the attempt
    item = next(i for i in api.get("/api/resources").json()["items"] if i["id"] == rid)
    assert item["latestRuntimeControl"] == body
    health = api.get(f"/api/resources/{rid}/health", params={"mode": "live"}).json()
    assert health["latestRuntimeControl"]["runtimeControlAttemptId"] == body["runtimeControlAttemptId"]

    started = api.post(f"/api/resources/{rid}/runtime/start", json={}).json()
    assert (started["operation"], started["status"], started["runtimeState"]) == (
        "start",
        "succeeded",
        "running",
    )
    poll(lambda: httpx.get(url).text == "ok", "the started app")
    pid = runtime_view(api, rid)["pid"]
    os.kill(pid, signal.SIGKILL)
    poll(lambda: runtime_view(api, rid)["restarts"] == 1, "the crash restart")

    restarted = api.post(f"/api/resources/{rid}/runtime/restart", json={}).json()
    assert [p["phase"] for p in restarted["phases"]] == ["stop", "start"]
    assert restarted["status"] == "succeeded" and restarted["runtimeState"] == "running"
    view = runtime_view(api, rid)
    assert view["restarts"] == 0 and view["pid"] not in (None, pid) and view["state"] == "running"
    poll(lambda: httpx.get(url).text == "ok", "the restarted app")


def test_an_archived_resource_refuses_control_but_its_logs_stay_readable(api: Any, deployed: dict) -> None:
    rid = deployed["resourceId"]
    assert api.post(f"/api/resources/{rid}/archive", json={}).status_code == 200
    resp = api.post(f"/api/resources/{rid}/runtime/stop", json={})
    assert resp.status_code == 409 and error_code(resp) == "resource_archived"
    assert "booting on" in " ".join(messages(log_lines(api, rid)))


def test_logs_show_what_the_app_printed_and_a_cursor_gives_only_newer_lines(api: Any, deployed: dict) -> None:
    rid, url = deployed["resourceId"], deployed["url"]
    httpx.get(url + "one")
    first = poll(
        lambda: (a := log_lines(api, rid)) and "hit /one" in messages(a) and a, "the first hit in the log"
    )
    assert first["resourceId"] == rid and first["deploymentId"] == deployed["deploymentId"]
    assert any(m.startswith("booting on") for m in messages(first))
    line = first["logs"][-1]
    assert {k: line[k] for k in ("serviceName", "runtimeKind", "stream", "masked", "runtimeInstanceId")} == {
        "serviceName": "web",
        "runtimeKind": "host-process",
        "stream": "stdout",
        "masked": False,
        "runtimeInstanceId": deployed["deploymentId"],
    }
    datetime.fromisoformat(line["timestamp"])
    sequences = [x["sequence"] for x in first["logs"]]
    assert sequences == sorted(set(sequences)), "sequences increase"
    assert first["cursor"] == line["cursor"]

    httpx.get(url + "two")
    newer = poll(
        lambda: (a := log_lines(api, rid, cursor=first["cursor"]))["logs"] and a,
        "the second hit after the cursor",
    )
    assert messages(newer) == ["hit /two"] and newer["logs"][0]["sequence"] > sequences[-1]
    assert log_lines(api, rid, cursor=newer["cursor"])["logs"] == []
    assert messages(log_lines(api, rid, tailLines=1)) == ["hit /two"]


def test_log_queries_out_of_bounds_are_refused(api: Any, deployed: dict) -> None:
    rid = deployed["resourceId"]
    for params in ({"tailLines": 5001}, {"tailLines": -1}, {"cursor": "abc"}, {"since": "yesterday"}):
        resp = api.get(f"/api/resources/{rid}/runtime-logs", params=params)
        assert resp.status_code == 422 and error_code(resp) == "validation_failed", (params, resp.text)
    assert api.get(f"/api/resources/{rid}/runtime-logs", params={"tailLines": 5000}).status_code == 200
    resp = api.get(f"/api/resources/{rid}/runtime-logs", params={"serviceName": "worker"})
    assert resp.status_code == 404 and error_code(resp) == "runtime_service_not_found"
    resp = api.get(f"/api/resources/{rid}/runtime-logs", params={"deploymentId": new_id("deployment")})
    assert resp.status_code == 404 and error_code(resp) == "runtime_instance_not_found"
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert log_lines(api, rid, since=later)["logs"] == []
    assert messages(log_lines(api, rid, deploymentId=deployed["deploymentId"]))


def test_the_stream_follows_new_lines_and_beats_while_quiet(
    stack: Any, services: Services, deployed: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    rid, url = deployed["resourceId"], deployed["url"]
    monkeypatch.setattr(resource_runtime, "HEARTBEAT_S", 0.0)
    monkeypatch.setattr(resource_runtime, "MAX_FOLLOW_S", 30.0)  # ends the test if nothing ever comes
    with stack.db.session() as session:
        ctx = Context(session=session, settings=stack.settings, services=services)
        items = resource_runtime.stream_runtime_logs(
            ctx, RuntimeLogsStreamQuery(resource_id=rid, tail_lines=0)
        )
    assert next(items).kind == "heartbeat", "nothing printed yet: a heartbeat"
    httpx.get(url + "live")
    seen = []
    for item in items:
        assert item.kind != "closed", f"closed before the line came: {seen}"
        if item.kind == "log" and item.log:
            seen.append(item.log.message)
            if item.log.message == "hit /live":
                break
    assert seen == ["hit /live"]


def test_the_stream_over_http_sends_history_then_closes(
    api: Any, deployed: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resource_runtime, "MAX_FOLLOW_S", 0.3)
    resp = api.get(f"/api/resources/{deployed['resourceId']}/runtime-logs/stream", params={"tailLines": 5})
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/event-stream")
    items = [json.loads(line[6:]) for line in resp.text.splitlines() if line.startswith("data: ")]
    assert items[-1]["kind"] == "closed" and items[-1]["cursor"]
    logs = [i["log"] for i in items if i["kind"] == "log"]
    assert any(line["message"].startswith("booting on") for line in logs)
    once = api.get(
        f"/api/resources/{deployed['resourceId']}/runtime-logs/stream",
        params={"follow": "false", "tailLines": 1},
    )
    kinds = [json.loads(line[6:])["kind"] for line in once.text.splitlines() if line.startswith("data: ")]
    assert kinds == ["log", "closed"]


def test_follow_on_the_logs_read_answers_with_the_stream(
    api: Any, deployed: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resource_runtime, "MAX_FOLLOW_S", 0.3)
    url = f"/api/resources/{deployed['resourceId']}/runtime-logs"
    read = api.get(url, params={"tailLines": 1, "follow": "false"})
    assert read.headers["content-type"].startswith("application/json") and len(read.json()["logs"]) == 1
    followed = api.get(url, params={"tailLines": 1, "follow": "true"})
    assert followed.status_code == 200 and followed.headers["content-type"].startswith("text/event-stream")
    items = [json.loads(line[6:]) for line in followed.text.splitlines() if line.startswith("data: ")]
    assert items[0]["kind"] == "log" and items[-1]["kind"] == "closed"


SECRET = "tok-8c1f4e9a2b7d"
SECRET_APP = (
    """\
import http.server, os, sys
secret = os.environ["API_TOKEN"]
print("token", secret, "loaded", flush=True)
sys.stdout.write("half " + secret[:9])  # half a line, flushed: the rest comes on GET /rest
sys.stdout.flush()

def on_hit(path):
    if path == "/rest":
        sys.stdout.write(secret[9:] + " end\\n")
        sys.stdout.flush()
"""
    + SERVE
)


@pytest.fixture
def with_secret(
    api: Any, services: Services, new_project: str, new_environment: str, new_resource: str, tmp_path: Path
) -> dict:
    """A deployment of SECRET_APP with API_TOKEN=SECRET set as a secret of the resource."""
    resp = api.post(f"/api/resources/{new_resource}/secrets", json={"key": "API_TOKEN", "value": SECRET})
    assert resp.status_code == 201, resp.text
    return deploy(api, services, (new_project, new_environment, new_resource), tmp_path / "app", SECRET_APP)


def secret_parts_in(text: str) -> list[str]:
    return parts_shown(SECRET, text)


def test_a_cursor_anywhere_inside_a_line_never_shows_part_of_a_secret(api: Any, with_secret: dict) -> None:
    rid = with_secret["resourceId"]
    first = poll(
        lambda: (a := log_lines(api, rid))["logs"] and a["logs"][0]["message"].startswith("token") and a,
        "the secret's line",
    )
    line = first["logs"][0]
    for offset in range(line["sequence"], int(line["cursor"])):
        page = api.get(f"/api/resources/{rid}/runtime-logs", params={"cursor": str(offset)})
        assert page.status_code == 200, page.text
        assert not secret_parts_in(page.text), (offset, page.json()["logs"][:1])
        if offset < line["sequence"] + len(f"token {SECRET}"):
            assert page.json()["logs"][0]["message"].endswith("**** loaded"), (offset, page.text)
    inside = line["sequence"] + len("token tok-")
    stream = api.get(
        f"/api/resources/{rid}/runtime-logs/stream", params={"cursor": str(inside), "follow": "false"}
    )
    assert stream.status_code == 200 and "**** loaded" in stream.text and not secret_parts_in(stream.text)
    assert (line["message"], line["masked"]) == ("token **** loaded", True)


def test_a_line_the_app_writes_in_two_parts_comes_back_masked(api: Any, with_secret: dict) -> None:
    rid, url = with_secret["resourceId"], with_secret["url"]
    half = poll(  # shown once the app has paused a second with the line unfinished
        lambda: next((x for x in log_lines(api, rid)["logs"] if x["message"].startswith("half")), None),
        "the unfinished line",
    )
    assert (half["message"], half["masked"]) == ("half ****", True), half
    httpx.get(url.rstrip("/") + "/rest")
    rest = poll(lambda: log_lines(api, rid, cursor=half["cursor"])["logs"], "the rest of the line")
    assert [(x["message"], x["masked"]) for x in rest] == [("**** end", True)]
    whole = messages(log_lines(api, rid))
    assert whole[-1] == "half **** end" and not secret_parts_in(" ".join(whole))


def test_a_profile_changed_since_the_deployment_shows_as_drift_until_redeployed(
    api: Any, services: Services, deployed: dict
) -> None:
    rid, first = deployed["resourceId"], deployed["deploymentId"]
    assert drift(api, rid) == []
    started = f"exec {sys.executable} app.py"
    changed = {"runtimeProfile": {"startCommand": f"{started} --verbose"}}
    assert api.post(f"/api/resources/{rid}/runtime-profile", json=changed).status_code == 200
    [found] = drift(api, rid)
    assert found["comparison"] == "resource-vs-deployment-snapshot" and found["latestDeploymentId"] == first
    assert found["configKey"] == "startCommand" and found["configPointer"] == "/runtimeProfile/startCommand"
    assert found["resourceValue"]["displayValue"] == f"{started} --verbose"
    assert found["deploymentSnapshotValue"]["displayValue"] == started
    assert found["suggestedCommand"] == "resources.redeploy"
    again = created(api.post(f"/api/resources/{rid}/redeploy", json={}))
    run_deployment(services, again)
    assert drift(api, rid) == []


def test_a_resource_value_over_dockyard_yml_is_shown_as_an_override(
    api: Any, services: Services, new_project: str, new_environment: str, new_resource: str, tmp_path: Path
) -> None:
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "dockyard.yml").write_text("start: python other.py\n")
    deploy(api, services, (new_project, new_environment, new_resource), folder, APP)
    [found] = drift(api, new_resource)
    assert found["code"] == "entry-profile-overridden" and found["path"] == "dockyard.yml"
    assert found["entryProfileValue"] == {
        "state": "present",
        "displayValue": "python other.py",
        "valueHash": found["entryProfileValue"]["valueHash"],
    }
    assert found["configSource"] == "resource" and found["comparison"] == "resource-vs-entry-profile"
