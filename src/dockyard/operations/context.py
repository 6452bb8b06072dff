"""What a handler gets: a unit of work on the store, the caller, and the clock."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from dockyard.config import Settings


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Principal:
    user_id: str
    role: str
    token_id: str | None = None


@dataclass
class Context:
    session: Session
    settings: Settings
    principal: Principal | None = None
    now: str = field(default_factory=utc_now)
