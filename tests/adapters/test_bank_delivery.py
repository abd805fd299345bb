"""The bank simulator's IPN sender bounds its calls in flight, as a bank's sender does.

Unbounded, 10,000 payments made within minutes (bench/scale.py awaiting) queued 10,000 requests
on one httpx pool, whose bookkeeping is quadratic in the queue: the simulator spent its CPU there
and delivered nothing more. Fails on the sender without its bound (all 150 at once)."""

from __future__ import annotations

import asyncio

import httpx

from simulators.bank.ipn_sender import CONCURRENT_CALLBACKS, Delivery
from simulators.bank.knobs import Knobs
from simulators.bank.store import BankStore


async def test_the_bank_sends_a_bounded_number_of_callbacks_at_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    in_flight = peak = 0

    async def merchant(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.02)
        in_flight -= 1
        return httpx.Response(200, json={"RspCode": "00", "Message": "Confirm Success"})

    delivery = Delivery(BankStore(tmp_path / "bank.db"), Knobs(), "secret")
    await delivery.http.aclose()
    delivery.http = httpx.AsyncClient(transport=httpx.MockTransport(merchant))
    try:
        answers = await asyncio.gather(
            *(
                delivery._send(
                    {"txn_ref": f"T{i}", "transaction_no": str(i)}, "http://merchant/ipn", "delivery"
                )
                for i in range(3 * CONCURRENT_CALLBACKS)
            )
        )
    finally:
        await delivery.close()
    assert answers == ["00"] * (3 * CONCURRENT_CALLBACKS)
    assert peak == CONCURRENT_CALLBACKS
