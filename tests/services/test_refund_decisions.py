"""services.refund_decisions: an operator on a refund due (API and `starter.py refund --retry|
--paid-back`) and on the money of a closed application (`starter.py refund ID`)."""

from __future__ import annotations

import pytest

from domain.models import ApplicationStatus
from services.errors import NotFound, Refused
from services.refund_decisions import decide_refund, refund_closed
from tests.activities.test_refund_findings import client
from tests.services.conftest import a_view, recorded, refund_due
from tests.support.scripted_bank import ScriptedBank


async def test_paid_back_is_recorded_with_the_operator_and_shown(db, temporal) -> None:
    run = temporal.add(a_view(ApplicationStatus.EXPIRED), running=False)
    await recorded(db, run.view)
    payment = await refund_due(db, run.view)
    view = await decide_refund(
        db, temporal, run.view.application_id, payment.transaction_no, "paid_back", "an.nguyen", "cash"
    )
    [shown] = view.payments
    assert shown.outcome == "refunded" and "an.nguyen" in (shown.reason or "")
    async with db.unit_of_work(read_only=True) as uow:
        [action] = await uow.repo.operator_actions_of(run.view.application_id)
    assert (action.action, action.reason) == ("refund_paid_back", "cash")


async def test_an_unknown_transaction_is_not_found_and_a_refund_not_rejected_is_refused(db, temporal) -> None:
    run = temporal.add(a_view(ApplicationStatus.EXPIRED), running=False)
    await recorded(db, run.view)
    payment = await refund_due(db, run.view)
    with pytest.raises(NotFound, match="transaction"):
        await decide_refund(db, temporal, run.view.application_id, "no-such", "retry", "an.nguyen")
    await decide_refund(db, temporal, run.view.application_id, payment.transaction_no, "retry", "an.nguyen")
    with pytest.raises(Refused, match="transaction: its refund is retry, not rejected"):
        await decide_refund(db, temporal, run.view.application_id, payment.transaction_no, "retry", "an.nguyen")


async def test_a_run_still_open_refunds_by_itself(db, temporal) -> None:
    run = temporal.add(a_view(ApplicationStatus.PAYMENT_REVIEW))
    bank = ScriptedBank({})
    async with client(bank) as gateway:
        with pytest.raises(Refused, match="its run decides"):
            await refund_closed(db, temporal, gateway, run.view.application_id, "an.nguyen")
    assert bank.received == []


async def test_a_retry_of_a_closed_applications_refund_is_sent_now(db, temporal) -> None:
    run = temporal.add(a_view(ApplicationStatus.EXPIRED), running=False)
    await recorded(db, run.view)
    payment = await refund_due(db, run.view)
    bank = ScriptedBank(
        {"refund": [("answer", {"vnp_ResponseCode": "00", "vnp_Message": "ok", "vnp_TransactionStatus": "05"})]}
    )
    async with client(bank) as gateway:
        done = await refund_closed(
            db, temporal, gateway, run.view.application_id, "an.nguyen", ("retry", payment.transaction_no)
        )
    assert done == [(payment.transaction_no, "in_process: bank answer 00/05")]


async def test_a_decision_the_records_refuse_is_named(db, temporal) -> None:
    run = temporal.add(a_view(ApplicationStatus.EXPIRED), running=False)
    bank = ScriptedBank({})
    async with client(bank) as gateway:
        with pytest.raises(Refused, match="refund decision refused: transaction"):
            await refund_closed(
                db, temporal, gateway, run.view.application_id, "an.nguyen", ("paid_back", "no-such")
            )
