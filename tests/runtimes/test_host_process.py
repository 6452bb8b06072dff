"""The host-process runtime against real processes: candidates, promotion, crash restart, swaps."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dockyard.probes.public_access import ask_runner
from dockyard.runtimes import ports, redirect
from dockyard.runtimes.host_process import HostProcessRuntime, free_port
from dockyard.runtimes.protocol import (
    InstanceSpec,
    RuntimeNotDeployed,
    Superseded,
)
from dockyard.runtimes.supervisor import EXIT_ALREADY_RUNNING
from polling import poll
from processes import gone

DEADLINE_S = 15.0


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[HostProcessRuntime]:
    rt = HostProcessRuntime(tmp_path / "data")
    yield rt
    rt.shutdown_all()


def site(tmp_path: Path, deployment_id: str, text: str) -> InstanceSpec:
    folder = tmp_path / deployment_id
    folder.mkdir()
    (folder / "index.html").write_text(text)
    port = free_port()
    return InstanceSpec(
        deployment_id,
        f"exec {sys.executable} -m http.server --bind 127.0.0.1 {port}",
        str(folder),
        {"PATH": os.environ["PATH"]},
        port,
        str(folder / "app.log"),
    )


def answers(spec: InstanceSpec) -> bool:
    """The instance itself answers on its port: its own page, not merely some 200 from the port."""
    page = (Path(spec.cwd) / "index.html").read_text()
    return httpx.get(f"http://127.0.0.1:{spec.port}/").text == page


def deploy(rt: HostProcessRuntime, spec: InstanceSpec) -> str:
    rt.start_candidate("res_a", spec)
    poll(lambda: answers(spec), "the candidate")
    rt.promote("res_a", spec.deployment_id)
    url = rt.url("res_a")
    assert url
    return url


def test_promoted_candidate_serves_on_the_stable_url(runtime: HostProcessRuntime, tmp_path: Path) -> None:
    url = deploy(runtime, site(tmp_path, "dep_1", "v1"))
    assert httpx.get(url).text == "v1"
    status = runtime.status("res_a")
    assert status and status["active"]["deploymentId"] == "dep_1" and status["candidate"] is None


def test_killed_app_comes_back_and_counts_the_restart(runtime: HostProcessRuntime, tmp_path: Path) -> None:
    url = deploy(runtime, site(tmp_path, "dep_1", "v1"))
    pid = runtime.status("res_a")["active"]["pid"]  # type: ignore[index]
    os.kill(pid, signal.SIGKILL)
    poll(lambda: runtime.status("res_a")["active"]["pid"] != pid, "a new process")  # type: ignore[index]
    poll(lambda: httpx.get(url).text == "v1", "the app to answer again")
    assert runtime.status("res_a")["active"]["restarts"] == 1  # type: ignore[index]


def test_swap_to_a_new_version_fails_no_request(runtime: HostProcessRuntime, tmp_path: Path) -> None:
    url = deploy(runtime, site(tmp_path, "dep_1", "v1"))
    old_pid = active(runtime)["pid"]
    failures: list[str] = []
    seen: set[str] = set()
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(headers={"Connection": "close"}) as client:
            while not stop.is_set():
                try:
                    resp = client.get(url)
                    seen.add(resp.text)
                    if resp.status_code != 200:
                        failures.append(str(resp.status_code))
                except httpx.HTTPError as exc:
                    failures.append(repr(exc))

    worker = threading.Thread(target=load)
    worker.start()
    try:
        poll(lambda: "v1" in seen, "traffic on v1")
        deploy(runtime, site(tmp_path, "dep_2", "v2"))
        poll(lambda: "v2" in seen, "traffic on v2")
        assert active(runtime)["deploymentId"] == "dep_2"
        poll(lambda: gone(old_pid), "the old version's process to be retired")
    finally:
        stop.set()
        worker.join()
    assert failures == []


def test_runner_restart_brings_back_the_active_version(runtime: HostProcessRuntime, tmp_path: Path) -> None:
    url = deploy(runtime, site(tmp_path, "dep_1", "v1"))
    status = runtime.status("res_a")
    assert status
    os.kill(status["runnerPid"], signal.SIGKILL)
    os.killpg(status["active"]["pid"], signal.SIGKILL)
    runtime.ensure_runner("res_a")
    assert runtime.url("res_a") == url
    poll(lambda: httpx.get(url).text == "v1", "the restored app")


def test_discarded_candidate_never_receives_traffic(runtime: HostProcessRuntime, tmp_path: Path) -> None:
    url = deploy(runtime, site(tmp_path, "dep_1", "v1"))
    bad = site(tmp_path, "dep_2", "v2")
    runtime.start_candidate("res_a", bad)
    poll(lambda: answers(bad), "the candidate")
    runtime.discard("res_a", "dep_2")
    assert runtime.status("res_a")["candidate"] is None  # type: ignore[index]
    assert httpx.get(url).text == "v1"
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{bad.port}/", timeout=1)


def refused(url: str) -> bool:
    """The front port takes the connection and closes it: no answer from the app."""
    try:
        httpx.get(url, timeout=2)
    except httpx.TransportError:
        return True
    return False


def active(rt: HostProcessRuntime) -> dict:
    status = rt.status("res_a")
    assert status and status["active"]
    return status["active"]


def test_stop_closes_the_front_port_and_start_serves_again(
    runtime: HostProcessRuntime, tmp_path: Path
) -> None:
    spec = site(tmp_path, "dep_1", "v1")
    url = deploy(runtime, spec)
    stopped = runtime.stop("res_a")["active"]
    assert (stopped["state"], stopped["pid"], stopped["deploymentId"]) == ("stopped", None, "dep_1")
    assert refused(url)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{spec.port}/", timeout=1)  # the process itself is gone
    assert runtime.stop("res_a")["active"]["state"] == "stopped"  # stopping twice is harmless
    assert runtime.start("res_a")["active"]["state"] == "running"
    poll(lambda: httpx.get(url).text == "v1", "the started app")
    assert "[dockyard] stopped on request" in Path(spec.log_path).read_text()


def test_a_stopped_app_stays_stopped_when_the_runner_comes_back(
    runtime: HostProcessRuntime, tmp_path: Path
) -> None:
    url = deploy(runtime, site(tmp_path, "dep_1", "v1"))
    runtime.stop("res_a")
    status = runtime.status("res_a")
    assert status
    os.kill(status["runnerPid"], signal.SIGKILL)
    poll(lambda: runtime.status("res_a") is None, "the runner to be gone")
    restored = runtime.ensure_runner("res_a")
    assert restored["runnerPid"] != status["runnerPid"]
    assert (restored["active"]["state"], restored["active"]["deploymentId"]) == ("stopped", "dep_1")
    assert runtime.url("res_a") == url and refused(url)
    runtime.start("res_a")
    poll(lambda: httpx.get(url).text == "v1", "the app started after the restore")


def test_a_control_call_brings_a_dead_runner_back_first(runtime: HostProcessRuntime, tmp_path: Path) -> None:
    url = deploy(runtime, site(tmp_path, "dep_1", "v1"))
    status = runtime.status("res_a")
    assert status
    os.kill(status["runnerPid"], signal.SIGKILL)
    os.killpg(status["active"]["pid"], signal.SIGKILL)
    poll(lambda: runtime.status("res_a") is None, "the runner to be gone")
    assert runtime.restart("res_a")["active"]["state"] == "running"
    poll(lambda: httpx.get(url).text == "v1", "the app after the restart")


def test_restart_gives_a_fresh_process_and_resets_the_crash_count(
    runtime: HostProcessRuntime, tmp_path: Path
) -> None:
    url = deploy(runtime, site(tmp_path, "dep_1", "v1"))
    pid = active(runtime)["pid"]
    os.kill(pid, signal.SIGKILL)
    poll(lambda: (active(runtime)["restarts"], active(runtime)["state"]) == (1, "running"), "a crash restart")
    before = active(runtime)["pid"]
    after = runtime.restart("res_a")["active"]
    assert after["pid"] not in (pid, before) and after["restarts"] == 0 and after["lastExitCode"] is None
    poll(lambda: httpx.get(url).text == "v1", "the restarted app")
    runtime.stop("res_a")
    assert runtime.restart("res_a")["active"]["state"] == "running", "restart starts a stopped app too"
    poll(lambda: httpx.get(url).text == "v1", "the app restarted from stopped")


def test_controls_without_a_deployed_instance_say_so(runtime: HostProcessRuntime, tmp_path: Path) -> None:
    for control in (runtime.stop, runtime.start, runtime.restart):
        with pytest.raises(RuntimeNotDeployed):
            control("res_a")  # no runner, nothing remembered
    assert runtime.status("res_a") is None, "refusing does not start a runner"
    runtime.start_candidate("res_a", site(tmp_path, "dep_1", "v1"))
    runtime.discard("res_a", "dep_1")
    with pytest.raises(RuntimeNotDeployed):
        runtime.stop("res_a")  # a runner, but no active instance
    assert runtime.log_source("res_a") is None


def test_log_source_names_the_active_instance_even_while_the_runner_is_down(
    runtime: HostProcessRuntime, tmp_path: Path
) -> None:
    spec = site(tmp_path, "dep_1", "v1")
    deploy(runtime, spec)
    found = runtime.log_source("res_a")
    assert found and (found.deployment_id, found.path, found.runtime_kind) == (
        "dep_1",
        spec.log_path,
        "host-process",
    )
    assert runtime.log_source("res_a", "dep_2") is None
    status = runtime.status("res_a")
    assert status
    os.kill(status["runnerPid"], signal.SIGKILL)
    os.killpg(status["active"]["pid"], signal.SIGKILL)
    poll(lambda: runtime.status("res_a") is None, "the runner to be gone")
    assert runtime.log_source("res_a") == found


def test_a_held_switch_is_reverted_to_the_previous_instance(
    runtime: HostProcessRuntime, tmp_path: Path
) -> None:
    url = deploy(runtime, site(tmp_path, "dep_1", "v1"))
    second = site(tmp_path, "dep_2", "v2")
    runtime.start_candidate("res_a", second)
    poll(lambda: answers(second), "the candidate")
    held = runtime.promote("res_a", "dep_2", hold=True)
    assert held["active"]["deploymentId"] == "dep_2" and held["previous"]["deploymentId"] == "dep_1"
    assert httpx.get(url).text == "v2"
    back = runtime.revert("res_a", "dep_2")
    assert back["active"]["deploymentId"] == "dep_1" and back["previous"] is None
    assert httpx.get(url).text == "v1"  # the old process never stopped: no start-up gap


def test_a_confirmed_switch_retires_the_previous_instance(
    runtime: HostProcessRuntime, tmp_path: Path
) -> None:
    url = deploy(runtime, site(tmp_path, "dep_1", "v1"))
    old_pid = active(runtime)["pid"]
    second = site(tmp_path, "dep_2", "v2")
    runtime.start_candidate("res_a", second)
    poll(lambda: answers(second), "the candidate")
    runtime.promote("res_a", "dep_2", hold=True)
    runtime.confirm("res_a")
    assert runtime.status("res_a")["previous"] is None  # type: ignore[index]
    poll(lambda: not os.path.exists(f"/proc/{old_pid}"), "the old process to stop")
    assert httpx.get(url).text == "v2"


def test_an_older_candidate_is_refused_once_a_newer_one_runs(
    runtime: HostProcessRuntime, tmp_path: Path
) -> None:
    deploy(runtime, site(tmp_path, "dep_2", "v2"))
    with pytest.raises(Superseded):
        runtime.start_candidate("res_a", site(tmp_path, "dep_1", "v1"))
    assert runtime.status("res_a")["candidate"] is None  # type: ignore[index]


# --- ports: a port someone else holds is never the resource's ---------------------------------------


def test_a_stable_port_a_foreign_process_listens_on_is_not_handed_out(
    runtime: HostProcessRuntime, tmp_path: Path
) -> None:
    """The resource's remembered front port is held by a plain socket server (a second data dir's
    app, a leftover): the resource gets another port, says so, and its URL serves its own app."""
    with socket.create_server(("127.0.0.1", 0)) as foreign:
        held = foreign.getsockname()[1]
        state = runtime.root / "res_a"
        state.mkdir(parents=True)
        (state / "front_port").write_text(str(held))
        started = runtime.start_candidate("res_a", site(tmp_path, "dep_1", "v1"))
        assert started["frontPort"] != held
        assert any(f"port {held} is held by pid {os.getpid()}" in note for note in started["notes"])
        spec_port = started["candidate"]["port"]
        poll(lambda: httpx.get(f"http://127.0.0.1:{spec_port}/").status_code == 200, "the candidate")
        runtime.promote("res_a", "dep_1")
        assert runtime.url("res_a") == f"http://127.0.0.1:{started['frontPort']}/"
        assert httpx.get(runtime.url("res_a") or "").text == "v1"


def test_allocation_skips_ports_given_to_other_resources_and_held_anywhere(
    runtime: HostProcessRuntime, tmp_path: Path
) -> None:
    url = deploy(runtime, site(tmp_path, "dep_1", "v1"))
    front, app_port = runtime.front_port("res_a"), active(runtime)["port"]
    status = runtime.status("res_a")
    assert status
    os.kill(status["runnerPid"], signal.SIGKILL)  # its runner and app are down; its ports stay its own
    os.killpg(status["active"]["pid"], signal.SIGKILL)
    poll(lambda: runtime.status("res_a") is None, "the runner to be gone")
    assert {front, app_port} <= runtime.allocated()
    granted = {runtime.allocate_port() for _ in range(50)}
    assert not granted & {front, app_port}, "a down resource keeps its ports"
    assert len(granted) == 50, "a port is granted once"
    with socket.socket(socket.AF_INET6) as v6:  # `localhost` may resolve to ::1 first
        v6.bind(("::1", 0))
        v6.listen()
        assert ports.taken(v6.getsockname()[1])
    assert url


def test_a_resource_whose_front_port_is_held_gets_no_runner_and_says_why(
    runtime: HostProcessRuntime, tmp_path: Path
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as foreign:
        held = foreign.getsockname()[1]
        runtime.root.mkdir(parents=True)
        runtime.ensure_runner("res_b")  # the supervisor runs, for another resource
        reply = runtime._ask({"op": "attach", "resource": "res_a", "frontPort": held})
    assert reply["code"] == "port-taken" and f"cannot listen on 127.0.0.1:{held}" in reply["error"]
    assert runtime.status("res_a") is None, "nobody mistakes it for a runner"
    assert runtime.supervisor()["resources"] == ["res_b"]  # type: ignore[index]


def test_one_supervisor_holds_every_resource_and_a_second_one_leaves_at_once(
    runtime: HostProcessRuntime, tmp_path: Path
) -> None:
    deploy(runtime, site(tmp_path, "dep_1", "v1"))
    runtime.start_candidate("res_b", site(tmp_path, "dep_2", "v2"))
    held = runtime.supervisor()
    assert held and held["resources"] == ["res_a", "res_b"]
    assert runtime.status("res_a")["runnerPid"] == runtime.status("res_b")["runnerPid"] == held["pid"]  # type: ignore[index]
    second = subprocess.run(
        [sys.executable, "-m", "dockyard.runtimes.supervise", str(runtime.root)],
        capture_output=True,
        text=True,
        timeout=DEADLINE_S,
    )
    assert second.returncode == EXIT_ALREADY_RUNNING and "already answers" in second.stderr
    assert runtime.supervisor() == held


def test_the_supervisor_serves_without_loading_openssl(runtime: HostProcessRuntime, tmp_path: Path) -> None:
    """It speaks no TLS: libssl and libcrypto would cost every server 5 MB resident for nothing."""
    url = deploy(runtime, site(tmp_path, "dep_1", "v1"))
    assert httpx.get(url).text == "v1"
    held = runtime.supervisor() or {}
    maps = Path(f"/proc/{held['pid']}/maps").read_text()
    assert "libssl" not in maps and "libcrypto" not in maps


def test_a_killed_supervisor_never_stops_an_app_and_adopts_it_when_it_comes_back(
    runtime: HostProcessRuntime, tmp_path: Path
) -> None:
    spec = site(tmp_path, "dep_1", "v1")
    url = deploy(runtime, spec)
    before = active(runtime)
    os.kill(runtime.status("res_a")["runnerPid"], signal.SIGKILL)  # type: ignore[index]
    poll(lambda: runtime.supervisor() is None, "the supervisor to be gone")
    assert answers(spec), "the app itself keeps serving"
    assert runtime.revive(), "the monitor's tick starts it again"
    assert not runtime.revive(), "once"
    adopted = active(runtime)
    assert (adopted["pid"], adopted["state"], adopted["restarts"]) == (before["pid"], "running", 0)
    assert httpx.get(url).text == "v1"
    os.killpg(adopted["pid"], signal.SIGKILL)  # an adopted app that dies is started again
    poll(lambda: active(runtime)["pid"] not in (None, before["pid"]), "a fresh process")
    poll(lambda: httpx.get(url).text == "v1", "the restarted app")
    assert active(runtime)["restarts"] == 1


def test_the_front_port_answers_the_runners_probe_with_the_live_deployment(
    runtime: HostProcessRuntime, tmp_path: Path
) -> None:
    url = deploy(runtime, site(tmp_path, "dep_1", "v1"))
    port, token = runtime.front_port("res_a"), runtime.status("res_a")["probeToken"]  # type: ignore[index]
    assert port
    probe = ask_runner(port, token, 5)
    assert probe.deployment_id == "dep_1" and json.loads(probe.body)["deploymentId"] == "dep_1"
    wrong = ask_runner(port, "not-the-token", 5)
    assert wrong.deployment_id is None and wrong.status == 404, "the app's to answer"
    assert httpx.get(url).text == "v1"


@pytest.mark.skipif(redirect.unavailable() is not None, reason=str(redirect.unavailable()))
def test_with_a_kernel_redirect_the_stable_port_reaches_the_app_without_the_forwarder(
    runtime: HostProcessRuntime, tmp_path: Path
) -> None:
    spec = site(tmp_path, "dep_1", "v1")
    url = deploy(runtime, spec)
    assert runtime.status("res_a")["stablePort"]["mechanism"] == "kernel-redirect"  # type: ignore[index]
    assert httpx.get(url).text == "v1"
    with socket.create_connection(("127.0.0.1", runtime.front_port("res_a") or 0)):
        poll(lambda: ports.connected(spec.port), "the app to hold the connection itself")
        assert active(runtime)["connections"] == 0, "the forwarder carried nothing"
    table = redirect.Redirects(runtime.root)
    assert table.current() == {runtime.front_port("res_a"): ("127.0.0.1", spec.port)}
    runtime.shutdown("res_a")
    poll(lambda: runtime.supervisor() is None, "the supervisor to leave with its last resource")
    assert table.current() == {}, "its redirects left with it"


def test_without_a_kernel_redirect_the_runner_forwards_the_stable_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKYARD_STABLE_PORT", "forwarder")  # the supervisor inherits it
    rt = HostProcessRuntime(tmp_path / "data")
    try:
        url = deploy(rt, site(tmp_path, "dep_1", "v1"))
        stable = rt.status("res_a")["stablePort"]  # type: ignore[index]
        assert stable["mechanism"] == "forwarder" and "DOCKYARD_STABLE_PORT" in stable["reason"]
        assert httpx.get(url).text == "v1"
        with socket.create_connection(("127.0.0.1", rt.front_port("res_a") or 0)):
            poll(lambda: active(rt)["connections"] == 1, "the forwarder to carry the connection")
    finally:
        rt.shutdown_all()


def test_a_retired_instance_is_listed_as_draining_while_a_connection_it_had_is_open(
    runtime: HostProcessRuntime, tmp_path: Path
) -> None:
    """Retention keeps the files of what is listed: the retired version still answers there."""
    url = deploy(runtime, site(tmp_path, "dep_1", "v1"))
    old_pid = active(runtime)["pid"]
    held = socket.create_connection(("127.0.0.1", runtime.front_port("res_a") or 0))
    poll(lambda: ports.connected(active(runtime)["port"]), "the connection to reach v1")
    deploy(runtime, site(tmp_path, "dep_2", "v2"))
    draining = runtime.status("res_a")["draining"]  # type: ignore[index]
    assert [i["deploymentId"] for i in draining] == ["dep_1"]
    assert httpx.get(url).text == "v2", "new connections go to the new version"
    held.close()
    poll(lambda: runtime.status("res_a")["draining"] == [], "the drained version to leave")  # type: ignore[index]
    poll(lambda: gone(old_pid), "its process to stop")
