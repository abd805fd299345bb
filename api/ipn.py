"""The bank's IPN callback (DESIGN §3): verify, record, then signal the workflow.

Checks run in VNPay's order — signature (97), order (01), amount (04), already confirmed
(02), success (00), anything else (99) — and only a callback that passed the signature and
found its order reaches a workflow. Every accepted callback is recorded for audit before the
signal, and the "already confirmed" answer signals again: a signal lost in a crash between
the two is re-delivered by the bank's retry, and the workflow ignores true duplicates.
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
from domain.models import PaymentReceived
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
        async with svc.db.unit_of_work() as uow:
            confirmed = await uow.repo.payment_confirmed(txn_ref)
            mismatch = payment_mismatch(payment, txn_ref=application.txn_ref, amount=application.amount)
            # the order was found by its reference, so only the amount or the status can differ;
            # a failed payment is no reason to answer 04
            matches = mismatch is None or mismatch.kind is MismatchKind.STATUS
            outcome = "confirmed" if mismatch is None and not confirmed else _outcome(payment, matches)
            await uow.repo.record_bank_callback(txn_ref, payment, params, outcome)
            await uow.commit()
        if payment.is_paid:
            await _signal(svc, application.application_id, payment, repeat=confirmed)
        if not matches:
            log.warning("ipn amount mismatch for application %s", application.application_id)
            return _answer("04", "Invalid amount")
        if confirmed:
            return _answer("02", "Order already confirmed")
        return _answer("00", "Confirm Success")
    except Exception:  # noqa: BLE001 - the bank must get an answer; it retries on 99
        log.exception("ipn failed for order %s", txn_ref)
        return _answer("99", "Unknown error")


def _outcome(payment: PaymentReceived, matches: bool) -> str:
    if not payment.is_paid:
        return "failed"
    return "duplicate" if matches else "amount_mismatch"


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
