"""VNPay's merchant API (POST /merchant_webapi/api/transaction): `querydr` and `refund`."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter

from adapters import ipn, vnpay_api
from simulators.bank.state import BankDep
from simulators.bank.store import BankStore

router = APIRouter()


@router.post(vnpay_api.PATH, tags=["gateway"])
def merchant_api(body: dict[str, Any], bank: BankDep) -> dict[str, str]:
    """VNPay's merchant API: `querydr` (an order's payment, or one transaction's refund) and
    `refund` (full, of one transaction), with VNPay's answer codes (README, bank integrators)."""
    store, knobs, secret, tmn_code = bank.store, bank.knobs, bank.secret, bank.tmn_code
    values = {k: str(v) for k, v in body.items()}
    command = values.get("vnp_Command", "")
    now = bank.clock()
    answer: dict[str, str] = {
        "vnp_ResponseId": values.get("vnp_RequestId", ""),
        "vnp_Command": command,
        "vnp_TmnCode": tmn_code,
        "vnp_TxnRef": values.get("vnp_TxnRef", ""),
    }

    def reply(code: str, message: str, **more: str) -> dict[str, str]:
        out = {**answer, "vnp_ResponseCode": code, "vnp_Message": message, **more}
        return vnpay_api.signed(out, vnpay_api.response_fields(command), secret)

    if command not in ("querydr", "refund"):
        return reply(vnpay_api.INVALID_FORMAT, "Unknown vnp_Command")
    if not vnpay_api.verify(values, vnpay_api.request_fields(command), secret):
        return reply(vnpay_api.INVALID_CHECKSUM, "Invalid checksum")
    if values.get("vnp_TmnCode") != tmn_code:
        return reply(vnpay_api.INVALID_MERCHANT, "Invalid connection identifier (vnp_TmnCode)")
    problem = _format_problem(values, command)
    if problem:
        return reply(vnpay_api.INVALID_FORMAT, f"Invalid {problem}")
    if not store.take_request_id(
        tmn_code=tmn_code,
        day=now.astimezone(ipn.GMT7).date(),
        request_id=values["vnp_RequestId"],
        command=command,
    ):
        return reply(vnpay_api.DUPLICATE, "Duplicate request (vnp_RequestId already used today)")
    order = store.get_order(values["vnp_TxnRef"])
    if order is None:
        return reply(vnpay_api.NOT_FOUND, "Transaction not found")
    opened = datetime.fromisoformat(order["created_at"])
    asked = ipn.parse_pay_date(values["vnp_TransactionDate"])
    if abs(asked - opened) > TRANSACTION_DATE_TOLERANCE:
        return reply(vnpay_api.NOT_FOUND, "Transaction not found (vnp_TransactionDate)")
    transactions = store.transactions(order["txn_ref"])
    if command == "querydr":
        return reply(
            vnpay_api.OK, "Query success", **_querydr_fields(store, order, transactions, values, now)
        )
    if values["vnp_TransactionType"] != vnpay_api.FULL_REFUND:
        return reply(vnpay_api.INVALID_FORMAT, "Only full refunds (vnp_TransactionType=02)")
    made = store.refund(
        request_id=values["vnp_RequestId"],
        transaction_no=values["vnp_TransactionNo"],
        txn_ref=order["txn_ref"],
        amount=ipn.amount_from_vnp(values["vnp_Amount"]),
        at=now,
        settle_ms=knobs.refund_settle_ms,
        outcome=knobs.refund_outcome,
    )
    original = next((t for t in transactions if t["transaction_no"] == made["transaction_no"]), None)
    return reply(
        made["response_code"],
        made["message"],
        vnp_Amount=values["vnp_Amount"],
        vnp_BankCode=original["bank_code"] if original else "",
        vnp_PayDate=ipn.format_pay_date(now),
        vnp_TransactionNo=made["refund_no"] or "",
        vnp_TransactionType=vnpay_api.FULL_REFUND,
        vnp_TransactionStatus=made["status"],
        vnp_OrderInfo=values.get("vnp_OrderInfo", ""),
    )


def _querydr_fields(
    store: BankStore,
    order: dict[str, Any],
    transactions: list[dict[str, Any]],
    values: dict[str, str],
    now: datetime,
) -> dict[str, str]:
    """The order's payment, or the named transaction (vnp_TransactionNo); a transaction with
    a refund on record answers as the refund: type 02 and the refund's status."""
    wanted = values.get("vnp_TransactionNo", "")
    if wanted:
        chosen = next((t for t in transactions if t["transaction_no"] == wanted), None)
    else:
        paid = [t for t in transactions if (t["response_code"], t["transaction_status"]) == ("00", "00")]
        chosen = next((t for t in paid if t["amount"] == order["amount"]), None)
        chosen = chosen or (paid[-1] if paid else (transactions[-1] if transactions else None))
    if chosen is None:
        return {
            "vnp_Amount": ipn.amount_to_vnp(order["amount"]),
            "vnp_TransactionType": vnpay_api.PAYMENT,
            "vnp_TransactionStatus": vnpay_api.PENDING,
            "vnp_OrderInfo": order["order_info"],
        }
    fields = {
        "vnp_Amount": ipn.amount_to_vnp(chosen["amount"]),
        "vnp_BankCode": chosen["bank_code"],
        "vnp_BankTranNo": chosen["bank_tran_no"],
        "vnp_PayDate": ipn.format_pay_date(datetime.fromisoformat(chosen["pay_date"])),
        "vnp_TransactionNo": chosen["transaction_no"],
        "vnp_TransactionType": vnpay_api.PAYMENT,
        "vnp_TransactionStatus": chosen["transaction_status"],
        "vnp_OrderInfo": order["order_info"],
    }
    refund = store.latest_refund(chosen["transaction_no"], now)
    if refund is not None:
        fields.update(vnp_TransactionType=vnpay_api.FULL_REFUND, vnp_TransactionStatus=refund["status"])
    return fields


TRANSACTION_DATE_TOLERANCE = timedelta(hours=24)
"""vnp_TransactionDate must name when the order was opened (the merchant's record of it, GMT+7):
a day either way is accepted, as the merchant's clock and ours differ by the call's time."""

_REQUIRED = {
    "querydr": ("vnp_RequestId", "vnp_Version", "vnp_TxnRef", "vnp_TransactionDate", "vnp_CreateDate", "vnp_IpAddr", "vnp_OrderInfo"),
    "refund": (
        "vnp_RequestId", "vnp_Version", "vnp_TransactionType", "vnp_TxnRef", "vnp_Amount", "vnp_TransactionNo",
        "vnp_TransactionDate", "vnp_CreateBy", "vnp_CreateDate", "vnp_IpAddr", "vnp_OrderInfo",
    ),
}  # fmt: skip
_REQUEST_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")
_DATE = re.compile(r"^\d{14}$")


def _format_problem(values: dict[str, str], command: str) -> str | None:
    """The first field that is missing or not in VNPay's format (named, never echoed)."""
    for name in _REQUIRED[command]:
        if not values.get(name):
            return name
    if not _REQUEST_ID.match(values["vnp_RequestId"]):
        return "vnp_RequestId"
    for name in ("vnp_TransactionDate", "vnp_CreateDate"):
        if not _DATE.match(values[name]):
            return name
        try:
            ipn.parse_pay_date(values[name])
        except ValueError:
            return name
    if command == "refund" and not re.match(r"^\d{1,15}$", values["vnp_Amount"]):
        return "vnp_Amount"
    return None
