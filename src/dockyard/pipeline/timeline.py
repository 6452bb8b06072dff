"""A deployment's timeline: log lines and state-change events, written as they happen.

Each write is its own short transaction so followers (SSE streams, `dockyard up`) see progress at
once; followers in this process are woken through `CHANGED`, others poll.
"""

import threading

from sqlalchemy import func, select

from dockyard.operations.context import utc_now
from dockyard.secrets.masking import NO_MASK, Masker
from dockyard.store.db import Database
from dockyard.store.tables import Deployment, DeploymentEvent, DeploymentLog

CHANGED = threading.Condition()
MAX_LINE = 4000


def notify() -> None:
    with CHANGED:
        CHANGED.notify_all()


def wait_for_change(timeout: float) -> None:
    with CHANGED:
        CHANGED.wait(timeout)


class Timeline:
    """Every line and summary goes through `mask` (the deployment's secret values become ****)."""

    def __init__(self, db: Database, deployment_id: str, mask: Masker = NO_MASK) -> None:
        self.db, self.deployment_id, self.mask = db, deployment_id, mask
        with db.session() as s:
            self._log_seq = (
                s.scalar(
                    select(func.max(DeploymentLog.sequence)).where(
                        DeploymentLog.deployment_id == deployment_id
                    )
                )
                or 0
            )
            self._event_seq = (
                s.scalar(
                    select(func.max(DeploymentEvent.sequence)).where(
                        DeploymentEvent.deployment_id == deployment_id
                    )
                )
                or 0
            )

    def log(self, phase: str, message: str, level: str = "info", source: str = "dockyard") -> None:
        self.lines(phase, [message], level, source)

    def lines(self, phase: str, messages: list[str], level: str = "info", source: str = "dockyard") -> None:
        if not messages:
            return
        now = utc_now()
        with self.db.session() as s:
            for message in messages:
                self._log_seq += 1
                shown, masked = self.mask.masked(message)  # whole, then cut: no secret is split
                s.add(
                    DeploymentLog(
                        deployment_id=self.deployment_id,
                        sequence=self._log_seq,
                        timestamp=now,
                        source=source,
                        phase=phase,
                        level=level,
                        message=shown[:MAX_LINE],
                        masked=masked,
                    )
                )
            dep = s.get(Deployment, self.deployment_id)
            if dep is not None:
                dep.log_count = self._log_seq
        notify()

    def event(
        self, event_type: str, phase: str | None, status: str, summary: str, retriable: bool = False
    ) -> None:
        with self.db.session() as s:
            self._event_seq += 1
            s.add(
                DeploymentEvent(
                    deployment_id=self.deployment_id,
                    sequence=self._event_seq,
                    emitted_at=utc_now(),
                    event_type=event_type,
                    phase=phase,
                    status=status,
                    retriable=retriable,
                    summary=self.mask(summary),
                )
            )
        notify()
