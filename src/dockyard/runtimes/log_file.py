"""Reading an instance's log file: the last lines, or the lines after a byte offset, with their times.

The file is what the process wrote (stdout and stderr together). A line's time comes from
`LOG.times`, where the runner records `SIZE MTIME` each time the file has grown: the first record
whose size covers the line's end says when it was there. Lines newer than the last record get the
file's modification time. Offsets are bytes, so a reader resumes exactly where it stopped.

Secrets are masked here, on whole lines, before anything is cut: an offset inside a line (the end of
an unfinished line shown earlier, or any cursor a client sends) re-reads the line from its start,
masks it, and shows only what follows the offset. A piece cut from its line (an unfinished line, a
line too long to read at once) also hides a secret's prefix or suffix at the cut (see Masker.line).
"""

import os
from dataclasses import dataclass
from typing import BinaryIO

from dockyard.secrets.masking import Masker

BLOCK = 64 * 1024
MAX_READ = 4 * 1024 * 1024  # bytes read per call; a reader resumes from the returned offset
PARTIAL_AFTER_S = 1.0  # an unfinished last line is shown once the writer has paused this long


@dataclass(frozen=True)
class Line:
    offset: int  # where the part shown starts in the file: the line's start, or the offset read from
    end: int  # just after its newline (or the last byte read, for an unfinished line)
    text: str  # masked
    written_at: float  # seconds since the epoch
    masked: bool = False  # whether a secret (or part of one) was hidden in `text`


@dataclass(frozen=True)
class _Piece:
    start: int  # where the line (or the piece of it read) starts in the file
    end: int
    data: bytes  # without the line end
    open_start: bool  # `start` is not the line's start (it began before what was read)
    open_end: bool  # the line goes on past `end` (unfinished, or too long to read at once)


def _split(buf: bytes, base: int, keep_partial: bool, open_start: bool) -> list[_Piece]:
    """The lines of `buf` (which starts at file offset `base`)."""
    out, pos = [], 0
    while pos < len(buf):
        nl = buf.find(b"\n", pos)
        if nl < 0:
            if keep_partial:
                out.append(_Piece(base + pos, base + len(buf), buf[pos:].rstrip(b"\r"), open_start, True))
            break
        out.append(_Piece(base + pos, base + nl + 1, buf[pos:nl].rstrip(b"\r"), open_start, False))
        pos, open_start = nl + 1, False
    return out


def _partial_ok(mtime: float, now: float) -> bool:
    return now - mtime >= PARTIAL_AFTER_S


def _shown(
    path: str, pieces: list[_Piece], mtime: float, mask: Masker, after: int, limit: int
) -> tuple[list[Line], int]:
    """Up to `limit` lines of `pieces` masked whole, each shown from `after` on (only the first can
    start before it); and the offset after the last piece taken (`after` when none was)."""
    out: list[tuple[_Piece, int, str, bool]] = []
    resume = after
    for piece in pieces:
        if len(out) == limit:
            break
        cut = max(0, after - piece.start)
        text, masked = mask.line(piece.data, cut, open_start=piece.open_start, open_end=piece.open_end)
        resume = piece.end
        if cut and not text:  # nothing after the offset on this line yet
            continue
        out.append((piece, cut, text, masked))
    times = line_times(path, [p.end for p, *_ in out], mtime)
    lines = [
        Line(p.start + cut, p.end, text, t, masked)
        for (p, cut, text, masked), t in zip(out, times, strict=True)
    ]
    return lines, resume


def tail(path: str, lines: int, now: float, mask: Masker) -> tuple[list[Line], int]:
    """The last `lines` lines and the offset after them (the file's end unless a line is unfinished)."""
    with open(path, "rb") as f:
        st = os.fstat(f.fileno())
        size, start, buf = st.st_size, st.st_size, b""
        while start > 0 and buf.count(b"\n") <= lines and size - start < MAX_READ:
            step = min(BLOCK, start)
            start -= step
            f.seek(start)
            buf = f.read(step) + buf
    open_start = False
    if start > 0:  # the first piece is the end of an older line
        cut = buf.find(b"\n") + 1
        buf, start, open_start = (buf[cut:], start + cut, False) if cut else (buf, start, True)
    pieces = _split(buf, start, _partial_ok(st.st_mtime, now), open_start)
    pieces = pieces[-lines:] if lines else []
    if not pieces:
        return [], _complete_end(buf, start)
    return _shown(path, pieces, st.st_mtime, mask, pieces[0].start, lines)


def _complete_end(buf: bytes, start: int) -> int:
    """The offset after the last complete line of `buf` (where nothing shown yet begins)."""
    return start + buf.rfind(b"\n") + 1


def _line_start(f: BinaryIO, offset: int) -> tuple[int, bool]:
    """Where the line holding `offset` starts, looking back at most MAX_READ bytes; and whether it
    starts further back than that (the piece read then begins at a cut)."""
    pos = offset
    while pos > 0 and offset - pos < MAX_READ:
        step = min(BLOCK, pos)
        f.seek(pos - step)
        nl = f.read(step).rfind(b"\n")
        if nl >= 0:
            return pos - step + nl + 1, False
        pos -= step
    return pos, pos > 0


def read_after(path: str, offset: int, limit: int, now: float, mask: Masker) -> tuple[list[Line], int]:
    """Up to `limit` lines from `offset` on, and the offset to resume from.

    An offset inside a line shows the rest of that line (masked as a whole) first. An offset past the
    end means the file was replaced: reading starts over from its beginning.
    """
    with open(path, "rb") as f:
        st = os.fstat(f.fileno())
        if offset > st.st_size:
            offset = 0
        start, open_start = _line_start(f, offset)
        f.seek(start)
        buf = f.read(min(st.st_size - start, offset - start + MAX_READ))
    whole = start + len(buf) == st.st_size
    # A line longer than MAX_READ is shown in pieces rather than never.
    keep_partial = (whole and _partial_ok(st.st_mtime, now)) or (not whole and b"\n" not in buf)
    return _shown(path, _split(buf, start, keep_partial, open_start), st.st_mtime, mask, offset, limit)


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
