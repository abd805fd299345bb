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
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import httpx

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
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(base_url, headers={}, timeout=timeout, transport=transport)
        self.tmn_code = tmn_code

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
