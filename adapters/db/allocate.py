"""Step 4's transaction: load and lock what a payment touches, ask the domain, save its answer.

The rules are in `domain.allocation` (does the payment match, what it changes, the receipt);
this module only decides what is read, locked and written, in one transaction, and makes a
replay return the first result without writing anything.

Lock order — the one place it is written down. Every allocation takes its locks in this order,
so concurrent allocations on PostgreSQL never deadlock:

1. the application row (serialises allocations of one application);
2. the participants' rows, sorted by BHXH number;
3. the bank payment row;
4. last, the receipt counter of (series, fiscal year), which every allocation of the series
   shares and so is held for the shortest time.

SQLite needs none of it (the transaction holds the database write lock from BEGIN IMMEDIATE).
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from adapters.db.errors import PaymentAlreadyAllocatedError, PaymentMismatchError, UnknownParticipantError
from adapters.db.records import AllocationRequest, AllocationResult, ApplicationRecord
from adapters.db.repository import Repository
from adapters.db.sql import utcnow
from adapters.db.uow import Database
from domain.allocation import (
    AllocationRefused,
    MismatchKind,
    issue_receipt,
    payment_mismatch,
    plan_allocation,
)

_REFUSAL = {
    MismatchKind.REFERENCE: "payment is for another order",
    MismatchKind.AMOUNT: "paid amount differs from the quote",
    MismatchKind.STATUS: "the payment was not successful",
}


def _payer(application: ApplicationRecord, fallback: str) -> str:
    """The declarant pays (QĐ 1187 bước 3): read from the recorded declaration, already loaded by
    the lock, so the workflow's input (the head's name) is only the fallback of a declaration
    never recorded."""
    if application.declaration is None:
        return fallback
    return application.declaration.the_declarant.full_name


async def allocate(db: Database, request: AllocationRequest) -> AllocationResult:
    """Step 4 in its own committed transaction, idempotent: a second call returns the first
    result, writing nothing.

    Two calls for the same application racing on PostgreSQL before either recorded the
    application row can collide on a unique key; the loser then simply reads the winner's
    result, which is what it would have returned anyway.
    """
    for attempt in range(3):
        try:
            async with db.unit_of_work() as uow:
                result = await _allocate(uow.repo, request)
                await uow.commit()
                return result
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def _allocate(repo: Repository, request: AllocationRequest) -> AllocationResult:
    """The transaction's reads, locks and writes; the only writer in its unit of work."""
    payment = request.payment
    total = sum(line.amount for line in request.lines)
    application = await repo.lock_application(
        request.application_id,
        household_code=request.household_code,
        member_count=len(request.lines),
        txn_ref=payment.txn_ref,
        amount=total,
    )
    existing = await repo.get_allocation(request.application_id)
    if existing is not None:
        return existing

    mismatch = payment_mismatch(payment, txn_ref=application.txn_ref, amount=total)
    if mismatch is not None:
        raise PaymentMismatchError(
            f"application {request.application_id}: {_REFUSAL.get(mismatch.kind, mismatch.reason)}"
        )
    numbers = [line.bhxh_number for line in request.lines]
    if len(set(numbers)) != len(numbers):
        raise PaymentMismatchError(f"application {request.application_id}: a card is quoted twice")

    cards = await repo.lock_cards(numbers)
    try:
        plan = plan_allocation(
            request.lines, cards, household_code=request.household_code, payment_date=request.payment_date
        )
    except AllocationRefused as refused:
        raise UnknownParticipantError(f"application {request.application_id}: {refused}") from None

    payment_row = await repo.lock_payment(payment, request.application_id)
    if payment_row.allocated_application_id not in (None, request.application_id):
        raise PaymentAlreadyAllocatedError(
            f"bank transaction {payment.bank_tran_no} is already allocated to another application"
        )
    if payment_mismatch(payment, txn_ref=payment_row.txn_ref, amount=payment_row.amount) is not None:
        raise PaymentMismatchError(
            f"bank transaction {payment.bank_tran_no} was recorded for another order or amount"
        )
    if payment_row.refund_status is not None:
        raise PaymentMismatchError(
            f"bank transaction {payment.transaction_no} was refunded or is being refunded"
        )
    now = utcnow()
    repo.mark_payment_allocated(payment_row, request.application_id, now)

    await repo.save_validity(
        request.application_id,
        payment_row.id,
        [(cards[c.bhxh_number], c) for c in plan.contributions],
    )
    await repo.save_allocation(request.application_id, payment_row.id, plan)
    await repo.mark_application_allocated(request.application_id, now)
    await repo.release_cards(request.application_id)
    await repo.session.flush()

    number = await repo.next_receipt_number(request.series, plan.fiscal_year)
    receipt = issue_receipt(
        plan,
        application_id=request.application_id,
        series=request.series,
        number=number,
        issued_on=request.payment_date,
        payer_name=_payer(application, request.payer_name),
        payment=payment,
    )
    await repo.save_receipt(request.application_id, payment_row.id, receipt)
    return AllocationResult(receipt=receipt, allocations=plan.allocations)
