"""Engine and sessions: SQLite (WAL) in the data dir by default, PostgreSQL by URL."""

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")
# Errors after which a connection is not trusted again. SQLite's primary result codes: one opened
# while the file could not be written stays read-only for good (READONLY), I/O and open failures
# leave its state unknown, a full disk is often one being replaced. PostgreSQL's
# read_only_sql_transaction: the session is on a server that turned standby.
_RECYCLED_SQLITE_CODES = frozenset(
    {sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_FULL}
)
_RECYCLED_SQLSTATES = frozenset({"25006"})


def _recycle_damaged(ctx: ExceptionContext) -> None:
    """Treat such an error like a lost connection: SQLAlchemy then discards the connection (and
    the others pooled before it, opened in the same bad moment) so the next checkout opens anew."""
    error = ctx.original_exception
    if isinstance(error, sqlite3.Error):
        code = getattr(error, "sqlite_errorcode", None)
        damaged = code is not None and code & 0xFF in _RECYCLED_SQLITE_CODES
    else:
        damaged = getattr(error, "sqlstate", None) in _RECYCLED_SQLSTATES
    if damaged:
        ctx.is_disconnect = True


def make_engine(url: str) -> Engine:
    engine = _sqlite_engine(url) if url.startswith("sqlite") else _server_engine(url)
    event.listen(engine, "handle_error", _recycle_damaged)
    return engine


def _server_engine(url: str) -> Engine:
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    return engine


def head_revision() -> str:
    """The newest revision among the migration files (they chain 0001 -> 0002 -> ...)."""
    revisions = {
        m.group(1): m.group(2)
        for f in (MIGRATIONS / "versions").glob("*.py")
        if (m := re.search(r'^revision = "(\w+)"\ndown_revision = "?(\w+)"?', f.read_text(), re.M))
    }
    parents = set(revisions.values())
    return next(r for r in revisions if r not in parents)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.scalar(text("SELECT version_num FROM alembic_version"))


def migrate(engine: Engine, data_dir: Path | None = None) -> None:
    """Bring the schema to the newest Alembic revision. Alembic (10 MB resident) is imported only
    when there is something to do. `data_dir`: where the secret key is, for migrations that seal."""
    if current_revision(engine) == head_revision():
        return
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        cfg.attributes["data_dir"] = data_dir
        command.upgrade(cfg, "head")


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work: committed when the block ends, rolled back on any error."""
        with self._sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
