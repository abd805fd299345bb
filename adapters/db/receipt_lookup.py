"""Finding an issued receipt for its document: by application (portal) or by public code (anyone).

The receipt itself is read through the repository (`get_receipt`); this module adds what only
the document needs: the public code, the refund mark and each line's position in the reduction
order (kept on the allocation rows written in the same transaction).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from adapters.db.orm import AllocationRow, ReceiptRow
from adapters.db.uow import UnitOfWork
from domain.models import Receipt


@dataclass(frozen=True)
class StoredReceipt:
    application_id: str
    receipt: Receipt
    public_code: str
    positions: dict[int, int]
    """line number (1-based) → position in the household reduction order"""
    refunded: bool


async def receipt_by_application(uow: UnitOfWork, application_id: str) -> StoredReceipt | None:
    row = await uow.session.scalar(select(ReceiptRow).where(ReceiptRow.application_id == application_id))
    return await _stored(uow, row)


async def receipt_by_public_code(uow: UnitOfWork, public_code: str) -> StoredReceipt | None:
    row = await uow.session.scalar(select(ReceiptRow).where(ReceiptRow.public_code == public_code))
    return await _stored(uow, row)


async def mark_receipt_refunded(uow: UnitOfWork, application_id: str, refunded_at: datetime) -> bool:
    """Record that the payment behind an application's receipt was refunded (idempotent: the first
    refund time stays); whether the application has a receipt. The caller commits."""
    result = await uow.session.execute(
        update(ReceiptRow)
        .where(ReceiptRow.application_id == application_id, ReceiptRow.refunded_at.is_(None))
        .values(refunded_at=refunded_at)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount:  # type: ignore[attr-defined]
        return True
    exists = await uow.session.scalar(
        select(ReceiptRow.id).where(ReceiptRow.application_id == application_id)
    )
    return exists is not None


async def _stored(uow: UnitOfWork, row: ReceiptRow | None) -> StoredReceipt | None:
    if row is None:
        return None
    receipt = await uow.repo.get_receipt(row.application_id)
    if receipt is None:  # pragma: no cover - the row was just read in this transaction
        return None
    positions = await uow.session.execute(
        select(AllocationRow.line_no, AllocationRow.position).where(
            AllocationRow.application_id == row.application_id
        )
    )
    return StoredReceipt(
        application_id=row.application_id,
        receipt=receipt,
        public_code=row.public_code,
        positions={line_no: position for line_no, position in positions},
        refunded=row.refunded_at is not None,
    )
