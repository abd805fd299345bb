"""The bank gateway simulator as a FastAPI app (see `simulators/bank/__init__.py`)."""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import logging
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import httpx
from fastapi import APIRouter, FastAPI, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import AwareDatetime, BaseModel, Field

from adapters import ipn, vnpay_api
from simulators.bank.store import BankStore

log = logging.getLogger("simulators.bank")

TxnRef = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\-]{1,100}$")]


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


class KnobsIn(BaseModel):
    duplicate_callbacks: int | None = Field(None, ge=0, le=20)
    duplicate_concurrent: bool | None = None
    callback_delay_ms: int | None = Field(None, ge=0, le=3_600_000)
    retry_base_ms: int | None = Field(None, ge=0, le=3_600_000)
    retry_max_ms: int | None = Field(None, ge=0, le=3_600_000)
    max_attempts: int | None = Field(None, ge=1, le=100)
    callback_timeout_ms: int | None = Field(None, ge=1, le=600_000)
    refund_settle_ms: int | None = Field(None, ge=0, le=86_400_000)
    refund_outcome: Literal["success", "rejected"] | None = None


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


CONCURRENT_CALLBACKS = 50
"""IPN calls in flight at once, as a bank's sender bounds them. Unbounded, 10,000 payments made
within minutes queued 10,000 requests on one connection pool, whose bookkeeping is quadratic in
the queue: the simulator spent its CPU there and stopped delivering (bench/scale.py awaiting)."""


class Delivery:
    """Sends each payment's IPN until the merchant accepts it (00/02) or attempts run out.

    Tasks are plain asyncio tasks, not Starlette BackgroundTasks: those run inside the request's
    lifetime, so the pay call would not "return at once" under an ASGI test transport.
    """

    def __init__(self, store: BankStore, knobs: Knobs, secret: str) -> None:
        self.store, self.knobs, self.secret = store, knobs, secret
        self.tasks: set[asyncio.Task[None]] = set()
        self.http = httpx.AsyncClient()
        self.sending = asyncio.Semaphore(CONCURRENT_CALLBACKS)

    def start(self, transaction: dict[str, Any]) -> None:
        task = asyncio.create_task(self._run(transaction), name=f"ipn-{transaction['transaction_no']}")
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def idle(self) -> None:
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*list(self.tasks), return_exceptions=True)
        await self.http.aclose()

    def _url(self, transaction: dict[str, Any]) -> str:
        order = self.store.get_order(transaction["txn_ref"])
        assert order is not None
        params = ipn.ipn_params(
            tmn_code=order["tmn_code"],
            txn_ref=order["txn_ref"],
            amount_dong=transaction["amount"],
            bank_code=transaction["bank_code"],
            bank_tran_no=transaction["bank_tran_no"],
            transaction_no=transaction["transaction_no"],
            pay_date=datetime.fromisoformat(transaction["pay_date"]),
            order_info=order["order_info"],
            response_code=transaction["response_code"],
            transaction_status=transaction["transaction_status"],
            card_type=transaction["card_type"],
        )
        separator = "&" if "?" in order["ipn_url"] else "?"
        return f"{order['ipn_url']}{separator}{ipn.signed_query(params, self.secret)}"

    async def _run(self, transaction: dict[str, Any]) -> None:
        try:
            await self._deliver(transaction)
        except asyncio.CancelledError:
            raise
        except Exception:  # a simulator bug must not kill the server silently
            log.exception("IPN delivery for %s crashed", transaction["txn_ref"])

    async def _deliver(self, transaction: dict[str, Any]) -> None:
        knobs = self.knobs
        url = self._url(transaction)
        number = transaction["transaction_no"]
        done = self.store.delivery_attempts(number)  # resumed after a restart: keep counting
        if done == 0 and knobs.callback_delay_ms:
            await asyncio.sleep(knobs.callback_delay_ms / 1000)
        copies = knobs.duplicate_callbacks
        concurrent = None
        if copies and knobs.duplicate_concurrent:
            concurrent = asyncio.gather(*(self._send(transaction, url, "duplicate") for _ in range(copies)))
        accepted = False
        for attempt in range(done + 1, knobs.max_attempts + 1):
            if await self._send(transaction, url, "delivery") in ipn.FINAL_RSP_CODES:
                accepted = True
                break
            if attempt < knobs.max_attempts:
                delay = min(knobs.retry_base_ms * 2 ** (attempt - 1), knobs.retry_max_ms)
                await asyncio.sleep(delay / 1000)
        self.store.set_ipn_state(number, "delivered" if accepted else "gave_up")
        if concurrent is not None:
            await concurrent
        elif copies:
            for _ in range(copies):
                await self._send(transaction, url, "duplicate")

    async def _send(self, transaction: dict[str, Any], url: str, kind: str) -> str | None:
        status = rsp = message = error = None
        try:
            async with self.sending:
                response = await self.http.get(url, timeout=self.knobs.callback_timeout_ms / 1000)
            status = response.status_code
            try:
                body = response.json()
                rsp = str(body.get("RspCode")) if isinstance(body, dict) and "RspCode" in body else None
                message = str(body.get("Message", ""))[:200] if isinstance(body, dict) else None
            except ValueError:
                message = response.text[:200]
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        self.store.record_attempt(
            txn_ref=transaction["txn_ref"],
            transaction_no=transaction["transaction_no"],
            kind=kind,
            at=datetime.now(UTC),
            http_status=status,
            rsp_code=rsp,
            message=message,
            error=error,
        )
        return rsp


def create_app(
    db_path: str | Path,
    *,
    secret: str | None = None,
    tmn_code: str | None = None,
    knobs: Knobs | None = None,
    clock: Callable[[], datetime] | None = None,
) -> FastAPI:
    """`clock` (UTC now) is for tests that move a refund's time on without waiting."""
    if secret is None or tmn_code is None:
        from config import get_settings

        settings = get_settings()
        secret = settings.bhyt_ipn_secret if secret is None else secret
        tmn_code = settings.bhyt_tmn_code if tmn_code is None else tmn_code
    store = BankStore(db_path)
    knobs = knobs or Knobs()
    clock = clock or (lambda: datetime.now(UTC))
    delivery = Delivery(store, knobs, secret)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        for transaction in store.undelivered():  # a real gateway keeps calling back after a restart
            delivery.start(transaction)
        yield
        await delivery.close()

    app = FastAPI(
        title="Bank gateway simulator (VNPay-style)",
        description="Stand-in for the payment gateway: orders, payments, signed IPN callbacks, statements.",
        lifespan=lifespan,
    )
    app.state.store, app.state.knobs, app.state.delivery = store, knobs, delivery

    def order_view(order: dict[str, Any], request: Request) -> dict[str, Any]:
        return {
            **order,
            "pay_url": str(request.url_for("pay_page", txn_ref=order["txn_ref"])),
            "status": _status(order),
            "transactions": store.transactions(order["txn_ref"]),
            "ipn_attempts": store.attempts(order["txn_ref"]),
        }

    def find(txn_ref: str) -> dict[str, Any]:
        order = store.get_order(txn_ref)
        if order is None:
            raise HTTPException(404, "order not found")
        return order

    def pay(txn_ref: str, body: PayIn) -> dict[str, Any]:
        """Runs on the event loop (callers are async) because it schedules the callback task."""
        order = find(txn_ref)
        if order["status"] == "paid":
            raise HTTPException(409, "order already paid")
        if order["status"] == "voided":
            raise HTTPException(409, "order voided by the merchant")
        if _status(order) == "expired":
            raise HTTPException(409, "order expired")
        now = body.pay_date or datetime.now(ipn.GMT7)
        amount = body.amount if body.amount is not None else order["amount"]
        transaction = store.record_payment(
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
        delivery.start(transaction)
        return transaction

    @app.get("/health", tags=["ops"])
    def health() -> dict[str, Any]:
        return {"status": "ok", "tmn_code": tmn_code, "callbacks_in_flight": len(delivery.tasks)}

    api = APIRouter(prefix="/api/v1", tags=["gateway"])

    @api.post("/orders", status_code=201)
    def create_order(body: OrderIn, request: Request, response: Response) -> dict[str, Any]:
        """Idempotent on txn_ref: 201 when created, 200 with the stored order when repeated."""
        if body.tmn_code != tmn_code:
            raise HTTPException(403, "unknown merchant (tmn_code)")
        order, created = store.insert_order(
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
        return order_view(order, request)

    @api.get("/orders/{txn_ref}")
    def get_order(txn_ref: str, request: Request) -> dict[str, Any]:
        return order_view(find(txn_ref), request)

    @api.post("/orders/{txn_ref}/pay", status_code=202)
    async def pay_order(txn_ref: str, body: PayIn | None = None) -> dict[str, Any]:
        """The household paying. Answers at once; the IPN follows from a background task."""
        return pay(txn_ref, body or PayIn())

    @api.post("/orders/{txn_ref}/void")
    def void_order(txn_ref: str) -> dict[str, Any]:
        """The merchant closes an unpaid order: the bank refuses to take money for it from now on.

        (Simulator extension: VNPay has no such call; there the order's vnp_ExpireDate does it.)"""
        status = store.void_order(txn_ref)
        if status is None:
            raise HTTPException(404, "order not found")
        return {"txn_ref": txn_ref, "status": status}

    @api.get("/statement", response_class=Response)
    def statement(
        day: Annotated[date, Query(alias="date")],
        limit: Annotated[int | None, Query(ge=1, le=10_000)] = None,
        after_bank_tran_no: str | None = None,
        after_transaction_no: str | None = None,
    ) -> Response:
        """Settled (successful) transactions whose pay date, in GMT+7, is that day, and the refunds
        made that day.

        With `limit`: one page of the transactions in (bank_tran_no, transaction_no) order, `next`
        holding the cursor of the following page (null on the last one), so a day of any size
        streams; the day's refunds come with the whole statement (no `limit`)."""
        body: dict[str, Any] = {"date": day.isoformat(), "tmn_code": tmn_code}
        if limit is None:
            rows = store.settled(day, tmn_code)
            done = store.refunded_among([r["transaction_no"] for r in rows], clock())
            for row in rows:
                row["refunded"] = row["transaction_no"] in done
            refunds = store.refunds_on(day, clock())
            body.update(refunds=refunds, refunded_total=sum(r["amount"] for r in refunds))
        else:
            after = None
            if after_bank_tran_no is not None and after_transaction_no is not None:
                after = (after_bank_tran_no, after_transaction_no)
            rows = store.settled_page(day, tmn_code, after=after, limit=limit)
            refunded = store.refunded_among([r["transaction_no"] for r in rows], clock())
            for row in rows:
                row["refunded"] = row["transaction_no"] in refunded
            last = rows[-1] if len(rows) == limit else None
            body["next"] = (
                {"after_bank_tran_no": last["bank_tran_no"], "after_transaction_no": last["transaction_no"]}
                if last
                else None
            )
        body.update(count=len(rows), total=sum(r["amount"] for r in rows), transactions=rows)
        # plain JSON text: FastAPI's generic encoder costs more than the query on a page of thousands
        return Response(json.dumps(body, ensure_ascii=False), media_type="application/json")

    @app.post(vnpay_api.PATH, tags=["gateway"])
    def merchant_api(body: dict[str, Any]) -> dict[str, str]:
        """VNPay's merchant API: `querydr` (an order's payment, or one transaction's refund) and
        `refund` (full, of one transaction), with VNPay's answer codes (README, bank integrators)."""
        values = {k: str(v) for k, v in body.items()}
        command = values.get("vnp_Command", "")
        now = clock()
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
            return reply(vnpay_api.OK, "Query success", **_querydr_fields(order, transactions, values, now))
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
        order: dict[str, Any], transactions: list[dict[str, Any]], values: dict[str, str], now: datetime
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

    admin = APIRouter(prefix="/admin", tags=["admin"])

    @admin.get("/knobs")
    def get_knobs() -> dict[str, Any]:
        return asdict(knobs)

    @admin.put("/knobs")
    def set_knobs(body: KnobsIn) -> dict[str, Any]:
        for name, value in body.model_dump(exclude_none=True).items():
            setattr(knobs, name, value)
        return asdict(knobs)

    @app.get("/pay/{txn_ref}", response_class=HTMLResponse, name="pay_page", tags=["household"])
    def pay_page(txn_ref: str) -> str:
        order = find(txn_ref)
        ref = html.escape(txn_ref)
        return _PAGE.format(
            ref=ref,
            amount=f"{order['amount']:,}".replace(",", "."),
            info=html.escape(order["order_info"]),
            status=html.escape(_status(order)),
            action=f"/pay/{ref}",
        )

    @app.post("/pay/{txn_ref}", response_class=HTMLResponse, tags=["household"])
    async def pay_from_page(txn_ref: str, succeed: bool = True) -> str:
        transaction = pay(txn_ref, PayIn(succeed=succeed))
        outcome = "Thanh toán thành công" if succeed else "Thanh toán không thành công"
        return (
            f"<!doctype html><meta charset=utf-8><title>{outcome}</title><h1>{outcome}</h1>"
            f"<p>Mã giao dịch {html.escape(transaction['transaction_no'])}</p>"
        )

    app.include_router(api)
    app.include_router(admin)
    return app


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


def _status(order: dict[str, Any]) -> str:
    if order["status"] != "paid" and order.get("expires_at"):
        if datetime.fromisoformat(order["expires_at"]) <= datetime.now(UTC):
            return "expired"
    return str(order["status"])


_PAGE = """<!doctype html>
<html lang="vi"><meta charset="utf-8"><title>Cổng thanh toán (mô phỏng) — {ref}</title>
<body style="font-family: sans-serif; max-width: 32rem; margin: 2rem auto">
<h1>Cổng thanh toán (mô phỏng)</h1>
<p>Đơn hàng <b>{ref}</b>: {info}</p>
<p>Số tiền: <b>{amount} đ</b> — trạng thái: {status}</p>
<form method="post" action="{action}?succeed=true"><button>Thanh toán</button></form>
<form method="post" action="{action}?succeed=false"><button>Huỷ thanh toán</button></form>
</body></html>
"""
