"""Per-resource deployment facts for resource views: one grouped query for a whole page."""

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, load_only

from dockyard.edge.sync import GENERATED
from dockyard.store.tables import AccessRoute, Deployment, Server


@dataclass(frozen=True)
class Rollup:
    count: int
    last_id: str | None
    last_status: str | None
    live: Deployment | None  # newest succeeded deployment: what serves now
    routed: tuple[str, str] | None = None  # (routed URL, proxy kind) behind the server's edge


def _routed(session: Session, resource_ids: list[str]) -> dict[str, tuple[str, str]]:
    """Each resource's current generated route, as a URL on its server's edge."""
    out: dict[str, tuple[str, str]] = {}
    rows = session.execute(
        select(AccessRoute.resource_id, AccessRoute.hostname, Server.edge_proxy)
        .join(Server, Server.id == AccessRoute.server_id)
        .where(AccessRoute.resource_id.in_(resource_ids), AccessRoute.source == GENERATED)
        .order_by(AccessRoute.id)
    ).all()
    for resource_id, hostname, edge in rows:
        kind = (edge or {}).get("kind", "none")
        if kind != "none":
            port = int((edge or {}).get("httpPort") or 80)
            out.setdefault(resource_id, (f"http://{hostname}{'' if port == 80 else f':{port}'}/", kind))
    return out


def newest(session: Session, resource_id: str, *where: Any) -> Deployment | None:
    """The resource's newest attempt (matching `where`, e.g. the succeeded one that serves now)."""
    stmt = select(Deployment).where(Deployment.resource_id == resource_id, *where)
    return session.scalars(stmt.order_by(Deployment.id.desc()).limit(1)).first()


def rollups(session: Session, resource_ids: list[str]) -> dict[str, Rollup]:
    """One grouped query over the page's resources (no status predicate, so the plan stays on the
    resource index whatever the store holds), then the at most 2 x page deployments it names."""
    if not resource_ids:
        return {}
    grouped = session.execute(
        select(
            Deployment.resource_id,
            func.count(),
            func.max(Deployment.id),
            func.max(case((Deployment.status == "succeeded", Deployment.id))),
        )
        .where(Deployment.resource_id.in_(resource_ids))
        .group_by(Deployment.resource_id)
    ).all()
    wanted = {i for _, _, last, live in grouped for i in (last, live) if i}
    rows = {
        d.id: d
        for d in session.scalars(
            select(Deployment)
            .where(Deployment.id.in_(wanted))
            .options(
                load_only(Deployment.id, Deployment.status, Deployment.runtime_state, Deployment.finished_at)
            )
        )
    }
    routed = _routed(session, resource_ids)
    out = {rid: Rollup(0, None, None, None, routed.get(rid)) for rid in resource_ids}
    for rid, count, last, live in grouped:
        last_row = rows.get(last)
        live_row = rows.get(live) if live else None
        out[rid] = Rollup(count, last, last_row.status if last_row else None, live_row, routed.get(rid))
    return out


def live_route(live: Deployment | None, routed: tuple[str, str] | None = None) -> dict[str, Any] | None:
    """The route users reach the live deployment by: behind the edge when routed, else direct."""
    state = (live.runtime_state or {}) if live else {}
    direct = state.get("url")
    if not live or not direct:
        return None
    url, kind = routed or (direct, "none")
    parsed = urlsplit(url)
    return {
        "url": url,
        "hostname": parsed.hostname,
        "scheme": parsed.scheme,
        "providerKey": "local",
        "deploymentId": live.id,
        "deploymentStatus": live.status,
        "pathPrefix": "/",
        "proxyKind": kind,
        "targetPort": urlsplit(direct).port,
        "updatedAt": live.finished_at,
    }
