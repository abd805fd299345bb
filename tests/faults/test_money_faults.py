"""Issue 10 point 9 — the fault suite: the money invariant on the real stack, under faults.

The whole stack runs as real processes (Temporal dev server, both simulators, worker, API),
once on SQLite and once on PostgreSQL, with the portal webhook down for the whole module (every
notice stays pending in the outbox, and no renewal waits for it). Each scenario injects one
fault; after each, `assert_invariant` checks, for the applications it touched:

- every paid bank transaction is exactly one of: allocated (only on a completed application,
  at most one per application), refunded (and on the bank's statement), or refund_due (the
  bank refused the refund: an operator's);
- no run is Failed/Terminated/TimedOut (each closed as Completed);
- no closed application holds a card reservation;
- receipt numbers of the series are gap-free;
- every IPN answer the bank got matches what was recorded.

| id | scenario | fault | expected outcome |
|----|----------|-------|------------------|
| F1 | 10 identical IPNs at once | bank knob: 9 concurrent duplicate callbacks | one allocation, one receipt; answers 00/02 only |
| F2 | wrong amount, then the right amount | two real transfers at the bank | completed; the wrong transfer refunded through the bank, on its statement |
| F3 | one transaction number, two contents | signed IPN reusing a settled vnp_TransactionNo with another amount | answered 99, kept in bank_payment_conflicts; nothing else changes |
| F4 | payment at the deadline, IPN late | bank knob: callback 8 s late; the run's deadline passes first | querydr at the deadline finds it: completed once; late IPN answered 02 |
| F5 | cancel racing a payment (6 trials) | pay, then cancel at once; callback delay 0/0.3/1 s | completed, or cancelled with the payment refunded at the bank |
| F6 | IPN after expiry | signed IPN for an application whose run has ended | answered 02, recorded `closed_application`, shown refund_due; `starter.py refund` asks the bank |
| F7 | worker SIGKILLed in step 3/4 | kill -9 right after the payment, restart | completed once, one receipt |
| F9 | wrong amount, operator refunds | review resolved through `POST /renewals/{id}/review` | a decision that does not apply is 409; refund_and_cancel: cancelled, refunded at the bank |
| F10 | Temporal dev server restarted mid-flight | SIGKILL the dev server after the quote, pay while it is down, restart | the IPN is not acknowledged while down (99 or no answer), the bank retries, completed once |
| F11 | bank down while the run needs it | SIGKILL the bank before the order is opened; restart after 4 s | the order opens once the bank is back; completed once |
| F12 | worker SIGKILLed inside step 2a | registry answers after 3 s; kill -9 the worker during the call; restart | the quote arrives once, the application completes once |
| F13 | registry down, shorter than its window | registry outage for 4 s during step 2 | retried: quoted, then completed |
| F8 | webhook down | NOTIFY_WEBHOOK_URL points at a closed port (whole module) | every renewal above completes; notices pending in the outbox |

Not here: the registry, bank and database down *past* their retry windows (hours) — the workflow
tests cover those windows with time skipping (tests/workflows/test_money.py); the worker killed
inside step 1's and step 4's own activities (F12 covers step 2a, F7 the payment-to-allocation path).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from temporalio.client import Client, WorkflowExecutionStatus

from adapters import ipn
from adapters.db import Database
from domain.application import RenewalInput
from domain.models import Declaration
from scripts.stack import Stack, free_ports
from tests.e2e.test_stack import PARTICIPANTS, head, member, signed_ipn
from tests.support.stack_clients import NO_KEEPALIVE, api_client
from tests.support.temporal import CONVERTER
from workflows import client as renewals

pytestmark = pytest.mark.e2e

HOUSEHOLDS = [
    ("001080012345", "GD4010101234567"),
    ("001078001113", "GD4010104567801"),
    ("001080012345", "GD4010101234568"),
    ("001078001113", "GD4010104567802"),
    ("001080012345", "GD4010101234569"),
    ("001078001113", "GD4010104567803"),
    ("001080012345", "GD4010101234570"),
    ("001078001113", "GD4010104567804"),
    ("040085001234", "GD4797901112233"),
    ("001078001113", "GD4010104567805"),
    ("001075009911", "GD4010102345601"),
    ("001078001113", "GD4010104567806"),
    ("040085001234", "GD4797901112235"),
    ("001080012345", "GD4010101234567"),
    ("001080012345", "GD4010101234568"),
    ("001078001113", "GD4010104567801"),
    ("001078001113", "GD4010104567802"),
]
"""(head, card) of the demo data, household group, one shared residence: one per application,
so no two scenarios renew one card."""


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def stack(request, tmp_path_factory) -> AsyncIterator[Stack]:
    database_url = None
    databases = None
    if request.param == "postgresql":
        from tests.adapters.db.conftest import PostgresDatabases, _pg_admin

        admin, url = await _pg_admin()
        databases = PostgresDatabases(admin, url)
        database_url = await databases.create()
    [dead] = free_ports(1)
    extra = {"NOTIFY_WEBHOOK_URL": f"http://127.0.0.1:{dead}/hook", "BHYT_PAYMENT_MARGIN": "PT1S"}
    running = Stack.on_free_ports(
        tmp_path_factory.mktemp(f"faults-{request.param}") / "var",
        seed=True,
        database_url=database_url,
        extra_env=extra,
    )
    await asyncio.to_thread(running.start)
    try:
        yield running
    finally:
        await asyncio.to_thread(running.stop)
        if databases is not None:
            await databases.drop_all()


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(stack, http_timeout=60) as client:
        yield client


@pytest.fixture
async def bank(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.urls.bank, timeout=30, limits=NO_KEEPALIVE) as client:
        knobs = (await client.get("/admin/knobs")).json()
        yield client
        await client.put("/admin/knobs", json=knobs)


@pytest.fixture
async def temporal(stack: Stack) -> Client:
    return await Client.connect(stack.urls.temporal, data_converter=CONVERTER)


@pytest.fixture
async def db(stack: Stack) -> AsyncIterator[Database]:
    database = Database(stack.settings.database_url)
    yield database
    await database.dispose()


_used: dict[str, int] = {}


def household(stack: Stack) -> dict[str, Any]:
    """The next unused (head, card) of this stack."""
    n = _used.get(stack.urls.api, 0)
    _used[stack.urls.api] = n + 1
    personal_id, card = HOUSEHOLDS[n]
    relation = "chủ hộ" if PARTICIPANTS[card]["personal_id"] == personal_id else "khác"
    return {"head": head(personal_id), "members": [member(card, relation)]}


async def declare(
    stack: Stack, temporal: Client, declaration: dict[str, Any], *, deadline_seconds: int = 3600
) -> Any:
    """Start an application through the client (so the test can set a short deadline)."""
    request = RenewalInput(
        application_id=str(uuid.uuid4()),
        declaration=Declaration.model_validate(declaration),
        submitted_at=datetime.now(UTC),
        payment_deadline_seconds=deadline_seconds,
        payment_margin_seconds=1,
        receipt_series=stack.settings.bhyt_receipt_series,
    )
    view = await renewals.submit(temporal, request, task_queue=stack.settings.temporal_task_queue)
    assert view.status == "awaiting_payment", view
    return view


async def pay(bank: httpx.AsyncClient, txn_ref: str, **body: Any) -> dict[str, Any]:
    response = await bank.post(f"/api/v1/orders/{txn_ref}/pay", json=body)
    assert response.status_code == 202, response.text
    return response.json()


async def finish(temporal: Client, application_id: str, within: float = 120) -> Any:
    return await asyncio.wait_for(renewals.handle(temporal, application_id).result(), within)


async def wait_until(predicate: Any, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while not await predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.3)


async def assert_invariant(
    stack: Stack, temporal: Client, db: Database, bank: httpx.AsyncClient, application_ids: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """The checks of the module docstring; returns each application's paid transactions."""
    found: dict[str, list[dict[str, Any]]] = {}
    for application_id in application_ids:
        desc = await renewals.handle(temporal, application_id).describe()
        assert desc.status == WorkflowExecutionStatus.COMPLETED, (application_id, desc.status)
        async with db.unit_of_work(read_only=True) as uow:
            record = await uow.repo.get_application(application_id)
            assert record is not None and record.txn_ref is not None
            rows = [r for r in await uow.repo.payments_of(record.txn_ref)]
            held = (
                await uow.session.execute(
                    text("SELECT count(*) FROM card_reservations WHERE application_id = :id"),
                    {"id": application_id},
                )
            ).scalar_one()
        assert held == 0, "a closed application holds a reservation"
        allocated = [r for r in rows if r.allocated_at is not None]
        assert len(allocated) == (1 if record.status == "completed" else 0), (record.status, allocated)
        for r in rows:
            states = [
                r.allocated_at is not None,
                r.refund_status == "refunded",
                (r.refund_status or "").startswith("rejected"),
            ]
            assert sum(states) == 1, (record.status, r.payment_key, r.refund_status, r.allocated_at)
        order = (await bank.get(f"/api/v1/orders/{record.txn_ref}")).json()
        outcomes = {r.transaction_no: r.outcome for r in rows}
        for attempt in order.get("ipn_attempts", []):
            recorded = outcomes.get(attempt["transaction_no"])
            code = attempt["rsp_code"]
            if code == "00":
                assert recorded == "confirmed", attempt
            elif code == "04":
                assert recorded == "amount_mismatch", attempt
            elif code == "02":
                assert recorded in {
                    "confirmed",
                    "second_payment",
                    "closed_application",
                    "querydr",
                    "refund",
                }, attempt
        refunded = {r.transaction_no for r in rows if r.refund_status == "refunded"}
        if refunded:
            day = datetime.now(ipn.GMT7).date().isoformat()
            statement = (await bank.get("/api/v1/statement", params={"date": day})).json()
            assert refunded <= {r["transaction_no"] for r in statement["refunds"]}
        found[application_id] = [
            {
                "transaction_no": r.transaction_no,
                "allocated": r.allocated_at is not None,
                "refund": r.refund_status,
            }
            for r in rows
        ]
    async with db.unit_of_work(read_only=True) as uow:
        numbers = [
            n
            for (n,) in await uow.session.execute(
                text("SELECT number FROM receipts WHERE series = :s ORDER BY number"),
                {"s": stack.settings.bhyt_receipt_series},
            )
        ]
    assert numbers == list(range(1, len(numbers) + 1)), f"receipt numbers not gap-free: {numbers}"
    return found


async def test_f1_ten_identical_ipns_at_once(stack, temporal, db, bank) -> None:
    await bank.put("/admin/knobs", json={"duplicate_callbacks": 9, "duplicate_concurrent": True})
    view = await declare(stack, temporal, household(stack))
    await pay(bank, view.payment.txn_ref)
    final = await finish(temporal, view.application_id)
    assert final.status == "completed"
    await wait_until(lambda: _attempts_at_least(bank, view.payment.txn_ref, 10))
    order = (await bank.get(f"/api/v1/orders/{view.payment.txn_ref}")).json()
    assert {a["rsp_code"] for a in order["ipn_attempts"]} <= {"00", "02"}
    found = await assert_invariant(stack, temporal, db, bank, [view.application_id])
    assert [p["allocated"] for p in found[view.application_id]] == [True]


async def _attempts_at_least(bank: httpx.AsyncClient, txn_ref: str, count: int) -> bool:
    order = (await bank.get(f"/api/v1/orders/{txn_ref}")).json()
    return len(order["ipn_attempts"]) >= count


async def _acknowledged(bank: httpx.AsyncClient, txn_ref: str) -> bool:
    order = (await bank.get(f"/api/v1/orders/{txn_ref}")).json()
    return bool(order["ipn_attempts"]) and order["ipn_attempts"][-1]["rsp_code"] in ("00", "02")


async def test_f2_wrong_amount_then_the_right_amount(stack, temporal, db, bank) -> None:
    view = await declare(stack, temporal, household(stack))
    await pay(bank, view.payment.txn_ref, amount=view.payment.amount - 1000)

    async def in_review() -> bool:
        now = await renewals.status(temporal, view.application_id)
        return now is not None and now.status == "payment_review"

    await wait_until(in_review)
    await pay(bank, view.payment.txn_ref)
    final = await finish(temporal, view.application_id)
    assert final.status == "completed"
    assert sorted(p.outcome.value for p in final.payments) == ["allocated", "refunded"]
    found = await assert_invariant(stack, temporal, db, bank, [view.application_id])
    assert sorted((p["allocated"], p["refund"]) for p in found[view.application_id]) == [
        (False, "refunded"),
        (True, None),
    ]


async def test_f3_one_transaction_number_two_contents(stack, api, temporal, db, bank) -> None:
    view = await declare(stack, temporal, household(stack))
    paid = await pay(bank, view.payment.txn_ref)
    await finish(temporal, view.application_id)
    other = signed_ipn(stack, view.payment.txn_ref, view.payment.amount + 5000, paid["transaction_no"])
    answer = (await api.get("/api/v1/payments/ipn", params=other)).json()
    assert answer["RspCode"] == "99"
    async with db.unit_of_work(read_only=True) as uow:
        conflicts = await uow.repo.payment_conflicts()
    assert paid["transaction_no"] in {c.payment_key for c in conflicts}
    found = await assert_invariant(stack, temporal, db, bank, [view.application_id])
    assert [p["allocated"] for p in found[view.application_id]] == [True]


async def test_f4_payment_at_the_deadline_with_a_late_ipn(stack, api, temporal, db, bank) -> None:
    await bank.put("/admin/knobs", json={"callback_delay_ms": 8000})
    view = await declare(stack, temporal, household(stack), deadline_seconds=4)
    await pay(bank, view.payment.txn_ref)  # before the order's expiry (deadline − 1 s)
    final = await finish(temporal, view.application_id)
    assert final.status == "completed"  # querydr at the deadline found the payment
    await wait_until(lambda: _attempts_at_least(bank, view.payment.txn_ref, 1), within=30)
    order = (await bank.get(f"/api/v1/orders/{view.payment.txn_ref}")).json()
    assert order["ipn_attempts"][0]["rsp_code"] == "02"
    await assert_invariant(stack, temporal, db, bank, [view.application_id])


@pytest.mark.parametrize("delay_ms", [0, 0, 300, 300, 1000, 1000])
async def test_f5_cancel_racing_a_payment(stack, api, temporal, db, bank, delay_ms) -> None:
    await bank.put("/admin/knobs", json={"callback_delay_ms": delay_ms})
    view = await declare(stack, temporal, household(stack))
    paid, cancelled = await asyncio.gather(
        bank.post(f"/api/v1/orders/{view.payment.txn_ref}/pay", json={}),
        api.post(f"/api/v1/renewals/{view.application_id}/cancel"),
    )
    assert cancelled.status_code in (200, 202, 409), cancelled.text
    final = await finish(temporal, view.application_id)
    assert final.status in ("completed", "cancelled")
    found = await assert_invariant(stack, temporal, db, bank, [view.application_id])
    if paid.status_code == 202:  # the bank took the money: allocated, or refunded
        (payment,) = found[view.application_id]
        assert payment["allocated"] == (final.status == "completed")
        assert payment["refund"] == (None if final.status == "completed" else "refunded")


async def test_f6_ipn_after_expiry(stack, api, temporal, db, bank) -> None:
    view = await declare(stack, temporal, household(stack), deadline_seconds=3)
    final = await finish(temporal, view.application_id)
    assert final.status == "expired"
    with pytest.raises(httpx.HTTPStatusError):  # the bank refuses to take money for a voided order
        (await bank.post(f"/api/v1/orders/{view.payment.txn_ref}/pay", json={})).raise_for_status()
    late = signed_ipn(stack, view.payment.txn_ref, view.payment.amount, "98" + uuid.uuid4().hex[:6].upper())
    answer = (await api.get("/api/v1/payments/ipn", params=late)).json()
    assert answer["RspCode"] == "02" and "closed" in answer["Message"]
    shown = (await api.get(f"/api/v1/renewals/{view.application_id}")).json()
    assert [p["outcome"] for p in shown["payments"]] == ["refund_due"]
    from starter import refund

    [(transaction, detail)] = await refund(stack.settings, view.application_id, "dev-operator")
    assert transaction == late["vnp_TransactionNo"] and detail == "rejected: bank answer 91"  # the bank never had it
    found = await assert_invariant(stack, temporal, db, bank, [view.application_id])
    assert [p["refund"] for p in found[view.application_id]] == ["rejected:91"]


async def test_f7_worker_killed_after_the_payment(stack, temporal, db, bank) -> None:
    view = await declare(stack, temporal, household(stack))
    await pay(bank, view.payment.txn_ref)
    await asyncio.to_thread(stack.kill_worker)
    await asyncio.sleep(1)
    await asyncio.to_thread(stack.start_worker)
    final = await finish(temporal, view.application_id)
    assert final.status == "completed"
    await assert_invariant(stack, temporal, db, bank, [view.application_id])


async def test_f9_operator_refunds_a_wrong_amount(stack, api, temporal, db, bank) -> None:
    view = await declare(stack, temporal, household(stack))
    wrong = await pay(bank, view.payment.txn_ref, amount=view.payment.amount + 2000)

    async def in_review() -> bool:
        now = await renewals.status(temporal, view.application_id)
        return now is not None and now.status == "payment_review"

    await wait_until(in_review)
    shown = (await api.get(f"/api/v1/renewals/{view.application_id}")).json()
    assert [(p["transaction"], p["outcome"]) for p in shown["payments"]] == [
        (wrong["transaction_no"], "under_review")
    ]
    operator = {"Authorization": "Bearer dev-operator-token"}
    refused = await api.post(
        f"/api/v1/renewals/{view.application_id}/review",
        json={"action": "accept", "transaction": wrong["transaction_no"]},
        headers=operator,
    )
    assert refused.status_code == 409 and "transaction" in refused.json()["detail"]
    decided = await api.post(
        f"/api/v1/renewals/{view.application_id}/review", json={"action": "refund_and_cancel"}, headers=operator
    )
    assert decided.status_code == 200, decided.text
    final = await finish(temporal, view.application_id)
    assert final.status == "cancelled"
    shown = (await api.get(f"/api/v1/renewals/{view.application_id}")).json()
    assert [p["outcome"] for p in shown["payments"]] == ["refunded"]
    found = await assert_invariant(stack, temporal, db, bank, [view.application_id])
    assert [p["refund"] for p in found[view.application_id]] == ["refunded"]


async def test_f10_temporal_restarted_mid_flight(stack, temporal, db, bank) -> None:
    await bank.put("/admin/knobs", json={"retry_base_ms": 2000, "max_attempts": 8})
    view = await declare(stack, temporal, household(stack))
    await asyncio.to_thread(stack.kill, "temporal")
    await pay(bank, view.payment.txn_ref)
    await wait_until(lambda: _attempts_at_least(bank, view.payment.txn_ref, 1), within=30)
    await asyncio.to_thread(stack.restart, "temporal")
    client = await Client.connect(stack.urls.temporal, data_converter=CONVERTER)
    final = await finish(client, view.application_id, within=180)
    assert final.status == "completed"
    # The attempt that reached the restarting server may land its signal after the bank stopped
    # waiting for the answer (recorded as no answer): the run completes, and the bank's next retry
    # is the one acknowledged. So wait for the bank to hear 00/02, as a real bank would.
    await wait_until(lambda: _acknowledged(bank, view.payment.txn_ref), within=120)
    order = (await bank.get(f"/api/v1/orders/{view.payment.txn_ref}")).json()
    # not acknowledged while the signal could not land (99, or no answer within the bank's timeout)
    assert order["ipn_attempts"][0]["rsp_code"] in (None, "99"), order["ipn_attempts"][0]
    assert order["ipn_attempts"][-1]["rsp_code"] in ("00", "02")
    await assert_invariant(stack, client, db, bank, [view.application_id])


async def test_f11_bank_down_while_the_run_needs_it(stack, temporal, db) -> None:
    await asyncio.to_thread(stack.kill, "bank")
    submitted = asyncio.create_task(declare(stack, temporal, household(stack)))
    await asyncio.sleep(4)
    assert not submitted.done()  # step 3's order waits for the bank, retried
    await asyncio.to_thread(stack.restart, "bank")
    view = await asyncio.wait_for(submitted, 120)
    async with httpx.AsyncClient(base_url=stack.urls.bank, timeout=30) as bank:
        await pay(bank, view.payment.txn_ref)
        final = await finish(temporal, view.application_id)
        assert final.status == "completed"
        await assert_invariant(stack, temporal, db, bank, [view.application_id])


async def _registry_faults(stack: Stack, **faults: Any) -> None:
    async with httpx.AsyncClient(base_url=stack.urls.registry, timeout=10) as registry:
        response = await registry.put(
            "/admin/faults", json=faults, headers={"X-API-Key": stack.settings.registry_api_key}
        )
        response.raise_for_status()


async def test_f12_worker_killed_inside_step_2a(stack, temporal, db, bank) -> None:
    await _registry_faults(stack, latency_ms=3000)
    try:
        submitted = asyncio.create_task(declare(stack, temporal, household(stack)))
        await asyncio.sleep(1.5)  # the worker is inside verify_residence, waiting for the registry
        await asyncio.to_thread(stack.kill_worker)
        await _registry_faults(stack)
        await asyncio.to_thread(stack.start_worker)
        view = await asyncio.wait_for(submitted, 120)
    finally:
        await _registry_faults(stack)
    await pay(bank, view.payment.txn_ref)
    final = await finish(temporal, view.application_id)
    assert final.status == "completed"
    await assert_invariant(stack, temporal, db, bank, [view.application_id])


async def test_f13_registry_down_shorter_than_its_window(stack, temporal, db, bank) -> None:
    await _registry_faults(stack, outage=True)
    try:
        submitted = asyncio.create_task(declare(stack, temporal, household(stack)))
        await asyncio.sleep(4)
        assert not submitted.done()
    finally:
        await _registry_faults(stack)
    view = await asyncio.wait_for(submitted, 120)
    await pay(bank, view.payment.txn_ref)
    final = await finish(temporal, view.application_id)
    assert final.status == "completed"
    await assert_invariant(stack, temporal, db, bank, [view.application_id])


async def test_f8_notices_wait_in_the_outbox_while_the_webhook_is_down(stack, db) -> None:
    async with db.unit_of_work(read_only=True) as uow:
        counts = dict(
            (
                await uow.session.execute(
                    text("SELECT status, count(*) FROM notification_outbox GROUP BY status")
                )
            ).all()
        )
    assert counts.get("pending", 0) > 0 and counts.get("delivered", 0) == 0
