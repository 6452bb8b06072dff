"""At start, every attempt still active whose work will never run again ends terminal.

A deployment stuck `planning` or `cancel-requested` (its worker crashed, or recording its end failed
while the store was briefly read-only) ends `failed` (interrupted), or `canceled` when a cancel was
asked; one whose work is still pending or running under a live worker is left to it. A build
command that a killed control plane left running is stopped, its whole process group.
"""

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, update

from deploy_target import made, new_target, with_source
from dockyard.services import Services
from dockyard.store.tables import Deployment, WorkItem
from dockyard.work.reconcile import reconcile
from polling import poll

DOCKYARD = Path(sys.executable).parent / "dockyard"
STUCK = ("created", "planning", "planned", "running", "cancel-requested")


@pytest.fixture
def deploy(api: Any, tmp_path: Path) -> Any:
    """A function that requests a deployment of a small static site and returns its id."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("hi")
    return lambda: made(api, "/api/deployments", with_source(api, new_target(api, "stuck"), site))


def leave(stack: Any, deployment_id: str, status: str, item: dict[str, Any] | None) -> None:
    """Put the attempt in `status` and its work item as given (None: the item is gone)."""
    with stack.db.session() as s:
        s.execute(update(Deployment).where(Deployment.id == deployment_id).values(status=status))
        rows = WorkItem.kind == "deployment", WorkItem.subject_id == deployment_id
        if item is None:
            s.execute(delete(WorkItem).where(*rows))
        else:
            s.execute(update(WorkItem).where(*rows).values(**item))


def shown(api: Any, deployment_id: str) -> dict[str, Any]:
    return api.get(f"/api/deployments/{deployment_id}").json()["deployment"]


FINISHED = {"status": "failed", "error_code": "handler_crashed", "finished_at": "2026-01-01T00:00:00.000Z"}


@pytest.mark.parametrize("item", [FINISHED, None], ids=["work-failed", "work-gone"])
@pytest.mark.parametrize("status", STUCK)
def test_an_attempt_no_work_will_run_again_ends_terminal(
    api: Any, stack: Any, deploy: Any, status: str, item: dict[str, Any] | None
) -> None:
    dep = deploy()
    leave(stack, dep, status, item)
    assert dep in reconcile(Services.create(stack.settings, stack.db))
    after = shown(api, dep)
    if status == "cancel-requested":
        assert after["status"] == "canceled", after
    else:
        assert after["status"] == "failed" and after["failure"]["code"] == "interrupted", after
        assert "retry" in after["failure"]["nextAction"]
    assert after["finishedAt"]


LIVE_ELSEWHERE = {"status": "running", "lease_owner": "replica-2:4242:abcd", "lease_expires_at": "2999-01-01"}


@pytest.mark.parametrize(
    ("status", "item"),
    [
        ("created", {"status": "pending"}),
        ("cancel-requested", {"status": "pending"}),
        ("running", LIVE_ELSEWHERE),
    ],
    ids=["queued", "canceled-while-queued", "running-on-another-replica"],
)
def test_an_attempt_whose_work_is_still_queued_or_running_is_left_to_it(
    api: Any, stack: Any, deploy: Any, status: str, item: dict[str, Any]
) -> None:
    dep = deploy()
    leave(stack, dep, status, item)
    assert reconcile(Services.create(stack.settings, stack.db)) == []
    assert shown(api, dep)["status"] == status


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")  # a zombie has ended (PID 1 here may not reap it)


def test_a_build_left_running_by_a_killed_control_plane_is_stopped_at_start(
    live_server: Any, tmp_path: Path
) -> None:
    pids = tmp_path / "build.pids"
    folder = tmp_path / "slow-build"
    folder.mkdir()
    (folder / "index.html").write_text("never served")
    # The shell (the group's leader) and a child of it in the background, both waiting for ever.
    build = f"echo $$ > {pids}; sleep 600 & echo $! >> {pids}; wait"
    (folder / "dockyard.yml").write_text(f"build: {json.dumps(build)}\nstatic: .\n")
    started: list[int] = []
    request = subprocess.Popen(
        [str(DOCKYARD), "up", str(folder), "--json"],
        env=live_server.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    try:
        started = poll(
            lambda: len(found := pids.read_text().split()) == 2 and [int(p) for p in found],
            "the build to start its processes",
            deadline=60,
        )
        assert all(_alive(pid) for pid in started)
        live_server.proc.send_signal(signal.SIGKILL)
        live_server.proc.wait()
        live_server.start()
        poll(lambda: not any(_alive(pid) for pid in started), "the build's processes to be gone")
        token = {"Authorization": f"Bearer {live_server.token}"}
        (dep,) = httpx.get(f"{live_server.url}/api/deployments", headers=token).json()["items"]
        assert dep["status"] == "failed" and dep["failure"]["code"] == "interrupted", dep
    finally:
        request.kill()
        request.wait()
        for pid in started:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
