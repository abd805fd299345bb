"""Money going back: the one way a payment is refunded, and the follow-up of refunds in process.

A use case, not an activity, because three callers run it: the workflow's `refund_payment`
activity (activities/refunds.py), the worker's refund follower (worker.py `follow_refunds`) and
an operator's `starter.py refund` (services/refund_decisions.py). It talks to the database and
the bank's refund API it is handed; what each bank answer means is `domain.refunds`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from activities.inputs import RefundResult
from adapters.bank import BankError, BankGatewayClient, BankOrderNotFound, BankRejected, BankUnavailable
from adapters.db import Database
from domain.models import PaymentReceived
from domain.payments import transaction_key
from domain.refunds import (
    FINAL,
    RefundState,
    Step,
    after_query,
    after_refund_answer,
    next_check_delay,
    stored_state,
    stored_value,
)
from domain.refunds import request_id as refund_request_id

log = logging.getLogger(__name__)

RESULT_OF = {
    RefundState.REFUNDED: "refunded",
    RefundState.PAID_BACK: "refunded",
    RefundState.IN_PROCESS: "in_process",
    RefundState.REJECTED: "rejected",
}

FOLLOW_BASE_SECONDS = 10.0
FOLLOW_MAX_SECONDS = 3600.0
"""Backoff of the refund follower's querydr: 10 s, 20 s, 40 s, … at most an hour apart."""


async def refund_transaction(
    db: Database, bank: BankGatewayClient, application_id: str, payment: PaymentReceived, reason: str
) -> RefundResult:
    """The one way money goes back (the workflow's activity and the operator's `starter.py refund`).

    Idempotent, and final only when the bank says so (`domain.refunds`): the transaction's row
    is locked first (an allocated one is never refunded, and step 4 refuses one with a refund on
    record); a refund already on record is asked about (querydr) instead of sent again; a new
    request gets a new vnp_RequestId, and only when the bank has no refund of the transaction.
    A lost answer raises BankUnavailable with the row left `requested`, so the retry asks first."""
    async with db.unit_of_work() as uow:
        row = await uow.repo.lock_for_refund(payment, application_id)
        record = await uow.repo.get_application(application_id)
        await uow.commit()
    opened = record.created_at if record is not None else payment.pay_date
    if row.allocated_at is not None:
        return RefundResult(state="allocated", detail="allocated: not refunded")
    state = stored_state(row.refund_status)
    if state in FINAL:
        return RefundResult(state="refunded", detail=f"already {state.value}")
    if state == RefundState.REJECTED:
        return RefundResult(state="rejected", detail=f"refund due ({row.refund_status}): an operator decides")
    if state in (RefundState.REQUESTED, RefundState.IN_PROCESS):
        step = await _ask_bank(bank, payment, opened)
        if step.state != RefundState.NONE:
            return await _record(db, payment, step, refund_no=None, checks=row.refund_checks or 0)
    async with db.unit_of_work() as uow:
        row = await uow.repo.lock_for_refund(payment, application_id)
        if row.allocated_at is not None:
            return RefundResult(state="allocated", detail="allocated: not refunded")
        if stored_state(row.refund_status) not in (
            RefundState.NONE,
            RefundState.REQUESTED,
            RefundState.IN_PROCESS,
            RefundState.RETRY,
        ):
            await uow.commit()
            return await refund_transaction(db, bank, application_id, payment, reason)  # decided meanwhile
        request_id = refund_request_id(transaction_key(payment), (row.refund_attempts or 0) + 1)
        uow.repo.start_refund_request(row, request_id, datetime.now(UTC))
        await uow.commit()
    try:
        answer = await bank.refund(
            request_id=request_id,
            txn_ref=payment.txn_ref,
            transaction_no=payment.transaction_no,
            amount=payment.amount,
            transaction_date=opened,
            reason=reason,
        )
    except BankRejected as exc:
        step = Step(RefundState.REJECTED, detail=str(exc.status_code or "refused"))
        return await _record(db, payment, step, refund_no=None, checks=0)
    step = after_refund_answer(answer.response_code, answer.transaction_status)
    if step.ask:  # 94: a refund of this transaction is on record already
        step = await _ask_bank(bank, payment, opened)
        if step.state == RefundState.NONE:
            raise BankUnavailable(
                "bank refund: 94 without a refund on record; asked again later", operation="refund"
            )
    return await _record(db, payment, step, refund_no=answer.refund_transaction_no or None, checks=0)


async def follow_refund(
    db: Database, bank: BankGatewayClient, application_id: str, payment: PaymentReceived, checks: int
) -> RefundResult:
    """The worker's refund follower, for one refund on record as in process: querydr, and the
    state the bank gives (a refund the bank no longer has on record is rejected: refund due)."""
    async with db.unit_of_work(read_only=True) as uow:
        record = await uow.repo.get_application(application_id) if application_id else None
    opened = record.created_at if record is not None else payment.pay_date
    step = await _ask_bank(bank, payment, opened)
    if step.state == RefundState.NONE:
        step = Step(RefundState.REJECTED, detail="not at bank")
    return await _record(db, payment, step, refund_no=None, checks=checks + 1)


async def follow_due_refunds(db: Database, bank: BankGatewayClient, now: datetime | None = None) -> int:
    """One sweep of the worker's refund follower: every refund on record as in process whose
    next check is due is asked about (querydr) and recorded, and every refund an operator asked
    to retry is sent (a new request id); a bank outage waits for the next sweep."""
    from adapters.db.payments import payment_of

    async with db.unit_of_work(read_only=True) as uow:
        rows = await uow.repo.refunds_to_follow(now or datetime.now(UTC))
    for row in rows:
        try:
            if stored_state(row.refund_status) == RefundState.RETRY:
                await refund_transaction(db, bank, row.application_id or "", payment_of(row), "retry")
            else:
                await follow_refund(db, bank, row.application_id or "", payment_of(row), row.refund_checks or 0)
        except BankError as exc:
            log.info("refund follow-up of application %s waits: %s", row.application_id, type(exc).__name__)
    return len(rows)


async def _ask_bank(bank: BankGatewayClient, payment: PaymentReceived, opened: datetime) -> Step:
    """querydr about this transaction: its refund as the bank holds it (NONE if none)."""
    try:
        answer = await bank.query_order(
            payment.txn_ref, created_at=opened, transaction_no=payment.transaction_no
        )
    except BankOrderNotFound:
        return Step(RefundState.NONE, detail="querydr 91")
    return after_query(answer.response_code, answer.transaction_type, answer.transaction_status)


async def _record(
    db: Database, payment: PaymentReceived, step: Step, *, refund_no: str | None, checks: int
) -> RefundResult:
    if step.state == RefundState.REQUESTED:
        raise BankUnavailable(f"bank refund: no answer yet ({step.detail})", operation="refund")
    next_check = None
    if step.state == RefundState.IN_PROCESS:
        delay = next_check_delay(checks, base_seconds=FOLLOW_BASE_SECONDS, max_seconds=FOLLOW_MAX_SECONDS)
        next_check = datetime.now(UTC) + timedelta(seconds=delay)
    async with db.unit_of_work() as uow:
        row = await uow.repo.payment_row(payment)
        if row is not None and step.state == RefundState.IN_PROCESS:
            row.refund_checks = checks
        await uow.repo.record_refund_step(
            payment, stored_value(step), refund_transaction_no=refund_no, next_check_at=next_check
        )
        await uow.commit()
    return RefundResult(state=RESULT_OF[step.state], detail=f"bank answer {step.detail}")  # type: ignore[arg-type]
