"""What the bank simulator's routes share: its store, knobs, IPN sender, merchant and clock.

`create_app` (simulators/bank/app.py) puts one `Bank` on `app.state.bank`; a route asks for it
with a `BankDep` parameter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import Depends, HTTPException, Request

from simulators.bank.store import BankStore

if TYPE_CHECKING:
    from simulators.bank.ipn_sender import Delivery


@dataclass
class Knobs:
    """Run-time behaviour of the callbacks, for tests: PUT /admin/knobs changes them live."""

    duplicate_callbacks: int = 0
    """Extra copies of the accepted callback sent after it (or alongside it, see below)."""
    duplicate_concurrent: bool = False
    """Send the copies at the same moment as the first attempt, to exercise races."""
    callback_delay_ms: int = 0
    """Wait before the first attempt: a late callback."""
    retry_base_ms: int = 1000
    """Backoff: attempt n waits retry_base_ms * 2**(n-1), capped at retry_max_ms."""
    retry_max_ms: int = 60_000
    max_attempts: int = 6
    callback_timeout_ms: int = 5000
    refund_settle_ms: int = 0
    """How long a refund taken (00) stays in process (05, then 06) before it is final."""
    refund_outcome: Literal["success", "rejected"] = "success"
    """How the refunds requested from now on end: refunded (00) or rejected (09)."""


@dataclass
class Bank:
    store: BankStore
    knobs: Knobs
    delivery: Delivery
    secret: str
    tmn_code: str
    clock: Callable[[], datetime]
    """UTC now; tests move a refund's time on without waiting."""

    def find(self, txn_ref: str) -> dict[str, Any]:
        order = self.store.get_order(txn_ref)
        if order is None:
            raise HTTPException(404, "order not found")
        return order


async def _bank(request: Request) -> Bank:
    return request.app.state.bank  # type: ignore[no-any-return]


BankDep = Annotated[Bank, Depends(_bank)]


def order_status(order: dict[str, Any]) -> str:
    if order["status"] != "paid" and order.get("expires_at"):
        if datetime.fromisoformat(order["expires_at"]) <= datetime.now(UTC):
            return "expired"
    return str(order["status"])
