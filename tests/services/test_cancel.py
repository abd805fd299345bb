"""services.cancel: the declarant's cancel, the same for the portal and `starter.py cancel`."""

from __future__ import annotations

import pytest

from domain.application import ApplicationView
from domain.models import ApplicationStatus
from services import cancel
from services.errors import NoSuchApplication, Refused
from tests.services.conftest import a_view, recorded
from workflows.contract import SIGNAL_CANCEL


def cancelled(view: ApplicationView) -> ApplicationView:
    return view.model_copy(update={"status": ApplicationStatus.CANCELLED})


async def test_an_application_awaiting_payment_is_cancelled(db, temporal) -> None:
    run = temporal.add(a_view(ApplicationStatus.AWAITING_PAYMENT), on_cancel=cancelled)
    done = await cancel.cancel(db, temporal, run.view.application_id)
    assert done.status == ApplicationStatus.CANCELLED and run.signals == [SIGNAL_CANCEL]


async def test_during_verification_the_cancel_goes_on_record_before_the_signal(db, temporal) -> None:
    run = temporal.add(a_view(ApplicationStatus.VERIFYING), on_cancel=cancelled)
    await recorded(db, run.view)
    await cancel.cancel(db, temporal, run.view.application_id)
    async with db.unit_of_work(read_only=True) as uow:
        assert await uow.repo.cancel_requested(run.view.application_id)


async def test_a_closed_application_is_refused_with_its_status(db, temporal) -> None:
    run = temporal.add(a_view(ApplicationStatus.EXPIRED), running=False)
    with pytest.raises(Refused, match="cannot cancel: application is expired"):
        await cancel.cancel(db, temporal, run.view.application_id)
    assert run.signals == []


@pytest.mark.parametrize(
    "status", [ApplicationStatus.ALLOCATING, ApplicationStatus.COMPLETED, ApplicationStatus.PAYMENT_REVIEW]
)
async def test_a_paid_application_is_refused_as_already_paid(db, temporal, status) -> None:
    run = temporal.add(a_view(status, paid=status != ApplicationStatus.PAYMENT_REVIEW))
    with pytest.raises(Refused, match="cannot cancel: already paid"):
        await cancel.cancel(db, temporal, run.view.application_id)
    assert run.signals == []


async def test_a_cancelled_application_is_answered_as_it_stands(db, temporal) -> None:
    run = temporal.add(a_view(ApplicationStatus.CANCELLED), running=False)
    assert (await cancel.cancel(db, temporal, run.view.application_id)).status == ApplicationStatus.CANCELLED


async def test_a_run_that_took_the_money_meanwhile_is_refused(db, temporal) -> None:
    def paid_meanwhile(view: ApplicationView) -> ApplicationView:
        return view.model_copy(update={"status": ApplicationStatus.ALLOCATING})

    run = temporal.add(a_view(ApplicationStatus.AWAITING_PAYMENT), on_cancel=paid_meanwhile)
    with pytest.raises(Refused, match="application is allocating"):
        await cancel.cancel(db, temporal, run.view.application_id)


async def test_an_unknown_application(db, temporal) -> None:
    with pytest.raises(NoSuchApplication):
        await cancel.cancel(db, temporal, "00000000-0000-0000-0000-000000000000")
