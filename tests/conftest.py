"""Shared fixtures: a database per backend, an authenticated API client, a live `dockyard serve`.

Backends: every test that asks for `db_url` (or `settings`, `db`, `stack`, `api`) runs on SQLite and
on PostgreSQL. PostgreSQL comes from DOCKYARD_TEST_POSTGRES_URL (`make test` starts a throwaway
cluster); without it the PostgreSQL half is skipped with the reason. Each test module gets one fresh
PostgreSQL database; between tests its tables are emptied and `startup.prepare` runs again, so every
test starts from a first start: default organization, the `local` server, the first admin and token.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import URL, make_url

with warnings.catch_warnings():  # Starlette's notice about httpx vs httpx2: not ours to act on
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from dockyard.config import Settings
from dockyard.interfaces.http.app import build_app
from dockyard.runtimes.host_process import HostProcessRuntime
from dockyard.startup import prepare
from dockyard.store.db import Database
from polling import poll

POSTGRES_ENV = "DOCKYARD_TEST_POSTGRES_URL"
BIN = Path(sys.executable).parent
DOCKYARD = BIN / "dockyard"
READY_DEADLINE_S = 30.0
LOOPBACK_ONLY = "127.0.0.0/8,::1/128"


def pytest_configure(config: pytest.Config) -> None:
    # Probes started by tests (in process or in a `dockyard serve` child) may only reach loopback,
    # also when pytest runs without `make test`.
    os.environ.setdefault("DOCKYARD_PROBE_ALLOW", LOOPBACK_ONLY)


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'dockyard.db'}"


# --- PostgreSQL ------------------------------------------------------------------------------------


class PostgresServer:
    """The test cluster named by DOCKYARD_TEST_POSTGRES_URL: makes and drops throwaway databases."""

    def __init__(self, url: str) -> None:
        self.url: URL = make_url(url)

    def connect(self, database: str | None = None) -> Any:
        import psycopg

        u = self.url
        return psycopg.connect(
            host=u.host,
            port=u.port,
            user=u.username,
            password=u.password,
            dbname=database or u.database or "postgres",
            autocommit=True,
        )

    def create_database(self) -> str:
        from psycopg import sql

        name = f"dockyard_test_{uuid.uuid4().hex[:16]}"
        with self.connect() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop_database(self, url: str) -> None:
        from psycopg import sql

        name = make_url(url).database
        with self.connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def empty_tables(self, url: str) -> None:
        """Remove every row but keep the schema (and alembic_version): a migrated, never-started store."""
        from psycopg import sql

        with self.connect(make_url(url).database) as conn:
            # A connection left inside a transaction would block TRUNCATE forever: fail loudly instead.
            conn.execute("SET lock_timeout = '15s'")
            tables = [
                row[0]
                for row in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            ]
            if tables:
                conn.execute(
                    sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                        sql.SQL(", ").join(map(sql.Identifier, tables))
                    )
                )


@pytest.fixture(scope="session")
def postgres_server() -> PostgresServer:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(
            f"{POSTGRES_ENV} is not set; run `make test` or "
            "`bash scripts/with-test-postgres.sh .venv/bin/pytest` to include PostgreSQL"
        )
    return PostgresServer(url)


@pytest.fixture(scope="module")
def postgres_module_db(postgres_server: PostgresServer) -> Iterator[str]:
    """One database per test module, dropped when the module is done."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture
def empty_postgres_db(postgres_server: PostgresServer) -> Iterator[str]:
    """A brand-new PostgreSQL database with no tables at all (for migration tests)."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


# --- Backends, settings, database --------------------------------------------------------------------

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """'sqlite' or 'postgres'. Module-scoped so pytest runs a module's tests grouped per backend."""
    return request.param


@pytest.fixture
def db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A store no control plane has started on yet: SQLite file to be, or emptied PostgreSQL tables."""
    if backend == "sqlite":
        (tmp_path / "data").mkdir(mode=0o700, exist_ok=True)
        return sqlite_url(tmp_path / "data")  # in the data dir, as `dockyard serve` keeps it
    url = request.getfixturevalue("postgres_module_db")
    request.getfixturevalue("postgres_server").empty_tables(url)
    return url


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    """A data dir of its own: apps the tests deploy sit beside it (a folder inside it is refused)."""
    return Settings(data_dir=tmp_path / "data", database_url=db_url)


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    """The store after a first start (`startup.prepare`): org, `local` server, admin, admin.token."""
    database = prepare(settings)
    yield database
    database.engine.dispose()


@dataclass
class Stack:
    """A prepared store and the API over it; `client(token)` opens TestClients on the same app."""

    settings: Settings
    db: Database
    app: FastAPI
    admin_token: str
    _clients: list[TestClient] = field(default_factory=list)

    def client(self, token: str | None = None, **kwargs: Any) -> TestClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client = TestClient(self.app, headers=headers, **kwargs)
        client.__enter__()
        self._clients.append(client)
        return client

    def issue_token(self, role: str) -> str:
        """A fresh bearer token of `role` (admin, member, viewer) for the first admin user."""
        from sqlalchemy import select

        from dockyard.auth import issue_token
        from dockyard.operations.context import utc_now
        from dockyard.store.tables import User

        with self.db.session() as s:
            user_id = s.scalars(select(User.id).where(User.role == "admin").limit(1)).one()
            return issue_token(s, user_id, role, f"test-{role}", utc_now())

    def close(self) -> None:
        for client in self._clients:
            client.__exit__(None, None, None)


def open_stack(settings: Settings) -> Stack:
    database = prepare(settings)
    return Stack(
        settings=settings,
        db=database,
        app=build_app(settings, database),
        admin_token=settings.token_file.read_text().strip(),
    )


@pytest.fixture
def stack(db: Database, settings: Settings) -> Iterator[Stack]:
    s = Stack(
        settings=settings,
        db=db,
        app=build_app(settings, db),
        admin_token=settings.token_file.read_text().strip(),
    )
    yield s
    s.close()


@pytest.fixture
def admin_token(stack: Stack) -> str:
    return stack.admin_token


@pytest.fixture
def api(stack: Stack) -> TestClient:
    """A TestClient sending the admin token by default; `api.token` is that token."""
    client = stack.client(stack.admin_token)
    client.token = stack.admin_token  # type: ignore[attr-defined]
    return client


@pytest.fixture
def verified_binding(api: TestClient) -> dict[str, str]:
    """shop.example.com bound to a new resource on the local server, its ownership confirmed by hand:
    {id, serverId, resourceId, projectId, environmentId}."""

    def made(path: str, body: dict[str, Any]) -> str:
        resp = api.post(path, json=body)
        assert resp.status_code == 201, resp.text
        return resp.json()["id"]

    server = next(s["id"] for s in api.get("/api/servers").json()["items"] if s["providerKey"] == "local")
    project = made("/api/projects", {"name": "bound shop"})
    env = made("/api/environments", {"projectId": project, "name": "production", "kind": "production"})
    resource = made("/api/resources", {"projectId": project, "environmentId": env, "name": "Web"})
    ids = {"projectId": project, "environmentId": env, "resourceId": resource, "serverId": server}
    binding = made("/api/domain-bindings", {**ids, "domainName": "shop.example.com"})
    confirmed = api.post(f"/api/domain-bindings/{binding}/ownership-confirmations", json={"method": "manual"})
    assert confirmed.status_code == 200, confirmed.text
    return {"id": binding, **ids}


@pytest.fixture
def anon(stack: Stack) -> TestClient:
    """A TestClient on the same app with no Authorization header."""
    return stack.client()


@pytest.fixture(scope="module")
def shared_stack(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Stack]:
    """One prepared store + app for a whole module, for tests that write nothing (or don't mind)."""
    data_dir = tmp_path_factory.mktemp("shared")
    pg: PostgresServer | None = None
    if backend == "sqlite":
        url = sqlite_url(data_dir)
    else:
        pg = request.getfixturevalue("postgres_server")
        url = pg.create_database()
    s = open_stack(Settings(data_dir=data_dir, database_url=url))
    yield s
    s.close()
    s.db.engine.dispose()
    if pg is not None:
        pg.drop_database(url)


# --- A real `dockyard serve` -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """`dockyard serve` as a subprocess on a free port, with its own data dir (SQLite)."""

    def __init__(self, data_dir: Path, cache_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DOCKYARD_URL": self.url,
            "DOCKYARD_DATA_DIR": str(data_dir),
            "XDG_CACHE_HOME": str(cache_dir),  # the CLI's manifest cache stays out of $HOME
            "COLUMNS": "200",  # rich wraps at the terminal width; keep tables on one line per row
            "NO_COLOR": "1",
        }
        for leaked in ("DOCKYARD_TOKEN", "DOCKYARD_DATABASE_URL"):
            self.env.pop(leaked, None)
        self.log = data_dir / "serve.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.token = ""

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [str(DOCKYARD), "serve", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

        def ready() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"dockyard serve exited {self.proc.returncode}:\n{self.log.read_text()}")
            return httpx.get(self.url + "/api/health", timeout=2).status_code == 200

        poll(ready, f"dockyard serve on {self.url} (log: {self.log})")
        self.token = (self.data_dir / "admin.token").read_text().strip()

    def cli(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """Run the real `dockyard` binary against this server; returns exit code, stdout, stderr."""
        return subprocess.run(
            [str(DOCKYARD), *args],
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def cli_json(self, *args: str) -> Any:
        done = self.cli(*args, "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def stop(self) -> None:
        HostProcessRuntime(self.data_dir).shutdown_all()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real `dockyard serve` for this module; `.cli(*args)` drives the real `dockyard` binary."""
    server = LiveServer(tmp_path_factory.mktemp("live"), tmp_path_factory.getbasetemp() / "xdg-cache")
    try:
        server.start()
        yield server
    finally:
        server.stop()
