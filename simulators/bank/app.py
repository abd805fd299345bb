"""The bank gateway simulator as a FastAPI app (see `simulators/bank/__init__.py`).

The routes live in `simulators/bank/routes/` (one router per face of the bank), the IPN delivery
in `simulators/bank/ipn_sender.py`; what they share is one `Bank` (`simulators/bank/state.py`)
on `app.state.bank`."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI

from simulators.bank.ipn_sender import Delivery
from simulators.bank.knobs import Knobs
from simulators.bank.routes import control, merchant_api, pay_page, payments, statement
from simulators.bank.state import Bank
from simulators.bank.store import BankStore


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
    app.state.bank = Bank(
        store=store, knobs=knobs, delivery=delivery, secret=secret, tmn_code=tmn_code, clock=clock
    )
    app.state.store, app.state.knobs, app.state.delivery = store, knobs, delivery
    # in the order the routes were always listed (the OpenAPI document unchanged)
    app.include_router(control.ops)
    app.include_router(merchant_api.router)
    app.include_router(pay_page.router)
    app.include_router(payments.router)
    app.include_router(statement.router)
    app.include_router(control.admin)
    return app
