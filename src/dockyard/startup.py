"""First start and every start: schema, default organization, the `local` server, first admin."""

import errno
import logging
import os
from pathlib import Path

from sqlalchemy import make_url, select

from dockyard.auth import issue_token
from dockyard.config import Settings
from dockyard.domain.ids import new_id
from dockyard.operations.context import utc_now
from dockyard.secrets import keyring
from dockyard.secrets.files import private_dir
from dockyard.store.db import Database, migrate
from dockyard.store.tables import Organization, Server, User

log = logging.getLogger("dockyard")
ADMIN_EMAIL = "admin@localhost"


def default_edge_proxy() -> dict:
    return {
        "kind": "none",
        "status": "pending",
        "lastAttemptAt": None,
        "lastSucceededAt": None,
        "lastErrorCode": None,
        "lastErrorMessage": None,
    }


def write_secret_file(path: Path, content: str) -> None:
    """Write a file only its owner can read (0600 from the first byte)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(content + "\n")
    os.chmod(path, 0o600)


def prepare(settings: Settings, *, bootstrap_admin: bool | None = None) -> Database:
    """`bootstrap_admin` None: as the settings say (DOCKYARD_BOOTSTRAP)."""
    if bootstrap_admin is None:
        bootstrap_admin = settings.bootstrap_admin
    private_dir(settings.data_dir)  # 0700; an older, world-readable data dir is tightened
    keyring.for_settings(settings)  # the key of secrets at rest: created (0600) on first start
    db = Database(settings.database_url)
    migrate(db.engine, settings.data_dir)
    for path in settings.data_dir.glob("dockyard.db*"):  # SQLite gives -wal and -shm the db's mode
        os.chmod(path, 0o600)
    now = utc_now()
    with db.session() as s:
        org_id = s.scalar(select(Organization.id).limit(1))
        if org_id is None:
            org_id = new_id("organization")
            s.add(Organization(id=org_id, name="Default", slug="default", created_at=now))
            s.flush()
        if s.scalar(select(Server.id).where(Server.is_control_plane.is_(True))) is None:
            s.add(
                Server(
                    id=new_id("server"),
                    name="local",
                    host="127.0.0.1",
                    port=22,
                    provider_key="local",
                    target_kind="single-server",
                    lifecycle_status="active",
                    edge_proxy=default_edge_proxy(),
                    credential=None,
                    is_control_plane=True,
                    created_at=now,
                )
            )
        if bootstrap_admin:
            admin = s.scalar(select(User).where(User.role == "admin").limit(1))
            if admin is None:
                admin = User(
                    id=new_id("user"),
                    organization_id=org_id,
                    email=ADMIN_EMAIL,
                    display_name="Admin",
                    role="admin",
                    created_at=now,
                )
                s.add(admin)
                s.flush()
            if not settings.token_file.exists():
                # Whoever can write the data dir owns the database anyway: a lost token file is re-issued.
                write_secret_file(settings.token_file, issue_token(s, admin.id, "admin", "admin.token", now))
                log.info("admin token written to %s", settings.token_file)
    return db


def ensure_writable(settings: Settings) -> None:
    """Stop the start with one line when the data dir (or the SQLite file in it) cannot be written:
    a read-only mount, a path that is a file, no room. SQLite would otherwise open read-only without
    a word and every write would fail later, one traceback at a time."""
    where, step = settings.data_dir, "create it"
    try:
        if where.exists() and not where.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "it is a file, not a directory")
        where.mkdir(parents=True, exist_ok=True)
        step = "create a file in it"
        probe = where / f".write-check-{os.getpid()}"
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        probe.unlink()
        url = make_url(settings.database_url)
        if url.get_backend_name() == "sqlite" and url.database and Path(url.database).exists():
            step = f"open {url.database} for writing"
            os.close(os.open(url.database, os.O_RDWR))
    except OSError as exc:
        raise SystemExit(
            f"Dockyard cannot write its data dir {where}: could not {step} ({exc.strerror or exc}). "
            "Give a writable directory with --data-dir or DOCKYARD_DATA_DIR, or make this one writable."
        ) from None
