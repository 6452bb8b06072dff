"""A recorded command group is killed only while it is still the group that was recorded."""

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockyard.pipeline import command_groups
from polling import poll


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.fixture
def group() -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """A command like a build's: a shell leading its own session, with a child in the background."""
    proc = subprocess.Popen(
        ["/bin/sh", "-c", "sleep 600 & echo $!; wait"], stdout=subprocess.PIPE, start_new_session=True
    )
    assert proc.stdout is not None
    child = int(proc.stdout.readline())
    yield proc, child
    proc.kill()
    proc.wait()
    subprocess.run(["kill", "-9", str(child)], capture_output=True)


def test_the_recorded_group_is_killed_whole(group: tuple[subprocess.Popen[bytes], int]) -> None:
    proc, child = group
    recorded = command_groups.identity(proc.pid)
    assert command_groups.stop(recorded)
    proc.wait()
    poll(lambda: not _alive(child), "the background child to be killed too")


@pytest.mark.parametrize(
    "change", [{"startTicks": -1}, {"bootId": "another boot"}], ids=["pid-reused", "after-a-reboot"]
)
def test_a_pid_that_names_another_process_now_is_left_alone(
    group: tuple[subprocess.Popen[bytes], int], change: dict[str, object]
) -> None:
    proc, child = group
    recorded = command_groups.identity(proc.pid)
    assert recorded is not None
    assert not command_groups.stop({**recorded, **change})
    assert proc.poll() is None and _alive(child)


def test_members_left_after_their_leader_ended_are_killed(
    group: tuple[subprocess.Popen[bytes], int],
) -> None:
    proc, child = group
    recorded = command_groups.identity(proc.pid)
    proc.kill()
    proc.wait()  # the leader is gone (and reaped); its background child still runs in the group
    assert _alive(child)
    assert command_groups.stop(recorded)
    poll(lambda: not _alive(child), "the orphaned member to be killed")
