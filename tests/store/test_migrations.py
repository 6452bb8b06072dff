"""First start and every start: schema, default organization, `local` server, first admin and token."""

import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, text

from dockyard import auth
from dockyard.config import Settings
from dockyard.startup import prepare
from dockyard.store.db import MIGRATIONS, Database
from dockyard.store.tables import ApiToken, Base, Organization, Server, User

TABLES = {t.name for t in Base.metadata.sorted_tables}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings over a store that has never seen a schema: a zero-byte SQLite file, or a new database."""
    if request.param == "sqlite":
        (tmp_path / "dockyard.db").touch()
        url = f"sqlite:///{tmp_path / 'dockyard.db'}"
    else:
        url = request.getfixturevalue("empty_postgres_db")
    yield Settings(data_dir=tmp_path / "data", database_url=url)


@pytest.fixture
def opened() -> Iterator[list[Database]]:
    """Databases a test opened; their connections are closed afterwards."""
    dbs: list[Database] = []
    yield dbs
    for db in dbs:
        db.engine.dispose()


def start(settings: Settings, opened: list[Database]) -> Database:
    db = prepare(settings)
    opened.append(db)
    return db


def downgrade_to(db: Database, revision: str) -> None:
    from alembic import command

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def head_revision() -> str:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head
    return head


def snapshot(db: Database) -> dict[str, Any]:
    with db.session() as s:
        return {
            "version": s.scalar(text("SELECT version_num FROM alembic_version")),
            "organizations": [tuple(r) for r in s.execute(select(Organization.id, Organization.slug))],
            "servers": [tuple(r) for r in s.execute(select(Server.id, Server.name, Server.is_control_plane))],
            "admins": [tuple(r) for r in s.execute(select(User.id, User.email).where(User.role == "admin"))],
            "tokens": s.scalar(select(func.count()).select_from(ApiToken)),
        }


def test_first_start_on_an_empty_store_creates_schema_org_local_server_and_admin(
    empty_store: Settings, opened: list[Database]
) -> None:
    db = start(empty_store, opened)
    assert set(inspect(db.engine).get_table_names()) >= TABLES
    state = snapshot(db)
    assert state["version"] == head_revision()
    assert [slug for _, slug in state["organizations"]] == ["default"]
    assert [(name, cp) for _, name, cp in state["servers"]] == [("local", True)]
    assert [email for _, email in state["admins"]] == ["admin@localhost"]
    assert state["tokens"] == 1
    assert empty_store.token_file.is_file()


def test_the_migrated_schema_matches_the_models(empty_store: Settings, opened: list[Database]) -> None:
    db = start(empty_store, opened)
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == [], "tables.py and the migrations disagree; add a migration"


def test_starting_again_changes_nothing(empty_store: Settings, opened: list[Database]) -> None:
    first = start(empty_store, opened)
    before = snapshot(first)
    token = empty_store.token_file.read_text()
    again = start(empty_store, opened)
    start(empty_store, opened)
    assert snapshot(again) == before
    assert empty_store.token_file.read_text() == token
    with again.session() as s:
        assert auth.authenticate(s, token.strip()).role == "admin"


def test_a_lost_token_file_is_reissued_and_works(empty_store: Settings, opened: list[Database]) -> None:
    start(empty_store, opened)
    lost = empty_store.token_file.read_text().strip()
    empty_store.token_file.unlink()
    db = start(empty_store, opened)
    fresh = empty_store.token_file.read_text().strip()
    assert fresh and fresh != lost
    with db.session() as s:
        principal = auth.authenticate(s, fresh)
        assert principal.role == "admin"
        assert s.scalar(select(func.count()).select_from(User).where(User.role == "admin")) == 1


def test_token_file_is_readable_by_its_owner_only_whatever_the_umask(
    empty_store: Settings, opened: list[Database]
) -> None:
    previous = os.umask(0)
    try:
        start(empty_store, opened)
    finally:
        os.umask(previous)
    mode = stat.S_IMODE(empty_store.token_file.stat().st_mode)
    assert mode == 0o600, oct(mode)


def test_the_token_is_stored_only_as_its_hash(empty_store: Settings, opened: list[Database]) -> None:
    db = start(empty_store, opened)
    token = empty_store.token_file.read_text().strip()
    assert token.startswith("dky_") and len(token) > 30
    with db.engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(select(ApiToken.__table__))]
    assert len(rows) == 1
    assert not any(token in str(value) for value in rows[0])
    assert hashlib.sha256(token.encode()).hexdigest() in rows[0]


def test_sqlite_files_on_disk_never_contain_the_plaintext_token(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'dockyard.db'}")
    db = prepare(settings)
    token = settings.token_file.read_text().strip()
    # Read the files while the engine is open (the WAL holds fresh pages) and after it closed.
    files = sorted(tmp_path.glob("dockyard.db*"))
    assert tmp_path / "dockyard.db" in files
    for f in files:
        assert token.encode() not in f.read_bytes(), f.name
    db.engine.dispose()
    for f in tmp_path.glob("dockyard.db*"):
        assert token.encode() not in f.read_bytes(), f.name
    assert hashlib.sha256(token.encode()).hexdigest().encode() in b"".join(
        f.read_bytes() for f in tmp_path.glob("dockyard.db*")
    )


def test_prepare_creates_a_missing_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "nested" / "data"
    db = prepare(Settings(data_dir=data_dir, database_url=f"sqlite:///{tmp_path / 'dockyard.db'}"))
    db.engine.dispose()
    assert (data_dir / "admin.token").is_file()


def test_plaintext_mcp_env_values_of_an_older_store_are_sealed_by_the_upgrade(
    empty_store: Settings, opened: list[Database]
) -> None:
    from dockyard.hosting.sources import launchable
    from dockyard.store.mcp_tables import McpCustomServer, McpCustomVersion, McpProvider, McpProviderVersion

    secret, now = "sk-old-plaintext-0c4e9b7a", "2026-11-01T00:00:00Z"
    db = start(empty_store, opened)
    env = {"API_KEY": secret, "MODE": "fast"}
    with db.session() as s:  # rows as 0012 (before sealing) stored them: `env` in the clear
        s.add(McpCustomServer(id="cpr_1", kind="provider", name="x", created_at=now, updated_at=now))
        s.flush()
        s.add(McpProvider(id="pro_1", custom_id="cpr_1", name="x", created_at=now, updated_at=now))
        s.flush()
        row = {"source": {"type": "stdio", "command": "python", "env": env}, "transformer": {}}
        row |= {"created_at": now, "updated_at": now}
        s.add(
            McpCustomVersion(
                id="cpv_1", custom_id="cpr_1", index=1, identifier="v1", status="queued", actor={}, **row
            )
        )
        s.add(
            McpProviderVersion(
                id="prv_1", provider_id="pro_1", custom_version_id="cpv_1", version="v1", discovery={}, **row
            )
        )
    downgrade_to(db, "0012")  # the schema as 0012 left it: the upgrade below runs 0013 and what follows
    db.engine.dispose()
    again = start(empty_store, opened)
    with again.session() as s:
        sources = [s.get(McpCustomVersion, "cpv_1").source, s.get(McpProviderVersion, "prv_1").source]
    for source in sources:
        assert "env" not in source and source["env_keys"] == ["API_KEY", "MODE"]
        assert secret not in str(source)
        assert launchable(empty_store.data_dir, source, "cpv_1")["env"] == env
    again.engine.dispose()
    if empty_store.database_url.startswith("sqlite"):
        folder = Path(empty_store.database_url.removeprefix("sqlite:///")).parent
        stored = b"".join(p.read_bytes() for p in folder.glob("dockyard.db*"))
        assert secret.encode() not in stored
