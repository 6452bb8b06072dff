"""Recovery end to end (issue 6): real `dockyard serve`, real CLI, apps as real processes.

A broken deploy keeps the live version answering and a rollback serves an earlier one again; a
switch that fails is undone; `dockyard serve` killed with SIGKILL mid-deploy reconciles on start;
a burst of deploys over many resources ends cleanly, one live version each, in request order.
"""

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from control_plane_process import ControlPlane, Load, app, poll

from dockyard.domain.deployment import TERMINAL
from dockyard.runtimes.host_process import HostProcessRuntime
from processes import children, command, gone

pytestmark = pytest.mark.e2e

SERVER = """
import http.server, os, sys

TEXT = {text!r}
MARKER = {marker!r}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        status = 200
        if MARKER:  # answers its first request only: the health check passes, the switch does not
            status = 500 if os.path.exists(MARKER) else 200
            open(MARKER, "a").close()
        body = TEXT.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


{before_listen}
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
"""


def server_app(folder: Path, text: str, marker: str = "", before_listen: str = "") -> None:
    folder.mkdir(exist_ok=True)
    (folder / "Procfile").write_text("web: python3 server.py\n")
    (folder / "server.py").write_text(SERVER.format(text=text, marker=marker, before_listen=before_listen))


def broken_app(folder: Path) -> None:
    (folder / "Procfile").write_text("web: python3 -c 'import sys; sys.exit(3)'\n")


def runtime_pid(plane: ControlPlane, resource_id: str) -> int:
    return plane.api("GET", f"/resources/{resource_id}")["runtime"]["pid"]


def deployment(plane: ControlPlane, deployment_id: str) -> dict[str, Any]:
    return plane.api("GET", f"/deployments/{deployment_id}")["deployment"]


def ended(plane: ControlPlane, deployment_id: str, deadline: float = 120) -> dict[str, Any]:
    return poll(
        lambda: (d := deployment(plane, deployment_id))["status"] in TERMINAL and d,
        f"deployment {deployment_id} to end",
        deadline,
    )


def test_a_broken_deploy_keeps_v1_and_a_rollback_from_v3_serves_v1_again(
    plane: ControlPlane, tmp_path: Path
) -> None:
    folder = tmp_path / "svc"
    server_app(folder, "version one")
    v1 = plane.up(folder)
    assert v1["status"] == "succeeded", v1["stderr"]
    url = v1["url"]
    with Load(url) as load:
        poll(lambda: "version one" in load.seen, "traffic on v1")
        broken_app(folder)
        v2 = plane.up(folder)
        assert v2["status"] == "failed" and v2["exit"] != 0
        assert httpx.get(url).text == "version one"
    assert load.failures == [] and load.seen == {"version one"}

    v1_pid = runtime_pid(plane, v1["resourceId"])
    server_app(folder, "version three")
    v3 = plane.up(folder)
    assert v3["status"] == "succeeded" and httpx.get(url).text == "version three"
    poll(lambda: gone(v1_pid), "v1's process to be retired by the switch to v3")
    v3_pid = runtime_pid(plane, v3["resourceId"])

    ready = plane.api("GET", f"/deployments/{v3['deploymentId']}/recovery-readiness")
    ready_ids = [c["deploymentId"] for c in ready["rollback"]["candidates"] if c["rollbackReady"]]
    assert ready["rollbackReady"] and ready_ids == [v1["deploymentId"]]  # v3 serves; v2 failed
    with Load(url) as load:
        rolled = plane.cli(
            "deployments",
            "rollback",
            v3["deploymentId"],
            "--rollback-candidate-deployment-id",
            v1["deploymentId"],
            "--json",
        )
        assert rolled.returncode == 0, rolled.stderr
        back = ended(plane, json.loads(rolled.stdout)["id"])
        poll(lambda: "version one" in load.seen, "traffic on v1 again")
    assert back["status"] == "succeeded" and back["triggerKind"] == "rollback"
    assert back["rollbackOfDeploymentId"] == v3["deploymentId"]
    assert back["rollbackCandidateDeploymentId"] == v1["deploymentId"]
    assert load.failures == [] and httpx.get(url).text == "version one"
    poll(lambda: gone(v3_pid), "v3's process to be retired by the rollback")
    logs = plane.api("GET", f"/deployments/{back['id']}/logs")["logs"]
    assert not any(line["phase"] in ("install", "build") for line in logs)  # nothing was rebuilt


def test_a_rollback_keeps_the_resources_data_folder(plane: ControlPlane, tmp_path: Path) -> None:
    folder = tmp_path / "keeper"
    record = 'open(os.path.join(os.environ["DOCKYARD_APP_DATA_DIR"], "starts"), "a").write(TEXT + "\\n")'
    server_app(folder, "one", before_listen=record)
    v1 = plane.up(folder)
    server_app(folder, "two", before_listen=record)
    v2 = plane.up(folder)
    assert (v1["status"], v2["status"]) == ("succeeded", "succeeded"), v2["stderr"]
    rolled = plane.api(
        "POST",
        f"/deployments/{v2['deploymentId']}/rollback",
        json={"rollbackCandidateDeploymentId": v1["deploymentId"]},
    )
    assert ended(plane, rolled["id"])["status"] == "succeeded"
    assert httpx.get(v2["url"]).text == "one"
    starts = plane.data_dir / "appdata" / v1["resourceId"] / "starts"
    assert starts.read_text().splitlines() == ["one", "two", "one"]


def test_a_switch_that_fails_puts_the_previous_version_back(plane: ControlPlane, tmp_path: Path) -> None:
    folder = tmp_path / "flaky"
    server_app(folder, "steady")
    v1 = plane.up(folder)
    assert v1["status"] == "succeeded", v1["stderr"]
    server_app(folder, "flaky", marker=str(tmp_path / "answered-once"))
    v2 = plane.up(folder)
    shown = deployment(plane, v2["deploymentId"])
    assert shown["status"] == "rolled-back", shown
    assert shown["failure"]["code"] == "switch-failed" and "previous version" in shown["failure"]["message"]
    assert httpx.get(v1["url"]).text == "steady"
    status = HostProcessRuntime(plane.data_dir).status(v1["resourceId"]) or {}
    assert status["active"]["deploymentId"] == v1["deploymentId"]
    assert status["candidate"] is None and status["previous"] is None
    work = plane.api("GET", "/operator-work", params={"deploymentId": v2["deploymentId"]})["items"]
    assert [(w["status"], w["errorCategory"]) for w in work] == [("failed", "rolled-back")]


def test_serve_killed_mid_deploy_reconciles_on_start_while_the_app_keeps_answering(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    cp = ControlPlane(tmp_path_factory.mktemp("killed"))
    cp.start()
    try:
        folder = tmp_path / "slow"
        server_app(folder, "live")
        v1 = cp.up(folder)
        assert v1["status"] == "succeeded", v1["stderr"]
        resource = v1["resourceId"]
        runtime = HostProcessRuntime(cp.data_dir)
        server_app(folder, "never", before_listen="import time; time.sleep(120)")
        with Load(v1["url"]) as load:
            v2 = cp.api("POST", f"/resources/{resource}/redeploy", json={})["id"]
            poll(
                lambda: ((runtime.status(resource) or {}).get("candidate") or {}).get("deploymentId") == v2,
                "the candidate to run",
            )
            cp.kill()
            assert deployment_in_store(cp, v2) == "running"
            cp.start()  # reconciles before it answers (server.run_server): no deadline to race
            assert all(d["status"] in TERMINAL for d in cp.api("GET", "/deployments")["items"])
            assert httpx.get(v1["url"]).text == "live"
        assert load.failures == [] and load.seen == {"live"}
        shown = deployment(cp, v2)
        assert shown["status"] == "failed" and shown["failure"]["code"] == "interrupted"
        assert (runtime.status(resource) or {}).get("candidate") is None  # the candidate was stopped
        listed = cp.cli("work", "list", "--deployment-id", v2, "--json")
        assert listed.returncode == 0, listed.stderr
        (item,) = json.loads(listed.stdout)["items"]
        assert item["status"] == "retry-scheduled" and item["errorCode"] == "interrupted"
        assert item["retriable"] and "retry" in item["nextActions"]
        assert item["kind"] == "deployment" and item["phase"] in ("start", "verify")
    finally:
        cp.stop()


def deployment_in_store(cp: ControlPlane, deployment_id: str) -> str:
    """Read the status straight from the store (the API is down)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{cp.data_dir / 'dockyard.db'}")
    with engine.connect() as conn:
        status = conn.execute(
            text("SELECT status FROM deployments WHERE id = :i"), {"i": deployment_id}
        ).scalar()
    engine.dispose()
    return status


def test_a_burst_of_twenty_deploys_over_ten_resources_ends_in_order(
    plane: ControlPlane, tmp_path: Path
) -> None:
    project = plane.api("POST", "/projects", json={"name": "burst"})["id"]
    env = plane.api(
        "POST", "/environments", json={"projectId": project, "name": "production", "kind": "production"}
    )["id"]
    server = next(s["id"] for s in plane.api("GET", "/servers")["items"] if s["providerKey"] == "local")
    requested: dict[str, list[str]] = {}
    for n in range(10):
        resource = plane.api(
            "POST", "/resources", json={"projectId": project, "environmentId": env, "name": f"app {n}"}
        )["id"]
        ids = {"projectId": project, "environmentId": env, "resourceId": resource, "serverId": server}
        requested[resource] = []
        for round_ in ("a", "b"):
            folder = app(tmp_path, f"site-{n}-{round_}", {"index.html": f"app {n} round {round_}"})
            source = {"source": {"kind": "local-folder", "locator": str(folder)}}
            plane.api("POST", f"/resources/{resource}/source", json=source)
            requested[resource].append(plane.api("POST", "/deployments", json=ids)["id"])
    everything = [d for pair in requested.values() for d in pair]
    finals = {d: ended(plane, d, deadline=300) for d in everything}
    assert all(f["status"] in TERMINAL for f in finals.values())
    runtime = HostProcessRuntime(plane.data_dir)
    actives = set()
    for n, (resource, (first, second)) in enumerate(requested.items()):
        assert finals[second]["status"] == "succeeded", finals[second]["failure"]
        assert finals[first]["status"] in ("canceled", "succeeded"), finals[first]
        if finals[first]["status"] == "succeeded":
            assert finals[first]["finishedAt"] <= finals[second]["finishedAt"]
        status = runtime.status(resource) or {}
        assert status["active"]["deploymentId"] == second  # the last requested serves, alone
        assert status["candidate"] is None and status["previous"] is None
        actives.add(status["active"]["pid"])
        assert httpx.get(finals[second]["url"]).text == f"app {n} round b"
    held = runtime.supervisor() or {}
    assert set(requested) <= set(held["resources"])

    def only_active_instances() -> bool:
        """The supervisor (which also holds the resources of this plane's other tests) runs one
        process per resource, its active instance: every first one retired."""
        running = {((runtime.status(r) or {}).get("active") or {}).get("pid") for r in held["resources"]}
        return children(held["pid"]) == running - {None} and actives <= running

    try:
        poll(only_active_instances, "the supervisor to run the active instances only")
    except AssertionError as exc:
        extra = {pid: command(pid) for pid in children(held["pid"]) - actives}
        raise AssertionError(f"{exc}; children besides the ten: {extra}") from exc
