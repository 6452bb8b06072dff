"""Processes as the kernel sees them (/proc): whether a retired instance really left."""

from pathlib import Path


def gone(pid: int) -> bool:
    """True once `pid` is out of the process table: it exited and its parent reaped it."""
    return not Path(f"/proc/{pid}").exists()


def children(pid: int) -> set[int]:
    """The pids whose parent is `pid`, read from /proc/*/stat (zombies too: not reaped yet)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            after_name = stat.read_text().rsplit(")", 1)[1].split()  # state, ppid, …
        except (OSError, IndexError):
            continue  # the process left while we looked
        if int(after_name[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def command(pid: int) -> str:
    """The command line of `pid` ("gone" once it left), to say which process a check did not expect."""
    try:
        return (Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))[:200]
    except OSError:
        return "gone"
