"""Reading an instance's log file: tails, cursors (byte offsets), unfinished lines, line times."""

import itertools
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dockyard.runtimes import log_file
from dockyard.secrets.masking import MIN_CUT_BYTES, NO_MASK, Masker

NOW = 2_000_000_000.0


def write(path: Path, text: str, mtime: float = NOW - 60) -> str:
    path.write_text(text)
    os.utime(path, (mtime, mtime))
    return str(path)


def texts(lines: list[log_file.Line]) -> list[str]:
    return [line.text for line in lines]


def test_tail_returns_the_last_lines_and_where_they_end(tmp_path: Path) -> None:
    log = write(tmp_path / "app.log", "".join(f"line {i}\n" for i in range(10)))
    lines, resume = log_file.tail(log, 3, NOW, NO_MASK)
    assert texts(lines) == ["line 7", "line 8", "line 9"]
    assert resume == os.path.getsize(log) == lines[-1].end
    assert [b.offset for b in lines] == [lines[0].offset, lines[0].end, lines[1].end]
    assert log_file.tail(log, 0, NOW, NO_MASK) == ([], resume)
    assert texts(log_file.tail(log, 500, NOW, NO_MASK)[0]) == [f"line {i}" for i in range(10)]


def test_tail_reaches_back_over_many_blocks(tmp_path: Path) -> None:
    long = "x" * 1000
    log = write(tmp_path / "app.log", "".join(f"{i} {long}\n" for i in range(300)))
    lines, _ = log_file.tail(log, 200, NOW, NO_MASK)
    assert len(lines) == 200 and lines[0].text.startswith("100 ") and lines[-1].text.startswith("299 ")


def test_read_after_a_cursor_gives_only_newer_lines(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    log = write(path, "one\ntwo\n")
    lines, cursor = log_file.read_after(log, 0, 100, NOW, NO_MASK)
    assert texts(lines) == ["one", "two"]
    assert log_file.read_after(log, cursor, 100, NOW, NO_MASK) == ([], cursor)
    with open(path, "a") as f:
        f.write("three\r\nfour\n")
    os.utime(path, (NOW - 60, NOW - 60))
    newer, after = log_file.read_after(log, cursor, 1, NOW, NO_MASK)
    assert texts(newer) == ["three"], "at most `limit` lines, carriage return dropped"
    assert texts(log_file.read_after(log, after, 100, NOW, NO_MASK)[0]) == ["four"]
    assert texts(log_file.read_after(log, 10_000, 100, NOW, NO_MASK)[0])[0] == "one", (
        "a replaced file starts over"
    )


def test_an_unfinished_line_waits_until_the_writer_pauses(tmp_path: Path) -> None:
    log = write(tmp_path / "app.log", "done\nhalf", mtime=NOW)
    lines, resume = log_file.read_after(log, 0, 100, NOW, NO_MASK)
    assert texts(lines) == ["done"] and resume == 5
    assert texts(log_file.tail(log, 10, NOW, NO_MASK)[0]) == ["done"]
    lines, resume = log_file.read_after(log, 0, 100, NOW + log_file.PARTIAL_AFTER_S, NO_MASK)
    assert texts(lines) == ["done", "half"] and resume == 9


def test_line_times_come_from_the_runner_records(tmp_path: Path) -> None:
    log = write(tmp_path / "app.log", "a\nb\nc\nd\n", mtime=NOW)
    (tmp_path / "app.log.times").write_text(f"4 {NOW - 30}\nbad line\n6 {NOW - 20}\n")
    lines, _ = log_file.tail(log, 10, NOW + 5, NO_MASK)
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


# -- secrets: masked on whole lines before anything is cut ------------------------------------------

SECRET = "tok-5f2a9c81e7"
MASKER = Masker([SECRET])


def test_a_cursor_inside_a_line_shows_the_rest_of_it_with_the_secret_still_masked(tmp_path: Path) -> None:
    log = write(tmp_path / "app.log", f"boot\ntoken={SECRET} ok\n")
    line_start = len("boot\n")
    for offset in range(line_start, os.path.getsize(log)):
        lines, resume = log_file.read_after(log, offset, 100, NOW, MASKER)
        assert resume == os.path.getsize(log)
        shown = texts(lines)
        assert all(SECRET[-4:] not in text for text in shown), (offset, shown)
        if offset < line_start + len(f"token={SECRET}"):
            assert shown[0].endswith("**** ok") and lines[0].masked and lines[0].offset == offset, shown
    assert texts(log_file.read_after(log, 0, 100, NOW, MASKER)[0]) == ["boot", "token=**** ok"]


def test_a_line_written_in_two_parts_comes_back_masked_on_both_sides_of_the_cut(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    log = write(path, f"token={SECRET[:6]}")  # the app flushed half a line, then paused
    first, cursor = log_file.read_after(log, 0, 100, NOW, MASKER)
    assert texts(first) == ["token=****"] and first[0].masked, "a secret's prefix at the cut is hidden"
    assert texts(log_file.tail(log, 10, NOW, MASKER)[0]) == ["token=****"]
    with open(path, "a") as f:
        f.write(f"{SECRET[6:]} ok\r\n")
    os.utime(path, (NOW - 60, NOW - 60))
    rest, _ = log_file.read_after(log, cursor, 100, NOW, MASKER)
    assert texts(rest) == ["**** ok"] and rest[0].masked and rest[0].offset == cursor
    assert texts(log_file.tail(log, 10, NOW, MASKER)[0]) == ["token=**** ok"]


def test_a_piece_of_a_line_too_long_to_read_at_once_hides_a_secret_at_its_edges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(log_file, "MAX_READ", 64)
    monkeypatch.setattr(log_file, "BLOCK", 16)
    log = write(tmp_path / "app.log", "x" * 58 + SECRET + "y" * 100 + "\n")
    first, cursor = log_file.read_after(log, 0, 100, NOW, MASKER)
    assert texts(first) == ["x" * 58 + "****"] and cursor == 64
    far = 58 + len(SECRET) + 80  # the line's start lies more than MAX_READ before this offset
    assert texts(log_file.read_after(log, far, 100, NOW, MASKER)[0]) == ["y" * 20]
    log2 = write(tmp_path / "two.log", "x" * 100 + SECRET + "\n")
    assert texts(log_file.read_after(log2, 100 + 6, 100, NOW, MASKER)[0]) == ["****"]


# -- properties: whatever the writes, cursors and encodings, no secret is shown ----------------------

PLAIN = "ab =:é日🙂\r"  # what the app prints around a secret (multibyte, a stray carriage return)
SECRETISH = "XYZ9ü€𝄞-"  # what a secret is made of: none of PLAIN, so any run of these shown came from it
secret_values = st.text(SECRETISH, min_size=4, max_size=24)
plain_text = st.text(PLAIN, max_size=12)


def file_content(secret: str, around: list[tuple[str, str]], eol: str) -> bytes:
    return "".join(f"{before}{secret}{after}{eol}" for before, after in around).encode()


def longest_secret_run(text: str) -> int:
    """Bytes in the longest run of secret characters in `text`."""
    runs = "".join(c if c in SECRETISH else " " for c in text).split()
    return max((len(run.encode()) for run in runs), default=0)


def shown_in_order(lines: list[log_file.Line], content: bytes) -> str:
    """The follower's view: the pieces of one line joined, lines apart."""
    return "".join(line.text + ("\n" if content[line.end - 1 : line.end] == b"\n" else "") for line in lines)


@settings(max_examples=150, deadline=None)
@given(
    secret=secret_values,
    around=st.lists(st.tuples(plain_text, plain_text), min_size=1, max_size=3),
    eol=st.sampled_from(["\n", "\r\n"]),
    cuts=st.lists(st.integers(min_value=1, max_value=400), max_size=8),
)
def test_a_follower_never_sees_a_secret_however_the_app_splits_its_writes(
    secret: str, around: list[tuple[str, str]], eol: str, cuts: list[int]
) -> None:
    content = file_content(secret, around, eol)
    points = [0, *sorted({c for c in cuts if c < len(content)}), len(content)]
    mask = Masker([secret])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "app.log"
        path.write_bytes(b"")
        seen: list[log_file.Line] = []
        cursor = 0
        for start, end in itertools.pairwise(points):
            with open(path, "ab") as f:  # the app writes a piece, flushes, and pauses
                f.write(content[start:end])
            os.utime(path, (NOW - 60, NOW - 60))
            lines, cursor = log_file.read_after(str(path), cursor, 1000, NOW, mask)
            seen += lines
            tailed = texts(log_file.tail(str(path), 1000, NOW, mask)[0])
            assert all(secret not in t and longest_secret_run(t) < MIN_CUT_BYTES for t in tailed), tailed
    view = shown_in_order(seen, content)
    assert secret not in view
    assert longest_secret_run(view) < MIN_CUT_BYTES, view
    assert cursor == len(content)


@settings(max_examples=100, deadline=None)
@given(
    secret=st.text(PLAIN + SECRETISH, min_size=4, max_size=16).map(str.strip).filter(lambda s: len(s) >= 4),
    around=st.lists(st.tuples(plain_text, plain_text), min_size=1, max_size=3),
    eol=st.sampled_from(["\n", "\r\n"]),
)
def test_no_cursor_shows_a_secret_or_a_part_of_one(
    secret: str, around: list[tuple[str, str]], eol: str
) -> None:
    content = file_content(secret, around, eol)
    mask = Masker([secret])
    with tempfile.TemporaryDirectory() as tmp:
        log = write(Path(tmp) / "app.log", content.decode())
        for offset in range(len(content) + 1):
            lines, resume = log_file.read_after(log, offset, 1000, NOW, mask)
            assert resume == len(content)
            for text in texts(lines):
                assert secret not in text, (offset, text)
                if not set(secret) & set(PLAIN):
                    assert longest_secret_run(text) < MIN_CUT_BYTES, (offset, text)
