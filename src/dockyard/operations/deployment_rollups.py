"""Per-resource deployment facts for resource views: one grouped query for a whole page."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dockyard.store.tables import Deployment


@dataclass(frozen=True)
class Rollup:
    count: int
    last_id: str | None
    last_status: str | None
    live: Deployment | None  # newest succeeded deployment: what serves now


def rollups(session: Session, resource_ids: list[str]) -> dict[str, Rollup]:
    if not resource_ids:
        return {}
    counts = dict(
        session.execute(
            select(Deployment.resource_id, func.count())
            .where(Deployment.resource_id.in_(resource_ids))
            .group_by(Deployment.resource_id)
        ).all()
    )
    last_ids = (
        session.execute(
            select(func.max(Deployment.id))
            .where(Deployment.resource_id.in_(resource_ids))
            .group_by(Deployment.resource_id)
        )
        .scalars()
        .all()
    )
    live_ids = (
        session.execute(
            select(func.max(Deployment.id))
            .where(Deployment.resource_id.in_(resource_ids), Deployment.status == "succeeded")
            .group_by(Deployment.resource_id)
        )
        .scalars()
        .all()
    )
    rows = {
        d.id: d for d in session.scalars(select(Deployment).where(Deployment.id.in_([*last_ids, *live_ids])))
    }
    out: dict[str, Rollup] = {}
    for rid in resource_ids:
        last = next((rows[i] for i in last_ids if i in rows and rows[i].resource_id == rid), None)
        live = next((rows[i] for i in live_ids if i in rows and rows[i].resource_id == rid), None)
        out[rid] = Rollup(counts.get(rid, 0), last.id if last else None, last.status if last else None, live)
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
