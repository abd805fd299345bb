"""VNPay's merchant API convention (`/merchant_webapi/api/transaction`): querydr and refund.

One module for both sides, like `adapters.ipn`: the bank simulator verifies and answers with
it, `adapters.bank` signs with it. Requests and answers are JSON objects of `vnp_*` strings;
the checksum is hex HMAC-SHA512 over the listed fields' values joined with "|" in a fixed order
(not the sorted query string of the IPN). Pure: no I/O, no clock.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence

VERSION = "2.1.0"
PATH = "/merchant_webapi/api/transaction"
DATE_FORMAT = "%Y%m%d%H%M%S"
"""vnp_CreateDate / vnp_TransactionDate: GMT+7 wall-clock time, like vnp_PayDate."""

QUERYDR_REQUEST = (
    "vnp_RequestId", "vnp_Version", "vnp_Command", "vnp_TmnCode", "vnp_TxnRef",
    "vnp_TransactionDate", "vnp_CreateDate", "vnp_IpAddr", "vnp_OrderInfo",
)  # fmt: skip
REFUND_REQUEST = (
    "vnp_RequestId", "vnp_Version", "vnp_Command", "vnp_TmnCode", "vnp_TransactionType",
    "vnp_TxnRef", "vnp_Amount", "vnp_TransactionNo", "vnp_TransactionDate", "vnp_CreateBy",
    "vnp_CreateDate", "vnp_IpAddr", "vnp_OrderInfo",
)  # fmt: skip
QUERYDR_RESPONSE = (
    "vnp_ResponseId", "vnp_Command", "vnp_ResponseCode", "vnp_Message", "vnp_TmnCode", "vnp_TxnRef",
    "vnp_Amount", "vnp_BankCode", "vnp_PayDate", "vnp_TransactionNo", "vnp_TransactionType",
    "vnp_TransactionStatus", "vnp_OrderInfo", "vnp_PromotionCode", "vnp_PromotionAmount",
)  # fmt: skip
REFUND_RESPONSE = (
    "vnp_ResponseId", "vnp_Command", "vnp_ResponseCode", "vnp_Message", "vnp_TmnCode", "vnp_TxnRef",
    "vnp_Amount", "vnp_BankCode", "vnp_PayDate", "vnp_TransactionNo", "vnp_TransactionType",
    "vnp_TransactionStatus", "vnp_OrderInfo",
)  # fmt: skip

FULL_REFUND = "02"
"""vnp_TransactionType of a full refund ("03" is partial: not offered)."""

# vnp_ResponseCode of the merchant API
OK = "00"
INVALID_FORMAT = "03"
NOT_FOUND = "91"
INVALID_AMOUNT = "93"
ALREADY_REQUESTED = "94"
NOT_SUCCESSFUL = "95"
INVALID_CHECKSUM = "97"

# vnp_TransactionStatus in answers
PAID = "00"
PENDING = "01"
REFUNDED = "05"


def checksum(values: Mapping[str, str], fields: Sequence[str], secret: str) -> str:
    data = "|".join(str(values.get(name, "")) for name in fields)
    return hmac.new(secret.encode("utf-8"), data.encode("utf-8"), hashlib.sha512).hexdigest()


def signed(values: Mapping[str, str], fields: Sequence[str], secret: str) -> dict[str, str]:
    return {**values, "vnp_SecureHash": checksum(values, fields, secret)}


def verify(values: Mapping[str, str], fields: Sequence[str], secret: str) -> bool:
    received = str(values.get("vnp_SecureHash", ""))
    expected = checksum(values, fields, secret)
    return hmac.compare_digest(expected.encode("ascii"), received.lower().encode("ascii", "replace"))


def request_fields(command: str) -> Sequence[str]:
    return REFUND_REQUEST if command == "refund" else QUERYDR_REQUEST


def response_fields(command: str) -> Sequence[str]:
    return REFUND_RESPONSE if command == "refund" else QUERYDR_RESPONSE
