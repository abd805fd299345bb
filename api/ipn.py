"""The bank's IPN callback (DESIGN §3): verify, record, then signal the workflow.

Checks run in VNPay's order — signature (97), order (01), amount (04), already confirmed
(02), success (00), anything else (99) — and only a callback that passed the signature and
found its order reaches a workflow. Every accepted callback is recorded for audit before the
signal, and the "already confirmed" answer signals again: a signal lost in a crash between
the two is re-delivered by the bank's retry, and the workflow ignores true duplicates.

Answers tell the truth (issue 10): money for an application that has closed (expired,
cancelled, rejected) is recorded with the outcome `closed_application` (refund due) and
answered 02, as VNPay expects for an order that is no longer payable; a second payment of a
paid order is `second_payment` (refund due), also 02. A callback whose transaction identity is
on record with other content is not the same payment: it is kept in `bank_payment_conflicts`,
logged for an operator, and answered 99 — never silently acknowledged.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query, Request
from temporalio.service import RPCError, RPCStatusCode

from adapters import ipn
from api.answers import IpnAnswer
from api.deps import ServicesDep
from domain.allocation import MismatchKind, payment_mismatch
from domain.models import CLOSED_UNPAID_STATUSES, PaymentReceived
from domain.payments import same_content
from workflows import client as renewals

log = logging.getLogger("bhyt.ipn")
router = APIRouter(prefix="/api/v1/payments", tags=["bank"])


def _answer(code: str, message: str) -> dict[str, str]:
    return {"RspCode": code, "Message": message}


VnpParam = Annotated[str | None, Query()]


@router.get(
    "/ipn",
    response_model=IpnAnswer,
    operation_id="bankPaymentNotification",
    summary="Bank payment notification (VNPay IPN convention)",
)
async def payment_ipn(
    request: Request,
    svc: ServicesDep,
    vnp_TmnCode: VnpParam = None,  # noqa: N803 - the bank's parameter names, declared for clients
    vnp_Amount: VnpParam = None,  # noqa: N803
    vnp_BankCode: VnpParam = None,  # noqa: N803
    vnp_BankTranNo: VnpParam = None,  # noqa: N803
    vnp_CardType: VnpParam = None,  # noqa: N803
    vnp_PayDate: VnpParam = None,  # noqa: N803
    vnp_OrderInfo: VnpParam = None,  # noqa: N803
    vnp_TransactionNo: VnpParam = None,  # noqa: N803
    vnp_ResponseCode: VnpParam = None,  # noqa: N803
    vnp_TransactionStatus: VnpParam = None,  # noqa: N803
    vnp_TxnRef: VnpParam = None,  # noqa: N803
    vnp_SecureHash: VnpParam = None,  # noqa: N803
) -> dict[str, str]:
    """The parameters are declared for generated clients and the docs; the signature is checked
    over every `vnp_*` parameter received, as the convention requires, so all are read raw."""
    params = dict(request.query_params)
    txn_ref = params.get("vnp_TxnRef", "")
    try:
        if not ipn.verify(params, svc.settings.bhyt_ipn_secret):
            log.warning("ipn rejected: invalid signature")
            return _answer("97", "Invalid signature")
        async with svc.db.unit_of_work(read_only=True) as uow:
            application = await uow.repo.get_application_by_txn_ref(txn_ref)
        if application is None or params.get("vnp_TmnCode") != svc.settings.bhyt_tmn_code:
            log.warning("ipn rejected: order not found")
            return _answer("01", "Order not found")
        payment = ipn.payment_from_params(params)
        closed = application.status in CLOSED
        async with svc.db.unit_of_work() as uow:
            recorded = await uow.repo.recorded_payment(payment)
            if recorded is not None and not same_content(recorded, payment):
                await uow.repo.record_payment_conflict(payment, params)
                await uow.commit()
                log.error(
                    "ipn conflict: transaction of order %s reported again with other content; operator needed",
                    txn_ref,
                )
                return _answer("99", "Transaction already recorded with other content")
            confirmed = await uow.repo.payment_confirmed(txn_ref)
            mismatch = payment_mismatch(payment, txn_ref=application.txn_ref, amount=application.amount)
            # the order was found by its reference, so only the amount or the status can differ;
            # a failed payment is no reason to answer 04
            matches = mismatch is None or mismatch.kind is MismatchKind.STATUS
            # a payment on record already (a repeat, or one we learnt of by querydr) is not a second one
            outcome = _outcome(
                payment, matches=matches, closed=closed, confirmed=confirmed and recorded is None
            )
            await uow.repo.record_bank_callback(txn_ref, payment, params, outcome)
            await uow.commit()
        if payment.is_paid:
            await _signal(svc, application.application_id, payment, repeat=recorded is not None)
        if not matches:
            log.warning("ipn amount mismatch for application %s", application.application_id)
            return _answer("04", "Invalid amount")
        if closed and payment.is_paid:
            log.warning("ipn: payment for closed application %s, refund due", application.application_id)
            return _answer("02", "Order not payable: application closed, payment to be refunded")
        if confirmed or (recorded is not None and payment.is_paid):
            return _answer("02", "Order already confirmed")
        return _answer("00", "Confirm Success")
    except Exception:  # noqa: BLE001 - the bank must get an answer; it retries on 99
        log.exception("ipn failed for order %s", txn_ref)
        return _answer("99", "Unknown error")


CLOSED = frozenset(s.value for s in CLOSED_UNPAID_STATUSES)


def _outcome(payment: PaymentReceived, *, matches: bool, closed: bool, confirmed: bool) -> str:
    """What the callback was, as recorded (`confirmed` only for the payment that pays the order)."""
    if not payment.is_paid:
        return "failed"
    if closed:
        return "closed_application"
    if not matches:
        return "amount_mismatch"
    return "second_payment" if confirmed else "confirmed"


async def _signal(svc: ServicesDep, application_id: str, payment: PaymentReceived, *, repeat: bool) -> None:
    """A successful payment goes to the workflow even when the amount is wrong: it then holds
    the application in payment review for an operator instead of leaving the money unseen.

    A run that has already closed cannot take the signal: a repeat of a confirmed payment needs
    nothing more, and money for an expired or cancelled application is on record in
    `bank_payments` for an operator to refund, so the callback is still acknowledged."""
    try:
        await renewals.signal_payment(svc.temporal, application_id, payment)
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        if not repeat:
            log.warning(
                "payment callback for closed application %s: kept for operator review", application_id
            )
