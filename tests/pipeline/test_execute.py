"""Whole deployments through the pipeline (in process, real runners and apps): what verification
accepts, and that a deployment's URL serves that deployment's app."""

import dataclasses
import os
import re
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from dockyard.pipeline import execution
from dockyard.pipeline.execute import run_deployment
from dockyard.pipeline.retention import MAINTENANCE, prune_artifacts
from dockyard.runtimes import ports
from dockyard.services import Services
from dockyard.store.tables import WorkItem
from polling import poll

# Reads $PORT like a well-behaved app; 3000 otherwise (what the reference platform's examples use).
APP = """\
import http.server, os

ANSWERS = {answers!r}

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keeps connections open, as uvicorn, gunicorn and node do

    def do_GET(self):
        status, body = ANSWERS.get(self.path, (404, "not found"))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass

port = int(os.environ.get("PORT", "3000"))
http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""


@pytest.fixture
def services(stack: Any) -> Iterator[Services]:
    svc = Services.create(stack.settings, stack.db)
    yield svc
    svc.runtime.shutdown_all()


@pytest.fixture
def environment(api: Any) -> dict[str, str]:
    def made(path: str, body: dict[str, Any]) -> str:
        resp = api.post(path, json=body)
        assert resp.status_code == 201, resp.text
        return resp.json()["id"]

    project = made("/api/projects", {"name": "shop"})
    env = made("/api/environments", {"projectId": project, "name": "production", "kind": "production"})
    server = next(s["id"] for s in api.get("/api/servers").json()["items"] if s["providerKey"] == "local")
    return {"projectId": project, "environmentId": env, "serverId": server}


def resource(
    api: Any, environment: dict[str, str], name: str, folder: Path, network: dict[str, Any] | None = None
) -> str:
    resp = api.post(
        "/api/resources",
        json={
            "projectId": environment["projectId"],
            "environmentId": environment["environmentId"],
            "name": name,
        },
    )
    assert resp.status_code == 201, resp.text
    rid = resp.json()["id"]
    source = {"source": {"kind": "local-folder", "locator": str(folder)}}
    assert api.post(f"/api/resources/{rid}/source", json=source).status_code == 200
    runtime = {"runtimeProfile": {"startCommand": f"exec {sys.executable} app.py"}}
    assert api.post(f"/api/resources/{rid}/runtime-profile", json=runtime).status_code == 200
    if network:
        resp = api.post(f"/api/resources/{rid}/network-profile", json={"networkProfile": network})
        assert resp.status_code == 200, resp.text
    return rid


def app(tmp_path: Path, name: str, answers: dict[str, tuple[int, str]]) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "app.py").write_text(APP.format(answers=answers))
    return folder


def deploy(api: Any, services: Services, environment: dict[str, str], rid: str) -> dict[str, Any]:
    resp = api.post("/api/deployments", json={**environment, "resourceId": rid})
    assert resp.status_code == 201, resp.text
    run_deployment(services, resp.json()["id"])
    return api.get(f"/api/deployments/{resp.json()['id']}").json()["deployment"]


# --- health checks --------------------------------------------------------------------------------


def test_an_app_answering_404_on_the_root_deploys_with_the_default_check(
    api: Any, services: Services, environment: dict[str, str], tmp_path: Path
) -> None:
    """Django with DEBUG=False (and most APIs) has no page at /: it is up all the same."""
    folder = app(tmp_path, "api", {"/api/items": (200, "[]")})
    rid = resource(api, environment, "api", folder)
    shown = deploy(api, services, environment, rid)
    assert shown["status"] == "succeeded", shown["failure"]
    assert httpx.get(shown["url"] + "api/items").text == "[]"


def test_the_timeline_says_how_long_each_phase_took(
    api: Any, services: Services, environment: dict[str, str], tmp_path: Path
) -> None:
    rid = resource(api, environment, "timed", app(tmp_path, "timed", {"/": (200, "ok")}))
    shown = deploy(api, services, environment, rid)
    assert shown["status"] == "succeeded", shown["failure"]
    logs = api.get(f"/api/deployments/{shown['id']}/logs").json()["logs"]
    took = [(line["phase"], line["message"]) for line in logs if " took " in line["message"]]
    timed = [phase for phase, _ in took]
    in_order = list(dict.fromkeys(line["phase"] for line in logs if line["phase"] in timed))
    assert timed == in_order  # each phase once, as it ended, in the order they ran
    assert {"detect", "start", "verify", "switch"} <= set(timed)
    assert all(re.fullmatch(rf"{phase} took \d+\.\d\d s", message) for phase, message in took)


def test_a_configured_path_answering_404_fails_at_once_and_names_both_fixes(
    api: Any, services: Services, environment: dict[str, str], tmp_path: Path
) -> None:
    folder = app(tmp_path, "api", {"/": (200, "home")})
    (folder / "dockyard.yml").write_text("health: /healthz\n")
    rid = resource(api, environment, "api", folder)
    patient = {"retries": 6, "intervalSeconds": 10}  # 60 s for an app that does not answer at all
    assert api.post(f"/api/resources/{rid}/health-policy", json={"healthCheck": patient}).status_code == 200
    shown = deploy(api, services, environment, rid)
    failure = shown["failure"]
    assert shown["status"] == "failed" and failure["code"] == "health-check-failed"
    assert "GET /healthz answered 404 (expected 200)" in failure["message"]
    assert "not healthy after" not in failure["message"], "decided by the answers, not the patience"
    assert "health: /path` in dockyard.yml" in failure["nextAction"]
    assert f"dockyard resources configure-health {rid}" in failure["nextAction"]


# --- ports: each URL serves its own deployment ------------------------------------------------------


def test_two_resources_with_internal_port_3000_each_serve_their_own_app(
    api: Any, services: Services, environment: dict[str, str], tmp_path: Path
) -> None:
    urls = {}
    for name in ("shop", "blog"):
        folder = app(tmp_path, name, {"/": (200, f"this is {name}")})
        rid = resource(api, environment, name, folder, network={"internalPort": 3000})
        shown = deploy(api, services, environment, rid)
        assert shown["status"] == "succeeded", shown["failure"]
        urls[name] = shown["url"]
    assert httpx.get(urls["shop"]).text == "this is shop"
    assert httpx.get(urls["blog"]).text == "this is blog"


def test_a_runner_that_cannot_listen_on_its_port_fails_the_deployment_naming_the_holder(
    api: Any, services: Services, environment: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The port was free when it was checked and taken before the runner bound it (a race)."""
    folder = app(tmp_path, "shop", {"/": (200, "this is shop")})
    rid = resource(api, environment, "shop", folder)
    with socket.create_server(("127.0.0.1", 0)) as foreign:
        port = foreign.getsockname()[1]
        state = services.settings.data_dir / "runners" / rid
        state.mkdir(parents=True)
        (state / "front_port").write_text(str(port))  # the resource's stable port
        monkeypatch.setattr(ports, "taken", lambda _port: False)  # checked before the foreign bind
        shown = deploy(api, services, environment, rid)
    failure = shown["failure"]
    assert shown["status"] == "failed" and failure["code"] == "front-port-unavailable", failure
    assert f"127.0.0.1:{port}" in failure["message"]
    assert f"pid {os.getpid()}" in failure["message"], "the holder is named"


# --- superseded attempts ----------------------------------------------------------------------------


def test_an_attempt_overtaken_during_its_switch_ends_canceled_and_the_live_version_stays(
    api: Any, services: Services, environment: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A newer deployment arrives while this one confirms its switch, and the live port stops
    answering as this one (the newer one switched): what failed it is being superseded."""
    folder = app(tmp_path, "shop", {"/": (200, "v1")})
    rid = resource(api, environment, "shop", folder)
    first = deploy(api, services, environment, rid)
    assert first["status"] == "succeeded", first["failure"]
    (folder / "app.py").write_text(APP.format(answers={"/": (200, "v2")}))
    newer: list[str] = []

    def overtaken(*_: Any) -> str:
        resp = api.post("/api/deployments", json={**environment, "resourceId": rid})
        newer.append(resp.json()["id"])
        return "the live port answered another deployment"

    monkeypatch.setattr(execution, "confirm_switch", overtaken)
    second = deploy(api, services, environment, rid)
    assert second["status"] == "canceled", second["failure"]
    assert second["failure"]["code"] == "superseded" and newer[0] in second["failure"]["message"]
    logs = api.get(f"/api/deployments/{second['id']}/logs").json()["logs"]
    assert any("stopped while it was asked to" in line["message"] for line in logs)
    assert httpx.get(first["url"]).text == "v1"  # the previous version serves again
    assert api.get(f"/api/deployments/{newer[0]}").json()["deployment"]["status"] == "created"


# --- retention ----------------------------------------------------------------------------------------


def test_a_retired_version_keeps_its_files_while_it_drains_and_loses_them_after(
    api: Any, stack: Any, environment: dict[str, str], tmp_path: Path
) -> None:
    """Keeping one version: the previous one's workspace goes once its last connection closed, and
    the pruning comes back for it rather than waiting (a worker held while it drains)."""
    recovery = dataclasses.replace(stack.settings.recovery, retained_artifacts=1)
    services = Services.create(dataclasses.replace(stack.settings, recovery=recovery), stack.db)
    try:
        folder = app(tmp_path, "shop", {"/": (200, "v1")})
        rid = resource(api, environment, "shop", folder)
        first = deploy(api, services, environment, rid)
        assert first["status"] == "succeeded", first["failure"]
        port = int(first["url"].rsplit(":", 1)[1].strip("/"))
        with socket.create_connection(("127.0.0.1", port)) as held:  # a keep-alive client of v1
            held.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = b""
            while not answer.endswith(b"\r\n\r\nv1"):
                answer += held.recv(4096) or b"(closed)"
            (folder / "app.py").write_text(APP.format(answers={"/": (200, "v2")}))
            second = deploy(api, services, environment, rid)
            assert second["status"] == "succeeded", second["failure"]
            workspace = services.settings.data_dir / "workspaces" / rid / first["id"]
            assert prune_artifacts(services, rid).status == "succeeded"
            assert workspace.is_dir(), "v1 still answers its open connection"
            with stack.db.session() as s:
                again = s.scalars(
                    select(WorkItem).where(WorkItem.kind == MAINTENANCE, WorkItem.status == "pending")
                ).all()
            later = [w.subject_id for w in again if w.run_after > w.created_at]
            assert later == [rid], "it comes back in a few seconds"
        poll(lambda: not (services.runtime.status(rid) or {}).get("draining"), "v1 to finish draining")
        prune_artifacts(services, rid)
        assert not workspace.exists()
        assert httpx.get(second["url"]).text == "v2"
    finally:
        services.runtime.shutdown_all()


# --- build outputs --------------------------------------------------------------------------------

BUILT_APP = """\
import http.server, os

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = open("dist/answer.txt").read()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
"""


def test_a_redeploy_of_the_same_source_reuses_the_build_and_a_change_builds_again(
    api: Any, services: Services, environment: dict[str, str], tmp_path: Path
) -> None:
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "app.py").write_text(BUILT_APP)
    (folder / "page.txt").write_text("v1")
    builds = tmp_path / "builds.log"  # outside the workspace: one line per build that really ran
    build = (
        f"{sys.executable} -c \"import pathlib; pathlib.Path('dist').mkdir(); "
        f"pathlib.Path('dist/answer.txt').write_text('built ' + open('page.txt').read()); "
        f"open('{builds}', 'a').write('x')\""
    )
    rid = resource(api, environment, "site", folder)
    assert (
        api.post(
            f"/api/resources/{rid}/runtime-profile", json={"runtimeProfile": {"buildCommand": build}}
        ).status_code
        == 200
    )

    first = deploy(api, services, environment, rid)
    assert first["status"] == "succeeded", first["failure"]
    again = deploy(api, services, environment, rid)
    assert again["status"] == "succeeded", again["failure"]
    assert httpx.get(again["url"]).text == "built v1"
    assert builds.read_text() == "x", "the second deploy did not build"
    logs = api.get(f"/api/deployments/{again['id']}/logs").json()["logs"]
    assert any(
        f"unchanged since {first['id']}: its build output is reused" in line["message"] for line in logs
    )

    (folder / "page.txt").write_text("v2")
    changed = deploy(api, services, environment, rid)
    assert changed["status"] == "succeeded", changed["failure"]
    assert httpx.get(changed["url"]).text == "built v2" and builds.read_text() == "xx"
