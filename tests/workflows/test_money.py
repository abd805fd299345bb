"""Issue 10 — money is never lost: the workflow's side of findings 2, 3, 5, 6 and 8, and the
operator's decisions (the `resolve_review` update), on the time-skipping server with fakes.

Every test ends by checking the invariant on the run's own view: each paid transaction is
allocated (exactly one, on a completed application) or refunded, never left unaccounted.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from domain.application import ApplicationView, RenewalInput
from domain.messages import DECLARATION_NOT_RECORDED
from domain.models import ApplicationStatus
from domain.payments import PaymentState, ReviewDecision
from tests.workflows.fakes import FakeBackend
from tests.workflows.test_renewal_workflow import DEADLINE, Run, env, payment_for, request
from workflows import client as renewals

__all__ = ["env"]

AFTER_MONEY = {"reconcile_payment", "enter_review", "allocate", "close_application",
               "refund_payment", "settle_order", "read_allocation"}  # fmt: skip


def assert_money_accounted(view: ApplicationView) -> None:
    """The invariant at the end of a run: one allocation at most, and only on a completed
    application; every other paid transaction refunded."""
    allocated = [p for p in view.payments if p.outcome == PaymentState.ALLOCATED]
    others = [p for p in view.payments if p.outcome != PaymentState.ALLOCATED]
    assert len(allocated) == (1 if view.status == ApplicationStatus.COMPLETED else 0), view.payments
    assert all(p.outcome == PaymentState.REFUNDED for p in others), view.payments


async def assert_closed_cleanly(env: WorkflowEnvironment, req: RenewalInput) -> None:
    desc = await renewals.handle(env.client, req.application_id).describe()
    assert desc.status == WorkflowExecutionStatus.COMPLETED


async def test_no_cutoff_on_any_activity_once_money_arrived(env: WorkflowEnvironment) -> None:
    """Finding 2: the bank stays down for hours after the money arrived: the run keeps trying
    (capped backoff) and completes; no activity after the payment has a schedule-to-close limit."""
    backend = FakeBackend(reconcile_outage=timedelta(hours=2))
    req = request()
    async with Run(env, backend) as run:
        view = await run.submit(req)
        await renewals.signal_payment(env.client, req.application_id, payment_for(view, amount=1_000))
        await renewals.signal_payment(
            env.client, req.application_id, payment_for(view, transaction_no="14000002")
        )
        for _ in range(30):  # three hours of outage-and-retry, skipped
            await env.sleep(timedelta(minutes=6))
        final = await run.result(req)
    assert final.status == ApplicationStatus.COMPLETED
    assert backend.calls["reconcile_payment"] > 10
    assert_money_accounted(final)
    history = await renewals.handle(env.client, req.application_id).fetch_history()
    scheduled = [
        e.activity_task_scheduled_event_attributes
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    after = [a for a in scheduled if a.activity_type.name in AFTER_MONEY]
    # the review's status is written with its notice (enter_review) since issue 12's LOCAL_STEPS
    assert {a.activity_type.name for a in after} >= {"reconcile_payment", "enter_review", "allocate"}
    for a in after:
        limit = a.schedule_to_close_timeout.ToTimedelta()
        assert limit == timedelta(0) or limit >= timedelta(days=3650), (a.activity_type.name, limit)


async def test_declaration_outage_says_try_again_later(env: WorkflowEnvironment) -> None:
    """Finding 8: the database down past step 1's window is not an invalid declaration."""
    backend = FakeBackend(declaration_outage=True)
    req = request()
    async with Run(env, backend) as run:
        view = await run.submit(req)
        await run.result(req)
    assert view.status == ApplicationStatus.REJECTED
    assert view.rejection_message == DECLARATION_NOT_RECORDED
    assert "không hợp lệ" not in view.rejection_message


async def test_bank_order_expires_a_margin_before_the_run(env: WorkflowEnvironment) -> None:
    """Finding 3: the order the household pays expires before the run does."""
    backend = FakeBackend()
    req = request().model_copy(update={"payment_margin_seconds": 600})
    async with Run(env, backend) as run:
        view = await run.submit(req)
        started = (await renewals.handle(env.client, req.application_id).describe()).start_time
        assert view.payment is not None
        to_order_expiry = view.payment.deadline - started
        assert DEADLINE - timedelta(minutes=11) < to_order_expiry < DEADLINE - timedelta(minutes=9)
        await env.sleep(DEADLINE - timedelta(minutes=5))  # past the order's expiry, not the run's
        now = await renewals.status(env.client, req.application_id)
        assert now is not None and now.status == ApplicationStatus.AWAITING_PAYMENT
        await renewals.signal_cancel(env.client, req.application_id)
        await run.result(req)


async def test_expiry_asks_the_bank_and_completes_when_it_was_paid(env: WorkflowEnvironment) -> None:
    """Finding 3: the IPN is late (or lost); querydr at the deadline finds the payment."""
    backend = FakeBackend()
    req = request()
    async with Run(env, backend) as run:
        view = await run.submit(req)
        backend.bank_paid = [payment_for(view)]
        await env.sleep(DEADLINE + timedelta(minutes=1))
        final = await run.result(req)
        # the late IPN then arrives: nothing changes
    assert final.status == ApplicationStatus.COMPLETED
    assert backend.calls["allocate"] == 1 and backend.voided == 1
    assert_money_accounted(final)


async def test_expiry_voids_the_order_and_refunds_a_payment_heard_while_closing(
    env: WorkflowEnvironment,
) -> None:
    """Finding 3: the status changes before the closing activity; a payment arriving meanwhile
    is refunded, not appended and forgotten; the order is voided at the bank."""
    backend = FakeBackend(gate={"close_application": asyncio.Event()})
    req = request()
    async with Run(env, backend) as run:
        view = await run.submit(req)
        skip = asyncio.create_task(env.sleep(DEADLINE + timedelta(minutes=1)))
        await asyncio.wait_for(backend.entered.setdefault("close_application", asyncio.Event()).wait(), 60)
        now = await renewals.status(env.client, req.application_id)
        assert now is not None and now.status == ApplicationStatus.EXPIRED  # before the activity ends
        await renewals.signal_payment(env.client, req.application_id, payment_for(view))
        backend.gate["close_application"].set()
        await skip
        final = await run.result(req)
    assert final.status == ApplicationStatus.EXPIRED
    assert backend.voided == 1 and backend.calls["allocate"] == 0
    assert backend.refunds == ["14000001"]
    assert_money_accounted(final)
    await assert_closed_cleanly(env, req)


async def test_cancel_voids_the_order_and_refunds_what_the_bank_took(env: WorkflowEnvironment) -> None:
    backend = FakeBackend()
    req = request()
    async with Run(env, backend) as run:
        view = await run.submit(req)
        backend.bank_paid = [payment_for(view)]  # paid at the bank, callback not yet here
        await renewals.signal_cancel(env.client, req.application_id)
        final = await run.result(req)
    assert final.status == ApplicationStatus.CANCELLED
    assert backend.voided == 1 and backend.refunds == ["14000001"]
    assert_money_accounted(final)


async def cancel_as_the_api_does(env: WorkflowEnvironment, backend: FakeBackend, application_id: str) -> None:
    """`POST /cancel` during `verifying`: the cancel on record first, then the signal."""
    backend.cancel_requests.add(application_id)
    await renewals.signal_cancel(env.client, application_id)


async def test_cancel_during_verifying_ends_before_any_order_or_notice(env: WorkflowEnvironment) -> None:
    """Finding 3: a cancel while step 2 runs ends the application before the bank order — also
    now that steps 1–3 run in one workflow task the signal cannot enter (issue 12, LEAN): the
    order step finds the cancel on record. Fails on a run that opens the order regardless."""
    backend = FakeBackend(gate={"verify_residence": asyncio.Event()})
    req = request()
    async with Run(env, backend) as run:
        submitted = asyncio.create_task(run.submit(req))
        await asyncio.wait_for(backend.entered.setdefault("verify_residence", asyncio.Event()).wait(), 30)
        await cancel_as_the_api_does(env, backend, req.application_id)
        await asyncio.sleep(0.5)
        backend.gate["verify_residence"].set()
        view = await submitted
        final = await run.result(req)
    assert view.status == final.status == ApplicationStatus.CANCELLED
    # no order, no notice; the short local steps of step 2 may finish first, they open nothing
    # at the bank and the close frees what they reserved
    assert backend.orders_opened == 0
    assert [n.kind for n in backend.notices] == []
    assert backend.statuses == ["cancelled"]


async def test_a_cancel_only_signalled_during_verifying_voids_the_order(env: WorkflowEnvironment) -> None:
    """A cancel sent as a bare signal (Temporal UI) while steps 1–3 run is heard right after that
    task: the order it opened is voided at the bank, and the application ends cancelled."""
    backend = FakeBackend(gate={"verify_residence": asyncio.Event()})
    req = request()
    async with Run(env, backend) as run:
        submitted = asyncio.create_task(run.submit(req))
        await asyncio.wait_for(backend.entered.setdefault("verify_residence", asyncio.Event()).wait(), 30)
        await renewals.signal_cancel(env.client, req.application_id)
        await asyncio.sleep(0.5)
        backend.gate["verify_residence"].set()
        await submitted
        final = await run.result(req)
    assert final.status == ApplicationStatus.CANCELLED
    assert backend.orders_opened == 1 and backend.voided == 1
    assert [n.kind for n in backend.notices] == ["payment_due", "cancelled"]
    assert_money_accounted(final)


async def test_a_cancel_arriving_with_a_wrong_amount_does_not_decide_the_review(
    env: WorkflowEnvironment,
) -> None:
    """Finding 5: the stale cancel flag never closes a review; only the operator's decision does."""
    backend = FakeBackend(gate={"send_notice:payment_due": asyncio.Event()})
    req = request()
    async with Run(env, backend) as run:
        view = await run.submit(req)
        await renewals.signal_payment(env.client, req.application_id, payment_for(view, amount=1_000))
        await renewals.signal_cancel(env.client, req.application_id)
        backend.gate["send_notice:payment_due"].set()
        await env.sleep(timedelta(hours=2))
        now = await renewals.status(env.client, req.application_id)
        assert now is not None and now.status == ApplicationStatus.PAYMENT_REVIEW
        assert [p.outcome for p in now.payments] == [PaymentState.UNDER_REVIEW]
        await renewals.signal_cancel(env.client, req.application_id)  # ignored in review
        await env.sleep(timedelta(hours=1))
        now = await renewals.status(env.client, req.application_id)
        assert now is not None and now.status == ApplicationStatus.PAYMENT_REVIEW
        decided = await renewals.resolve_review(
            env.client, req.application_id, ReviewDecision(action="refund_and_cancel")
        )
        assert decided.status == ApplicationStatus.CANCELLED
        final = await run.result(req)
    assert final.status == ApplicationStatus.CANCELLED
    assert backend.refunds == ["14000001"]
    assert_money_accounted(final)


async def test_refused_allocation_is_reread_before_cancel(env: WorkflowEnvironment) -> None:
    """Finding 6: the allocation had in fact committed: the operator's cancel completes instead,
    frees nothing wrongly, and refunds nothing that was allocated."""
    backend = FakeBackend(allocation_refused=True, allocation_committed=True)
    req = request()
    async with Run(env, backend) as run:
        view = await run.submit(req)
        await renewals.signal_payment(env.client, req.application_id, payment_for(view))
        await env.sleep(timedelta(minutes=5))
        now = await renewals.status(env.client, req.application_id)
        assert now is not None and now.status == ApplicationStatus.PAYMENT_REVIEW
        assert now.review_reason is not None and now.review_reason.startswith("allocation_refused")
        with pytest.raises(WorkflowUpdateFailedError) as answered:  # issue 19: answered, as overtaken
            await renewals.resolve_review(
                env.client, req.application_id, ReviewDecision(action="refund_and_cancel")
            )
        assert "overtaken" in str(answered.value.cause)
        final = await run.result(req)
    assert backend.calls["read_allocation"] == 1
    assert final.status == ApplicationStatus.COMPLETED
    assert "cancelled" not in backend.statuses
    assert backend.refunds == []
    assert_money_accounted(final)


async def test_refused_allocation_not_committed_is_refunded_and_cancelled(env: WorkflowEnvironment) -> None:
    backend = FakeBackend(allocation_refused=True)
    req = request()
    async with Run(env, backend) as run:
        view = await run.submit(req)
        await renewals.signal_payment(env.client, req.application_id, payment_for(view))
        await env.sleep(timedelta(minutes=5))
        # a second payment while in review after a refused allocation is refunded too
        await renewals.signal_payment(
            env.client, req.application_id, payment_for(view, transaction_no="14000002")
        )
        await renewals.resolve_review(
            env.client, req.application_id, ReviewDecision(action="refund_and_cancel")
        )
        final = await run.result(req)
    assert final.status == ApplicationStatus.CANCELLED
    assert sorted(backend.refunds) == ["14000001", "14000002"]
    assert_money_accounted(final)


async def test_review_accept_allocates_the_named_transaction(env: WorkflowEnvironment) -> None:
    backend = FakeBackend(reconcile_reason="bank_transaction_mismatch")
    req = request()
    async with Run(env, backend) as run:
        view = await run.submit(req)
        await renewals.signal_payment(env.client, req.application_id, payment_for(view, amount=1_000))
        await renewals.signal_payment(
            env.client, req.application_id, payment_for(view, transaction_no="14000002")
        )
        await env.sleep(timedelta(minutes=5))
        handle = renewals.handle(env.client, req.application_id)
        with pytest.raises(WorkflowUpdateFailedError):  # validator: amount differs from the quote
            await renewals.resolve_review(
                env.client, req.application_id, ReviewDecision(action="accept", transaction="14000001")
            )
        with pytest.raises(WorkflowUpdateFailedError):  # validator: no such transaction
            await renewals.resolve_review(
                env.client, req.application_id, ReviewDecision(action="accept", transaction="999")
            )
        decided = await renewals.resolve_review(
            env.client, req.application_id, ReviewDecision(action="accept", transaction="14000002")
        )
        assert decided.status in (ApplicationStatus.ALLOCATING, ApplicationStatus.COMPLETED)
        final = await handle.result()
        with pytest.raises((WorkflowUpdateFailedError, RPCError)):  # the run is closed
            await renewals.resolve_review(
                env.client, req.application_id, ReviewDecision(action="refund_and_cancel")
            )
    assert final.status == ApplicationStatus.COMPLETED
    assert backend.calls["allocate"] == 1
    assert backend.refunds == ["14000001"]  # the wrong-amount transfer goes back
    assert_money_accounted(final)


async def paid_twice(env: WorkflowEnvironment, backend: FakeBackend, req: RenewalInput) -> ApplicationView:
    """The order paid in full, then paid again by a second transfer (14000002); the final view."""
    async with Run(env, backend) as run:
        view = await run.submit(req)
        await renewals.signal_payment(env.client, req.application_id, payment_for(view))
        await renewals.signal_payment(
            env.client, req.application_id, payment_for(view, transaction_no="14000002")
        )
        return await run.result(req)


async def test_a_second_payment_of_a_paid_order_is_refunded(env: WorkflowEnvironment) -> None:
    backend = FakeBackend()
    req = request()
    final = await paid_twice(env, backend, req)
    assert final.status == ApplicationStatus.COMPLETED
    assert backend.calls["allocate"] == 1 and backend.refunds == ["14000002"]
    assert_money_accounted(final)


async def test_a_refund_the_bank_refuses_stays_due_for_an_operator(env: WorkflowEnvironment) -> None:
    backend = FakeBackend(refund_refused={"14000002"})
    req = request()
    final = await paid_twice(env, backend, req)
    outcomes = {p.transaction: p.outcome for p in final.payments}
    assert outcomes == {"14000001": PaymentState.ALLOCATED, "14000002": PaymentState.REFUND_DUE}
    await assert_closed_cleanly(env, req)
