"""The process group of the install or build command a deployment is running, kept on the attempt.

Each command runs in its own session (workspace.run_streamed), so its whole tree is one process
group. Its id is recorded on the deployment (`runtime_state.commandGroup`) while it runs, together
with the leader's start time and the boot it started in; a control plane killed mid-command thus
leaves behind what the next start needs to stop the group (work.reconcile) — and to tell it from
an unrelated process that got the same pid since.
"""

import contextlib
import logging
import os
import signal
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from dockyard.store.db import Database
from dockyard.store.tables import Deployment

log = logging.getLogger("dockyard.pipeline")
KEY = "commandGroup"
Note = Callable[[dict[str, Any] | None], None]
# Who hears of each command as it starts (its group) and ends (None): set around a deployment's
# steps by `recorded`, read by run_streamed in the same thread.
_listener: ContextVar[Note | None] = ContextVar("command_group_listener", default=None)


def _stat(pid: int) -> tuple[int, int] | None:
    """(process group, start time in clock ticks since boot) of a live process, else None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after the command name, which may hold spaces
    return int(fields[2]), int(fields[19])


def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None


def identity(pid: int) -> dict[str, Any] | None:
    """What names the group `pid` leads, for as long as it lives."""
    found = _stat(pid)
    if found is None:
        return None
    return {"pgid": pid, "startTicks": found[1], "bootId": _boot_id()}


def started(pid: int) -> None:
    """A command began as the leader of group `pid` (called by run_streamed)."""
    listener = _listener.get()
    if listener is not None and (ident := identity(pid)) is not None:
        listener(ident)


def ended() -> None:
    listener = _listener.get()
    if listener is not None:
        listener(None)


@contextlib.contextmanager
def recorded(db: Database, deployment_id: str) -> Iterator[None]:
    """While the block runs, every command it starts is recorded on the deployment."""

    def note(group: dict[str, Any] | None) -> None:
        try:
            with db.session() as s:
                dep = s.get(Deployment, deployment_id)
                if dep is not None:
                    state = {k: v for k, v in (dep.runtime_state or {}).items() if k != KEY}
                    dep.runtime_state = {**state, KEY: group} if group else state
        except Exception:  # the command runs on; only a restart in the middle of it would miss this
            log.exception("recording the command group of deployment %s failed", deployment_id)

    token = _listener.set(note)
    try:
        yield
    finally:
        _listener.reset(token)


def _members(pgid: int) -> bool:
    """Whether any process is still in group `pgid` (a group id is not reused while one is)."""
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and (found := _stat(int(entry.name))) is not None and found[0] == pgid:
            return True
    return False


def stop(group: dict[str, Any] | None) -> bool:
    """Kill the recorded group if it is still the one recorded: its leader lives with the same start
    time in the same boot, or the leader is gone but members remain. True when it was killed."""
    if not group or group.get("bootId") != _boot_id():
        return False
    pgid = int(group["pgid"])
    leader = _stat(pgid)
    if leader is not None and leader[1] != group.get("startTicks"):
        return False  # the pid now names another process
    if leader is None and not _members(pgid):
        return False
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
        return True
    return False
