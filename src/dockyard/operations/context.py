"""What a handler gets: a unit of work on the store, the caller, and the clock."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from dockyard.config import Settings

if TYPE_CHECKING:
    from dockyard.services import Services


def iso(when: datetime) -> str:
    """A moment as stored: ISO-8601 UTC with milliseconds and a Z."""
    try:
        when = when.astimezone(UTC)
    except OverflowError:  # hours from year 1 or 9999, past what UTC can hold: its first or last moment
        when = (datetime.min if when.year == 1 else datetime.max).replace(tzinfo=UTC)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_now() -> str:
    return iso(datetime.now(UTC))


def seconds_since(at: str) -> float:
    """How long ago a stored moment (`iso`'s format) was."""
    return (datetime.now(UTC) - datetime.fromisoformat(at.replace("Z", "+00:00"))).total_seconds()


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
    services: "Services | None" = None
    after_commit: list[Callable[[], None]] = field(default_factory=list)

    @property
    def svc(self) -> "Services":
        assert self.services is not None, "this operation needs the control plane's services"
        return self.services
