"""Settings from the environment, with the defaults a single machine needs."""

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from dockyard.domain.egress import EgressPolicy, policy_from


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'dockyard.db'}"


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _positive(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise SystemExit(f"{name}={raw!r} is not a positive number; unset it or give one (e.g. {default:g}).")
    return value


def _bootstrap_mode() -> str:
    raw = os.environ.get("DOCKYARD_BOOTSTRAP") or "auto"
    if raw not in ("auto", "manual"):
        raise SystemExit(f"DOCKYARD_BOOTSTRAP={raw!r} is not auto or manual; unset it or give one of them.")
    return raw


DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
DEFAULT_PORT = 8420
WILDCARD_HOSTS = ("", "0.0.0.0", "::")


def local_url(host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> str:
    """The URL of a control plane listening on host:port, as this machine reaches it."""
    host = "127.0.0.1" if host in WILDCARD_HOSTS else host
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


LETS_ENCRYPT = "https://acme-v02.api.letsencrypt.org/directory"


@dataclass(frozen=True)
class AcmeSettings:
    """Where managed certificates come from (any RFC 8555 directory) and when they are renewed."""

    directory_url: str = LETS_ENCRYPT
    email: str | None = None
    ca_bundle: str | None = None  # trust for a private ACME server's HTTPS (tests: Pebble)
    renew_before_days: float = 30.0
    check_interval_s: float = 60.0  # how often the scheduler looks for renewals and due retries

    @classmethod
    def from_env(cls) -> "AcmeSettings":
        env = os.environ.get
        return cls(
            directory_url=env("DOCKYARD_ACME_DIRECTORY_URL") or LETS_ENCRYPT,
            email=env("DOCKYARD_ACME_EMAIL") or None,
            ca_bundle=env("DOCKYARD_ACME_CA_BUNDLE") or None,
            renew_before_days=_positive("DOCKYARD_CERTIFICATE_RENEW_BEFORE_DAYS", 30.0),
            check_interval_s=_positive("DOCKYARD_CERTIFICATE_CHECK_INTERVAL_S", 60.0),
        )


@dataclass(frozen=True)
class RecoverySettings:
    """How many rollback targets a resource keeps, and how often running resources are sampled."""

    retained_artifacts: int = 3  # the last N successful deployments' workspaces or images
    monitor_interval_s: float = 15.0

    @classmethod
    def from_env(cls) -> "RecoverySettings":
        return cls(
            retained_artifacts=int(_positive("DOCKYARD_RETAINED_ARTIFACTS", 3)),
            monitor_interval_s=_positive("DOCKYARD_MONITOR_INTERVAL_S", 15.0),
        )


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    acme: AcmeSettings = field(default_factory=AcmeSettings)
    mcp_idle_timeout_s: float = 300.0  # a server run with no MCP traffic this long is shut down
    mcp_discovery_timeout_s: float = 60.0  # to start and answer initialize (and, at deploy, its lists)
    mcp_call_timeout_s: float = 120.0  # for one request to a run; then the run counts as hung
    public_url: str = local_url()  # where MCP clients reach this control plane
    mcp_allow_query_key: bool = False  # accept an MCP client secret in the URL (?key=): it leaks into logs
    recovery: RecoverySettings = field(default_factory=RecoverySettings)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES  # the most of a request body the server reads
    listen: tuple[str, int] | None = None  # host and port `dockyard serve` listens on
    # auto: the first start creates the first admin and <data-dir>/admin.token; manual: nobody until
    # POST /api/bootstrap/auth/first-admin (DOCKYARD_BOOTSTRAP, or `dockyard serve --no-bootstrap-admin`)
    bootstrap_admin: bool = True

    def egress_policy(self) -> EgressPolicy:
        """What outbound requests made on a user's behalf may reach (domain/egress.py), from the
        DOCKYARD_EGRESS_* settings; the control plane's own listener and public URL are never reached."""
        public = urlsplit(self.public_url)
        port = public.port or (443 if public.scheme == "https" else 80)
        listeners = [(public.hostname or "", port), *([self.listen] if self.listen else [])]
        return policy_from(os.environ, listeners)

    @classmethod
    def from_env(
        cls, data_dir: str | Path | None = None, listen: tuple[str, int] | None = None
    ) -> "Settings":
        """`listen` (host, port) is where `dockyard serve` listens: the public URL's default."""
        base = (
            Path(
                data_dir
                or os.environ.get("DOCKYARD_DATA_DIR")
                or Path.home() / ".local" / "share" / "dockyard"
            )
            .expanduser()
            .resolve()
        )
        url = os.environ.get("DOCKYARD_DATABASE_URL") or sqlite_url(base)
        idle = _positive("DOCKYARD_MCP_IDLE_TIMEOUT_S", 300.0)
        public = (
            os.environ.get("DOCKYARD_PUBLIC_URL")
            or os.environ.get("DOCKYARD_URL")
            or (local_url(*listen) if listen else cls.public_url)
        )
        return cls(
            data_dir=base,
            database_url=url,
            acme=AcmeSettings.from_env(),
            mcp_idle_timeout_s=idle,
            mcp_discovery_timeout_s=_positive("DOCKYARD_MCP_DISCOVERY_TIMEOUT_S", 60.0),
            mcp_call_timeout_s=_positive("DOCKYARD_MCP_CALL_TIMEOUT_S", 120.0),
            public_url=public.rstrip("/"),
            mcp_allow_query_key=_flag("DOCKYARD_MCP_ALLOW_QUERY_KEY"),
            recovery=RecoverySettings.from_env(),
            max_body_bytes=int(_positive("DOCKYARD_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)),
            listen=listen,
            bootstrap_admin=_bootstrap_mode() == "auto",
        )

    @property
    def token_file(self) -> Path:
        return self.data_dir / "admin.token"
