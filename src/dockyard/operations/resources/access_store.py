"""Keeping one access failure's evidence (from a probe, or from the edge's own log) for its retention."""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from dockyard.domain import access_failures
from dockyard.operations.context import iso
from dockyard.operations.resources.access_models import AccessFailure
from dockyard.store.tables import AccessFailure as AccessFailureRow


def failure_fields(failure: access_failures.Failure, http_status: int | None) -> dict[str, Any]:
    """The evidence's fields a failure kind decides (AccessFailure's code … next_action)."""
    return {
        "code": failure.code,
        "category": failure.category,
        "phase": failure.phase,
        "http_status": http_status,
        "retriable": failure.retriable,
        "owner_hint": failure.owner_hint,
        "next_action": failure.next_action,
    }


def store(
    session: Session, evidence: AccessFailure, resource_id: str, hostname: str | None, path: str, now: str
) -> None:
    expires = datetime.fromisoformat(now.replace("Z", "+00:00")) + timedelta(
        hours=access_failures.RETENTION_HOURS
    )
    session.add(
        AccessFailureRow(
            id=evidence.request_id,
            resource_id=resource_id,
            hostname=hostname,
            path=path,
            captured_at=now,
            expires_at=iso(expires),
            evidence=evidence.model_dump(mode="json", by_alias=True),
        )
    )
