"""VNPay's merchant API convention (`/merchant_webapi/api/transaction`): querydr and refund.

One module for both sides, like `adapters.ipn`: the bank simulator verifies and answers with
it, `adapters.bank` signs with it. Requests and answers are JSON objects of `vnp_*` strings;
the checksum is hex HMAC-SHA512 over the listed fields' values joined with "|" in a fixed order
(not the sorted query string of the IPN). Pure: no I/O, no clock.

querydr may name one transaction of the order (`vnp_TransactionNo`, outside the checksum, as
VNPay lists it): the refund follower asks about the refunded transaction, not the order.
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

PAYMENT = "01"
FULL_REFUND = "02"
"""vnp_TransactionType of a full refund ("03" is partial: not offered)."""
PARTIAL_REFUND = "03"

# vnp_ResponseCode of the merchant API (VNPay's tables for querydr and refund)
OK = "00"
INVALID_MERCHANT = "02"
"""Invalid connection identifier (vnp_TmnCode)."""
INVALID_FORMAT = "03"
NOT_FOUND = "91"
INVALID_AMOUNT = "93"
"""refund: the amount is not valid (here: not the full amount)."""
DUPLICATE = "94"
"""querydr: a repeated request (vnp_RequestId) within the API's limit. refund: a refund was
already requested for this transaction and VNPAY is processing it (or the request id repeats)."""
ALREADY_REQUESTED = DUPLICATE
NOT_SUCCESSFUL = "95"
"""refund: the transaction did not succeed at VNPAY; the refund is refused."""
INVALID_CHECKSUM = "97"
OTHER_ERROR = "99"

# vnp_TransactionStatus (VNPay's table)
PAID = "00"
"""Payment successful (with vnp_TransactionType 02/03: the refund is done)."""
PENDING = "01"
"""Transaction not completed."""
ERROR = "02"
REVERSED = "04"
"""Reversed: the customer's bank debited, VNPAY did not complete the transaction."""
REFUND_PROCESSING = "05"
"""VNPAY is processing the refund."""
REFUND_SENT_TO_BANK = "06"
"""VNPAY has sent the refund request to the bank."""
SUSPECTED_FRAUD = "07"
REFUND_REJECTED = "09"


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
