"""Acceptance: a canary secret an app prints shows nowhere the platform lets anyone read it.

A real `dockyard serve`, the real CLI, an app (a real process) that prints its secret whole, then
half a line with the secret cut in two writes around UTF-8 multibyte text, ending in `\\r\\n`. The
canary must not appear — whole, or as four characters of it — in any API answer, a runtime-log
page at any byte offset of the log used as a cursor, the stream (history and live), the
deployment timeline, the CLI's output, the control plane's own log, or the database's bytes. On
disk only the app's raw log and the runner's copy of its environment may hold it; that those are
private to the data dir's owner is asserted on its own (`test_files_holding_the_canary_are_private`).
"""

import json
import os
import secrets
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from interfaces.cli.control_plane_process import ControlPlane
from leaks import parts_shown
from polling import poll

pytestmark = pytest.mark.e2e
CANARY = "cnry-" + secrets.token_hex(12)
SPLIT = 11  # the app writes the canary's first SPLIT characters, flushes, and the rest on GET /rest
APP = f"""\
import os, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

canary = os.environ.get("APP_SECRET", "not-set-yet")
print(f"APP_SECRET={{canary}}", flush=True)
sys.stdout.write("é日 half " + canary[:{SPLIT}])
sys.stdout.flush()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/rest":
            sys.stdout.write(canary[{SPLIT}:] + " 🙂 end\\r\\n")
            sys.stdout.flush()
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *_):
        pass


HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
"""


def leaked(text: str) -> list[str]:
    return parts_shown(CANARY, text)


class Reader:
    """The platform's API as the admin, keeping every answer's text."""

    def __init__(self, plane: ControlPlane) -> None:
        token = (plane.data_dir / "admin.token").read_text().strip()
        self.http = httpx.Client(base_url=plane.url + "/api", headers={"Authorization": f"Bearer {token}"})
        self.texts: list[str] = []

    def get(self, path: str, **params: Any) -> httpx.Response:
        resp = self.http.get(path, params=params, timeout=30)
        assert resp.status_code == 200, (path, params, resp.text)
        self.texts.append(resp.text)
        return resp

    def events(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """The items of a server-sent event stream that ends by itself."""
        text = self.get(path, **params).text
        return [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    with ControlPlane(tmp_path_factory.mktemp("canary-plane")) as cp:
        yield cp


@pytest.fixture(scope="module")
def deployed(plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The app deployed with APP_SECRET=CANARY (set with the CLI, as a secret), having printed it."""
    folder = tmp_path_factory.mktemp("leak-app")  # no 4 characters in common with "cnry-a…"
    (folder / "app.py").write_text(APP)
    (folder / "Procfile").write_text("web: python3 app.py\n")
    first = plane.up(folder, "--yes")
    assert first["status"] == "succeeded", first["stderr"]
    done = plane.cli("env", "set", "APP_SECRET", "--secret", "--stdin", cwd=folder, stdin=CANARY + "\n")
    assert done.returncode == 0, done.stderr
    second = plane.up(folder)
    assert second["status"] == "succeeded", second["stderr"]
    return {
        **second,
        "folder": folder,
        "cli": [done.stdout, done.stderr, json.dumps(first), json.dumps(second)],
    }


def app_log(plane: ControlPlane, deployed: dict[str, Any]) -> Path:
    return plane.data_dir / "workspaces" / deployed["resourceId"] / f"{deployed['deploymentId']}.log"


def messages(answer: httpx.Response) -> list[str]:
    return [line["message"] for line in answer.json()["logs"]]


def test_the_canary_shows_in_no_read_at_any_cursor(plane: ControlPlane, deployed: dict[str, Any]) -> None:
    api, rid, dep = Reader(plane), deployed["resourceId"], deployed["deploymentId"]
    logs = f"/resources/{rid}/runtime-logs"
    half = poll(  # the unfinished line shows once the app has paused with it for a second
        lambda: next((m for m in messages(api.get(logs)) if "half" in m), None), "the half-written line"
    )
    assert half == "é日 half ****"
    history = api.events(f"{logs}/stream", follow="false")
    cursor = history[-1]["cursor"]
    followed = []
    with api.http.stream("GET", f"{logs}/stream", params={"cursor": cursor}, timeout=30) as live:
        assert live.status_code == 200, live.read()
        assert httpx.get(deployed["url"].rstrip("/") + "/rest").text == "ok"  # the app ends its line
        for line in live.iter_lines():  # a live follower, from inside the unfinished line
            if line.startswith("data: "):
                followed.append(json.loads(line[6:]))
                if followed[-1]["kind"] == "log":
                    break
    api.texts += [json.dumps(item, ensure_ascii=False) for item in followed]
    assert followed[-1]["log"]["message"] == "**** 🙂 end" and followed[-1]["log"]["masked"], followed
    raw = app_log(plane, deployed).read_bytes()
    assert CANARY.encode() in raw and raw.endswith(" 🙂 end\r\n".encode()), "the app printed it all"

    for offset in range(len(raw) + 1):  # every byte offset as a cursor: pages and the stream
        api.get(logs, cursor=str(offset))
        api.events(f"{logs}/stream", cursor=str(offset), follow="false")
    whole = messages(api.get(logs, tailLines=100))
    assert "APP_SECRET=****" in whole and "é日 half **** 🙂 end" in whole, whole
    for path in (
        f"/resources/{rid}",
        f"/resources/{rid}/effective-config",
        f"/resources/{rid}/secrets",
        f"/resources/{rid}/secrets/APP_SECRET",
        f"/deployments/{dep}",
        f"/deployments/{dep}?includeSnapshot=true",
        f"/deployments/{dep}/logs",
        f"/deployments/{dep}/events",
        "/deployments",
        "/resources",
    ):
        api.get(path)
    api.events(f"/deployments/{dep}/events/stream")  # the timeline, followed to its end
    cli = [plane.cli(*args) for args in (("logs", rid, "--tail", "500"), ("deployments", "logs", dep))]
    assert all(done.returncode == 0 for done in cli), [done.stderr for done in cli]
    shown = api.texts + [out for done in cli for out in (done.stdout, done.stderr)] + deployed["cli"]
    bad = [(text[:300], leaked(text)) for text in shown if leaked(text)]
    assert not bad, f"{len(bad)} of {len(shown)} answers show part of the canary, e.g. {bad[0]}"

    serve_log = plane.data_dir / "serve.err"
    assert not leaked(serve_log.read_text() if serve_log.exists() else ""), "the control plane's log"
    sqlite3.connect(plane.data_dir / "dockyard.db").execute("PRAGMA wal_checkpoint(FULL)").close()
    db_files = list(plane.data_dir.glob("dockyard.db*"))
    assert db_files and not [f for f in db_files if CANARY.encode() in f.read_bytes()]
    assert sorted(str(f.relative_to(plane.data_dir)) for f in holding_the_canary(plane)) == sorted(
        allowed_holders(plane, deployed)
    ), "only the app's raw log and its runner's copy of the environment hold the canary"


def holding_the_canary(plane: ControlPlane) -> list[Path]:
    return [p for p in plane.data_dir.rglob("*") if p.is_file() and CANARY.encode() in p.read_bytes()]


def allowed_holders(plane: ControlPlane, deployed: dict[str, Any]) -> list[str]:
    rid, dep = deployed["resourceId"], deployed["deploymentId"]
    return [f"workspaces/{rid}/{dep}.log", f"runners/{rid}/state.json"]


def test_files_holding_the_canary_are_private(plane: ControlPlane, deployed: dict[str, Any]) -> None:
    """Every file that holds the secret is its owner's only (0600), and so is every directory on the
    way to it from the data dir (0700)."""
    poll(lambda: CANARY.encode() in app_log(plane, deployed).read_bytes(), "the app's output")
    exposed = []
    for path in holding_the_canary(plane):
        for part in [path, *path.relative_to(plane.data_dir).parents]:
            target = plane.data_dir / part if part != path else path
            mode = stat.S_IMODE(os.stat(target).st_mode)
            if mode & 0o077:
                exposed.append(f"{target.relative_to(plane.data_dir.parent)} {oct(mode)}")
    assert not exposed, (
        f"group/other can read the canary's files or their directories: {sorted(set(exposed))}"
    )
