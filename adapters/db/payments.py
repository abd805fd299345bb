"""Bank payments: every accepted callback kept for audit, keyed by the bank's transaction identity
(vnp_TransactionNo, else bank code + bank number: `domain.payments.transaction_key`), with what
became of the money (allocated, refunded) and the callbacks that contradicted a recorded one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from adapters.db.orm import ApplicationRow, BankPaymentConflictRow, BankPaymentRow, OperatorActionRow
from adapters.db.sql import Store, utcnow
from domain.models import PaymentReceived
from domain.payments import transaction_key
from domain.reconciliation import RecordedPayment
from domain.refunds import FINAL, RefundState, stored_state

STREAM_BATCH = 2000
"""Rows fetched per round trip when a day's payments are streamed."""

REFUNDED = "refunded"
OWN_RECORDS = ("querydr", "refund")
"""`outcome` of a payment row we wrote before any callback for it (querydr, refund claim)."""

CONFIRMED_OUTCOMES = frozenset({"confirmed", "00"})
"""`outcome` values of `record_bank_callback` that mean "this order is paid" (IPN answer 00)."""


def refund_returned(refund_status: str | None) -> bool:
    """The money went back: refunded by the bank, or paid back otherwise by an operator."""
    return stored_state(refund_status) in FINAL


def refund_pending(refund_status: str | None) -> bool:
    """A refund request is with the bank (or its answer is not known yet)."""
    return stored_state(refund_status) in (RefundState.REQUESTED, RefundState.IN_PROCESS, RefundState.RETRY)


def payment_key(payment: PaymentReceived) -> str:
    """The bank's transaction identity keys a payment; a failed attempt may have none."""
    if payment.transaction_no or payment.bank_tran_no:
        return transaction_key(payment)
    return f"REF:{payment.txn_ref}:{payment.pay_date.isoformat()}:{payment.response_code}"


def payment_of(row: BankPaymentRow) -> PaymentReceived:
    return PaymentReceived(
        txn_ref=row.txn_ref,
        amount=row.amount,
        bank_code=row.bank_code,
        bank_tran_no=row.bank_tran_no,
        transaction_no=row.transaction_no,
        pay_date=row.pay_date,
        response_code=row.response_code,
        transaction_status=row.transaction_status,
    )


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
                payment_key=key,
                bank_tran_no=payment.bank_tran_no,
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
            .on_conflict_do_nothing(index_elements=["payment_key"])
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
        # the first callback for a payment we learnt of ourselves (querydr, a refund, step 4)
        # takes its place as the record of the callback, so answer and record agree
        first_callback = await self.session.scalar(
            update(BankPaymentRow)
            .where(BankPaymentRow.payment_key == key, BankPaymentRow.outcome.in_(OWN_RECORDS))
            .values(outcome=outcome, raw=dict(raw), last_seen_at=now)
            .returning(BankPaymentRow.id)
            .execution_options(synchronize_session=False)
        )
        if first_callback is not None:
            return True
        await self.session.execute(
            update(BankPaymentRow)
            .where(BankPaymentRow.payment_key == key)
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
                refunded=refund_returned(row.refund_status),
                transaction_no=row.transaction_no,
                bank_code=row.bank_code,
                refund_pending=refund_pending(row.refund_status),
            )
            for row, status in rows.all()
        ]

    async def stream_paid_callbacks(
        self, start: datetime, end: datetime
    ) -> AsyncIterator[list[RecordedPayment]]:
        """`paid_callbacks_between`, streamed in batches in bank_tran_no order (the order of the
        bank's paged statement, so the two merge in one pass): a server-side cursor read through
        the pay-date index, memory bounded whatever the day's size."""
        stmt = (
            select(
                BankPaymentRow.bank_tran_no,
                BankPaymentRow.txn_ref,
                BankPaymentRow.amount,
                BankPaymentRow.allocated_at.is_not(None),
                ApplicationRow.status,
                BankPaymentRow.refund_status,
                BankPaymentRow.transaction_no,
                BankPaymentRow.bank_code,
            )
            .outerjoin(ApplicationRow, ApplicationRow.txn_ref == BankPaymentRow.txn_ref)
            .where(
                BankPaymentRow.is_paid.is_(True),
                BankPaymentRow.pay_date >= start,
                BankPaymentRow.pay_date < end,
            )
            .order_by(self._bytewise(BankPaymentRow.bank_tran_no), BankPaymentRow.id)
            .execution_options(yield_per=STREAM_BATCH)
        )
        result = await self.session.stream(stmt)
        # a batch per await: iterating the async result row by row costs a greenlet switch per row
        async for batch in result.partitions(STREAM_BATCH):
            yield [
                RecordedPayment(
                    bank_tran_no=bank_tran_no,
                    txn_ref=txn_ref,
                    amount=amount,
                    allocated=bool(allocated),
                    application_status=status,
                    refunded=refund_returned(refund_status),
                    transaction_no=transaction_no,
                    bank_code=bank_code,
                    refund_pending=refund_pending(refund_status),
                )
                for bank_tran_no, txn_ref, amount, allocated, status, refund_status, transaction_no, bank_code in batch
            ]

    def _bytewise(self, column: Any) -> Any:
        """Order as Python compares strings (the merge does): PostgreSQL's default collation may not."""
        return column.collate("C") if self.session.get_bind().dialect.name == "postgresql" else column

    async def recorded_payment(self, payment: PaymentReceived) -> PaymentReceived | None:
        """The payment on record under this one's transaction identity, if any (for comparison)."""
        row = await self.session.scalar(
            select(BankPaymentRow).where(BankPaymentRow.payment_key == payment_key(payment))
        )
        return None if row is None else payment_of(row)

    async def record_payment_conflict(self, payment: PaymentReceived, raw: Mapping[str, str]) -> None:
        """A callback that reuses a recorded transaction identity with other content: kept for audit."""
        self.session.add(
            BankPaymentConflictRow(
                payment_key=payment_key(payment), txn_ref=payment.txn_ref, raw=dict(raw), received_at=utcnow()
            )
        )
        await self.session.flush()

    async def payment_conflicts(self) -> list[BankPaymentConflictRow]:
        return list(
            (
                await self.session.scalars(select(BankPaymentConflictRow).order_by(BankPaymentConflictRow.id))
            ).all()
        )

    async def payments_of(self, txn_ref: str) -> list[BankPaymentRow]:
        """Every successful payment recorded for an order, oldest first."""
        rows = await self.session.scalars(
            select(BankPaymentRow)
            .where(BankPaymentRow.txn_ref == txn_ref, BankPaymentRow.is_paid.is_(True))
            .order_by(BankPaymentRow.id)
        )
        return list(rows.all())

    async def payment_row(self, payment: PaymentReceived) -> BankPaymentRow | None:
        return await self.session.scalar(
            select(BankPaymentRow)
            .where(BankPaymentRow.payment_key == payment_key(payment))
            .execution_options(populate_existing=True)
        )

    async def mark_refund(
        self,
        payment: PaymentReceived,
        *,
        status: str,
        request_id: str,
        refund_transaction_no: str | None,
        application_id: str,
    ) -> None:
        """What the bank answered to our refund of this transaction (recorded if the IPN never was)."""
        now = utcnow()
        await self.session.execute(
            self._insert_payment(
                payment_key(payment),
                payment,
                txn_ref=payment.txn_ref,
                application_id=application_id,
                outcome="refund",
                raw=payment.model_dump(mode="json"),
                now=now,
            )
        )
        await self.session.execute(
            update(BankPaymentRow)
            .where(BankPaymentRow.payment_key == payment_key(payment))
            .values(
                refund_status=status,
                refund_request_id=request_id,
                refund_transaction_no=refund_transaction_no,
                refunded_at=now if status == REFUNDED else None,
            )
            .execution_options(synchronize_session=False)
        )

    async def lock_for_refund(self, payment: PaymentReceived, application_id: str) -> BankPaymentRow:
        """The payment's row, recorded if need be and locked: whoever holds the lock decides
        between allocating and refunding it (step 4 refuses a row with a refund on record)."""
        return await self._record_and_lock(payment, application_id, outcome="refund")

    @staticmethod
    def start_refund_request(row: BankPaymentRow, request_id: str, now: datetime) -> None:
        """A new refund request is about to go out: from now on the row is `requested` (a retry
        asks the bank before sending anything), and step 4 refuses the transaction."""
        row.refund_status = RefundState.REQUESTED.value
        row.refund_request_id = request_id
        row.refund_attempts = (row.refund_attempts or 0) + 1
        row.refund_requested_at = now
        row.refund_checks = 0
        row.refund_next_check_at = None

    async def record_refund_step(
        self,
        payment: PaymentReceived,
        status: str,
        *,
        refund_transaction_no: str | None,
        next_check_at: datetime | None,
    ) -> None:
        """What the bank said of the refund (answer or querydr), as `domain.refunds` read it."""
        values: dict[str, Any] = {"refund_status": status, "refund_next_check_at": next_check_at}
        if refund_transaction_no:
            values["refund_transaction_no"] = refund_transaction_no
        if status == REFUNDED:
            values["refunded_at"] = utcnow()
        await self.session.execute(
            update(BankPaymentRow)
            .where(BankPaymentRow.payment_key == payment_key(payment))
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    async def refunds_to_follow(self, now: datetime, limit: int = 100) -> list[BankPaymentRow]:
        """Refunds the bank is processing whose next check is due, and refunds an operator asked
        to retry (the worker's follower)."""
        rows = await self.session.scalars(
            select(BankPaymentRow)
            .where(
                BankPaymentRow.refund_status == RefundState.IN_PROCESS.value,
                (BankPaymentRow.refund_next_check_at.is_(None))
                | (BankPaymentRow.refund_next_check_at <= now),
            )
            .order_by(BankPaymentRow.refund_next_check_at, BankPaymentRow.id)
            .limit(limit)
        )
        return list(rows.all())

    async def refunds_needing_operator(self, pending_before: datetime) -> list[BankPaymentRow]:
        """Refunds the bank rejected or refused (refund due: an operator decides), and refunds
        still with the bank since before `pending_before` (long pending)."""
        rows = await self.session.scalars(
            select(BankPaymentRow)
            .where(
                BankPaymentRow.refund_status.like("rejected:%")
                | BankPaymentRow.refund_status.like("refused:%")
                | (
                    BankPaymentRow.refund_status.in_(
                        [RefundState.REQUESTED.value, RefundState.IN_PROCESS.value]
                    )
                    & (BankPaymentRow.refund_requested_at < pending_before)
                )
            )
            .order_by(BankPaymentRow.id)
        )
        return list(rows.all())

    async def record_operator_action(
        self,
        *,
        operator: str,
        application_id: str,
        action: str,
        transaction: str | None = None,
        override: bool = False,
        reason: str | None = None,
    ) -> None:
        self.session.add(
            OperatorActionRow(
                at=utcnow(), operator=operator, application_id=application_id, action=action,
                transaction=transaction, override=override, reason=reason,
            )
        )  # fmt: skip
        await self.session.flush()

    async def decide_refund(
        self, application_id: str, transaction: str, decision: str, operator: str
    ) -> BankPaymentRow:
        """An operator's decision on a rejected refund: `retry` (a new request may go out) or
        `paid_back` (returned by other means). Raises LookupError / ValueError naming the field."""
        row = await self.session.scalar(
            select(BankPaymentRow)
            .where(BankPaymentRow.payment_key == transaction, BankPaymentRow.application_id == application_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if row is None:
            raise LookupError("transaction: no such transaction for the application")
        if stored_state(row.refund_status) != RefundState.REJECTED:
            raise ValueError(
                f"transaction: its refund is {stored_state(row.refund_status).value}, not rejected"
            )
        row.refund_decided_by = operator
        if decision == "paid_back":
            row.refund_status = RefundState.PAID_BACK.value
            row.refunded_at = utcnow()
        else:
            row.refund_status = RefundState.RETRY.value
            row.refund_next_check_at = None
        return row

    async def operator_actions_of(self, application_id: str) -> list[OperatorActionRow]:
        rows = await self.session.scalars(
            select(OperatorActionRow)
            .where(OperatorActionRow.application_id == application_id)
            .order_by(OperatorActionRow.id)
        )
        return list(rows.all())

    async def allocated_payment_key(self, application_id: str) -> str | None:
        return await self.session.scalar(
            select(BankPaymentRow.payment_key).where(
                BankPaymentRow.allocated_application_id == application_id
            )
        )

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
        return await self._record_and_lock(payment, application_id, outcome="confirmed")

    async def _record_and_lock(
        self, payment: PaymentReceived, application_id: str, outcome: str
    ) -> BankPaymentRow:
        """Insert the payment's row unless one exists (`outcome` only marks a row we wrote first),
        then lock it and read it fresh: whoever holds the lock decides what becomes of the money."""
        key = payment_key(payment)
        await self.session.execute(
            self._insert_payment(
                key,
                payment,
                txn_ref=payment.txn_ref,
                application_id=application_id,
                outcome=outcome,
                raw=payment.model_dump(mode="json"),
                now=utcnow(),
            )
        )
        row = await self.session.scalar(
            select(BankPaymentRow)
            .where(BankPaymentRow.payment_key == key)
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
