"""Which households are due a reminder, and one reminder per household and expiry (issue 22,
finding 3), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from sqlalchemy import func, select

from activities.reminders import ReminderActivities
from adapters.db.orm import NotificationRow, ReminderRow
from domain.reminders import DueQuery, DueReminder, ReminderBatch, window
from tests.support.households import at, declared, household, load

TODAY = date(2026, 12, 5)
IN_20 = TODAY + timedelta(days=20)


def activities(db):  # type: ignore[no-untyped-def]
    return ReminderActivities(db, within_days=30, public_url="http://portal.test")


async def test_only_households_due_with_a_declarant_and_nothing_in_progress(db):
    due = household("H-DUE", 1, [IN_20, TODAY + timedelta(days=200)])
    await load(db, due)
    await declared(db, "app-old", "H-DUE", "completed", created_at=at(TODAY - timedelta(days=400)), data=due)
    await declared(db, "app-new", "H-DUE", "expired", created_at=at(TODAY - timedelta(days=30)), data=due)
    busy = household("H-BUSY", 10, [IN_20])
    await load(db, busy)
    await declared(db, "app-busy", "H-BUSY", "awaiting_payment", created_at=at(TODAY), data=busy)
    verifying = household("H-VERIFYING", 60, [IN_20])
    await load(db, verifying)
    await declared(
        db, "app-v0", "H-VERIFYING", "cancelled", created_at=at(TODAY - timedelta(days=9)), data=verifying
    )
    # a new declaration, still in step 2: its row does not name the household yet, its claim does
    await declared(db, "app-v1", None, "verifying", created_at=at(TODAY), data=verifying)
    async with db.unit_of_work() as uow:
        assert await uow.repo.claim_household("H-VERIFYING", "app-v1") is None
        # a claim left by an application that ended (its release was lost) holds nothing
        assert await uow.repo.claim_household("H-DUE", "app-old") is None
        await uow.commit()
    later = household("H-LATER", 20, [TODAY + timedelta(days=31)])
    await load(db, later)
    await declared(db, "app-later", "H-LATER", "completed", created_at=at(TODAY), data=later)
    lapsed = household("H-LAPSED", 30, [TODAY - timedelta(days=1)])
    await load(db, lapsed)
    await declared(db, "app-lapsed", "H-LAPSED", "completed", created_at=at(TODAY), data=lapsed)
    await load(db, household("H-NEVER-DECLARED", 40, [IN_20]))
    employees = household("H-DN", 50, [IN_20], group="DN")
    await load(db, employees)
    await declared(db, "app-dn", "H-DN", "completed", created_at=at(TODAY), data=employees)

    found = await activities(db).find_due_reminders(DueQuery(today=TODAY))

    assert found == [DueReminder(household_code="H-DUE", expires_on=IN_20)]
    sent = await activities(db).send_reminders(ReminderBatch(today=TODAY, reminders=found))
    assert sent == 1
    async with db.unit_of_work(read_only=True) as uow:
        notices = await uow.repo.notices_of("app-new")
        assert await uow.repo.reminders_of("H-DUE") == [(IN_20, "app-new")]
    [notice] = notices
    assert notice.kind == f"reminder:{IN_20.isoformat()}" and notice.recipient == "declarant"
    assert f"{IN_20:%d/%m/%Y}" in notice.message and "(sau 20 ngày)" in notice.message
    assert "http://portal.test/api/v1/renewals/app-new/prefill" in notice.message
    # reminded: the next run finds nothing more for that expiry
    assert await activities(db).find_due_reminders(DueQuery(today=TODAY)) == []


async def test_a_retried_batch_and_two_runs_at_once_send_one_reminder(db):
    data = household("H-1", 1, [IN_20])
    await load(db, data)
    await declared(db, "app-1", "H-1", "completed", created_at=at(TODAY), data=data)
    batch = ReminderBatch(today=TODAY, reminders=[DueReminder(household_code="H-1", expires_on=IN_20)])

    results = await asyncio.gather(*(activities(db).send_reminders(batch) for _ in range(4)))
    assert sorted(results) == [0, 0, 0, 1]
    assert await activities(db).send_reminders(batch) == 0

    async with db.unit_of_work(read_only=True) as uow:
        reminders = await uow.session.scalar(select(func.count()).select_from(ReminderRow))
        notices = await uow.session.scalar(select(func.count()).select_from(NotificationRow))
    assert (reminders, notices) == (1, 1)


async def test_the_next_expiry_gets_its_own_reminder(db):
    data = household("H-2", 1, [IN_20])
    await load(db, data)
    await declared(db, "app-2", "H-2", "completed", created_at=at(TODAY), data=data)
    first = await activities(db).find_due_reminders(DueQuery(today=TODAY))
    assert await activities(db).send_reminders(ReminderBatch(today=TODAY, reminders=first)) == 1
    # renewed at an office (no new online application): the card ends a year later
    next_year = IN_20 + timedelta(days=365)
    data["participants"][0]["valid_to"] = next_year.isoformat()
    await load(db, data)
    later = next_year - timedelta(days=10)
    again = await activities(db).find_due_reminders(DueQuery(today=later))
    assert again == [DueReminder(household_code="H-2", expires_on=next_year)]
    assert await activities(db).send_reminders(ReminderBatch(today=later, reminders=again)) == 1
    async with db.unit_of_work(read_only=True) as uow:
        assert [n.kind for n in await uow.repo.notices_of("app-2")] == [
            f"reminder:{IN_20.isoformat()}",
            f"reminder:{next_year.isoformat()}",
        ]


async def test_the_window_is_configurable(db):
    data = household("H-3", 1, [TODAY + timedelta(days=45)])
    await load(db, data)
    await declared(db, "app-3", "H-3", "completed", created_at=at(TODAY), data=data)
    assert await activities(db).find_due_reminders(DueQuery(today=TODAY)) == []
    assert await activities(db).find_due_reminders(DueQuery(today=TODAY, within_days=45)) != []
    assert window(TODAY, 30) == (TODAY, TODAY + timedelta(days=30))


async def test_the_portal_form_is_linked_when_configured(db):
    data = household("H-4", 1, [IN_20])
    await load(db, data)
    await declared(db, "app-4", "H-4", "completed", created_at=at(TODAY), data=data)
    portal = ReminderActivities(
        db, within_days=30, public_url="http://api.internal:8000",
        link_template="https://dichvucong.example/gia-han-bhyt?ho-so={application_id}",
    )  # fmt: skip
    found = await portal.find_due_reminders(DueQuery(today=TODAY, limit=1))
    assert await portal.send_reminders(ReminderBatch(today=TODAY, reminders=found)) == 1
    async with db.unit_of_work(read_only=True) as uow:
        [notice] = await uow.repo.notices_of("app-4")
        payload = await uow.session.scalar(select(NotificationRow.payload))
    assert notice.message.endswith(": https://dichvucong.example/gia-han-bhyt?ho-so=app-4")
    assert payload == {
        "expires_on": IN_20.isoformat(),
        "prefill_url": "http://api.internal:8000/api/v1/renewals/app-4/prefill",
        "link": "https://dichvucong.example/gia-han-bhyt?ho-so=app-4",  # what the SMS carries
    }
