"""`dockyard up` end to end: the real CLI against a real `dockyard serve`, apps as real processes."""

import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import httpx
import pytest
from control_plane_process import ControlPlane, Load, app, poll

from processes import gone

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("example", "greeting"),
    [
        ("hello-static", "Hello from Dockyard"),
        ("hello-python", "Hello from Dockyard (Python)"),
        ("hello-node", "Hello from Dockyard (Node)"),
    ],
)
def test_each_example_goes_live(plane: ControlPlane, tmp_path: Path, example: str, greeting: str) -> None:
    folder = tmp_path / example
    shutil.copytree(EXAMPLES / example, folder)
    result = plane.up(folder)
    assert result["exit"] == 0 and result["status"] == "succeeded", result["stderr"]
    assert result["deploymentId"].startswith("dep_") and result["resourceId"].startswith("res_")
    resp = httpx.get(result["url"])
    assert resp.status_code == 200 and greeting in resp.text


def test_redeploy_after_an_edit_swaps_with_no_failed_request(plane: ControlPlane, tmp_path: Path) -> None:
    folder = app(tmp_path, "site", {"index.html": "version one"})
    first = plane.up(folder)
    assert first["status"] == "succeeded"
    old_pid = plane.api("GET", f"/resources/{first['resourceId']}")["runtime"]["pid"]
    with Load(first["url"]) as load:
        poll(lambda: "version one" in load.seen, "traffic on v1")
        (folder / "index.html").write_text("version two")
        second = plane.up(folder)
        poll(lambda: "version two" in load.seen, "traffic on v2")
    assert second["status"] == "succeeded" and second["url"] == first["url"]
    assert second["resourceId"] == first["resourceId"]
    assert load.failures == []
    assert httpx.get(first["url"]).text == "version two"
    poll(lambda: gone(old_pid), "the first version's process to be retired")


def test_a_killed_app_comes_back_and_the_resource_shows_the_restart(
    plane: ControlPlane, tmp_path: Path
) -> None:
    import os
    import signal

    result = plane.up(app(tmp_path, "crashy", {"index.html": "still here"}))
    shown = plane.api("GET", f"/resources/{result['resourceId']}")
    os.kill(shown["runtime"]["pid"], signal.SIGKILL)
    poll(lambda: httpx.get(result["url"]).text == "still here", "the app to come back")
    after = poll(lambda: plane.api("GET", f"/resources/{result['resourceId']}")["runtime"], "runtime view")
    assert after["restarts"] == 1 and after["pid"] != shown["runtime"]["pid"]


def test_the_app_keeps_answering_while_serve_is_killed_and_restarted(
    plane: ControlPlane, tmp_path: Path
) -> None:
    result = plane.up(app(tmp_path, "steady", {"index.html": "steady"}))
    with Load(result["url"]) as load:
        poll(lambda: load.seen, "traffic")
        plane.kill()
        plane.start()
        poll(
            lambda: plane.api("GET", "/deployments/count", params={"status": "running"})["count"] == 0, "idle"
        )
    assert load.failures == []
    assert plane.up(tmp_path / "steady")["status"] == "succeeded"


BAD_APPS = {
    "install-fails": (
        {"dockyard.yml": "install: echo resolving; exit 7\nstart: sleep 1000\n"},
        "install-failed",
    ),
    "build-fails": (
        {"dockyard.yml": "build: echo 'syntax error in main.c' >&2; exit 2\nstart: sleep 1000\n"},
        "build-failed",
    ),
    "exits-at-once": ({"Procfile": "web: echo 'missing DATABASE_URL' >&2; exit 1\n"}, "health-check-failed"),
    "health-500": (
        {
            "Procfile": "web: python server.py\n",
            "dockyard.yml": "health: /health\n",
            "server.py": """
                        import os
                        from http.server import BaseHTTPRequestHandler, HTTPServer
                        class H(BaseHTTPRequestHandler):
                            def do_GET(self):
                                self.send_response(500 if self.path == "/health" else 200)
                                self.end_headers()
                        HTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
                        """,
        },
        "health-check-failed",
    ),
    "nothing-detected": ({"notes.txt": "just notes"}, "source-not-detected"),
}


@pytest.mark.parametrize("name", sorted(BAD_APPS))
def test_a_bad_deploy_fails_clearly_and_the_live_version_keeps_answering(
    plane: ControlPlane, tmp_path: Path, name: str
) -> None:
    folder = app(tmp_path, name, {"index.html": "good version"})
    good = plane.up(folder)
    assert good["status"] == "succeeded"
    (folder / "index.html").unlink()
    files, code = BAD_APPS[name]
    for rel, text in files.items():
        (folder / rel).write_text(textwrap.dedent(text))
    bad = plane.up(folder)
    assert bad["exit"] == 1 and bad["status"] == "failed"
    shown = plane.api("GET", f"/deployments/{bad['deploymentId']}")
    assert shown["deployment"]["failure"]["code"] == code
    assert shown["latestFailure"]["level"] == "error"
    assert httpx.get(good["url"]).text == "good version"


def test_an_app_that_never_opens_its_port_fails_within_its_health_policy(
    plane: ControlPlane, tmp_path: Path
) -> None:
    folder = app(tmp_path, "silent", {"index.html": "good version"})
    good = plane.up(folder)
    plane.api(
        "POST",
        f"/resources/{good['resourceId']}/health-policy",
        json={"healthCheck": {"retries": 1, "intervalSeconds": 1}},
    )
    (folder / "index.html").unlink()
    (folder / "Procfile").write_text("web: sleep 1000\n")
    bad = plane.up(folder)
    logs = plane.api("GET", f"/deployments/{bad['deploymentId']}/logs")["logs"]
    assert bad["status"] == "failed"
    assert any("listens on $PORT" in line["message"] for line in logs)
    assert httpx.get(good["url"]).text == "good version"


@pytest.mark.parametrize(
    ("path", "message"), [("does-not-exist", "does not exist"), ("file.txt", "is not a folder")]
)
def test_bad_paths_are_refused_before_anything_is_created(
    plane: ControlPlane, tmp_path: Path, path: str, message: str
) -> None:
    (tmp_path / "file.txt").write_text("x")
    before = plane.api("GET", "/projects/count")["count"]
    done = plane.cli("up", str(tmp_path / path))
    assert done.returncode == 1 and message in done.stderr and "Next:" in done.stderr
    assert "Traceback" not in done.stderr
    assert plane.api("GET", "/projects/count")["count"] == before


def test_an_empty_folder_says_what_was_looked_for(plane: ControlPlane, tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    done = plane.cli("up", str(folder))
    assert done.returncode == 1
    assert "index.html" in done.stdout + done.stderr and "Traceback" not in done.stderr


def test_a_second_up_supersedes_the_one_running(plane: ControlPlane, tmp_path: Path) -> None:
    folder = app(tmp_path, "slow", {"index.html": "v1", "dockyard.yml": "build: sleep 20\nstatic: .\n"})
    first = subprocess.Popen(
        [*plane.cli_args("up", str(folder), "--json")],
        env=plane.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    poll(
        lambda: plane.api("GET", "/deployments/count", params={"status": "running"})["count"] == 1,
        "the first deploy to run",
    )
    (folder / "dockyard.yml").write_text("static: .\n")
    second = plane.up(folder)
    out, _ = first.communicate(timeout=120)
    assert second["status"] == "succeeded"
    assert '"status": "canceled"' in out and first.returncode == 1


def on_a_terminal(plane: ControlPlane, answer: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI with a terminal as its stdin, typing `answer` to its question."""
    import os
    import pty

    master, replica = pty.openpty()
    os.write(master, answer.encode() + b"\n")
    try:
        return subprocess.run(
            plane.cli_args(*args),
            env=plane.env,
            stdin=replica,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        os.close(replica)
        os.close(master)


def test_on_a_terminal_the_first_up_asks_before_creating(plane: ControlPlane, tmp_path: Path) -> None:
    folder = app(tmp_path, "asked", {"index.html": "hi"})
    before = plane.api("GET", "/projects/count")["count"]
    done = on_a_terminal(plane, "n", "up", str(folder))
    assert done.returncode == 1 and "First deploy of" in done.stdout and "Nothing created" in done.stdout
    assert plane.api("GET", "/projects/count")["count"] == before
    assert plane.up(folder, "--yes")["status"] == "succeeded"


def test_two_folders_with_the_same_name_are_two_resources(plane: ControlPlane, tmp_path: Path) -> None:
    twins = {}
    for parent in ("a", "b", "c"):
        (tmp_path / parent).mkdir()
        twins[parent] = app(tmp_path / parent, "twin", {"index.html": f"twin from {parent}"})
    first, second = plane.up(twins["a"]), plane.up(twins["b"])
    assert first["status"] == second["status"] == "succeeded", second["stderr"]
    assert second["resourceId"] != first["resourceId"]
    assert plane.api("GET", f"/resources/{second['resourceId']}")["resource"]["name"] == "twin-2"
    assert httpx.get(first["url"]).text == "twin from a" and httpx.get(second["url"]).text == "twin from b"
    assert plane.up(twins["a"])["resourceId"] == first["resourceId"]  # the same folder redeploys its own
    assert plane.up(twins["b"])["resourceId"] == second["resourceId"]
    named = plane.up(twins["c"], "--name", "twin")  # an explicit name means that resource
    assert named["resourceId"] == first["resourceId"] and httpx.get(first["url"]).text == "twin from c"


def test_on_a_terminal_a_taken_name_is_asked_about(plane: ControlPlane, tmp_path: Path) -> None:
    for parent in ("a", "b"):
        (tmp_path / parent).mkdir()
        app(tmp_path / parent, "echoed", {"index.html": f"echoed from {parent}"})
    first = plane.up(tmp_path / "a" / "echoed")
    before = plane.api("GET", "/resources/count")["count"]
    done = on_a_terminal(plane, "n", "up", str(tmp_path / "b" / "echoed"))
    assert done.returncode == 1 and "Nothing created" in done.stdout, done.stdout
    asked = " ".join(done.stdout.split())
    assert f"'echoed' is deployed from {tmp_path / 'a' / 'echoed'}" in asked and "'echoed-2'" in asked
    assert plane.api("GET", "/resources/count")["count"] == before
    assert httpx.get(first["url"]).text == "echoed from a"


@pytest.mark.parametrize("columns", ["60", "200"])
def test_ids_urls_and_log_lines_are_never_cut_however_narrow_the_output(
    plane: ControlPlane, tmp_path: Path, columns: str
) -> None:
    import subprocess

    said = "building " + "-".join(["a-long-line-of-build-output"] * 5)
    folder = app(tmp_path, "narrow", {"index.html": "hi", "dockyard.yml": f"build: echo {said}\nstatic: .\n"})
    result = plane.up(folder)
    env = {**plane.env, "COLUMNS": columns}

    def run(*args: str) -> str:
        done = subprocess.run(plane.cli_args(*args), env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    row = next(line for line in run("ps").splitlines() if result["resourceId"] in line)
    assert result["url"] in row  # the id and the URL whole, on one line
    listed = run("deployments", "list")
    assert any(
        result["deploymentId"] in line and result["resourceId"] in line for line in listed.splitlines()
    )
    logs = run("deployments", "logs", result["deploymentId"]).splitlines()
    assert any(line.endswith(said) for line in logs), logs


def test_up_shows_each_step_with_its_time_and_the_raw_output_when_asked_or_when_it_fails(
    plane: ControlPlane, tmp_path: Path
) -> None:
    folder = app(
        tmp_path, "told", {"index.html": "hi", "dockyard.yml": "build: echo compiled-$((40+2))\nstatic: .\n"}
    )  # its output ("compiled-42") is not its text, which the timeline names
    plain = plane.cli("up", str(folder), "--yes")
    assert plain.returncode == 0, plain.stderr
    assert re.search(r"build took \d+\.\d\d s", plain.stdout), plain.stdout
    assert "compiled-42" not in plain.stdout, "the command's own output only when asked"
    (folder / "index.html").write_text("hi again")  # a changed source: built again, not reused
    verbose = plane.cli("up", str(folder), "--yes", "--verbose")
    assert verbose.returncode == 0 and "compiled-42" in verbose.stdout
    (folder / "dockyard.yml").write_text("build: echo last-$((6*7)) >&2; exit 3\nstatic: .\n")
    failed = plane.cli("up", str(folder), "--yes")
    assert failed.returncode == 1
    assert "last-42" in failed.stdout and "--verbose" in failed.stdout, "a failing step shows its end"
