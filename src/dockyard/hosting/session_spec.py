"""What the gateway needs to serve one session, read from the store in one go: per deployment the
launchable source, the config turned into env/args/headers, the tool filter and what discovery found."""

import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from dockyard.domain.mcp_config import LaunchInputs, transform
from dockyard.domain.mcp_tool_filters import ToolFilter
from dockyard.hosting import sealing
from dockyard.hosting.sources import launchable
from dockyard.operations.context import utc_now
from dockyard.operations.mcp.sessions import secret_hash
from dockyard.services import Services
from dockyard.store.mcp_tables import (
    McpProvider,
    McpProviderConfig,
    McpProviderDeployment,
    McpProviderVersion,
    McpServerSession,
    McpSession,
)


@dataclass(frozen=True)
class Member:
    server_session_id: str
    provider_deployment_id: str
    provider_version_id: str
    namespace: str | None
    source: dict[str, Any]
    inputs: LaunchInputs
    tool_filter: ToolFilter
    discovery: dict[str, Any]

    @property
    def run_type(self) -> str:
        return "external" if self.source["type"] == "remote" else "hosted"

    def exposed(self, name: str) -> str:
        return f"{self.namespace}__{name}" if self.namespace else name


@dataclass(frozen=True)
class SessionSpec:
    session_id: str
    members: list[Member]


def check_secret(svc: Services, session_id: str, secret: str | None) -> float | None:
    """The seconds this session has left when `secret` opens it now (active, not expired); else None.

    Asked on every request, never cached: a session closed or expired a moment ago is refused."""
    if not secret:
        return None
    with svc.db.engine.connect() as db:  # a plain read: half the cost of an ORM session
        row = db.execute(
            select(McpSession.status, McpSession.expires_at, McpSession.secret_hash).where(
                McpSession.id == session_id
            )
        ).first()
    now = utc_now()
    if row is None or row.status != "active" or row.expires_at <= now:
        return None
    if not hmac.compare_digest(row.secret_hash, secret_hash(secret)):
        return None
    return (_instant(row.expires_at) - _instant(now)).total_seconds()


def open_sessions(svc: Services, session_ids: list[str]) -> set[str]:
    """Those of `session_ids` that are active and not expired now."""
    with svc.db.engine.connect() as db:
        return set(
            db.scalars(
                select(McpSession.id).where(
                    McpSession.id.in_(session_ids),
                    McpSession.status == "active",
                    McpSession.expires_at > utc_now(),
                )
            )
        )


def _instant(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def load(svc: Services, session_id: str) -> SessionSpec:
    data_dir = svc.settings.data_dir
    members = []
    with svc.db.session() as s:
        for srs in s.scalars(
            select(McpServerSession)
            .where(McpServerSession.session_id == session_id)
            .order_by(McpServerSession.id)
        ):
            dep = s.get(McpProviderDeployment, srs.provider_deployment_id)
            if dep is None:  # deleted with force: the session goes on without it
                continue
            provider = s.get(McpProvider, dep.provider_id)
            version = s.get(McpProviderVersion, dep.locked_version_id or provider.current_version_id)
            config: dict[str, Any] = {}
            if dep.provider_config_id:
                row = s.get(McpProviderConfig, dep.provider_config_id)
                config = json.loads(sealing.open_sealed(data_dir, row.sealed, row.id))
            members.append(
                Member(
                    server_session_id=srs.id,
                    provider_deployment_id=dep.id,
                    provider_version_id=version.id,
                    namespace=srs.namespace,
                    source=launchable(data_dir, version.source, version.custom_version_id),
                    inputs=transform(version.transformer or {}, config),
                    tool_filter=ToolFilter(dep.tool_filter or {"type": "allow_all"}),
                    discovery=version.discovery or {},
                )
            )
    return SessionSpec(session_id=session_id, members=members)
