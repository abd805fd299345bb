"""Applications as the BHXH database keeps them (the workflow owns their state; this is its record)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.db.orm import ApplicationRow, CancelRequestRow
from adapters.db.records import ApplicationRecord
from adapters.db.sql import Store, utcnow
from domain.models import ApplicationStatus


def application_from_row(row: ApplicationRow) -> ApplicationRecord:
    return ApplicationRecord(
        application_id=row.application_id,
        status=row.status,
        household_code=row.household_code,
        province_code=row.province_code,
        member_count=row.member_count,
        declaration=row.declaration,
        quote=row.quote,
        txn_ref=row.txn_ref,
        amount=row.amount,
        deadline=row.deadline,
        allocated_at=row.allocated_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class ApplicationStore(Store):
    async def save_application(self, record: ApplicationRecord) -> None:
        """Upsert by application_id; created_at and allocated_at survive later saves."""
        now = utcnow()
        values: dict[str, Any] = {
            "status": str(record.status),
            "household_code": record.household_code,
            "province_code": record.province_code,
            "member_count": record.member_count,
            "declaration": None if record.declaration is None else record.declaration.model_dump(mode="json"),
            "channel": "portal" if record.declaration is None else record.declaration.channel.value,
            "quote": None if record.quote is None else record.quote.model_dump(mode="json"),
            "txn_ref": record.txn_ref,
            "amount": record.amount,
            "deadline": record.deadline,
            "updated_at": record.updated_at or now,
        }
        insert = self._insert(ApplicationRow).values(
            application_id=record.application_id, created_at=record.created_at or now, **values
        )
        await self.session.execute(
            insert.on_conflict_do_update(index_elements=["application_id"], set_=values)
        )

    async def set_application_status(self, application_id: str, status: str) -> bool:
        """False when the application is unknown (nothing to update)."""
        found = await self.session.scalar(
            update(ApplicationRow)
            .where(ApplicationRow.application_id == application_id)
            .values(status=str(status), updated_at=utcnow())
            .returning(ApplicationRow.application_id)
            .execution_options(synchronize_session=False)
        )
        return found is not None

    async def request_cancel(self, application_id: str) -> None:
        """Put the declarant's cancel on record (idempotent): step 3 reads it before the order."""
        await self.session.execute(
            self._insert(CancelRequestRow)
            .values(application_id=application_id, requested_at=utcnow())
            .on_conflict_do_nothing(index_elements=["application_id"])
        )

    async def cancel_requested(self, application_id: str) -> bool:
        found = await self.session.scalar(
            select(CancelRequestRow.application_id).where(CancelRequestRow.application_id == application_id)
        )
        return found is not None

    async def get_application(self, application_id: str) -> ApplicationRecord | None:
        row = await self.session.get(ApplicationRow, application_id, populate_existing=True)
        return None if row is None else application_from_row(row)

    async def get_application_by_txn_ref(self, txn_ref: str) -> ApplicationRecord | None:
        row = await self.session.scalar(select(ApplicationRow).where(ApplicationRow.txn_ref == txn_ref))
        return None if row is None else application_from_row(row)

    async def lock_application(
        self, application_id: str, *, household_code: str, member_count: int, txn_ref: str, amount: int
    ) -> ApplicationRecord:
        """Lock the application's row (first in the lock order, see `adapters.db.allocate`); an
        application never saved is recorded now, as allocating."""
        stmt = (
            select(ApplicationRow)
            .where(ApplicationRow.application_id == application_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        row = await self.session.scalar(stmt)
        if row is None:
            now = utcnow()
            await self.session.execute(
                self._insert(ApplicationRow)
                .values(
                    application_id=application_id,
                    status=ApplicationStatus.ALLOCATING.value,
                    household_code=household_code,
                    member_count=member_count,
                    txn_ref=txn_ref,
                    amount=amount,
                    created_at=now,
                    updated_at=now,
                )
                .on_conflict_do_nothing(index_elements=["application_id"])
            )
            row = await self.session.scalar(stmt)
            assert row is not None
        return application_from_row(row)

    async def mark_application_allocated(self, application_id: str, at: datetime) -> None:
        """One UPDATE, no read: the row was locked by `lock_application` in this transaction."""
        await self.session.execute(
            update(ApplicationRow)
            .where(ApplicationRow.application_id == application_id)
            .values(status=ApplicationStatus.COMPLETED.value, allocated_at=at, updated_at=at)
            .execution_options(synchronize_session=False)
        )


async def waiting_review(session: AsyncSession) -> list[tuple[str, int | None, datetime]]:
    """`(application_id, amount, since)` of every application in `payment_review`, oldest first
    (the operator's review queue, `starter.py review`)."""
    rows = await session.execute(
        select(ApplicationRow.application_id, ApplicationRow.amount, ApplicationRow.updated_at)
        .where(ApplicationRow.status == ApplicationStatus.PAYMENT_REVIEW.value)
        .order_by(ApplicationRow.updated_at)
    )
    return [(application_id, amount, since) for application_id, amount, since in rows.all()]
