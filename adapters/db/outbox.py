"""The notification outbox: one row per (application, kind, recipient), so nobody is notified twice."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from adapters.db.orm import NotificationRow
from adapters.db.sql import Store, utcnow
from domain.application import NoticeView

PENDING = "pending"
DELIVERED = "delivered"
REJECTED = "rejected"
"""The webhook refused the notice as malformed (4xx): the sweeper does not try it again."""


class OutboxStore(Store):
    async def record_notice(
        self,
        notice_id: str,
        *,
        application_id: str,
        kind: str,
        recipient: str,
        message: str,
        payload: dict[str, Any],
    ) -> tuple[bool, str]:
        """Insert the notice as pending unless it is on record; (inserted, its status)."""
        inserted = await self.session.scalar(
            self._insert(NotificationRow)
            .values(
                notice_id=notice_id,
                application_id=application_id,
                kind=kind,
                recipient=recipient,
                message=message,
                payload=payload,
                status=PENDING,
                attempts=0,
                created_at=utcnow(),
            )
            .on_conflict_do_nothing()
            .returning(NotificationRow.id)
        )
        if inserted is not None:
            return True, PENDING
        status = await self.session.scalar(
            select(NotificationRow.status).where(NotificationRow.notice_id == notice_id)
        )
        return False, status or PENDING

    async def notice_status(self, notice_id: str) -> tuple[str, int] | None:
        """(status, attempts) of a recorded notice."""
        row = await self.session.scalar(select(NotificationRow).where(NotificationRow.notice_id == notice_id))
        return None if row is None else (row.status, row.attempts)

    async def notices_of(self, application_id: str) -> list[NoticeView]:
        """Every notice of the application, oldest first, as the portal reads them."""
        rows = await self.session.scalars(
            select(NotificationRow)
            .where(NotificationRow.application_id == application_id)
            .order_by(NotificationRow.created_at, NotificationRow.id)
        )
        return [
            NoticeView(
                kind=row.kind,
                recipient=row.recipient,
                message=row.message,
                created_at=row.created_at,
                status="delivered" if row.status == DELIVERED else "pending",
                delivered_at=row.delivered_at,
            )
            for row in rows
        ]

    async def pending_notices(self, limit: int) -> list[NotificationRow]:
        """The oldest notices still waiting for delivery."""
        rows = await self.session.scalars(
            select(NotificationRow)
            .where(NotificationRow.status == PENDING)
            .order_by(NotificationRow.id)
            .limit(limit)
        )
        return list(rows.all())

    async def mark_notice(
        self,
        notice_id: str,
        tries: int,
        *,
        delivered: bool,
        error: str | None,
        at: datetime | None = None,
        rejected: bool = False,
    ) -> None:
        values: dict[str, Any] = {"attempts": NotificationRow.attempts + tries, "last_error": error}
        if delivered:
            values.update(status=DELIVERED, delivered_at=at or utcnow())
        elif rejected:
            values.update(status=REJECTED)
        await self.session.execute(
            update(NotificationRow)
            .where(NotificationRow.notice_id == notice_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
