"""Issue 19's two findings, on the time-skipping server: each fails on the code before the ledger.

1. A decision racing a payment: the application is in review for a wrong-amount transfer W; the
   right amount C arrives; the operator's `resolve_review` lands while the run checks C with the
   bank (or in the same activation as C's signal). The decision must be answered (applied, or
   overtaken) and W refunded; before, the update never returned and the run never ended.
2. Expiry trusting a "not found": at the deadline the run asks the bank (querydr, with the order's
   creation date) before it expires; a "not found" or an error is asked again, never taken as
   "unpaid"; the void is optional (real VNPay has none). Here the real `settle_order` activity
   runs against a bank behind a mock transport.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateStage
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.step3_payment import PaymentActivities
from adapters import ipn, vnpay_api
from adapters.bank import BankGatewayClient
from adapters.db import ApplicationRecord
from domain.models import ApplicationStatus
from domain.payments import PaymentState, ReviewDecision
from tests.support.temporal import CONVERTER, binary, register_search_attributes
from tests.workflows.fakes import ORDER_OPENED, FakeBackend
from tests.workflows.test_money import assert_money_accounted
from tests.workflows.test_renewal_workflow import DEADLINE, Run, env, payment_for, request
from workflows import client as renewals
from workflows.renewal import HouseholdRenewal

__all__ = ["env"]

ANSWER = 30.0
"""Seconds of real time an answer may take; past it the run is stuck (the finding)."""


async def _entered(backend: FakeBackend, name: str) -> None:
    await asyncio.wait_for(backend.entered.setdefault(name, asyncio.Event()).wait(), ANSWER)


async def _until_status(env: WorkflowEnvironment, application_id: str, wanted: ApplicationStatus) -> None:
    for _ in range(100):
        now = await renewals.status(env.client, application_id)
        if now is not None and now.status == wanted:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"never reached {wanted}")


async def _in_review_for_wrong_amount(env: WorkflowEnvironment, run: Run, backend: FakeBackend):  # type: ignore[no-untyped-def]
    req = request()
    view = await run.submit(req)
    await renewals.signal_payment(env.client, req.application_id, payment_for(view, amount=1_000))
    await _until_status(env, req.application_id, ApplicationStatus.PAYMENT_REVIEW)
    return req, view


@pytest.mark.parametrize("action", ["refund_and_cancel", "accept"])
async def test_a_decision_sent_while_the_right_payment_is_checked_is_answered(
    env: WorkflowEnvironment, action: str
) -> None:
    """Finding 1: C passes the bank check and is allocated; the decision is answered as overtaken,
    W is refunded and the run ends. Before: the update hung and the run never ended."""
    backend = FakeBackend(gate={"reconcile_payment": asyncio.Event()})
    async with Run(env, backend) as run:
        req, view = await _in_review_for_wrong_amount(env, run, backend)
        await renewals.signal_payment(
            env.client, req.application_id, payment_for(view, transaction_no="14000002")
        )
        await _entered(backend, "reconcile_payment")
        decision = ReviewDecision(action=action, transaction="14000002" if action == "accept" else None)  # type: ignore[arg-type]
        update = await renewals.handle(env.client, req.application_id).start_update(
            "resolve_review", decision, wait_for_stage=WorkflowUpdateStage.ACCEPTED
        )
        backend.gate["reconcile_payment"].set()
        with pytest.raises(WorkflowUpdateFailedError) as answered:
            await asyncio.wait_for(update.result(), ANSWER)
        assert "overtaken" in str(answered.value.cause)
        final = await asyncio.wait_for(run.result(req), ANSWER)
    assert final.status == ApplicationStatus.COMPLETED
    assert backend.calls["allocate"] == 1
    assert backend.refunds == ["14000001"]  # W goes back
    assert_money_accounted(final)


@pytest.fixture(scope="module")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """The real dev server: it hands a signal and an update that wait for a worker to it in one
    workflow task (the time-skipping server records them one task apart)."""
    environment = await WorkflowEnvironment.start_local(
        data_converter=CONVERTER, dev_server_existing_path=binary("temporal")
    )
    await register_search_attributes(environment.client)
    yield environment
    await environment.shutdown()


async def test_a_decision_and_a_payment_in_one_activation_are_both_handled(
    dev_env: WorkflowEnvironment,
) -> None:
    """Finding 1, second form: C's signal and the decision reach the run in one workflow task (the
    worker was away). Before: the new payment was taken first and the decision never read."""
    env = dev_env
    backend = FakeBackend()
    async with Run(env, backend) as run:
        req, view = await _in_review_for_wrong_amount(env, run, backend)
        queue = run.worker.task_queue
    # no worker now: the signal and the update wait together for the next workflow task
    await renewals.signal_payment(
        env.client, req.application_id, payment_for(view, transaction_no="14000002")
    )
    await asyncio.sleep(1)
    decided = asyncio.create_task(
        renewals.resolve_review(env.client, req.application_id, ReviewDecision(action="refund_and_cancel"))
    )
    await asyncio.sleep(1)
    worker = Worker(
        env.client, task_queue=queue, workflows=[HouseholdRenewal], activities=backend.activities()
    )
    async with worker:
        try:
            answer = await asyncio.wait_for(decided, ANSWER)
            assert answer.status == ApplicationStatus.CANCELLED
        except WorkflowUpdateFailedError as err:  # overtaken is an answer too
            assert "overtaken" in str(err.cause)
        final = await asyncio.wait_for(renewals.handle(env.client, req.application_id).result(), ANSWER)
        history = await renewals.handle(env.client, req.application_id).fetch_history()
    # the premise: the signal and the update were in one workflow task
    kinds = [e.event_type for e in history.events]
    signalled = max(i for i, k in enumerate(kinds) if k == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
    accepted = kinds.index(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED, signalled)
    between = kinds[signalled:accepted]
    assert between.count(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) == 1, between
    # both transfers are accounted: the operator's refund_and_cancel refunds C as well as W
    assert final.status in (ApplicationStatus.CANCELLED, ApplicationStatus.COMPLETED)
    assert "14000001" in backend.refunds
    assert_money_accounted(final)


# ---- finding 2: expiry asks the bank first -----------------------------------------------------

SECRET = "test-secret"
TMN = "BHYT0001"


@dataclass
class QueryBank:
    """VNPay's querydr (and our simulator's optional void) behind a mock transport.

    `answers` is what querydr says, in turn (the last one repeats): `not_found` (91), `error`
    (HTTP 503), `unpaid` (the order exists, transaction status 01), `paid`."""

    answers: list[str]
    has_void: bool = True
    amount: int = 0
    voids: int = 0
    dates: list[str] = field(default_factory=list)

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/void"):
            self.voids += 1
            if not self.has_void:
                return httpx.Response(404, json={"detail": "Not Found"})
            return httpx.Response(200, json={"txn_ref": "x", "status": "voided"})
        body = json.loads(request.content)
        self.dates.append(body["vnp_TransactionDate"])
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if answer == "error":
            return httpx.Response(503, json={"detail": "down"})
        values: dict[str, str] = {
            "vnp_ResponseId": body["vnp_RequestId"], "vnp_Command": "querydr", "vnp_TmnCode": TMN,
            "vnp_TxnRef": body["vnp_TxnRef"],
        }  # fmt: skip
        if answer == "not_found":
            values.update(vnp_ResponseCode=vnpay_api.NOT_FOUND, vnp_Message="Order not found")
        elif answer == "unpaid":
            values.update(
                vnp_ResponseCode=vnpay_api.OK, vnp_Message="Order not paid",
                vnp_Amount=ipn.amount_to_vnp(self.amount), vnp_TransactionStatus=vnpay_api.PENDING,
            )  # fmt: skip
        else:
            values.update(
                vnp_ResponseCode=vnpay_api.OK, vnp_Message="Query success",
                vnp_Amount=ipn.amount_to_vnp(self.amount), vnp_BankCode="NCB", vnp_BankTranNo="VNP14000001",
                vnp_PayDate=ipn.format_pay_date(datetime(2026, 11, 24, 10, 0, tzinfo=UTC)),
                vnp_TransactionNo="14000001", vnp_TransactionType="01", vnp_TransactionStatus=vnpay_api.PAID,
            )  # fmt: skip
        return httpx.Response(
            200, json=vnpay_api.signed(values, vnpay_api.response_fields("querydr"), SECRET)
        )


class _Repo:
    def __init__(self, record: ApplicationRecord) -> None:
        self.record = record
        self.callbacks: list[str] = []

    async def get_application(self, application_id: str) -> ApplicationRecord:
        return self.record

    async def record_bank_callback(self, txn_ref: str, payment: Any, raw: Any, source: str) -> None:
        self.callbacks.append(source)


class _Uow:
    def __init__(self, repo: _Repo) -> None:
        self.repo = repo

    async def commit(self) -> None:
        return None


class RecordsOfOneApplication:
    """The records as `settle_order` reads them: an application whose `updated_at` was overwritten
    hours after the order was opened (review, status changes), as the real records are."""

    def __init__(self, application_id: str) -> None:
        self.repo = _Repo(
            ApplicationRecord(
                application_id=application_id,
                status="awaiting_payment",
                created_at=ORDER_OPENED - timedelta(minutes=2),
                updated_at=ORDER_OPENED + timedelta(hours=5),
            )  # fmt: skip
        )

    @asynccontextmanager
    async def unit_of_work(self, read_only: bool = False):  # type: ignore[no-untyped-def]
        yield _Uow(self.repo)


async def _expire_against(env: WorkflowEnvironment, bank: QueryBank):  # type: ignore[no-untyped-def]
    backend = FakeBackend()
    req = request()
    records = RecordsOfOneApplication(req.application_id)
    client = BankGatewayClient(
        "http://bank.test", TMN, secret=SECRET, transport=httpx.MockTransport(bank.handler)
    )
    real = PaymentActivities(records, client, merchant_code=TMN, ipn_url="http://api.test/ipn")  # type: ignore[arg-type]
    activities = [
        a for a in backend.activities() if getattr(a, "__temporal_activity_definition").name != "settle_order"
    ]
    worker = Worker(
        env.client, task_queue=f"tq-{uuid.uuid4()}", workflows=[HouseholdRenewal],
        activities=[*activities, real.settle_order],
    )  # fmt: skip
    try:
        async with worker:
            view = await renewals.submit(env.client, req, task_queue=worker.task_queue)
            assert view.quote is not None
            bank.amount = view.quote.total
            await env.sleep(DEADLINE + timedelta(minutes=1))
            final = await asyncio.wait_for(
                renewals.handle(env.client, req.application_id).result(), 4 * ANSWER
            )
    finally:
        await client.aclose()
    return final, backend, records


@pytest.mark.parametrize("has_void", [False, True], ids=["bank_without_void", "bank_with_void"])
@pytest.mark.parametrize(
    "answers",
    [["paid"], ["not_found", "not_found", "paid"], ["error", "paid"]],
    ids=["paid", "not_found_then_paid", "error_then_paid"],
)
async def test_expiry_asks_the_bank_until_it_answers(
    env: WorkflowEnvironment, has_void: bool, answers: list[str]
) -> None:
    """Finding 2: a paid order is never expired because of a "not found" (from the void, which real
    VNPay does not have, or from querydr itself) or an error: the bank is asked again."""
    bank = QueryBank(answers=list(answers), has_void=has_void)
    final, backend, records = await _expire_against(env, bank)
    assert final.status == ApplicationStatus.COMPLETED
    assert backend.calls["allocate"] == 1
    assert [p.outcome for p in final.payments] == [PaymentState.ALLOCATED]
    assert records.repo.callbacks == ["querydr"]


@pytest.mark.parametrize("has_void", [False, True], ids=["bank_without_void", "bank_with_void"])
async def test_only_a_bank_answer_of_never_paid_expires(env: WorkflowEnvironment, has_void: bool) -> None:
    bank = QueryBank(answers=["not_found", "unpaid"], has_void=has_void)
    final, backend, _ = await _expire_against(env, bank)
    assert final.status == ApplicationStatus.EXPIRED
    assert backend.calls["allocate"] == 0 and final.payments == []
    assert len(bank.dates) >= 2  # the "not found" was asked again


async def test_querydr_asks_with_the_order_creation_date(env: WorkflowEnvironment) -> None:
    """Finding 2: VNPay wants vnp_TransactionDate = the order's creation date; the records'
    `updated_at` is overwritten by every status change."""
    bank = QueryBank(answers=["unpaid"], has_void=False)
    await _expire_against(env, bank)
    assert bank.dates and set(bank.dates) == {ipn.format_pay_date(ORDER_OPENED)}


@pytest.mark.parametrize("has_void", [False, True], ids=["bank_without_void", "bank_with_void"])
async def test_an_order_never_opened_at_the_bank_is_unpaid_a_day_after_its_deadline(has_void: bool) -> None:
    """VNPay answers querydr 91 for an order whose pay page was never opened. Before the deadline
    is a day past, the 91 is asked again (it may be transient); after, the pay URL has long
    expired (vnp_ExpireDate = the deadline), no payment can exist that the bank does not show, and
    settle_order answers "nothing paid", so the run expires. Before, it asked forever and the
    household could never apply again."""
    from dataclasses import replace

    from temporalio.testing import ActivityEnvironment

    from activities.inputs import SettleOrder
    from domain.payments import NEVER_OPENED_GRACE

    bank = QueryBank(answers=["not_found"], has_void=has_void)
    records = RecordsOfOneApplication("app-never-opened")
    client = BankGatewayClient(
        "http://bank.test", TMN, secret=SECRET, transport=httpx.MockTransport(bank.handler)
    )
    real = PaymentActivities(records, client, merchant_code=TMN, ipn_url="http://api.test/ipn")  # type: ignore[arg-type]
    deadline = ORDER_OPENED + timedelta(hours=72)
    ask = SettleOrder(
        application_id="app-never-opened", txn_ref="BHYT1", opened_at=ORDER_OPENED, deadline=deadline
    )
    environment = ActivityEnvironment()
    try:
        for asked_at in (deadline - timedelta(hours=1), deadline + NEVER_OPENED_GRACE - timedelta(minutes=1)):
            environment.info = replace(environment.info, current_attempt_scheduled_time=asked_at)
            with pytest.raises(Exception, match="asked again"):
                await environment.run(real.settle_order, ask)
        environment.info = replace(
            environment.info, current_attempt_scheduled_time=deadline + NEVER_OPENED_GRACE
        )
        assert await environment.run(real.settle_order, ask) == []
        without_deadline = ask.model_copy(update={"deadline": None})
        with pytest.raises(Exception, match="asked again"):
            await environment.run(real.settle_order, without_deadline)
    finally:
        await client.aclose()
    assert records.repo.callbacks == [] and len(bank.dates) == 4
