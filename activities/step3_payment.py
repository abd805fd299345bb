"""Step 3 — nộp tiền: record the quote, open the payment order at the bank.

The household then pays at the bank; the bank's callback reaches the workflow as the
`payment_received` signal through the API's IPN endpoint, not through an activity.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.errors import BANK_REJECTED, CANCEL_REQUESTED, business_error
from activities.inputs import OpenPayment, RefundInput, RefundResult, SettleOrder
from adapters import vnpay_api
from adapters.bank import BankError, BankGatewayClient, BankOrderNotFound, BankRejected, BankUnavailable
from adapters.db import Database
from adapters.notifications import Notice, write_notice
from domain import notices
from domain.models import ApplicationStatus, PaymentInstructions, PaymentReceived
from domain.payments import NEVER_OPENED_GRACE, never_opened, transaction_key
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

NEVER_PAID = (vnpay_api.PENDING, "02")
"""querydr's transaction statuses of an order the bank holds and was not paid (not completed,
failed): the only answers that let an application expire or close unpaid."""


def txn_ref_for(application_id: str) -> str:
    """The bank's order reference (vnp_TxnRef): derived from the application, so a retry reuses it."""
    return "BHYT" + application_id.replace("-", "").upper()


class PaymentActivities:
    def __init__(self, db: Database, bank: BankGatewayClient, *, merchant_code: str, ipn_url: str) -> None:
        self._db = db
        self._bank = bank
        self._merchant_code = merchant_code
        self._ipn_url = ipn_url

    @activity.defn(name="open_payment")
    async def open_payment(self, request: OpenPayment) -> PaymentInstructions:
        """Store the binding quote before asking the bank, so the bank's callback always finds it.

        A cancel on record opens nothing (unless an earlier attempt already stored the quote, so
        may have reached the bank); the payment-due notice is written once the order is open.
        Idempotent: the quote is an upsert, the bank order is keyed by the application's txn_ref,
        the notice by (application, kind, recipient)."""
        txn_ref = txn_ref_for(request.application_id)
        quote = request.quote
        async with self._db.unit_of_work() as uow:
            record = await uow.repo.get_application(request.application_id)
            if record is None:
                raise business_error("ApplicationNotFound", "application not recorded")
            # an attempt that stored the quote may have reached the bank: that one carries on
            # (same order), and the run voids the order when it hears the cancel
            if record.txn_ref is None and await uow.repo.cancel_requested(request.application_id):
                raise business_error(CANCEL_REQUESTED, "the declarant cancelled before the order")
            record = record.model_copy(
                update={
                    "status": ApplicationStatus.AWAITING_PAYMENT.value,
                    "household_code": request.household_code,
                    "province_code": quote.lines[0].province_code,
                    "member_count": len(quote.lines),
                    "quote": quote,
                    "txn_ref": txn_ref,
                    "amount": quote.total,
                    "deadline": request.deadline,
                    "updated_at": datetime.now(UTC),
                }
            )
            await uow.repo.save_application(record)
            await uow.commit()
        asked_at = datetime.now(UTC)
        try:
            order = await self._bank.create_order(
                txn_ref=txn_ref,
                amount=quote.total,
                order_info=f"Gia han the BHYT ho gia dinh {request.application_id}",
                ipn_url=self._ipn_url,
                expires_at=request.deadline,
            )
        except BankRejected as exc:
            raise business_error(BANK_REJECTED, f"bank refused the order: {exc}") from None
        instructions = PaymentInstructions(
            txn_ref=txn_ref,
            amount=quote.total,
            pay_url=order.pay_url,
            deadline=request.deadline,
            merchant_code=self._merchant_code,
            opened_at=order.created_at or asked_at,
        )
        notice = Notice(
            request.application_id,
            "payment_due",
            "declarant",
            notices.payment_due(quote, instructions),
            {
                "amount": quote.total,
                "cards": len(quote.lines),
                "txn_ref": txn_ref,
                "deadline": request.deadline.isoformat(),
            },
        )
        async with self._db.unit_of_work() as uow:
            await write_notice(uow.repo, notice)
            await uow.commit()
        return instructions

    @activity.defn(name="settle_order")
    async def settle_order(self, request: SettleOrder) -> list[PaymentReceived]:
        """Before the application closes unpaid, ask the bank what it took for the order (VNPay
        querydr, with the order's creation date); a payment whose callback is late or lost is
        returned, and recorded. Only the bank's answer that the order was not paid returns
        nothing: a "not found" or an error raises (retryable), so the bank is asked again, never
        taken as "unpaid" (issue 19) — except a "not found" a day after the deadline, VNPay's
        answer for an order whose pay page was never opened (domain.payments.NEVER_OPENED_GRACE).
        Where the bank can void an order (our simulator's extension; real VNPay lets it expire),
        an unpaid order is voided, and asked again if the void says it was paid meanwhile."""
        opened = request.opened_at or await self._opened_at(request.application_id)
        payment = await self._paid(request.txn_ref, opened, request.deadline)
        if payment is None and await self._void(request.txn_ref) == "paid":
            payment = await self._paid(request.txn_ref, opened, request.deadline)
        if payment is None:
            return []
        async with self._db.unit_of_work() as uow:
            await uow.repo.record_bank_callback(request.txn_ref, payment, {"source": "querydr"}, "querydr")
            await uow.commit()
        return [payment]

    async def _opened_at(self, application_id: str) -> datetime:
        """For an order opened before `PaymentInstructions.opened_at` existed: the record's first date."""
        async with self._db.unit_of_work(read_only=True) as uow:
            record = await uow.repo.get_application(application_id)
        return (record.created_at if record else None) or datetime.now(UTC)

    async def _paid(
        self, txn_ref: str, opened: datetime, deadline: datetime | None = None
    ) -> PaymentReceived | None:
        """querydr: the payment, None when the bank says the order was never paid, else raises."""
        try:
            answer = await self._bank.query_order(txn_ref, created_at=opened)
        except BankOrderNotFound as exc:  # 91: asked again, unless the pay page was never opened
            asked_at = activity.info().current_attempt_scheduled_time
            if never_opened(deadline, asked_at):
                activity.logger.info("querydr 91 %s after the deadline: never opened, unpaid", NEVER_OPENED_GRACE)
                return None
            raise ApplicationError(
                f"bank querydr refused, asked again: {exc}", type="BankQueryUnanswered"
            ) from None
        except BankRejected as exc:  # other refusals: the bank is asked again
            raise ApplicationError(
                f"bank querydr refused, asked again: {exc}", type="BankQueryUnanswered"
            ) from None
        if answer.paid and answer.amount is not None and answer.pay_date is not None:
            return PaymentReceived(
                txn_ref=txn_ref,
                amount=answer.amount,
                bank_code=answer.bank_code,
                bank_tran_no=answer.bank_tran_no,
                transaction_no=answer.transaction_no,
                pay_date=answer.pay_date,
                response_code=vnpay_api.OK,
                transaction_status=vnpay_api.PAID,
            )
        if answer.response_code == vnpay_api.OK and answer.transaction_status in NEVER_PAID:
            return None
        raise ApplicationError(
            f"bank querydr: answer {answer.response_code}/{answer.transaction_status}, asked again",
            type="BankQueryUnanswered",
        )

    async def _void(self, txn_ref: str) -> str | None:
        """The order's status after the void, or None where the bank has no void (real VNPay)."""
        try:
            return await self._bank.void_order(txn_ref)
        except BankRejected:
            return None

    @activity.defn(name="refund_payment")
    async def refund_payment(self, request: RefundInput) -> RefundResult:
        """Full refund of one transaction that is not allocated, through the bank's refund API."""
        result = await refund_transaction(
            self._db, self._bank, request.application_id, request.payment, request.reason
        )
        activity.logger.info("refund for application %s: %s", request.application_id, result.detail)
        return result


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
