"""Issue 19: a signal or an update delivered at each await point of the run, on the engine.

Each scenario holds one activity open (the fake's gate), delivers the event while it runs, then
lets it answer; the run must end with the ledger's invariants (every paid transaction allocated
once on a completed application or refunded; every decision answered; the run closed). The
scenarios are recorded as histories too (record_histories.py) and replayed.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError, WorkflowUpdateStage
from temporalio.testing import WorkflowEnvironment

from domain.application import ApplicationView, RenewalInput
from domain.models import ApplicationStatus
from domain.payments import PaymentState, ReviewDecision
from tests.workflows.fakes import FakeBackend
from tests.workflows.test_renewal_workflow import DEADLINE, Run, env, payment_for, request
from workflows import client as renewals

__all__ = ["env"]

ANSWER = 30.0
RIGHT, SECOND, WRONG = "14000001", "14000002", "14000003"


def assert_ledger_invariants(view: ApplicationView, refunded: list[str]) -> None:
    """At the end of a run: one allocation at most, only on a completed application; every other
    paid transaction refunded (the fake bank refunds everything); nothing left processing."""
    allocated = [p.transaction for p in view.payments if p.outcome == PaymentState.ALLOCATED]
    assert len(allocated) == (1 if view.status == ApplicationStatus.COMPLETED else 0), view.payments
    others = {p.transaction for p in view.payments if p.outcome != PaymentState.ALLOCATED}
    assert all(p.outcome == PaymentState.REFUNDED for p in view.payments if p.transaction in others)
    assert sorted(refunded) == sorted(others)


async def _entered(backend: FakeBackend, name: str) -> None:
    await asyncio.wait_for(backend.entered.setdefault(name, asyncio.Event()).wait(), ANSWER)


async def _status(env: WorkflowEnvironment, req: RenewalInput, wanted: ApplicationStatus) -> None:
    for _ in range(100):
        now = await renewals.status(env.client, req.application_id)
        if now is not None and now.status == wanted:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"never reached {wanted}")


async def _finish(env: WorkflowEnvironment, req: RenewalInput) -> ApplicationView:
    handle = renewals.handle(env.client, req.application_id)
    final = await asyncio.wait_for(handle.result(), ANSWER)
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
    return final


async def _decide(env: WorkflowEnvironment, req: RenewalInput, decision: ReviewDecision):  # type: ignore[no-untyped-def]
    """The update, accepted (past its validator) before returning its handle."""
    return await renewals.handle(env.client, req.application_id).start_update(
        "resolve_review", decision, wait_for_stage=WorkflowUpdateStage.ACCEPTED, result_type=ApplicationView
    )


async def payment_during_bank_check(env: WorkflowEnvironment) -> RenewalInput:
    """C is checked with the bank; C2 arrives meanwhile: C allocated, C2 refunded."""
    backend = FakeBackend(gate={"reconcile_payment": asyncio.Event()})
    async with Run(env, backend) as run:
        req = request()
        view = await run.submit(req)
        await renewals.signal_payment(env.client, req.application_id, payment_for(view))
        await _entered(backend, "reconcile_payment")
        await renewals.signal_payment(
            env.client, req.application_id, payment_for(view, transaction_no=SECOND)
        )
        backend.gate["reconcile_payment"].set()
        final = await _finish(env, req)
    assert final.status == ApplicationStatus.COMPLETED and backend.calls["reconcile_payment"] == 1
    assert_ledger_invariants(final, backend.refunds)
    assert backend.refunds == [SECOND]
    return req


async def cancel_during_bank_check(env: WorkflowEnvironment) -> RenewalInput:
    """A cancel while the payment is checked: the money was accepted first, the cancel is void."""
    backend = FakeBackend(gate={"reconcile_payment": asyncio.Event()})
    async with Run(env, backend) as run:
        req = request()
        view = await run.submit(req)
        await renewals.signal_payment(env.client, req.application_id, payment_for(view))
        await _entered(backend, "reconcile_payment")
        await renewals.signal_cancel(env.client, req.application_id)
        backend.gate["reconcile_payment"].set()
        final = await _finish(env, req)
    assert final.status == ApplicationStatus.COMPLETED and backend.voided == 0
    assert_ledger_invariants(final, backend.refunds)
    return req


async def deadline_during_bank_check(env: WorkflowEnvironment) -> RenewalInput:
    """The deadline passes while the bank check runs, and the bank says the record differs: the
    application goes to review (no expiry with money in it); the operator refunds and cancels."""
    backend = FakeBackend(
        reconcile_reason="bank_transaction_mismatch", gate={"reconcile_payment": asyncio.Event()}
    )
    async with Run(env, backend) as run:
        req = request().model_copy(update={"payment_deadline_seconds": 4})
        view = await run.submit(req)
        await renewals.signal_payment(env.client, req.application_id, payment_for(view))
        await _entered(backend, "reconcile_payment")
        # an activity in progress holds the test server's clock: the deadline passes in real time
        await asyncio.sleep(5)
        backend.gate["reconcile_payment"].set()
        await _status(env, req, ApplicationStatus.PAYMENT_REVIEW)
        decided = await renewals.resolve_review(
            env.client, req.application_id, ReviewDecision(action="refund_and_cancel")
        )
        assert decided.status == ApplicationStatus.CANCELLED
        final = await _finish(env, req)
    assert final.status == ApplicationStatus.CANCELLED and "expired" not in backend.statuses
    assert_ledger_invariants(final, backend.refunds)
    return req


async def decision_at_the_deadline(env: WorkflowEnvironment) -> RenewalInput:
    """At the deadline the bank (querydr) finds a wrong-amount transfer: review, not expiry; the
    operator's decision then closes it (the bank asked again before the close)."""
    backend = FakeBackend()
    async with Run(env, backend) as run:
        req = request()
        view = await run.submit(req)
        backend.bank_paid = [payment_for(view, amount=1_000, transaction_no=WRONG)]
        await env.sleep(DEADLINE + timedelta(minutes=1))
        await _status(env, req, ApplicationStatus.PAYMENT_REVIEW)
        decided = await renewals.resolve_review(
            env.client, req.application_id, ReviewDecision(action="refund_and_cancel")
        )
        assert decided.status == ApplicationStatus.CANCELLED
        final = await _finish(env, req)
    assert backend.calls["settle_order"] == 2
    assert_ledger_invariants(final, backend.refunds)
    assert backend.refunds == [WRONG]
    return req


async def payment_during_expiry_question(env: WorkflowEnvironment) -> RenewalInput:
    """The deadline: while the run asks the bank, the callback of a payment arrives: completed."""
    backend = FakeBackend(gate={"settle_order": asyncio.Event()})
    async with Run(env, backend) as run:
        req = request()
        view = await run.submit(req)
        skip = asyncio.create_task(env.sleep(DEADLINE + timedelta(minutes=1)))
        await _entered(backend, "settle_order")
        await renewals.signal_payment(env.client, req.application_id, payment_for(view))
        backend.gate["settle_order"].set()
        await skip
        final = await _finish(env, req)
    assert final.status == ApplicationStatus.COMPLETED
    assert_ledger_invariants(final, backend.refunds)
    return req


async def decision_and_cancel(env: WorkflowEnvironment) -> RenewalInput:
    """In review, a cancel and the operator's decision arrive together: the decision decides."""
    backend = FakeBackend(gate={"enter_review": asyncio.Event()})
    async with Run(env, backend) as run:
        req = request()
        view = await run.submit(req)
        await renewals.signal_payment(env.client, req.application_id, payment_for(view, amount=1_000))
        await _entered(backend, "enter_review")  # the review is being recorded
        update = await _decide(env, req, ReviewDecision(action="refund_and_cancel"))
        await renewals.signal_cancel(env.client, req.application_id)
        backend.gate["enter_review"].set()
        decided = await asyncio.wait_for(update.result(), ANSWER)
        assert decided.status == ApplicationStatus.CANCELLED
        final = await _finish(env, req)
    assert backend.calls["settle_order"] == 1
    assert_ledger_invariants(final, backend.refunds)
    return req


async def accept_during_bank_check_of_another(env: WorkflowEnvironment) -> RenewalInput:
    """In review for W (bank record differs); the operator accepts W while the right transfer C is
    being checked: C passes first, the decision is answered as overtaken, W refunded."""
    backend = FakeBackend(gate={"reconcile_payment": asyncio.Event()})
    async with Run(env, backend) as run:
        req = request()
        view = await run.submit(req)
        backend.reconcile_reason = "bank_transaction_mismatch"
        await renewals.signal_payment(env.client, req.application_id, payment_for(view, transaction_no=WRONG))
        await _entered(backend, "reconcile_payment")
        backend.gate["reconcile_payment"].set()
        await _status(env, req, ApplicationStatus.PAYMENT_REVIEW)
        backend.gate["reconcile_payment"].clear()
        backend.entered["reconcile_payment"].clear()
        backend.reconcile_reason = None
        await renewals.signal_payment(env.client, req.application_id, payment_for(view, transaction_no=RIGHT))
        await _entered(backend, "reconcile_payment")
        update = await _decide(env, req, ReviewDecision(action="accept", transaction=WRONG))
        backend.gate["reconcile_payment"].set()
        with pytest.raises(WorkflowUpdateFailedError) as answered:
            await asyncio.wait_for(update.result(), ANSWER)
        assert "overtaken" in str(answered.value.cause) and WRONG in str(answered.value.cause)
        final = await _finish(env, req)
    assert final.status == ApplicationStatus.COMPLETED
    assert {p.transaction: p.outcome for p in final.payments}[RIGHT] == PaymentState.ALLOCATED
    assert_ledger_invariants(final, backend.refunds)
    assert backend.refunds == [WRONG]
    return req


async def payment_during_allocation(env: WorkflowEnvironment) -> RenewalInput:
    """A second transfer while step 4 writes: allocated once, the second refunded after."""
    backend = FakeBackend(gate={"allocate": asyncio.Event()})
    async with Run(env, backend) as run:
        req = request()
        view = await run.submit(req)
        await renewals.signal_payment(env.client, req.application_id, payment_for(view))
        await _entered(backend, "allocate")
        await renewals.signal_payment(
            env.client, req.application_id, payment_for(view, transaction_no=SECOND)
        )
        backend.gate["allocate"].set()
        final = await _finish(env, req)
    assert final.status == ApplicationStatus.COMPLETED and backend.calls["allocate"] == 1
    assert_ledger_invariants(final, backend.refunds)
    assert backend.refunds == [SECOND]
    return req


async def decision_during_allocation_reread(env: WorkflowEnvironment) -> RenewalInput:
    """Step 4 refused; the operator refunds and cancels; a payment arrives while the run re-reads
    the allocation: both refunded, cancelled."""
    backend = FakeBackend(allocation_refused=True, gate={"read_allocation": asyncio.Event()})
    async with Run(env, backend) as run:
        req = request()
        view = await run.submit(req)
        await renewals.signal_payment(env.client, req.application_id, payment_for(view))
        await _status(env, req, ApplicationStatus.PAYMENT_REVIEW)
        update = await _decide(env, req, ReviewDecision(action="refund_and_cancel"))
        await _entered(backend, "read_allocation")
        await renewals.signal_payment(
            env.client, req.application_id, payment_for(view, transaction_no=SECOND)
        )
        backend.gate["read_allocation"].set()
        decided = await asyncio.wait_for(update.result(), ANSWER)
        assert decided.status == ApplicationStatus.CANCELLED
        final = await _finish(env, req)
    assert_ledger_invariants(final, backend.refunds)
    assert sorted(backend.refunds) == [RIGHT, SECOND]
    return req


RACES = {
    "race_payment_during_bank_check": payment_during_bank_check,
    "race_cancel_during_bank_check": cancel_during_bank_check,
    "race_deadline_during_bank_check": deadline_during_bank_check,
    "race_decision_at_the_deadline": decision_at_the_deadline,
    "race_payment_during_expiry_question": payment_during_expiry_question,
    "race_decision_and_cancel": decision_and_cancel,
    "race_accept_during_bank_check_of_another": accept_during_bank_check_of_another,
    "race_payment_during_allocation": payment_during_allocation,
    "race_decision_during_allocation_reread": decision_during_allocation_reread,
}


@pytest.mark.parametrize("name", list(RACES))
async def test_race(env: WorkflowEnvironment, name: str) -> None:
    await RACES[name](env)
