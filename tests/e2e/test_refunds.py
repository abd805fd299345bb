"""Issue 20 on the real stack: a refund is shown as the bank processes it.

- with the bank's `refund_settle_ms` at 40 s, a refunded wrong transfer shows `refund_pending`
  until the bank settles it, then `refunded` (the worker's follower asks querydr);
- with `refund_outcome` = `rejected` it shows `refund_due`, and `starter.py reconcile` names the
  application for an operator.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from scripts.stack import Stack
from tests.support.stack_clients import api_client

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DEMO_DECLARATION = json.loads((ROOT / "data" / "demo_declaration.json").read_text(encoding="utf-8"))
OPERATOR = {"Authorization": "Bearer dev-operator-token"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    var = tmp_path_factory.mktemp("refunds") / "var"
    with Stack.on_free_ports(var, seed=True, extra_env={"BHYT_REFUND_FOLLOW_SECONDS": "1"}) as running:
        yield running


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(stack, http_timeout=90) as client:
        yield client


async def knobs(stack: Stack, **values: Any) -> None:
    async with httpx.AsyncClient(base_url=stack.urls.bank, timeout=10) as bank:
        (await bank.put("/admin/knobs", json=values)).raise_for_status()


async def until(api: httpx.AsyncClient, application_id: str, check, within: float) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        view = (await api.get(f"/api/v1/renewals/{application_id}")).json()
        if check(view):
            return view
        assert time.monotonic() < deadline, f"not reached: {view['status']}, {view.get('payments')}"
        await asyncio.sleep(0.5)


async def wrong_transfer_refunded_and_cancelled(
    stack: Stack, api: httpx.AsyncClient
) -> tuple[str, dict[str, Any]]:
    created = await api.post("/api/v1/renewals", json=DEMO_DECLARATION)
    assert created.status_code == 201, created.text
    application_id, payment = created.json()["application_id"], created.json()["payment"]
    async with httpx.AsyncClient(base_url=stack.urls.bank, timeout=10) as bank:
        paid = await bank.post(
            f"/api/v1/orders/{payment['txn_ref']}/pay", json={"amount": payment["amount"] - 1000}
        )
        paid.raise_for_status()
    await until(api, application_id, lambda v: v["status"] == "payment_review", 60)
    decided = await api.post(
        f"/api/v1/renewals/{application_id}/review", json={"action": "refund_and_cancel"}, headers=OPERATOR
    )
    assert decided.status_code == 200, decided.text
    # cancelled first (the money owed, refund_due), then the run refunds it before it ends
    view = await until(
        api, application_id, lambda v: v["status"] == "cancelled" and outcomes(v) == ["refund_pending"], 60
    )
    return application_id, view


def outcomes(view: dict[str, Any]) -> list[str]:
    return [p["outcome"] for p in view["payments"]]


async def test_a_refund_shows_pending_until_the_bank_settles_it_then_refunded(stack: Stack, api) -> None:
    await knobs(stack, refund_settle_ms=40_000, refund_outcome="success")
    application_id, view = await wrong_transfer_refunded_and_cancelled(stack, api)
    # the request is on record first (`requested`), then the bank's answer: 05, VNPAY processing
    view = await until(api, application_id, lambda v: v["payments"][0]["reason"] != "requested", 30)
    assert outcomes(view) == ["refund_pending"] and view["payments"][0]["reason"] == "in_process"
    view = await until(api, application_id, lambda v: outcomes(v) != ["refund_pending"], 150)
    assert outcomes(view) == ["refunded"]


async def test_a_rejected_refund_is_due_and_reconcile_names_the_application(stack: Stack, api) -> None:
    await knobs(stack, refund_settle_ms=3_000, refund_outcome="rejected")
    try:
        application_id, view = await wrong_transfer_refunded_and_cancelled(stack, api)
        view = await until(api, application_id, lambda v: outcomes(v) != ["refund_pending"], 90)
        assert outcomes(view) == ["refund_due"]
    finally:
        await knobs(stack, refund_settle_ms=0, refund_outcome="success")
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "starter.py", "reconcile"],
        cwd=ROOT,
        env={**os.environ, **stack.env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    [line] = [row for row in done.stdout.splitlines() if application_id in row]
    assert "refund_due" in line and "bank answer 09" in line
