"""The notification outbox: one row per (application, kind, recipient), so nobody is notified twice;
and one delivery row per notice and channel, each with its own state and next attempt."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from adapters.db.orm import ApplicationRow, NoticeDeliveryRow, NotificationRow
from adapters.db.sql import Store, chunks, utcnow
from domain.application import DeliveryView, NoticeView
from domain.declarant import Declarant
from domain.delivery import DELIVERED, PENDING, REJECTED, DeliveryState, notice_shown
from domain.models import Declaration

__all__ = ["DELIVERED", "PENDING", "REJECTED", "OutboxStore", "delivery_state"]


def delivery_state(row: NoticeDeliveryRow) -> DeliveryState:
    """Every attempt of a pending delivery failed; a settled one keeps its count."""
    return DeliveryState(
        status=row.status,
        attempts=row.attempts,
        failures=row.attempts if row.status == PENDING else max(row.attempts - 1, 0),
        next_attempt_at=row.next_attempt_at,
        delivered_at=row.delivered_at,
        last_error=row.last_error,
    )


def _declarant(declaration: dict[str, Any] | None) -> Declarant | None:
    if not declaration:
        return None
    try:
        return Declaration.model_validate(declaration).the_declarant
    except ValueError:  # a declaration stored by an older schema that no longer validates
        return None


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
        """(status, attempts over every channel) of a recorded notice."""
        row = await self.session.scalar(select(NotificationRow).where(NotificationRow.notice_id == notice_id))
        return None if row is None else (row.status, row.attempts)

    async def declarants_of(self, application_ids: Sequence[str]) -> dict[str, Declarant]:
        """Whom each application's notices address: its declarant, else its head."""
        found: dict[str, Declarant] = {}
        for part in chunks(sorted(set(application_ids))):
            rows = await self.session.execute(
                select(ApplicationRow.application_id, ApplicationRow.declaration).where(
                    ApplicationRow.application_id.in_(part)
                )
            )
            for application_id, declaration in rows:
                declarant = _declarant(declaration)
                if declarant is not None:
                    found[application_id] = declarant
        return found

    async def notices_of(self, application_id: str) -> list[NoticeView]:
        """Every notice of the application, oldest first, as the portal reads them: each with its
        state on every channel (delivered, retrying, rejected, or pending before a first try)."""
        rows = list(
            await self.session.scalars(
                select(NotificationRow)
                .where(NotificationRow.application_id == application_id)
                .order_by(NotificationRow.created_at, NotificationRow.id)
            )
        )
        deliveries: dict[str, list[NoticeDeliveryRow]] = {}
        if rows:
            for delivery in await self.session.scalars(
                select(NoticeDeliveryRow)
                .where(NoticeDeliveryRow.notice_id.in_([r.notice_id for r in rows]))
                .order_by(NoticeDeliveryRow.id)
            ):
                deliveries.setdefault(delivery.notice_id, []).append(delivery)
        declarant = (await self.declarants_of([application_id])).get(application_id)
        views = []
        for row in rows:
            channels = [
                DeliveryView(
                    channel=d.channel,
                    status=delivery_state(d).shown,
                    attempts=d.attempts,
                    next_attempt_at=d.next_attempt_at if d.status == PENDING else None,
                    delivered_at=d.delivered_at,
                    last_error=d.last_error,
                )
                for d in deliveries.get(row.notice_id, [])
            ]
            status = notice_shown([c.status for c in channels]) if channels else _legacy(row)
            views.append(
                NoticeView(
                    kind=row.kind,
                    recipient=row.recipient,
                    addressee=None if declarant is None else declarant.full_name,
                    message=row.message,
                    created_at=row.created_at,
                    status=status,
                    delivered_at=row.delivered_at,
                    deliveries=channels,
                )
            )
        return views

    async def undispatched_notices(self, limit: int) -> list[NotificationRow]:
        """Notices not yet given their deliveries, oldest first (each is dispatched once)."""
        rows = await self.session.scalars(
            select(NotificationRow)
            .where(NotificationRow.dispatched_at.is_(None))
            .order_by(NotificationRow.id)
            .limit(limit)
        )
        return list(rows.all())

    async def dispatch_notice(
        self, notice_id: str, channels: Sequence[tuple[str, str | None]], now: datetime
    ) -> None:
        """One delivery per (channel, address), due now; the notice counts as dispatched. With no
        channel at all the notice stays in the outbox, pending, for the portal to read."""
        for channel, address in channels:
            await self.session.execute(
                self._insert(NoticeDeliveryRow)
                .values(
                    notice_id=notice_id,
                    channel=channel,
                    address=address,
                    status=PENDING,
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
                .on_conflict_do_nothing(index_elements=["notice_id", "channel"])
            )
        await self.session.execute(
            update(NotificationRow)
            .where(NotificationRow.notice_id == notice_id, NotificationRow.dispatched_at.is_(None))
            .values(dispatched_at=now)
            .execution_options(synchronize_session=False)
        )

    async def claim_due_deliveries(
        self, now: datetime, limit: int, lease: timedelta
    ) -> list[tuple[NoticeDeliveryRow, NotificationRow]]:
        """The deliveries due now, soonest first — not the oldest notices: one that keeps failing
        waits its backoff while newer ones go out. Claimed by moving their next attempt a lease
        ahead, so a second sweeper (another worker) does not send them at the same time."""
        due = select(NoticeDeliveryRow.id).where(
            NoticeDeliveryRow.status == PENDING, NoticeDeliveryRow.next_attempt_at <= now
        )
        ids = list(
            await self.session.scalars(
                due.order_by(NoticeDeliveryRow.next_attempt_at, NoticeDeliveryRow.id).limit(limit)
            )
        )
        if not ids:
            return []
        claimed = list(
            await self.session.scalars(
                update(NoticeDeliveryRow)
                .where(
                    NoticeDeliveryRow.id.in_(ids),
                    NoticeDeliveryRow.status == PENDING,
                    NoticeDeliveryRow.next_attempt_at <= now,
                )
                .values(next_attempt_at=now + lease)
                .returning(NoticeDeliveryRow.id)
                .execution_options(synchronize_session=False)
            )
        )
        if not claimed:
            return []
        rows = await self.session.execute(
            select(NoticeDeliveryRow, NotificationRow)
            .join(NotificationRow, NotificationRow.notice_id == NoticeDeliveryRow.notice_id)
            .where(NoticeDeliveryRow.id.in_(claimed))
            .order_by(NoticeDeliveryRow.id)
            .execution_options(populate_existing=True)
        )
        return [(d, n) for d, n in rows]

    async def deliveries_of_notice(self, notice_id: str) -> list[NoticeDeliveryRow]:
        rows = await self.session.scalars(
            select(NoticeDeliveryRow)
            .where(NoticeDeliveryRow.notice_id == notice_id)
            .order_by(NoticeDeliveryRow.id)
            .execution_options(populate_existing=True)
        )
        return list(rows.all())

    async def save_delivery(self, delivery_id: int, notice_id: str, state: DeliveryState) -> bool:
        """The state after an attempt, written only over a pending row (a delivery is recorded
        delivered at most once), then the notice's own status from all its channels."""
        written = await self.session.scalar(
            update(NoticeDeliveryRow)
            .where(NoticeDeliveryRow.id == delivery_id, NoticeDeliveryRow.status == PENDING)
            .values(
                status=state.status,
                attempts=state.attempts,
                next_attempt_at=state.next_attempt_at,
                delivered_at=state.delivered_at,
                last_error=state.last_error,
            )
            .returning(NoticeDeliveryRow.id)
            .execution_options(synchronize_session=False)
        )
        if written is None:
            return False
        await self._settle_notice(notice_id)
        return True

    async def _settle_notice(self, notice_id: str) -> None:
        """The outbox row sums its channels: delivered when all took it, rejected when all are
        settled and one refused, pending while any still tries (what metrics count)."""
        deliveries = await self.deliveries_of_notice(notice_id)
        states = [delivery_state(d) for d in deliveries]
        shown = notice_shown([s.shown for s in states])
        delivered = [s.delivered_at for s in states if s.delivered_at is not None]
        errors = [s.last_error for s in states if s.last_error]
        await self.session.execute(
            update(NotificationRow)
            .where(NotificationRow.notice_id == notice_id)
            .values(
                status=shown if shown in (DELIVERED, REJECTED) else PENDING,
                attempts=sum(s.attempts for s in states),
                delivered_at=max(delivered) if shown == DELIVERED and delivered else None,
                last_error=errors[-1] if errors else None,
            )
            .execution_options(synchronize_session=False)
        )


def _legacy(row: NotificationRow) -> Any:
    """A notice settled before deliveries per channel existed, or one with no channel at all."""
    if row.status in (DELIVERED, REJECTED):
        return row.status
    return "retrying" if row.attempts else "pending"
