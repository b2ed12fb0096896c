"""Keyset pages: an opaque cursor names the last row seen; the next page starts after it.

A cursor is the base64 of the sort key and id of the page's last row (and of the ordering
it belongs to), so a page is one indexed range read however deep the client goes, and rows
written meanwhile are neither skipped nor repeated.
"""

import base64
import json
from datetime import datetime
from typing import Any

from flask_smorest import abort as fail
from sqlalchemy import Select, and_, or_


def encode(order: str, key: Any, row_id: int) -> str:
    value = key.isoformat() if isinstance(key, datetime) else key
    raw = json.dumps([order, value, row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, order: str, *, moment: bool) -> tuple[Any, int]:
    """(key, id) of a cursor made for `order`; 422 for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        found_order, key, row_id = json.loads(raw)
        if found_order != order or not isinstance(row_id, int) or isinstance(row_id, bool):
            raise ValueError(cursor)
        if moment:
            key = datetime.fromisoformat(key)
            if key.tzinfo is None:
                raise ValueError(cursor)
        elif not isinstance(key, int) or isinstance(key, bool):
            raise ValueError(cursor)
    except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError):
        fail(422, message="Invalid cursor.", messages={"query": {"cursor": ["Invalid cursor."]}})
    return key, row_id


def page(
    session,
    query: Select,
    key_column,
    id_column,
    *,
    order: str,
    cursor: str | None,
    limit: int,
    moment: bool = True,
) -> tuple[list, str | None]:
    """One page of `query`, ascending on (`key_column`, `id_column`), which the rows carry
    as `sort_key` and `sort_id`; and the cursor of the next page, None on the last."""
    if cursor:
        key, row_id = decode(cursor, order, moment=moment)
        query = query.where(or_(key_column > key, and_(key_column == key, id_column > row_id)))
    rows = list(session.execute(query.order_by(key_column, id_column).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    following = encode(order, rows[-1].sort_key, rows[-1].sort_id) if more else None
    return rows, following
