"""`dockyard serve` with a data dir it cannot write: one line saying what, where and what to do."""

import subprocess
import sys
from pathlib import Path

import pytest

DOCKYARD = Path(sys.executable).parent / "dockyard"


def _unwritable(tmp_path: Path, kind: str) -> Path:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory")
    return {
        "a-file": a_file,
        "under-a-file": a_file / "data",
        "cannot-be-made": Path("/proc/sys/dockyard-data"),
        "read-only": Path("/proc/sys"),
    }[kind]


def _serve_refused(data_dir: Path) -> str:
    """Run `dockyard serve` on `data_dir`; it must exit non-zero with one line and no traceback."""
    done = subprocess.run(
        [str(DOCKYARD), "serve", "--port", "1", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert done.returncode != 0
    assert len(lines) == 1 and "Traceback" not in lines[0], lines
    (line,) = lines
    assert str(data_dir) in line and "cannot write" in line
    assert "--data-dir" in line and "DOCKYARD_DATA_DIR" in line
    return line


@pytest.mark.parametrize("kind", ["a-file", "under-a-file", "cannot-be-made", "read-only"])
def test_an_unwritable_data_dir_stops_serve_with_one_clear_line(tmp_path: Path, kind: str) -> None:
    _serve_refused(_unwritable(tmp_path, kind))


def test_a_database_file_that_cannot_be_written_stops_serve_with_one_clear_line(tmp_path: Path) -> None:
    db = tmp_path / "dockyard.db"
    db.touch()
    if subprocess.run(["chattr", "+i", str(db)], capture_output=True).returncode != 0:
        pytest.skip("cannot make a file immutable here (chattr needs root and a filesystem with the flag)")
    try:
        assert str(db) in _serve_refused(tmp_path)
    finally:
        subprocess.run(["chattr", "-i", str(db)], check=True)
