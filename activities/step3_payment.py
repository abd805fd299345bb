"""Step 3 — nộp tiền: record the quote, open the payment order at the bank.

The household then pays at the bank; the bank's callback reaches the workflow as the
`payment_received` signal through the API's IPN endpoint, not through an activity.
"""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.errors import BANK_REJECTED, CANCEL_REQUESTED, business_error
from activities.inputs import OpenPayment, SettleOrder
from adapters import vnpay_api
from adapters.bank import BankGatewayClient, BankOrderNotFound, BankRejected
from adapters.db import Database
from adapters.notifications import Notice, write_notice
from domain import notices
from domain.models import ApplicationStatus, PaymentInstructions, PaymentReceived
from domain.payments import NEVER_OPENED_GRACE, never_opened

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
        except BankRejected as exc:  # asked again; a 91 long after the deadline: never opened, unpaid
            if isinstance(exc, BankOrderNotFound) and never_opened(
                deadline, activity.info().current_attempt_scheduled_time
            ):
                activity.logger.info(
                    "querydr 91 %s after the deadline: never opened, unpaid", NEVER_OPENED_GRACE
                )
                return None
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
