"""Liveness of the control plane."""

from dockyard import __version__
from dockyard.domain.model import CamelModel
from dockyard.operations.catalog import NoInput, Permission, operation
from dockyard.operations.context import Context


class HealthOut(CamelModel):
    status: str
    version: str
    checked_at: str


@operation("system.health", "GET", "/health", permission=Permission.PUBLIC)
def health(ctx: Context, inp: NoInput) -> HealthOut:
    """Answer whether the control plane is up (no token needed)."""
    return HealthOut(status="ok", version=__version__, checked_at=ctx.now)
