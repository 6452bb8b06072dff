"""Schema migrations in a child process, so Alembic and Mako (10 MB resident) never enter the
long-lived control plane: `python -m dockyard.store.migrate DATA_DIR`, run by `dockyard serve` when
the schema is behind. The database URL comes from the environment, as the server's does (never on
the command line, where every user of the machine could read a password in it)."""

import os
import subprocess
import sys
from pathlib import Path

from dockyard.config import Settings
from dockyard.secrets import keyring
from dockyard.secrets.files import private_dir
from dockyard.store.db import current_revision, head_revision, make_engine, migrate

URL_VARIABLE = "DOCKYARD_MIGRATE_DATABASE_URL"


def behind(url: str) -> bool:
    engine = make_engine(url)
    try:
        return current_revision(engine) != head_revision()
    finally:
        engine.dispose()


def apart(settings: Settings) -> None:
    """Bring the schema to the newest revision in a child process (nothing to do: no child)."""
    private_dir(settings.data_dir)
    if not behind(settings.database_url):
        return
    env = {**os.environ, URL_VARIABLE: settings.database_url}
    done = subprocess.run(
        [sys.executable, "-m", "dockyard.store.migrate", str(settings.data_dir)],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise SystemExit(f"Dockyard could not migrate its database: {last}")


def main(data_dir: Path) -> None:
    settings = Settings.from_env(str(data_dir))
    keyring.for_settings(settings)  # a migration that seals needs the key (created on first start)
    engine = make_engine(os.environ[URL_VARIABLE])
    try:
        migrate(engine, data_dir)
    finally:
        engine.dispose()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
