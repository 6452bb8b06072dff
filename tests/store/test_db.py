"""The store's engine: a connection a write fault left unusable is replaced, not reused forever.

SQLite opens a database it cannot write read-only without saying so, and such a connection stays
read-only after the file is writable again; a pooled one would fail every later write of the
process. The faults: the database file made immutable while the pool opens its connection (a real
read-only moment; `chattr`, so root on a filesystem that has the flag), and `query_only` set on
the pooled connection (the same state, without privileges). On PostgreSQL a session that turned
read-only (a primary demoted to a standby keeps its sessions) is replaced the same way.
"""

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from dockyard.store.db import Database


def _query_only(db: Database, path: Path) -> None:
    with db.engine.connect() as conn:  # the connection goes back to the pool read-only
        conn.exec_driver_sql("PRAGMA query_only=ON")


def _chattr(flag: str, path: Path) -> None:
    done = subprocess.run(["chattr", flag, str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot make {path} immutable here: {done.stderr.strip() or 'chattr failed'}")


def _immutable_while_opening(db: Database, path: Path) -> None:
    db.engine.dispose()  # the next connection is opened during the fault
    _chattr("+i", path)
    try:
        with db.engine.connect() as conn:  # SQLite falls back to read-only; the pool keeps it
            conn.exec_driver_sql("SELECT 1")
    finally:
        _chattr("-i", path)


def _session_read_only(db: Database, path: Path) -> None:
    with db.engine.connect() as conn:
        conn.exec_driver_sql("SET SESSION default_transaction_read_only = on")
        conn.commit()


@pytest.fixture
def notes(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Database, Path]]:
    """A table in SQLite, or in PostgreSQL for the tests that ask for `postgres_module_db`."""
    path = tmp_path / "notes.db"
    pg = "postgres_module_db" in request.fixturenames
    db = Database(request.getfixturevalue("postgres_module_db") if pg else f"sqlite:///{path}")
    with db.session() as s:
        s.execute(text("DROP TABLE IF EXISTS notes"))
        s.execute(text("CREATE TABLE notes (body TEXT)"))
    yield db, path
    db.engine.dispose()


def _write(db: Database, body: str) -> None:
    with db.session() as s:
        s.execute(text("INSERT INTO notes (body) VALUES (:b)"), {"b": body})


def _writes_again_after(db: Database, path: Path, fault: Callable[[Database, Path], None]) -> None:
    fault(db, path)
    with pytest.raises(DBAPIError, match=r"read-?only"):
        _write(db, "during the fault")
    _write(db, "after the fault")
    _write(db, "and later")
    with db.session() as s:
        assert s.scalars(text("SELECT body FROM notes")).all() == ["after the fault", "and later"]


@pytest.mark.parametrize(
    "fault", [_immutable_while_opening, _query_only], ids=["file-immutable", "query-only"]
)
def test_after_a_write_fails_read_only_the_next_session_writes_again(
    notes: tuple[Database, Path], fault: Callable[[Database, Path], None]
) -> None:
    _writes_again_after(*notes, fault)


@pytest.mark.postgres
def test_a_postgres_session_that_turned_read_only_is_replaced(
    postgres_module_db: str, notes: tuple[Database, Path]
) -> None:
    _writes_again_after(*notes, _session_read_only)
