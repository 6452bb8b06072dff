"""Durable work: rows in `work_items`, claimed with a lease so one worker runs each item.

A claim is an UPDATE guarded by the status the worker read (optimistic), so competing workers on
SQLite or PostgreSQL never both win. Items left `running` by a dead worker are reconciled at start.
"""

import os
import socket
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dockyard.domain.ids import new_id
from dockyard.operations.context import utc_now
from dockyard.store.db import Database
from dockyard.store.tables import WorkItem

LEASE_S = 60


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _later(seconds: float) -> str:
    return (
        (datetime.now(UTC) + timedelta(seconds=seconds))
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def enqueue(session: Session, kind: str, subject_id: str, now: str) -> WorkItem:
    item = WorkItem(
        id=new_id("work"),
        kind=kind,
        subject_id=subject_id,
        status="pending",
        attempts=0,
        run_after=now,
        created_at=now,
        updated_at=now,
    )
    session.add(item)
    return item


def claim(db: Database, owner: str) -> WorkItem | None:
    now = utc_now()
    with db.session() as s:
        candidates = s.scalars(
            select(WorkItem.id)
            .where(WorkItem.status == "pending", WorkItem.run_after <= now)
            .order_by(WorkItem.id)
            .limit(5)
        ).all()
        for item_id in candidates:
            won = s.execute(
                update(WorkItem)
                .where(WorkItem.id == item_id, WorkItem.status == "pending")
                .values(
                    status="running",
                    lease_owner=owner,
                    lease_expires_at=_later(LEASE_S),
                    updated_at=now,
                    attempts=WorkItem.attempts + 1,
                )
            ).rowcount
            if won:
                s.commit()
                return s.get(WorkItem, item_id)
    return None


def renew(db: Database, item_ids: list[str], owner: str) -> None:
    if not item_ids:
        return
    with db.session() as s:
        s.execute(
            update(WorkItem)
            .where(WorkItem.id.in_(item_ids), WorkItem.lease_owner == owner)
            .values(lease_expires_at=_later(LEASE_S))
        )


def finish(db: Database, item_id: str, status: str, error: str | None = None) -> None:
    with db.session() as s:
        s.execute(
            update(WorkItem)
            .where(WorkItem.id == item_id)
            .values(
                status=status, last_error=error, lease_owner=None, lease_expires_at=None, updated_at=utc_now()
            )
        )


def orphaned(session: Session, owner: str | None = None) -> list[WorkItem]:
    """Running items whose lease has expired — or, at start of a single embedded worker, all of them."""
    stmt = select(WorkItem).where(WorkItem.status == "running")
    if owner is None:
        stmt = stmt.where(WorkItem.lease_expires_at < utc_now())
    return list(session.scalars(stmt))
