"""`dockyard logs|stop|start|restart` through the real binary against a real `dockyard serve`."""

import contextlib
import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from dockyard.domain.ids import new_id
from polling import poll

pytestmark = pytest.mark.e2e


def refused(done: subprocess.CompletedProcess[str], code: str) -> str:
    """stderr of a refused command, after checking it reads like an answer (exit 1), not a crash."""
    assert done.returncode == 1, f"exit {done.returncode}\nstdout: {done.stdout}\nstderr: {done.stderr}"
    assert done.stdout == "" and "Traceback" not in done.stderr
    assert f"Error [{code}]" in done.stderr and "Next:" in done.stderr, done.stderr
    return done.stderr


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, f"exit {done.returncode}\nstdout: {done.stdout}\nstderr: {done.stderr}"
    assert "Traceback" not in done.stderr
    return done.stdout


def test_logs_of_an_unknown_resource_is_a_clear_error(live_server: Any) -> None:
    refused(live_server.cli("logs", new_id("resource")), "resource_not_found")
    err = refused(live_server.cli("logs", "no-such-app"), "resource_not_found")
    assert "dockyard ps" in err
    refused(live_server.cli("restart", new_id("resource")), "resource_not_found")


def test_a_resource_never_deployed_says_how_to_deploy(live_server: Any) -> None:
    project = live_server.cli_json("projects", "create", "--name", "quiet")["id"]
    env = live_server.cli_json(
        "environments", "create", "--project-id", project, "--name", "production", "--kind", "production"
    )["id"]
    live_server.cli_json(
        "resources", "create", "--project-id", project, "--environment-id", env, "--name", "Idle App"
    )
    for verb in ("logs", "stop", "start", "restart"):
        err = refused(live_server.cli(verb, "idle-app"), "runtime_not_deployed")
        assert "dockyard up" in err


def test_logs_stop_start_restart_of_a_deployed_folder(live_server: Any, tmp_path: Path) -> None:
    folder = tmp_path / "cli-site"
    folder.mkdir()
    (folder / "index.html").write_text("hello")
    up = json.loads(ok(live_server.cli("up", str(folder), "--json", "--yes")).strip().splitlines()[-1])
    assert up["status"] == "succeeded", up
    rid, url = up["resourceId"], up["url"]
    httpx.get(url + "from-the-test")
    printed = poll(lambda: "from-the-test" in (out := ok(live_server.cli("logs", rid))) and out, "the hit")
    assert "{" not in printed, "plain lines for people"
    answer = json.loads(ok(live_server.cli("logs", rid, "--tail", "1", "--json")))
    assert len(answer["logs"]) == 1 and "from-the-test" in answer["logs"][0]["message"]
    assert "followed" in follow_until(live_server, rid, url + "followed", "followed")

    assert "stopped" in ok(live_server.cli("stop", "cli-site"))
    with pytest.raises(httpx.TransportError):
        httpx.get(url, timeout=2)
    started = json.loads(ok(live_server.cli("start", rid, "--json")))
    assert (started["operation"], started["status"]) == ("start", "succeeded")
    poll(lambda: httpx.get(url).text == "hello", "the started site")
    assert "restarted" in ok(live_server.cli("restart", rid))
    poll(lambda: httpx.get(url).text == "hello", "the restarted site")


def follow_until(live_server: Any, rid: str, url: str, wanted: str) -> str:
    """Run `dockyard logs RID -f --tail 0` while requesting `url` until it prints a line with `wanted`."""
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "dockyard"), "logs", rid, "-f", "--tail", "0"],
        env=live_server.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    done = threading.Event()

    def traffic() -> None:  # the follower connects at some point: keep the app printing until then
        while not done.wait(0.2):
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(url)

    worker = threading.Thread(target=traffic)
    worker.start()
    watchdog = threading.Timer(30, proc.kill)  # a follower that never prints must not hang the test
    watchdog.start()
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if wanted in line:
                return line
        raise AssertionError(f"dockyard logs -f ended (exit {proc.wait()}) without printing {wanted!r}")
    finally:
        done.set()
        worker.join()
        watchdog.cancel()
        proc.terminate()
        proc.wait()
