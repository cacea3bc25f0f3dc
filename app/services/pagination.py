"""Keyset pagination by id: stable under inserts, cheap on large tables."""

from __future__ import annotations

import base64
import binascii

from sqlalchemy import Select

from app.extensions import db
from app.services.errors import ServiceError


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(str(last_id).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        return int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ServiceError("invalid_cursor", "The cursor is not valid.") from None


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
