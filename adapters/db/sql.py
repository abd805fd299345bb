"""Small SQL helpers every store shares; each statement runs unchanged on SQLite and PostgreSQL.

Upserts use each dialect's INSERT ... ON CONFLICT; locks use SELECT ... FOR UPDATE and
UPDATE ... RETURNING, which PostgreSQL honours with row locks and SQLite makes moot (the
transaction already holds the database write lock since BEGIN IMMEDIATE).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

CHUNK = 500
"""Rows per IN (...) list: well under SQLite's bound-parameter limit."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def insert_for(session: AsyncSession, entity: Any) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (both dialects spell it the same)."""
    name = session.get_bind().dialect.name
    return postgresql.insert(entity) if name == "postgresql" else sqlite.insert(entity)


def chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def update_if_changed(row: Any, values: Mapping[str, Any]) -> bool:
    """Set `values` on `row` if any differs from what it holds; whether it did (an unchanged row
    is left untouched, so the session has nothing to flush for it)."""
    if not any(getattr(row, k) != v for k, v in values.items()):
        return False
    for k, v in values.items():
        setattr(row, k, v)
    return True


class Store:
    """Base of the stores: one session, owned by the unit of work, never committed here."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _insert(self, entity: Any) -> Any:
        return insert_for(self.session, entity)
