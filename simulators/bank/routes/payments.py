"""The gateway's order API (/api/v1/orders): the merchant opens and voids orders, the household pays."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import AwareDatetime, BaseModel, Field

from adapters import ipn
from simulators.bank.state import Bank, BankDep, order_status

router = APIRouter(prefix="/api/v1", tags=["gateway"])

TxnRef = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\-]{1,100}$")]


class OrderIn(BaseModel):
    tmn_code: str = Field(min_length=1, max_length=20)
    txn_ref: TxnRef
    amount: int = Field(gt=0, description="đồng")
    order_info: str = Field(min_length=1, max_length=255)
    ipn_url: str = Field(pattern=r"^https?://")
    expires_at: AwareDatetime | None = None


class PayIn(BaseModel):
    amount: int | None = Field(None, gt=0, description="đồng paid; default the order's amount")
    succeed: bool = True
    response_code: str | None = Field(
        None, pattern=r"^\d{2}$", description="for a failed payment; default 24 (customer cancelled)"
    )
    bank_code: str = "NCB"
    card_type: str = "ATM"
    pay_date: AwareDatetime | None = Field(
        None, description="default now; set it to test another day's statement"
    )


def order_view(bank: Bank, order: dict[str, Any], request: Request) -> dict[str, Any]:
    return {
        **order,
        "pay_url": str(request.url_for("pay_page", txn_ref=order["txn_ref"])),
        "status": order_status(order),
        "transactions": bank.store.transactions(order["txn_ref"]),
        "ipn_attempts": bank.store.attempts(order["txn_ref"]),
    }


def pay(bank: Bank, txn_ref: str, body: PayIn) -> dict[str, Any]:
    """Runs on the event loop (callers are async) because it schedules the callback task."""
    order = bank.find(txn_ref)
    if order["status"] == "paid":
        raise HTTPException(409, "order already paid")
    if order["status"] == "voided":
        raise HTTPException(409, "order voided by the merchant")
    if order_status(order) == "expired":
        raise HTTPException(409, "order expired")
    now = body.pay_date or datetime.now(ipn.GMT7)
    amount = body.amount if body.amount is not None else order["amount"]
    transaction = bank.store.record_payment(
        txn_ref=txn_ref,
        amount=amount,
        bank_code=body.bank_code,
        card_type=body.card_type,
        pay_date=now.astimezone(ipn.GMT7).replace(microsecond=0),
        response_code="00" if body.succeed else (body.response_code or "24"),
        transaction_status="00" if body.succeed else "02",
        # a transfer of another amount does not settle the order: the household may pay again
        order_status="paid" if body.succeed and amount == order["amount"] else "failed",
    )
    if transaction is None:
        raise HTTPException(409, "order already paid or voided")
    bank.delivery.start(transaction)
    return transaction


@router.post("/orders", status_code=201)
def create_order(body: OrderIn, request: Request, response: Response, bank: BankDep) -> dict[str, Any]:
    """Idempotent on txn_ref: 201 when created, 200 with the stored order when repeated."""
    if body.tmn_code != bank.tmn_code:
        raise HTTPException(403, "unknown merchant (tmn_code)")
    order, created = bank.store.insert_order(
        txn_ref=body.txn_ref,
        tmn_code=body.tmn_code,
        amount=body.amount,
        order_info=body.order_info,
        ipn_url=body.ipn_url,
        created_at=datetime.now(ipn.GMT7),
        expires_at=body.expires_at,
    )
    if order["amount"] != body.amount or order["tmn_code"] != body.tmn_code:
        raise HTTPException(409, "txn_ref already used for another amount")
    if not created:
        response.status_code = 200
    return order_view(bank, order, request)


@router.get("/orders/{txn_ref}")
def get_order(txn_ref: str, request: Request, bank: BankDep) -> dict[str, Any]:
    return order_view(bank, bank.find(txn_ref), request)


@router.post("/orders/{txn_ref}/pay", status_code=202)
async def pay_order(txn_ref: str, bank: BankDep, body: PayIn | None = None) -> dict[str, Any]:
    """The household paying. Answers at once; the IPN follows from a background task."""
    return pay(bank, txn_ref, body or PayIn())


@router.post("/orders/{txn_ref}/void")
def void_order(txn_ref: str, bank: BankDep) -> dict[str, Any]:
    """The merchant closes an unpaid order: the bank refuses to take money for it from now on.

    (Simulator extension: VNPay has no such call; there the order's vnp_ExpireDate does it.)"""
    status = bank.store.void_order(txn_ref)
    if status is None:
        raise HTTPException(404, "order not found")
    return {"txn_ref": txn_ref, "status": status}
