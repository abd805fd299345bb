"""services.applications: the application as a caller sees it (the portal's GET, `starter.py status`)."""

from __future__ import annotations

import pytest

from domain.models import ApplicationStatus
from domain.payments import PaymentState
from services import applications
from services.errors import NoSuchApplication
from tests.services.conftest import a_payment, a_view, recorded


async def test_money_that_came_after_the_run_ended_is_shown_owed_back(db, temporal) -> None:
    run = temporal.add(a_view(ApplicationStatus.EXPIRED), running=False)
    await recorded(db, run.view)
    late = a_payment(run.view)
    async with db.unit_of_work() as uow:
        await uow.repo.record_bank_callback(late.txn_ref, late, {}, "closed_application")
        await uow.commit()
    view = await applications.current(db, temporal, run.view.application_id)
    assert [(p.transaction, p.outcome) for p in view.payments] == [(late.transaction_no, PaymentState.REFUND_DUE)]


async def test_an_application_without_an_order_is_the_runs_view(db, temporal) -> None:
    run = temporal.add(a_view(ApplicationStatus.REJECTED, ordered=False), running=False)
    assert await applications.with_payments(db, run.view) == run.view


async def test_an_unknown_application(db, temporal) -> None:
    with pytest.raises(NoSuchApplication):
        await applications.find(temporal, "nope")
    with pytest.raises(NoSuchApplication):
        await applications.notices(db, temporal, "nope")
