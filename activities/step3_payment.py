"""Step 3 — nộp tiền: record the quote, open the payment order at the bank.

The household then pays at the bank; the bank's callback reaches the workflow as the
`payment_received` signal through the API's IPN endpoint, not through an activity.
"""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio import activity

from activities.errors import BANK_REJECTED, CANCEL_REQUESTED, business_error
from activities.inputs import OpenPayment, RefundInput, RefundResult, SettleOrder
from adapters import vnpay_api
from adapters.bank import BankGatewayClient, BankOrderNotFound, BankRejected
from adapters.db import Database
from adapters.db.payments import REFUNDED
from adapters.notifications import Notice, write_notice
from domain import notices
from domain.models import ApplicationStatus, PaymentInstructions, PaymentReceived
from domain.payments import refund_request_id


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

        With `unless_cancelled`, a cancel on record opens nothing (unless an earlier attempt
        already stored the quote, so may have reached the bank); with `tell_declarant`, the
        payment-due notice is written once the order is open. Idempotent: the quote is an
        upsert, the bank order is keyed by the application's txn_ref, the notice by
        (application, kind, recipient)."""
        txn_ref = txn_ref_for(request.application_id)
        quote = request.quote
        async with self._db.unit_of_work() as uow:
            record = await uow.repo.get_application(request.application_id)
            if record is None:
                raise business_error("ApplicationNotFound", "application not recorded")
            # an attempt that stored the quote may have reached the bank: that one carries on
            # (same order), and the run voids the order when it hears the cancel
            if (
                request.unless_cancelled
                and record.txn_ref is None
                and await uow.repo.cancel_requested(request.application_id)
            ):
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
        )
        if request.tell_declarant:
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
        """Void the order (the bank takes no more money for it), then ask the bank (querydr)
        whether it was paid: a payment whose callback is late or lost is returned, and recorded."""
        async with self._db.unit_of_work(read_only=True) as uow:
            record = await uow.repo.get_application(request.application_id)
        opened = (record.updated_at or record.created_at) if record else None
        try:
            await self._bank.void_order(request.txn_ref)
            answer = await self._bank.query_order(request.txn_ref, created_at=opened or datetime.now(UTC))
        except BankOrderNotFound:
            return []  # the bank never had the order: nothing was paid
        except BankRejected as exc:
            raise business_error(BANK_REJECTED, f"bank refused void/query: {exc}") from None
        if not answer.paid or answer.amount is None or answer.pay_date is None:
            return []
        payment = PaymentReceived(
            txn_ref=request.txn_ref,
            amount=answer.amount,
            bank_code=answer.bank_code,
            bank_tran_no=answer.bank_tran_no,
            transaction_no=answer.transaction_no,
            pay_date=answer.pay_date,
            response_code=vnpay_api.OK,
            transaction_status=vnpay_api.PAID,
        )
        async with self._db.unit_of_work() as uow:
            await uow.repo.record_bank_callback(request.txn_ref, payment, {"source": "querydr"}, "querydr")
            await uow.commit()
        return [payment]

    @activity.defn(name="refund_payment")
    async def refund_payment(self, request: RefundInput) -> RefundResult:
        """Full refund of one transaction that is not allocated, through the bank's refund API."""
        result = await refund_transaction(
            self._db, self._bank, request.application_id, request.payment, request.reason
        )
        activity.logger.info("refund for application %s: %s", request.application_id, result.detail)
        return result


async def refund_transaction(
    db: Database, bank: BankGatewayClient, application_id: str, payment: PaymentReceived, reason: str
) -> RefundResult:
    """The one way money goes back (the workflow's activity and the operator's `starter.py refund`).

    Idempotent: the transaction is claimed first under a row lock (step 4 then refuses it, and an
    allocated one is never refunded), and the request id is derived from the transaction, so a
    retry is the same request to the bank and never a second refund."""
    request_id = refund_request_id(payment)
    async with db.unit_of_work() as uow:
        claim = await uow.repo.claim_refund(payment, application_id, request_id)
        await uow.commit()
    if claim == "allocated":
        return RefundResult(refunded=False, detail="allocated: not refunded")
    if claim == "refunded":
        return RefundResult(refunded=True, detail="already refunded")
    try:
        answer = await bank.refund(
            request_id=request_id,
            txn_ref=payment.txn_ref,
            transaction_no=payment.transaction_no,
            amount=payment.amount,
            transaction_date=payment.pay_date,
            reason=reason,
        )
        code, refund_no = answer.response_code, answer.refund_transaction_no
    except BankRejected as exc:
        code, refund_no = f"rejected {exc.status_code}", ""
    # 94: the bank already refunded this transaction (an earlier request): the money went back
    refunded = code in (vnpay_api.OK, vnpay_api.ALREADY_REQUESTED)
    async with db.unit_of_work() as uow:
        await uow.repo.mark_refund(
            payment,
            status=REFUNDED if refunded else f"refused:{code}"[:32],
            request_id=request_id,
            refund_transaction_no=refund_no or None,
            application_id=application_id,
        )
        await uow.commit()
    return RefundResult(refunded=refunded, detail=f"bank answer {code}")
