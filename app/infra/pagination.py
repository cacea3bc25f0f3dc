"""Keyset pagination by id: stable under inserts, cheap on large tables."""

from __future__ import annotations

import re

from sqlalchemy import Select

from app.extensions import db
from app.services.errors import ServiceError

# A cursor is the last id of a page in lower-case hex: this pattern is exactly 0..2**31-1, the range of
# the id columns, so that the OpenAPI document can state which cursors are valid ("0": from the start).
CURSOR_PATTERN = r"^(?:[0-7][0-9a-f]{7}|[0-9a-f]{1,7})$"
_CURSOR = re.compile(CURSOR_PATTERN)


def encode_cursor(last_id: int) -> str:
    return format(last_id, "x")


def decode_cursor(cursor: str) -> int:
    """The id a cursor names; anything else (other text, an id past the columns' range) is a 400."""
    if not isinstance(cursor, str) or not _CURSOR.fullmatch(cursor):
        raise ServiceError("invalid_cursor", "The cursor is not valid.", fields={"cursor": "invalid"})
    return int(cursor, 16)


def paginate(stmt: Select, id_column, cursor: str | None, limit: int, newest_first: bool = False) -> tuple[list, str | None]:
    """One page of ``stmt`` ordered by id (or newest first) and the cursor of the next page, if any."""
    if cursor:
        last = decode_cursor(cursor)
        stmt = stmt.where(id_column < last if newest_first else id_column > last)
    order = id_column.desc() if newest_first else id_column
    rows = list(db.session.scalars(stmt.order_by(order).limit(limit + 1)))
    if len(rows) > limit:
        return rows[:limit], encode_cursor(rows[limit - 1].id)
    return rows, None
