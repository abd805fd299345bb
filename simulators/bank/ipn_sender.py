"""The bank's IPN delivery: each payment's signed callback, retried until the merchant accepts it."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

import httpx

from adapters import ipn
from simulators.bank.knobs import Knobs
from simulators.bank.store import BankStore

log = logging.getLogger("simulators.bank")

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
