"""Reading an instance's log file: the last lines, or the lines after a byte offset, with their times.

The file is what the process wrote (stdout and stderr together). A line's time comes from
`LOG.times`, where the runner records `SIZE MTIME` each time the file has grown: the first record
whose size covers the line's end says when it was there. Lines newer than the last record get the
file's modification time. Offsets are bytes, so a reader resumes exactly where it stopped.
"""

import os
from dataclasses import dataclass
from typing import BinaryIO

BLOCK = 64 * 1024
MAX_READ = 4 * 1024 * 1024  # bytes read per call; a reader resumes from the returned offset
PARTIAL_AFTER_S = 1.0  # an unfinished last line is shown once the writer has paused this long


@dataclass(frozen=True)
class RawLine:
    offset: int  # where the line starts in the file
    end: int  # just after its newline
    text: str
    written_at: float  # seconds since the epoch


def _split(buf: bytes, base: int, keep_partial: bool) -> list[tuple[int, int, bytes]]:
    """(start, end, bytes) of each line of `buf` (which starts at file offset `base`)."""
    out, pos = [], 0
    while pos < len(buf):
        nl = buf.find(b"\n", pos)
        if nl < 0:
            if keep_partial:
                out.append((base + pos, base + len(buf), buf[pos:]))
            break
        out.append((base + pos, base + nl + 1, buf[pos:nl]))
        pos = nl + 1
    return out


def _partial_ok(mtime: float, now: float) -> bool:
    return now - mtime >= PARTIAL_AFTER_S


def _decode(raw: bytes) -> str:
    return raw.rstrip(b"\r").decode("utf-8", errors="replace")


def _timed(path: str, parts: list[tuple[int, int, bytes]], mtime: float) -> list[RawLine]:
    times = line_times(path, [end for _, end, _ in parts], mtime)
    return [RawLine(s, e, _decode(raw), t) for (s, e, raw), t in zip(parts, times, strict=True)]


def tail(path: str, lines: int, now: float) -> tuple[list[RawLine], int]:
    """The last `lines` lines and the offset after them (the file's end unless a line is unfinished)."""
    with open(path, "rb") as f:
        st = os.fstat(f.fileno())
        size, start, buf = st.st_size, st.st_size, b""
        while start > 0 and buf.count(b"\n") <= lines and size - start < MAX_READ:
            step = min(BLOCK, start)
            start -= step
            f.seek(start)
            buf = f.read(step) + buf
    if start > 0:  # the first piece is the end of an older line
        cut = buf.find(b"\n") + 1
        buf, start = (buf[cut:], start + cut) if cut else (buf, start)
    parts = _split(buf, start, _partial_ok(st.st_mtime, now))
    parts = parts[-lines:] if lines else []
    resume = parts[-1][1] if parts else _complete_end(buf, start)
    return _timed(path, parts, st.st_mtime), resume


def _complete_end(buf: bytes, start: int) -> int:
    """The offset after the last complete line of `buf` (where nothing shown yet begins)."""
    return start + buf.rfind(b"\n") + 1


def read_after(path: str, offset: int, limit: int, now: float) -> tuple[list[RawLine], int]:
    """Up to `limit` lines starting at `offset`, and the offset to resume from.

    An offset past the end means the file was replaced: reading starts over from its beginning.
    """
    with open(path, "rb") as f:
        st = os.fstat(f.fileno())
        if offset > st.st_size:
            offset = 0
        f.seek(offset)
        buf = f.read(min(st.st_size - offset, MAX_READ))
    whole = offset + len(buf) == st.st_size
    # A line longer than MAX_READ is shown in pieces rather than never.
    keep_partial = (whole and _partial_ok(st.st_mtime, now)) or (not whole and b"\n" not in buf)
    parts = _split(buf, offset, keep_partial)[:limit]
    resume = parts[-1][1] if parts else offset
    return _timed(path, parts, st.st_mtime), resume


def size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return -1


# -- LOG.times --------------------------------------------------------------------------------------


def _record(line: bytes) -> tuple[int, float] | None:
    fields = line.split()
    try:
        return int(fields[0]), float(fields[1])
    except (IndexError, ValueError):
        return None


def _seek_first(f: BinaryIO, target: int) -> None:
    """Position `f` at or before the first record whose size is >= target (bisecting by bytes)."""
    f.seek(0, os.SEEK_END)
    lo, hi = 0, f.tell()
    while hi - lo > BLOCK:
        mid = (lo + hi) // 2
        f.seek(mid)
        f.readline()  # to the start of the next record
        rec = _record(f.readline())
        if rec is not None and rec[0] < target:
            lo = mid  # that record, and all before it, end before the target
        else:
            hi = mid
    f.seek(lo)
    if lo:
        f.readline()


def line_times(path: str, ends: list[int], fallback: float) -> list[float]:
    """When each line (given by its end offset, ascending) was in the file."""
    if not ends:
        return []
    try:
        f = open(path + ".times", "rb")  # noqa: SIM115 - closed below
    except OSError:
        return [fallback] * len(ends)
    out = []
    with f:
        _seek_first(f, ends[0])
        rec = _next(f)
        for end in ends:
            while rec is not None and rec[0] < end:
                rec = _next(f)
            out.append(rec[1] if rec else fallback)
    return out


def _next(f: BinaryIO) -> tuple[int, float] | None:
    """The next well-formed record, or None at the end."""
    while line := f.readline():
        if (rec := _record(line)) is not None:
            return rec
    return None
