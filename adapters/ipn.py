"""The bank callback convention of DESIGN §3 (VNPay IPN): canonical query, HMAC-SHA512, parsing.

One module, used by both sides: the bank simulator signs with it and our callback endpoint
verifies with it, so the two can never drift apart. It is pure (stdlib only, no I/O, no clock),
which keeps it usable anywhere, including inside a Temporal workflow.

Encoding choice: keys and values are encoded with ``quote_plus(..., safe="")``, which agrees with
PHP ``urlencode`` and Java ``URLEncoder`` (what VNPay's own merchant samples and server use) on
every character an IPN realistically carries: space becomes ``+`` and ``/`` becomes ``%2F``.
Empty values are kept (PHP sample behaviour), so both sides must send the same set of keys.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from urllib.parse import quote_plus

from domain.models import PaymentReceived

GMT7 = timezone(timedelta(hours=7), "GMT+7")
"""vnp_PayDate is wall-clock time in Vietnam, written without an offset."""

PAY_DATE_FORMAT = "%Y%m%d%H%M%S"
HASH_KEY = "vnp_SecureHash"
HASH_TYPE_KEY = "vnp_SecureHashType"
_UNSIGNED_KEYS = frozenset({HASH_KEY, HASH_TYPE_KEY})

# The merchant's answer codes, in the order DESIGN §3 checks them.
RSP_INVALID_SIGNATURE = "97"
RSP_ORDER_NOT_FOUND = "01"
RSP_INVALID_AMOUNT = "04"
RSP_ALREADY_CONFIRMED = "02"
RSP_OK = "00"
RSP_UNKNOWN_ERROR = "99"

RSP_MESSAGES = {
    RSP_OK: "Confirm Success",
    RSP_ALREADY_CONFIRMED: "Order already confirmed",
    RSP_ORDER_NOT_FOUND: "Order not found",
    RSP_INVALID_AMOUNT: "Invalid amount",
    RSP_INVALID_SIGNATURE: "Invalid signature",
    RSP_UNKNOWN_ERROR: "Unknown error",
}

FINAL_RSP_CODES = frozenset({RSP_OK, RSP_ALREADY_CONFIRMED})
"""Answers after which the bank stops calling back; any other answer (or none) means "try again"."""


def canonical_query(params: Mapping[str, str]) -> str:
    """The exact byte string both sides sign; any difference here breaks every callback."""
    items = sorted(
        (key, "" if value is None else str(value))
        for key, value in params.items()
        if key.startswith("vnp_") and key not in _UNSIGNED_KEYS
    )
    return "&".join(f"{quote_plus(key, safe='')}={quote_plus(value, safe='')}" for key, value in items)


def sign(params: Mapping[str, str], secret: str) -> str:
    return hmac.new(
        secret.encode("utf-8"), canonical_query(params).encode("utf-8"), hashlib.sha512
    ).hexdigest()


def verify(params: Mapping[str, str], secret: str) -> bool:
    """Constant-time, so a caller cannot learn the signature byte by byte from answer timings."""
    received = params.get(HASH_KEY)
    if not received:
        return False
    expected = sign(params, secret)
    # VNPay documents hex without fixing the case; compare case-insensitively, still in constant time.
    return hmac.compare_digest(expected.encode("ascii"), str(received).lower().encode("ascii", "replace"))


def signed(params: Mapping[str, str], secret: str) -> dict[str, str]:
    clean = {k: v for k, v in params.items() if k not in _UNSIGNED_KEYS}
    return {**clean, HASH_KEY: sign(clean, secret)}


def signed_query(params: Mapping[str, str], secret: str) -> str:
    """The query string as VNPay puts it on the IPN URL: the canonical query plus the hash."""
    return f"{canonical_query(params)}&{HASH_KEY}={sign(params, secret)}"


def format_pay_date(moment: datetime) -> str:
    """A naive datetime is taken as Vietnam wall-clock time already; an aware one is converted."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(GMT7)
    return moment.strftime(PAY_DATE_FORMAT)


def parse_pay_date(value: str) -> datetime:
    if len(value) != 14 or not value.isdigit():
        raise ValueError("vnp_PayDate must be yyyyMMddHHmmss")
    try:
        return datetime.strptime(value, PAY_DATE_FORMAT).replace(tzinfo=GMT7)
    except ValueError:
        raise ValueError("vnp_PayDate is not a valid date and time") from None


def amount_to_vnp(amount_dong: int) -> str:
    if isinstance(amount_dong, bool) or not isinstance(amount_dong, int) or amount_dong < 0:
        raise ValueError("amount must be a non-negative whole number of đồng")
    return str(amount_dong * 100)


def amount_from_vnp(value: str) -> int:
    """vnp_Amount is đồng × 100; anything else is a bank bug we must not silently round away."""
    if not isinstance(value, str) or not value.isdigit():
        raise ValueError("vnp_Amount must be a string of digits")
    hundredths = int(value)
    if hundredths % 100:
        raise ValueError("vnp_Amount must be a multiple of 100 (whole đồng)")
    return hundredths // 100


def _required(params: Mapping[str, str], key: str) -> str:
    value = params.get(key)
    if value is None or value == "":
        raise ValueError(f"{key} is missing")
    return value


def payment_from_params(params: Mapping[str, str]) -> PaymentReceived:
    """Turn a (verified) callback into the `payment_received` signal payload.

    Raises ValueError naming the offending parameter, so the endpoint can answer 99 and log
    which field was wrong without logging the values.
    """
    return PaymentReceived(
        txn_ref=_required(params, "vnp_TxnRef"),
        amount=amount_from_vnp(_required(params, "vnp_Amount")),
        bank_code=params.get("vnp_BankCode", ""),
        bank_tran_no=params.get("vnp_BankTranNo", ""),
        transaction_no=params.get("vnp_TransactionNo", ""),
        pay_date=parse_pay_date(_required(params, "vnp_PayDate")),
        response_code=_required(params, "vnp_ResponseCode"),
        transaction_status=_required(params, "vnp_TransactionStatus"),
        order_info=params.get("vnp_OrderInfo", ""),
    )


def is_paid(params: Mapping[str, str]) -> bool:
    return params.get("vnp_ResponseCode") == "00" and params.get("vnp_TransactionStatus") == "00"


def ipn_params(
    *,
    tmn_code: str,
    txn_ref: str,
    amount_dong: int,
    bank_code: str,
    bank_tran_no: str,
    transaction_no: str,
    pay_date: datetime,
    order_info: str,
    response_code: str = "00",
    transaction_status: str = "00",
    card_type: str = "ATM",
) -> dict[str, str]:
    """The unsigned vnp_* parameters of one callback; pass them to `signed` before sending."""
    return {
        "vnp_Amount": amount_to_vnp(amount_dong),
        "vnp_BankCode": bank_code,
        "vnp_BankTranNo": bank_tran_no,
        "vnp_CardType": card_type,
        "vnp_OrderInfo": order_info,
        "vnp_PayDate": format_pay_date(pay_date),
        "vnp_ResponseCode": response_code,
        "vnp_TmnCode": tmn_code,
        "vnp_TransactionNo": transaction_no,
        "vnp_TransactionStatus": transaction_status,
        "vnp_TxnRef": txn_ref,
    }


def ipn_answer(code: str, message: str | None = None) -> dict[str, str]:
    """The merchant's JSON answer, keys in VNPay's order."""
    return {"RspCode": code, "Message": message or RSP_MESSAGES.get(code, "Unknown error")}
