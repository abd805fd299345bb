"""What the bank simulator's routes share: its store, knobs, IPN sender, merchant and clock.

`create_app` (simulators/bank/app.py) puts one `Bank` on `app.state.bank`; a route asks for it
with a `BankDep` parameter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from simulators.bank.ipn_sender import Delivery
from simulators.bank.knobs import Knobs
from simulators.bank.store import BankStore


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
