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
