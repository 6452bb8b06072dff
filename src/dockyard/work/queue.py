"""Durable work: rows in `work_items`, claimed with a lease so one worker runs each item.

A claim is an UPDATE guarded by the status the worker read (optimistic), so competing workers on
SQLite or PostgreSQL never both win. Items left `running` by a dead worker are reconciled at start.
"""

import os
import socket
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dockyard.domain.ids import new_id
from dockyard.domain.work import Outcome, crashed
from dockyard.operations.context import Context, utc_now
from dockyard.store.db import Database
from dockyard.store.tables import WorkItem

LEASE_S = 60


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def later(seconds: float) -> str:
    """A timestamp `seconds` from now, in the ledger's format."""
    return (
        (datetime.now(UTC) + timedelta(seconds=seconds))
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def enqueue(
    session: Session,
    kind: str,
    subject_id: str,
    now: str,
    *,
    operation_key: str | None = None,
    retry_of: WorkItem | None = None,
    run_after: str | None = None,
    **about: str | None,
) -> WorkItem:
    """Queue work; `about` names what it concerns (project_id, resource_id, deployment_id, server_id,
    domain_binding_id, certificate_id) so the ledger can filter it. A retry records its lineage, and
    the item it retries stops waiting for one. `run_after`: not before then (default: now)."""
    item = WorkItem(
        id=new_id("work"),
        kind=kind,
        subject_id=subject_id,
        status="pending",
        attempts=0,
        run_after=run_after or now,
        created_at=now,
        updated_at=now,
        operation_key=operation_key,
        retry_of_work_id=retry_of.id if retry_of is not None else None,
        **about,
    )
    if retry_of is not None and retry_of.status == "retry-scheduled":
        retry_of.status, retry_of.updated_at = "failed", now
        retry_of.finished_at = retry_of.finished_at or now
    session.add(item)
    return item


def run_after_commit(ctx: Context, item: WorkItem, job: Callable[[], Outcome]) -> None:
    """Run a just-queued job in this process once the operation commits (a caller that waits for
    it, e.g. an edge bootstrap). Without services it stays queued for the worker."""
    if ctx.services is None:
        return
    item.status, item.attempts, item.started_at = "running", 1, ctx.now
    item.lease_owner, item.lease_expires_at = worker_identity(), later(LEASE_S)
    db, item_id = ctx.services.db, item.id

    def run() -> None:
        try:
            outcome = job()
        except Exception as exc:
            outcome = crashed(exc)
        finish(db, item_id, outcome)

    ctx.after_commit.append(run)


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
                    lease_expires_at=later(LEASE_S),
                    updated_at=now,
                    started_at=now,
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
            .values(lease_expires_at=later(LEASE_S))
        )


def finish(db: Database, item_id: str, outcome: Outcome) -> None:
    """Record how the job really ended (not merely that its handler returned)."""
    now = utc_now()
    values = {
        "status": outcome.status,
        "last_error": outcome.message,
        "error_code": outcome.error_code,
        "error_category": outcome.error_category,
        "retriable": outcome.retriable,
        "lease_owner": None,
        "lease_expires_at": None,
        "updated_at": now,
        "finished_at": now,
    }
    if outcome.phase:
        values["phase"] = outcome.phase
    if outcome.run_after:
        values["run_after"] = outcome.run_after
    with db.session() as s:
        # A job canceled by an operator while it ran stays canceled whatever its handler says.
        s.execute(
            update(WorkItem).where(WorkItem.id == item_id, WorkItem.status == "running").values(**values)
        )


def progress(db: Database, kind: str, subject_id: str, phase: str, step: str | None = None) -> None:
    """Where a running job got to (its phase and step, shown by the ledger)."""
    with db.session() as s:
        s.execute(
            update(WorkItem)
            .where(WorkItem.kind == kind, WorkItem.subject_id == subject_id, WorkItem.status == "running")
            .values(phase=phase, step=(step or "")[:80] or None, updated_at=utc_now())
        )


def orphaned(session: Session, owner: str | None = None) -> list[WorkItem]:
    """Running items whose lease has expired — or, at start of a single embedded worker, all of them."""
    stmt = select(WorkItem).where(WorkItem.status == "running")
    if owner is None:
        stmt = stmt.where(WorkItem.lease_expires_at < utc_now())
    return list(session.scalars(stmt))
