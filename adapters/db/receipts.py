"""Allocations, revenue entries and receipts: what step 4 wrote, and the gap-free receipt counter."""

from __future__ import annotations

from sqlalchemy import func, insert, select, update

from adapters.db.orm import (
    AllocationRow,
    ReceiptCounterRow,
    ReceiptLineRow,
    ReceiptRow,
    RevenueEntryRow,
)
from adapters.db.records import AllocationResult
from adapters.db.sql import Store
from domain.allocation import AllocationPlan
from domain.models import Allocation, Receipt, ReceiptLine


class ReceiptStore(Store):
    async def save_allocation(self, application_id: str, payment_id: int, plan: AllocationPlan) -> None:
        """The plan's allocation lines and revenue entries (the cards' validity is the participants').
        One executemany INSERT each, without RETURNING: nothing reads their ids back."""
        if not plan.renewals:
            return
        await self.session.execute(
            insert(AllocationRow),
            [
                {
                    "application_id": application_id,
                    "payment_id": payment_id,
                    "line_no": r.line_no,
                    "bhxh_number": r.bhxh_number,
                    "card_number": r.card_number,
                    "office_code": r.office_code,
                    "position": r.position,
                    "months": r.months,
                    "amount": r.amount,
                    "old_valid_to": r.old_valid_to,
                    "valid_from": r.valid_from,
                    "valid_to": r.valid_to,
                }
                for r in plan.renewals
            ],
        )
        if plan.revenue:
            await self.session.execute(
                insert(RevenueEntryRow),
                [
                    {
                        "application_id": application_id,
                        "payment_id": payment_id,
                        "office_code": entry.office_code,
                        "period": entry.period,
                        "amount": entry.amount,
                        "card_count": entry.card_count,
                        "recorded_on": plan.paid_on,
                    }
                    for entry in plan.revenue
                ],
            )

    async def next_receipt_number(self, series: str, year: int) -> int:
        """Gap-free because it is taken inside the allocation's transaction and rolls back with it.

        UPDATE ... RETURNING locks the counter row on PostgreSQL until commit, so concurrent
        allocations queue here (last in the lock order, see `adapters.db.allocate`); SQLite
        already serialises writers at BEGIN IMMEDIATE.
        """
        bump = (
            update(ReceiptCounterRow)
            .where(ReceiptCounterRow.series == series, ReceiptCounterRow.year == year)
            .values(last_number=ReceiptCounterRow.last_number + 1)
            .returning(ReceiptCounterRow.last_number)
            .execution_options(synchronize_session=False)
        )
        number = await self.session.scalar(bump)
        if number is None:
            await self.session.execute(
                self._insert(ReceiptCounterRow)
                .values(series=series, year=year, last_number=0)
                .on_conflict_do_nothing(index_elements=["series", "year"])
            )
            number = await self.session.scalar(bump)
        assert number is not None
        return int(number)

    async def save_receipt(self, application_id: str, payment_id: int, receipt: Receipt) -> None:
        row = ReceiptRow(
            application_id=application_id,
            payment_id=payment_id,
            series=receipt.series,
            year=receipt.year,
            number=receipt.number,
            issued_on=receipt.issued_on,
            payer_name=receipt.payer_name,
            total=receipt.total,
            total_in_words=receipt.total_in_words,
            txn_ref=receipt.txn_ref,
            bank_tran_no=receipt.bank_tran_no,
            verification_code=receipt.verification_code,
        )
        self.session.add(row)
        await self.session.flush()
        self.session.add_all(
            ReceiptLineRow(
                receipt_id=row.id,
                line_no=line_no,
                card_number=line.card_number,
                full_name=line.full_name,
                months=line.months,
                valid_from=line.valid_from,
                valid_to=line.valid_to,
                amount=line.amount,
            )
            for line_no, line in enumerate(receipt.lines, start=1)
        )
        await self.session.flush()

    async def get_allocation(self, application_id: str) -> AllocationResult | None:
        receipt = await self.get_receipt(application_id)
        if receipt is None:
            return None
        rows = await self.session.scalars(
            select(AllocationRow)
            .where(AllocationRow.application_id == application_id)
            .order_by(AllocationRow.line_no)
        )
        allocations = [
            Allocation(
                card_number=row.card_number,
                bhxh_number=row.bhxh_number,
                office_code=row.office_code,
                amount=row.amount,
                old_valid_to=row.old_valid_to,
                valid_from=row.valid_from,
                valid_to=row.valid_to,
            )
            for row in rows
        ]
        return AllocationResult(receipt=receipt, allocations=allocations)

    async def get_receipt(self, application_id: str) -> Receipt | None:
        row = await self.session.scalar(select(ReceiptRow).where(ReceiptRow.application_id == application_id))
        if row is None:
            return None
        lines = await self.session.scalars(
            select(ReceiptLineRow).where(ReceiptLineRow.receipt_id == row.id).order_by(ReceiptLineRow.line_no)
        )
        return Receipt(
            series=row.series,
            number=row.number,
            year=row.year,
            issued_on=row.issued_on,
            payer_name=row.payer_name,
            lines=[
                ReceiptLine(
                    card_number=line.card_number,
                    full_name=line.full_name,
                    months=line.months,
                    valid_from=line.valid_from,
                    valid_to=line.valid_to,
                    amount=line.amount,
                )
                for line in lines
            ],
            total=row.total,
            total_in_words=row.total_in_words,
            txn_ref=row.txn_ref,
            bank_tran_no=row.bank_tran_no,
            verification_code=row.verification_code,
        )

    async def revenue_by_office(self, period: str) -> dict[str, int]:
        """Phát sinh thu of one accounting month (YYYY-MM), per managing office."""
        rows = await self.session.execute(
            select(RevenueEntryRow.office_code, func.sum(RevenueEntryRow.amount))
            .where(RevenueEntryRow.period == period)
            .group_by(RevenueEntryRow.office_code)
        )
        return {office: int(amount) for office, amount in rows}
