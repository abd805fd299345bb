"""Step 4 — phân bổ: match the bank's record, then allocate and extend in one transaction."""

from __future__ import annotations

from temporalio import activity

from activities.errors import APPLICATION_NOT_FOUND, business_error
from activities.inputs import AllocateInput, AllocateResult, CommittedAllocation, ReconcileInput
from adapters.bank import BankGatewayClient, BankOrderNotFound
from adapters.db import AllocationRequest, Database
from adapters.db.allocate import allocate as allocate_in_db
from domain.allocation import BankOrder, BankTransaction, payment_mismatch
from domain.application import vietnam_date


class AllocationActivities:
    def __init__(self, db: Database, bank: BankGatewayClient) -> None:
        self._db = db
        self._bank = bank

    @activity.defn(name="reconcile_payment")
    async def reconcile_payment(self, request: ReconcileInput) -> str | None:
        """The callback must agree with our record of the order and with the bank's own record.

        Returns None when it does, else an operator-facing reason (no personal data).
        """
        async with self._db.unit_of_work() as uow:
            record = await uow.repo.get_application(request.application_id)
        if record is None or record.txn_ref is None or record.amount is None:
            raise business_error(APPLICATION_NOT_FOUND, "no payment order recorded for the application")
        txn_ref, amount = record.txn_ref, record.amount
        mismatch = payment_mismatch(request.payment, txn_ref=txn_ref, amount=amount)
        if mismatch is None:
            try:
                order = await self._bank.get_order(txn_ref)
            except BankOrderNotFound:
                bank = BankOrder(found=False)
            else:
                bank = BankOrder(
                    found=True,
                    transactions=tuple(BankTransaction.from_json(t) for t in order.get("transactions", [])),
                )
            mismatch = payment_mismatch(request.payment, txn_ref=txn_ref, amount=amount, bank=bank)
        return None if mismatch is None else mismatch.reason

    @activity.defn(name="allocate")
    async def allocate(self, request: AllocateInput) -> AllocateResult:
        """One transaction, keyed by the application and the bank transaction: a retry returns the same receipt."""
        result = await allocate_in_db(
            self._db,
            AllocationRequest(
                application_id=request.application_id,
                household_code=request.household_code,
                payer_name=request.payer_name,
                series=request.receipt_series,
                payment=request.payment,
                payment_date=vietnam_date(request.payment.pay_date),
                lines=request.lines,
            ),
        )
        return AllocateResult(receipt=result.receipt, allocations=result.allocations)

    @activity.defn(name="read_allocation")
    async def read_allocation(self, application_id: str) -> CommittedAllocation | None:
        """Whether step 4 committed for this application after all (its answer may have been lost),
        and with which transaction: re-read before an operator's cancel closes the application."""
        async with self._db.unit_of_work(read_only=True) as uow:
            result = await uow.repo.get_allocation(application_id)
            key = await uow.repo.allocated_payment_key(application_id)
        if result is None or key is None:
            return None
        return CommittedAllocation(
            result=AllocateResult(receipt=result.receipt, allocations=result.allocations), transaction=key
        )
