"""What the /mcp-api operations share: cursor pages, list filters (one value or a list), the actor."""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, model_validator

from dockyard.domain.ids import PREFIXES
from dockyard.domain.model import SnakeModel
from dockyard.operations.common import IdOf, JsonQuery, TextSchema, fold_object
from dockyard.operations.context import Context, iso
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


def _moment(value: str) -> str:
    """An ISO 8601 time, as stored (UTC, milliseconds, `Z`), so it compares with stored times."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("expected an ISO 8601 time, e.g. 2026-01-31T12:00:00Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return iso(moment)


Moment = Annotated[
    str,
    StringConstraints(max_length=40),
    AfterValidator(_moment),
    TextSchema(format="date-time", maxLength=40),
]
BOUNDS = {"gte": "at or after", "gt": "after", "lte": "at or before", "lt": "before"}


def _bound(field: str, bound: str) -> Any:
    return Field(default=None, alias=f"{field}[{bound}]", description=f"{field} {BOUNDS[bound]} (ISO 8601).")


class Range(SnakeModel):
    """A date range as one object: `?created_at={"gte": "2026-01-01T00:00:00Z"}`."""

    gte: Moment | None = None
    gt: Moment | None = None
    lte: Moment | None = None
    lt: Moment | None = None


def _plain(field: str) -> Any:
    return Field(
        default=None,
        alias=field,
        description=f"The {field} range as JSON text ({', '.join(BOUNDS)}); the same as {field}[…].",
    )


class CreatedAtRange(SnakeModel):
    """The documents' `created_at` date-range object, bracketed (`?created_at[gte]=…&created_at[lt]=…`)
    or plain (`?created_at={"gte": …}`)."""

    created_at: JsonQuery(Range) = _plain("created_at")  # type: ignore[valid-type]
    created_at_gte: Moment | None = _bound("created_at", "gte")
    created_at_gt: Moment | None = _bound("created_at", "gt")
    created_at_lte: Moment | None = _bound("created_at", "lte")
    created_at_lt: Moment | None = _bound("created_at", "lt")

    @model_validator(mode="after")
    def _created_at(self) -> Any:
        return fold_object(self, "created_at", "created_at[{}]")


class UpdatedAtRange(SnakeModel):
    """The documents' `updated_at` date-range object, bracketed or plain."""

    updated_at: JsonQuery(Range) = _plain("updated_at")  # type: ignore[valid-type]
    updated_at_gte: Moment | None = _bound("updated_at", "gte")
    updated_at_gt: Moment | None = _bound("updated_at", "gt")
    updated_at_lte: Moment | None = _bound("updated_at", "lte")
    updated_at_lt: Moment | None = _bound("updated_at", "lt")

    @model_validator(mode="after")
    def _updated_at(self) -> Any:
        return fold_object(self, "updated_at", "updated_at[{}]")


def in_range(stmt: Any, column: Any, q: SnakeModel, field: str) -> Any:
    """`stmt` limited to the bounds of q's `field` range (created_at or updated_at) that are set."""
    for bound in BOUNDS:
        value = getattr(q, f"{field}_{bound}", None)
        if value:
            ops = {"gte": column >= value, "gt": column > value, "lte": column <= value, "lt": column < value}
            stmt = stmt.where(ops[bound])
    return stmt


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
