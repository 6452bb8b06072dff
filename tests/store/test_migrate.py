"""`dockyard serve` migrates in a child process: the schema reaches the newest revision, a failure is
one line, and a store already at the newest revision starts no child."""

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import text

from dockyard.config import Settings
from dockyard.store import migrate
from dockyard.store.db import current_revision, head_revision, make_engine


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'dockyard.db'}")


def revision(settings: Settings) -> str | None:
    engine = make_engine(settings.database_url)
    try:
        return current_revision(engine)
    finally:
        engine.dispose()


def test_an_empty_store_reaches_the_newest_revision_and_a_second_start_runs_no_child(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrate.apart(settings)
    assert revision(settings) == head_revision()
    assert (settings.data_dir / "secret.key").is_file(), "the key a sealing migration needs"

    def no_child(*_: object, **__: object) -> None:
        raise AssertionError("a child was started for a store already at the newest revision")

    monkeypatch.setattr(subprocess, "run", no_child)
    migrate.apart(settings)


def test_a_migration_that_fails_stops_the_start_with_its_last_line(settings: Settings) -> None:
    migrate.apart(settings)
    engine = make_engine(settings.database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'zz_unknown'"))
    engine.dispose()
    with pytest.raises(SystemExit) as stopped:
        migrate.apart(settings)
    assert str(stopped.value).startswith("Dockyard could not migrate its database: ")
    assert "zz_unknown" in str(stopped.value)
