"""Step 3 — nộp tiền: record the quote, open the payment order at the bank.

The household then pays at the bank; the bank's callback reaches the workflow as the
`payment_received` signal through the API's IPN endpoint, not through an activity.
"""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio import activity

from activities.errors import BANK_REJECTED, business_error
from activities.inputs import OpenPayment
from adapters.bank import BankGatewayClient, BankRejected
from adapters.db import Database
from domain.models import ApplicationStatus, PaymentInstructions


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
        """Store the binding quote before asking the bank, so the bank's callback always finds it."""
        txn_ref = txn_ref_for(request.application_id)
        quote = request.quote
        async with self._db.unit_of_work() as uow:
            record = await uow.repo.get_application(request.application_id)
            if record is None:
                raise business_error("ApplicationNotFound", "application not recorded")
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
        return PaymentInstructions(
            txn_ref=txn_ref,
            amount=quote.total,
            pay_url=order.pay_url,
            deadline=request.deadline,
            merchant_code=self._merchant_code,
        )
