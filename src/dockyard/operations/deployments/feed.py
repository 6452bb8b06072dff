"""Reading a deployment's timeline as one ordered feed of envelopes, optionally following it live."""

import time
from collections.abc import Iterator

from sqlalchemy import select

from dockyard.domain.deployment import is_terminal
from dockyard.operations.deployments.models import Envelope, LogLine, StreamEvent
from dockyard.pipeline.timeline import wait_for_change
from dockyard.store.db import Database
from dockyard.store.tables import Deployment, DeploymentEvent, DeploymentLog

HEARTBEAT_S = 10.0
MAX_FOLLOW_S = 3600.0
POLL_S = 0.5


def parse_cursor(cursor: str | None) -> tuple[int, int]:
    if not cursor:
        return 0, 0
    events, logs = cursor.split(".")
    return int(events[1:]), int(logs[1:])


def make_cursor(event_seq: int, log_seq: int) -> str:
    return f"e{event_seq}.l{log_seq}"


def log_line(row: DeploymentLog) -> LogLine:
    return LogLine(
        timestamp=row.timestamp,
        source=row.source,
        phase=row.phase,
        level=row.level,
        message=row.message,
        masked=bool(row.masked),
    )


def read_after(
    db: Database, deployment_id: str, event_seq: int, log_seq: int, limit: int
) -> tuple[list[Envelope], int, int, str]:
    """New envelopes after the cursor, in time order (an event before the lines of its phase)."""
    ev, lg = event_seq, log_seq
    with db.session() as s:
        events = s.scalars(
            select(DeploymentEvent)
            .where(DeploymentEvent.deployment_id == deployment_id, DeploymentEvent.sequence > event_seq)
            .order_by(DeploymentEvent.sequence)
            .limit(limit)
        ).all()
        logs = s.scalars(
            select(DeploymentLog)
            .where(DeploymentLog.deployment_id == deployment_id, DeploymentLog.sequence > log_seq)
            .order_by(DeploymentLog.sequence)
            .limit(limit)
        ).all()
        status = s.scalar(select(Deployment.status).where(Deployment.id == deployment_id)) or "failed"
    merged: list[tuple[str, int, int, Envelope]] = []
    for e in events:
        event_seq = e.sequence
        env = Envelope(
            kind="event",
            event=StreamEvent(
                deployment_id=deployment_id,
                sequence=e.sequence,
                cursor="",
                emitted_at=e.emitted_at,
                source="domain-event",
                event_type=e.event_type,
                phase=e.phase,
                status=e.status,
                retriable=e.retriable,
                summary=e.summary,
            ),
        )
        merged.append((e.emitted_at, 0, e.sequence, env))
    for line in logs:
        log_seq = line.sequence
        merged.append((line.timestamp, 1, line.sequence, Envelope(kind="log", log=log_line(line))))
    merged.sort(key=lambda m: m[:3])
    out = []
    for _, kind, seq, env in merged:
        ev, lg = (seq, lg) if kind == 0 else (ev, seq)
        env.cursor = make_cursor(ev, lg)
        if env.event:
            env.event.cursor = env.cursor
        out.append(env)
    final = make_cursor(event_seq, log_seq)
    if out:
        out[-1].cursor = final
    return out, event_seq, log_seq, status


def follow(
    db: Database,
    deployment_id: str,
    cursor: str | None,
    until_terminal: bool = True,
    include_history: bool = True,
) -> Iterator[Envelope]:
    event_seq, log_seq = parse_cursor(cursor)
    if not include_history:
        _, event_seq, log_seq, _ = read_after(db, deployment_id, event_seq, log_seq, 100_000)
    started = last_sent = time.monotonic()
    while time.monotonic() - started < MAX_FOLLOW_S:
        batch, event_seq, log_seq, status = read_after(db, deployment_id, event_seq, log_seq, 500)
        yield from batch
        if batch:
            last_sent = time.monotonic()
            continue
        if until_terminal and is_terminal(status):
            yield Envelope(kind="closed", cursor=make_cursor(event_seq, log_seq))
            return
        if time.monotonic() - last_sent > HEARTBEAT_S:
            last_sent = time.monotonic()
            yield Envelope(kind="heartbeat", cursor=make_cursor(event_seq, log_seq))
        wait_for_change(POLL_S)
