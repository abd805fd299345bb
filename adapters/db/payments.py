"""Bank payments: every accepted callback kept for audit, keyed by the bank's transaction number."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from adapters.db.orm import ApplicationRow, BankPaymentRow
from adapters.db.sql import Store, utcnow
from domain.models import PaymentReceived
from domain.reconciliation import RecordedPayment

CONFIRMED_OUTCOMES = frozenset({"confirmed", "00"})
"""`outcome` values of `record_bank_callback` that mean "this order is paid" (IPN answer 00)."""


def payment_key(payment: PaymentReceived) -> str:
    """The bank transaction number keys a payment; a failed attempt may lack one."""
    if payment.bank_tran_no:
        return payment.bank_tran_no
    if payment.transaction_no:
        return f"TN:{payment.transaction_no}"
    return f"REF:{payment.txn_ref}:{payment.pay_date.isoformat()}:{payment.response_code}"


class PaymentStore(Store):
    def _insert_payment(
        self,
        key: str,
        payment: PaymentReceived,
        *,
        txn_ref: str,
        application_id: str | None,
        outcome: str,
        raw: dict[str, Any],
        now: datetime,
    ) -> Any:
        """The one way a bank payment row is first written (by the IPN or by step 4, whichever comes
        first): keyed by `key`, and a no-op when that bank transaction is already on record."""
        return (
            self._insert(BankPaymentRow)
            .values(
                bank_tran_no=key,
                transaction_no=payment.transaction_no,
                txn_ref=txn_ref,
                application_id=application_id,
                amount=payment.amount,
                bank_code=payment.bank_code,
                pay_date=payment.pay_date,
                response_code=payment.response_code,
                transaction_status=payment.transaction_status,
                is_paid=payment.is_paid,
                outcome=outcome,
                raw=raw,
                duplicate_count=0,
                received_at=now,
                last_seen_at=now,
            )
            .on_conflict_do_nothing(index_elements=["bank_tran_no"])
        )

    async def record_bank_callback(
        self, txn_ref: str, payment: PaymentReceived, raw: Mapping[str, str], outcome: str
    ) -> bool:
        """Keep every accepted callback for audit; True only the first time this transaction is seen."""
        now = utcnow()
        application_id = await self.session.scalar(
            select(ApplicationRow.application_id).where(ApplicationRow.txn_ref == txn_ref)
        )
        key = payment_key(payment)
        inserted = await self.session.scalar(
            self._insert_payment(
                key,
                payment,
                txn_ref=txn_ref,
                application_id=application_id,
                outcome=outcome,
                raw=dict(raw),
                now=now,
            ).returning(BankPaymentRow.id)
        )
        if inserted is not None:
            return True
        await self.session.execute(
            update(BankPaymentRow)
            .where(BankPaymentRow.bank_tran_no == key)
            .values(duplicate_count=BankPaymentRow.duplicate_count + 1, last_seen_at=now)
            .execution_options(synchronize_session=False)
        )
        return False

    async def paid_callbacks_between(self, start: datetime, end: datetime) -> list[RecordedPayment]:
        """Successful payments we recorded with a pay date in [start, end), for the day's reconciliation."""
        rows = await self.session.execute(
            select(BankPaymentRow, ApplicationRow.status)
            .outerjoin(ApplicationRow, ApplicationRow.txn_ref == BankPaymentRow.txn_ref)
            .where(
                BankPaymentRow.is_paid.is_(True),
                BankPaymentRow.pay_date >= start,
                BankPaymentRow.pay_date < end,
            )
            .order_by(BankPaymentRow.id)
        )
        return [
            RecordedPayment(
                bank_tran_no=row.bank_tran_no,
                txn_ref=row.txn_ref,
                amount=row.amount,
                allocated=row.allocated_at is not None,
                application_status=status,
            )
            for row, status in rows.all()
        ]

    async def payment_confirmed(self, txn_ref: str) -> bool:
        """A successful payment for this order is already on record (the IPN answers 02)."""
        found = await self.session.scalar(
            select(BankPaymentRow.id)
            .where(
                BankPaymentRow.txn_ref == txn_ref,
                BankPaymentRow.is_paid.is_(True),
                BankPaymentRow.outcome.in_(CONFIRMED_OUTCOMES) | BankPaymentRow.allocated_at.is_not(None),
            )
            .limit(1)
        )
        return found is not None

    async def lock_payment(self, payment: PaymentReceived, application_id: str) -> BankPaymentRow:
        """Record the payment if the IPN has not yet, then lock its row (see `adapters.db.allocate`)."""
        key = payment_key(payment)
        await self.session.execute(
            self._insert_payment(
                key,
                payment,
                txn_ref=payment.txn_ref,
                application_id=application_id,
                outcome="confirmed",
                raw=payment.model_dump(mode="json"),
                now=utcnow(),
            )
        )
        row = await self.session.scalar(
            select(BankPaymentRow)
            .where(BankPaymentRow.bank_tran_no == key)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        assert row is not None
        return row

    @staticmethod
    def mark_payment_allocated(row: BankPaymentRow, application_id: str, at: datetime) -> None:
        row.application_id = application_id
        row.allocated_application_id = application_id
        row.allocated_at = at
