"""services.review: an operator's decision on a payment review (API and `starter.py review ID`)."""

from __future__ import annotations

import pytest

from domain.application import ApplicationView
from domain.models import ApplicationStatus
from domain.payments import PaymentOutcome, PaymentState, ReviewDecision
from services.errors import NoSuchApplication, Refused
from services.review import resolve_review
from tests.services.conftest import a_payment, a_view


def in_review() -> ApplicationView:
    view = a_view(ApplicationStatus.PAYMENT_REVIEW)
    payment = a_payment(view)
    shown = PaymentOutcome(
        transaction=payment.transaction_no,
        bank_code=payment.bank_code,
        bank_tran_no=payment.bank_tran_no,
        amount=payment.amount,
        pay_date=payment.pay_date,
        outcome=PaymentState.UNDER_REVIEW,
        reason="bank_not_found: querydr 91",
    )
    return view.model_copy(update={"payments": [shown]})


def refunded_and_cancelled(view: ApplicationView, decision: ReviewDecision) -> ApplicationView:
    return view.model_copy(update={"status": ApplicationStatus.CANCELLED})


async def test_a_decision_the_run_takes_goes_to_the_audit(db, temporal) -> None:
    run = temporal.add(in_review(), on_review=refunded_and_cancelled)
    decision = ReviewDecision(action="refund_and_cancel", operator="an.nguyen")
    done = await resolve_review(db, temporal, run.view.application_id, decision)
    assert done.status == ApplicationStatus.CANCELLED and run.updates == [decision]
    async with db.unit_of_work(read_only=True) as uow:
        actions = await uow.repo.operator_actions_of(run.view.application_id)
    assert [(a.operator, a.action) for a in actions] == [("an.nguyen", "refund_and_cancel")]


async def test_an_accept_the_bank_did_not_confirm_is_refused_before_the_run_is_asked(db, temporal) -> None:
    run = temporal.add(in_review(), on_review=refunded_and_cancelled)
    [unconfirmed] = run.view.payments
    decision = ReviewDecision(action="accept", transaction=unconfirmed.transaction, operator="an.nguyen")
    with pytest.raises(Refused, match="override: the bank did not confirm"):
        await resolve_review(db, temporal, run.view.application_id, decision)
    assert run.updates == []


async def test_the_runs_refusal_is_named_and_nothing_is_audited(db, temporal) -> None:
    run = temporal.add(in_review())  # the run refuses every decision
    decision = ReviewDecision(action="refund_and_cancel", operator="an.nguyen")
    with pytest.raises(Refused, match="not in review"):
        await resolve_review(db, temporal, run.view.application_id, decision)
    async with db.unit_of_work(read_only=True) as uow:
        assert await uow.repo.operator_actions_of(run.view.application_id) == []


async def test_an_unknown_application(db, temporal) -> None:
    with pytest.raises(NoSuchApplication):
        await resolve_review(db, temporal, "nope", ReviewDecision(action="refund_and_cancel"))
