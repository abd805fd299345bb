"""Client of the bank payment gateway (step 3): payment orders, their state, the daily statement.

It knows only a base URL and our merchant code. Like the registry client it never retries on
its own; the error types tell the caller's retry policy what to do:

    BankError
    ├── BankUnavailable       timeout, connection failure, 5xx/429, unreadable answer: retry later
    └── BankRejected          the gateway refused the request (4xx): retrying the same call fails again
        └── BankOrderNotFound the gateway has no order with this txn_ref

The money itself arrives on the other path: the gateway's signed IPN to our callback endpoint
(see `adapters.ipn`).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import httpx

from adapters import ipn, vnpay_api
from adapters.http_client import JsonServiceClient, ServiceError, path_segment

log = logging.getLogger(__name__)


class BankError(ServiceError):
    """Base of every bank failure; `retryable` is what a retry policy should look at."""


class BankUnavailable(BankError):
    retryable = True


class BankRejected(BankError):
    """E.g. the txn_ref is already used for another amount (409), or the merchant code is unknown (403)."""


class BankOrderNotFound(BankRejected):
    pass


@dataclass(frozen=True)
class PaymentOrder:
    txn_ref: str
    amount: int
    pay_url: str
    status: str
    created_at: datetime | None = field(default=None, compare=False)
    """When the bank opened the order (VNPay: vnp_CreateDate), the date querydr asks with."""


@dataclass(frozen=True)
class OrderQuery:
    """VNPay querydr's answer: the order's payment as the bank holds it."""

    response_code: str
    transaction_status: str
    transaction_no: str
    amount: int | None
    bank_code: str
    bank_tran_no: str
    pay_date: datetime | None
    transaction_type: str = vnpay_api.PAYMENT
    """01 the payment; 02/03 a refund of it is on record (then the status is the refund's)."""

    @property
    def paid(self) -> bool:
        return (
            self.response_code == vnpay_api.OK
            and self.transaction_status == vnpay_api.PAID
            and self.transaction_type in (vnpay_api.PAYMENT, "")
        )


@dataclass(frozen=True)
class RefundAnswer:
    """The answer to a refund request: `response_code` 00 means the request was taken, and
    `transaction_status` how far the refund went (`domain.refunds.after_refund_answer`)."""

    response_code: str
    message: str
    refund_transaction_no: str
    transaction_status: str = ""


class BankGatewayClient(JsonServiceClient):
    service = "bank"
    peer = "the gateway"
    unavailable = BankUnavailable
    unreadable_has_status = False
    logger = log

    def __init__(
        self,
        base_url: str,
        tmn_code: str,
        *,
        secret: str | None = None,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(base_url, headers={}, timeout=timeout, transport=transport)
        self.tmn_code = tmn_code
        self.secret = secret

    async def create_order(
        self,
        *,
        txn_ref: str,
        amount: int,
        order_info: str,
        ipn_url: str,
        expires_at: datetime | None = None,
    ) -> PaymentOrder:
        """Idempotent on txn_ref, so an activity retried after a lost answer gets the same order back.

        A different amount for a txn_ref already used raises BankRejected.
        """
        body: dict[str, Any] = {
            "tmn_code": self.tmn_code,
            "txn_ref": txn_ref,
            "amount": amount,
            "order_info": order_info,
            "ipn_url": ipn_url,
        }
        if expires_at is not None:
            if expires_at.tzinfo is None:
                raise ValueError("expires_at must be timezone-aware")
            body["expires_at"] = expires_at.isoformat()
        data = await self._call("create_order", "POST", "/api/v1/orders", json=body)
        return PaymentOrder(
            txn_ref=data["txn_ref"],
            amount=int(data["amount"]),
            pay_url=data["pay_url"],
            status=data["status"],
            created_at=datetime.fromisoformat(data["created_at"]) if data.get("created_at") else None,
        )

    async def pay(self, txn_ref: str, *, amount: int | None = None, succeed: bool = True) -> dict[str, Any]:
        """The household paying (the simulator's stand-in for the bank's payment page)."""
        body: dict[str, Any] = {"succeed": succeed}
        if amount is not None:
            body["amount"] = amount
        return await self._call("pay", "POST", f"/api/v1/orders/{path_segment(txn_ref)}/pay", json=body)

    async def get_order(self, txn_ref: str) -> dict[str, Any]:
        """The order with its payments (`transactions`) and every IPN attempt (`ipn_attempts`)."""
        return await self._call("get_order", "GET", f"/api/v1/orders/{path_segment(txn_ref)}")

    async def statement(self, day: date) -> list[dict[str, Any]]:
        data = await self._call("statement", "GET", "/api/v1/statement", params={"date": day.isoformat()})
        return list(data["transactions"])

    async def statement_pages(self, day: date, page_size: int = 5000) -> AsyncIterator[list[dict[str, Any]]]:
        """The day's statement page by page, in (bank_tran_no, transaction_no) order: memory holds
        one page whatever the size of the day (the reconciliation merges it with our records)."""
        params: dict[str, Any] = {"date": day.isoformat(), "limit": page_size}
        data = await self._call("statement", "GET", "/api/v1/statement", params=params)
        while True:
            cursor = data.get("next")
            # the next page is asked for before this one is handed over: the bank answers while
            # the caller works (at most two pages in memory)
            following = (
                asyncio.ensure_future(
                    self._call("statement", "GET", "/api/v1/statement", params={**params, **cursor})
                )
                if cursor
                else None
            )
            try:
                if data["transactions"]:
                    yield list(data["transactions"])
            except BaseException:
                if following is not None:
                    following.cancel()
                raise
            if following is None:
                return
            data = await following

    async def statement_refunds(self, day: date) -> list[dict[str, Any]]:
        """The refunds the bank made that day (they are on its statement too)."""
        data = await self._call("statement", "GET", "/api/v1/statement", params={"date": day.isoformat()})
        return list(data.get("refunds", []))

    async def void_order(self, txn_ref: str) -> str:
        """Close an unpaid order at the bank; returns its status (`voided`, or `paid` if too late).
        Idempotent. Raises BankOrderNotFound for an order the bank does not know."""
        data = await self._call("void_order", "POST", f"/api/v1/orders/{path_segment(txn_ref)}/void")
        return str(data["status"])

    async def query_order(
        self, txn_ref: str, *, created_at: datetime, transaction_no: str | None = None
    ) -> OrderQuery:
        """VNPay querydr: the order's payment, or with `transaction_no` that transaction (and its
        refund, when one is on record). `created_at` is when the order was opened
        (vnp_TransactionDate). Raises BankOrderNotFound (91) or BankRejected (other codes)."""
        values = {
            "vnp_TxnRef": txn_ref,
            "vnp_TransactionDate": ipn.format_pay_date(created_at),
            "vnp_OrderInfo": f"Truy van {txn_ref}",
        }
        if transaction_no:
            values["vnp_TransactionNo"] = transaction_no
        data = await self._merchant_api("querydr", values)
        amount = data.get("vnp_Amount")
        pay_date = data.get("vnp_PayDate")
        return OrderQuery(
            response_code=data["vnp_ResponseCode"],
            transaction_status=data.get("vnp_TransactionStatus", ""),
            transaction_no=data.get("vnp_TransactionNo", ""),
            amount=ipn.amount_from_vnp(amount) if amount else None,
            bank_code=data.get("vnp_BankCode", ""),
            bank_tran_no=data.get("vnp_BankTranNo", ""),
            pay_date=ipn.parse_pay_date(pay_date) if pay_date else None,
            transaction_type=data.get("vnp_TransactionType", vnpay_api.PAYMENT),
        )

    async def refund(
        self,
        *,
        request_id: str,
        txn_ref: str,
        transaction_no: str,
        amount: int,
        transaction_date: datetime,
        reason: str,
    ) -> RefundAnswer:
        """VNPay refund, full (vnp_TransactionType 02), of one transaction. `request_id` must be
        new for each request (VNPay refuses a repeat within the day); `transaction_date` is when
        the order was opened. A retry after a lost answer asks querydr first (`domain.refunds`)."""
        data = await self._merchant_api(
            "refund",
            {
                "vnp_RequestId": request_id,
                "vnp_TransactionType": vnpay_api.FULL_REFUND,
                "vnp_TxnRef": txn_ref,
                "vnp_Amount": ipn.amount_to_vnp(amount),
                "vnp_TransactionNo": transaction_no,
                "vnp_TransactionDate": ipn.format_pay_date(transaction_date),
                "vnp_CreateBy": "bhyt-renewal",
                "vnp_OrderInfo": f"Hoan tien {txn_ref} {reason}"[:255],
            },
            not_found_ok=True,
        )
        return RefundAnswer(
            response_code=data["vnp_ResponseCode"],
            message=str(data.get("vnp_Message", ""))[:200],
            refund_transaction_no=data.get("vnp_TransactionNo", ""),
            transaction_status=data.get("vnp_TransactionStatus", ""),
        )

    async def _merchant_api(
        self, command: str, values: dict[str, str], *, not_found_ok: bool = False
    ) -> dict[str, str]:
        if not self.secret:
            raise ValueError("the bank client needs the merchant secret for querydr/refund")
        body = {
            "vnp_RequestId": secrets.token_hex(12),
            "vnp_Version": vnpay_api.VERSION,
            "vnp_Command": command,
            "vnp_TmnCode": self.tmn_code,
            "vnp_CreateDate": ipn.format_pay_date(datetime.now(ipn.GMT7)),
            "vnp_IpAddr": "127.0.0.1",
            **values,
        }
        signed = vnpay_api.signed(body, vnpay_api.request_fields(command), self.secret)
        data = await self._call(command, "POST", vnpay_api.PATH, json=signed)
        answer = {k: str(v) for k, v in data.items()}
        if not vnpay_api.verify(answer, vnpay_api.response_fields(command), self.secret):
            raise BankUnavailable(f"bank {command}: answer checksum invalid", operation=command)
        code = answer.get("vnp_ResponseCode", "")
        if code == vnpay_api.NOT_FOUND and not not_found_ok:
            raise BankOrderNotFound(f"bank {command}: order not found", operation=command, status_code=200)
        if code in (vnpay_api.INVALID_CHECKSUM, vnpay_api.INVALID_MERCHANT) or (
            code == vnpay_api.INVALID_FORMAT and command == "querydr"
        ):
            raise BankRejected(
                f"bank {command}: {code} {answer.get('vnp_Message', '')}"[:200], operation=command
            )
        if code == vnpay_api.OTHER_ERROR or (code == vnpay_api.DUPLICATE and command == "querydr"):
            raise BankUnavailable(f"bank {command}: 99", operation=command)
        return answer

    def _rejected(self, operation: str, response: httpx.Response) -> BankError:
        status = response.status_code
        kind = BankOrderNotFound if status == 404 and operation != "create_order" else BankRejected
        return kind(
            f"bank {operation}: HTTP {status}: {_detail(response)}",
            operation=operation,
            status_code=status,
        )


def _detail(response: httpx.Response) -> str:
    """The gateway's reason, shortened. A validation error names the fields only: its full form
    echoes our input, and order info may carry a household's name."""
    try:
        detail = response.json().get("detail", "")
    except (ValueError, AttributeError):
        return "no detail"
    if isinstance(detail, list):
        fields = [".".join(str(p) for p in item.get("loc", ())) for item in detail if isinstance(item, dict)]
        return "invalid " + ", ".join(fields)
    return str(detail)[:200]
