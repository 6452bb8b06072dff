"""What the /mcp-api operations share: cursor pages, list filters (one value or a list), the actor."""

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StringConstraints

from dockyard.domain.ids import PREFIXES
from dockyard.domain.model import SnakeModel
from dockyard.operations.common import IdOf
from dockyard.operations.context import Context
from dockyard.store import queries

Cursor = Annotated[str, StringConstraints(max_length=60)]
Text = Annotated[str, StringConstraints(max_length=2000)]
Metadata = Annotated[dict[str, Any], Field(description="Custom key-value pairs.")]


def _one_or_many(value: Any) -> Any:
    """`?status=a`, `?status=a,b` and `?status=a&status=b` all mean a list."""
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        return [part.strip() for v in value for part in str(v).split(",") if part.strip()]
    return value


OneOrMany = Annotated[list[Annotated[str, StringConstraints(max_length=60)]], BeforeValidator(_one_or_many)]


class McpPageQuery(SnakeModel):
    limit: Annotated[int, Field(ge=1, le=100)] = 25
    after: Cursor | None = Field(default=None, description="Start after this id.")
    before: Cursor | None = Field(default=None, description="End before this id.")
    cursor: Cursor | None = Field(default=None, description="Same as `after` (the last id of a page).")
    order: Literal["asc", "desc"] = "desc"


class Pagination(SnakeModel):
    has_more_before: bool
    has_more_after: bool


def page(ctx: Context, stmt: Any, id_column: Any, q: McpPageQuery) -> tuple[list, Pagination]:
    rows, more_before, more_after = queries.cursor_page(
        ctx.session, stmt, id_column, q.limit, after=q.after or q.cursor, before=q.before, order=q.order
    )
    return rows, Pagination(has_more_before=more_before, has_more_after=more_after)


def filtered(stmt: Any, column: Any, values: list[str] | None) -> Any:
    return stmt.where(column.in_(values)) if values else stmt


def actor(ctx: Context) -> dict[str, Any]:
    """Who did it, in the documents' `organization.actor` shape."""
    user = ctx.principal.user_id if ctx.principal else None
    return {
        "object": "organization.actor",
        "id": user,
        "type": "member" if user else "system",
        "name": user or "dockyard",
        "image_url": None,
        "teams": [],
    }


def McpId(kind: str) -> type[str]:
    """An id of `kind` in the /mcp-api family (e.g. `pde_…`)."""
    assert kind in PREFIXES
    return IdOf(kind)
