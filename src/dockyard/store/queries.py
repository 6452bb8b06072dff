"""Query helpers every aggregate shares: fetch-or-404, keyset pages, counts."""

from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from dockyard.domain.errors import not_found

T = TypeVar("T")


def get_or_404(session: Session, model: type[T], entity_id: str, kind: str, **filters: Any) -> T:
    row = session.get(model, entity_id)
    if row is None or any(getattr(row, k) != v for k, v in filters.items()):
        raise not_found(kind, entity_id)
    return row


def keyset_page(
    session: Session, stmt: Select, id_column: Any, limit: int, cursor: str | None
) -> tuple[list, str | None]:
    """Newest first by id (ids sort by creation time); O(limit) with an index that ends in id."""
    if cursor:
        stmt = stmt.where(id_column < cursor)
    rows = list(session.scalars(stmt.order_by(id_column.desc()).limit(limit + 1)))
    next_cursor = rows[limit - 1].id if len(rows) > limit else None
    return rows[:limit], next_cursor


def count(session: Session, model: type, *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def cursor_page(
    session: Session,
    stmt: Select,
    id_column: Any,
    limit: int,
    *,
    after: str | None = None,
    before: str | None = None,
    order: str = "desc",
) -> tuple[list, bool, bool]:
    """(rows, has_more_before, has_more_after) of a keyset page in `order` by id.

    `after` starts the page just after that id, `before` ends it just before; each is O(limit).
    """
    desc = order == "desc"
    forward = id_column.desc() if desc else id_column.asc()
    backward = id_column.asc() if desc else id_column.desc()

    def beyond(edge: str, toward_end: bool) -> Any:
        return (id_column < edge) if desc == toward_end else (id_column > edge)

    def exists(where: Any) -> bool:
        return session.scalars(stmt.where(where).with_only_columns(id_column).limit(1)).first() is not None

    if before:
        rows = list(session.scalars(stmt.where(beyond(before, False)).order_by(backward).limit(limit + 1)))
        more_before = len(rows) > limit
        rows = rows[:limit][::-1]
        return rows, more_before, exists(~beyond(before, False))
    stmt_page = stmt.where(beyond(after, True)) if after else stmt
    rows = list(session.scalars(stmt_page.order_by(forward).limit(limit + 1)))
    more_before = bool(after) and exists(~beyond(after, True))
    return rows[:limit], more_before, len(rows) > limit
