"""Reading an instance's log file: tails, cursors (byte offsets), unfinished lines, line times."""

import os
from pathlib import Path

from dockyard.runtimes import log_file

NOW = 2_000_000_000.0


def write(path: Path, text: str, mtime: float = NOW - 60) -> str:
    path.write_text(text)
    os.utime(path, (mtime, mtime))
    return str(path)


def texts(lines: list[log_file.RawLine]) -> list[str]:
    return [line.text for line in lines]


def test_tail_returns_the_last_lines_and_where_they_end(tmp_path: Path) -> None:
    log = write(tmp_path / "app.log", "".join(f"line {i}\n" for i in range(10)))
    lines, resume = log_file.tail(log, 3, NOW)
    assert texts(lines) == ["line 7", "line 8", "line 9"]
    assert resume == os.path.getsize(log) == lines[-1].end
    assert [b.offset for b in lines] == [lines[0].offset, lines[0].end, lines[1].end]
    assert log_file.tail(log, 0, NOW) == ([], resume)
    assert texts(log_file.tail(log, 500, NOW)[0]) == [f"line {i}" for i in range(10)]


def test_tail_reaches_back_over_many_blocks(tmp_path: Path) -> None:
    long = "x" * 1000
    log = write(tmp_path / "app.log", "".join(f"{i} {long}\n" for i in range(300)))
    lines, _ = log_file.tail(log, 200, NOW)
    assert len(lines) == 200 and lines[0].text.startswith("100 ") and lines[-1].text.startswith("299 ")


def test_read_after_a_cursor_gives_only_newer_lines(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    log = write(path, "one\ntwo\n")
    lines, cursor = log_file.read_after(log, 0, 100, NOW)
    assert texts(lines) == ["one", "two"]
    assert log_file.read_after(log, cursor, 100, NOW) == ([], cursor)
    with open(path, "a") as f:
        f.write("three\r\nfour\n")
    os.utime(path, (NOW - 60, NOW - 60))
    newer, after = log_file.read_after(log, cursor, 1, NOW)
    assert texts(newer) == ["three"], "at most `limit` lines, carriage return dropped"
    assert texts(log_file.read_after(log, after, 100, NOW)[0]) == ["four"]
    assert texts(log_file.read_after(log, 10_000, 100, NOW)[0])[0] == "one", "a replaced file starts over"


def test_an_unfinished_line_waits_until_the_writer_pauses(tmp_path: Path) -> None:
    log = write(tmp_path / "app.log", "done\nhalf", mtime=NOW)
    lines, resume = log_file.read_after(log, 0, 100, NOW)
    assert texts(lines) == ["done"] and resume == 5
    assert texts(log_file.tail(log, 10, NOW)[0]) == ["done"]
    lines, resume = log_file.read_after(log, 0, 100, NOW + log_file.PARTIAL_AFTER_S)
    assert texts(lines) == ["done", "half"] and resume == 9


def test_line_times_come_from_the_runner_records(tmp_path: Path) -> None:
    log = write(tmp_path / "app.log", "a\nb\nc\nd\n", mtime=NOW)
    (tmp_path / "app.log.times").write_text(f"4 {NOW - 30}\nbad line\n6 {NOW - 20}\n")
    lines, _ = log_file.tail(log, 10, NOW + 5)
    # a and b were there at the first record, c at the second, d only by the file's mtime
    assert [line.written_at for line in lines] == [NOW - 30, NOW - 30, NOW - 20, NOW]


def test_line_times_bisect_a_long_record_file(tmp_path: Path) -> None:
    count = 20_000
    log = write(tmp_path / "app.log", "".join(f"{i:05d}\n" for i in range(count)), mtime=NOW)
    (tmp_path / "app.log.times").write_text("".join(f"{(i + 1) * 6} {1000.0 + i}\n" for i in range(count)))
    assert log_file.line_times(log, [6 * 15_001, 6 * 15_002], NOW) == [1000.0 + 15_000, 1000.0 + 15_001]
    assert log_file.line_times(log, [6], NOW) == [1000.0]
    assert log_file.line_times(log, [6 * count + 1], NOW) == [NOW]
    assert log_file.line_times(str(tmp_path / "other.log"), [1, 2], NOW) == [NOW, NOW]
