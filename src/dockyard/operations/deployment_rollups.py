"""Per-resource deployment facts for resource views: one grouped query for a whole page."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, load_only

from dockyard.store.tables import Deployment


@dataclass(frozen=True)
class Rollup:
    count: int
    last_id: str | None
    last_status: str | None
    live: Deployment | None  # newest succeeded deployment: what serves now


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
    out = {rid: Rollup(0, None, None, None) for rid in resource_ids}
    for rid, count, last, live in grouped:
        last_row = rows.get(last)
        out[rid] = Rollup(
            count, last, last_row.status if last_row else None, rows.get(live) if live else None
        )
    return out


def live_route(live: Deployment | None) -> dict[str, Any] | None:
    url = (live.runtime_state or {}).get("url") if live else None
    if not live or not url:
        return None
    return {
        "url": url,
        "hostname": "127.0.0.1",
        "scheme": "http",
        "providerKey": "local",
        "deploymentId": live.id,
        "deploymentStatus": live.status,
        "pathPrefix": "/",
        "proxyKind": "none",
        "targetPort": int(url.rstrip("/").rsplit(":", 1)[1]),
        "updatedAt": live.finished_at,
    }
