"""services.refunds: the one way money goes back (the activity, the follower, an operator's command).
The bank's answers are covered in tests/activities; here, what is never sent."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.models import ApplicationStatus
from services.refunds import follow_due_refunds, refund_transaction
from tests.activities.test_refund_findings import client
from tests.services.conftest import a_view, recorded, refund_due
from tests.support.scripted_bank import ScriptedBank


async def test_a_refund_due_waits_for_an_operator_and_is_not_sent_again(db) -> None:
    view = a_view(ApplicationStatus.EXPIRED)
    await recorded(db, view)
    payment = await refund_due(db, view)
    bank = ScriptedBank({})
    async with client(bank) as gateway:
        result = await refund_transaction(db, gateway, view.application_id, payment, "cancelled")
        assert await follow_due_refunds(db, gateway, now=datetime.now(UTC)) >= 0
    assert result.state == "rejected" and "an operator decides" in result.detail
    assert bank.received == []
