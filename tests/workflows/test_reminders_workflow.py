"""`HouseholdReminders` on the time-skipping server, over a real (SQLite) BHXH database: the day
comes from the workflow's clock, a household due gets one reminder however many runs there are
(issue 22, finding 3: nothing reminded a household before its cards lapsed)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from activities.reminders import ReminderActivities
from adapters.db import Database, migrate_async
from adapters.db.orm import NotificationRow, ReminderRow
from domain.application import vietnam_date
from domain.reminders import ReminderRun, ReminderSummary
from tests.support.households import at, declared, household, load
from tests.support.temporal import CONVERTER, time_skipping_env
from workflows.reminder_schedule import SCHEDULE_ID, reminder_schedule
from workflows.reminders import REMINDER_WORKFLOW_TYPE, HouseholdReminders


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with time_skipping_env() as environment:
        yield environment


@pytest.fixture
async def db(tmp_path) -> AsyncIterator[Database]:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'bhyt.db'}"
    await migrate_async(url)
    database = Database(url)
    yield database
    await database.dispose()


async def counts(db: Database) -> tuple[int, int]:
    async with db.unit_of_work(read_only=True) as uow:
        reminders = await uow.session.scalar(select(func.count()).select_from(ReminderRow))
        notices = await uow.session.scalar(select(func.count()).select_from(NotificationRow))
    return int(reminders or 0), int(notices or 0)


async def test_a_household_whose_cards_end_in_20_days_is_reminded_once(env, db):
    today = vietnam_date(await env.get_current_time())
    due = household("HN-BD-0001", 1, [today + timedelta(days=20), today + timedelta(days=300)])
    await load(db, due)
    await declared(
        db, str(uuid.uuid4()), "HN-BD-0001", "completed", created_at=at(today - timedelta(days=340)), data=due
    )
    quiet = household("HN-BD-0002", 10, [today + timedelta(days=90)])
    await load(db, quiet)
    await declared(db, str(uuid.uuid4()), "HN-BD-0002", "completed", created_at=at(today), data=quiet)
    reminders = ReminderActivities(db, within_days=30, public_url="http://127.0.0.1:8000")
    queue = f"tq-{uuid.uuid4()}"
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[HouseholdReminders],
        activities=[reminders.find_due_reminders, reminders.send_reminders],
    ):
        first_id = f"rem-{uuid.uuid4()}"
        first = await env.client.execute_workflow(
            REMINDER_WORKFLOW_TYPE, ReminderRun(), id=first_id, task_queue=queue,
            result_type=ReminderSummary,
        )  # fmt: skip
        assert (first.today, first.due, first.sent) == (today, 1, 1)
        # overlapping runs (a retried schedule action, an operator's trigger): nothing more
        # (time skipping off: three runs waiting on one SQLite writer must not see hours pass)
        with env.auto_time_skipping_disabled():
            again = await asyncio.gather(
                *(
                    env.client.execute_workflow(
                        REMINDER_WORKFLOW_TYPE,
                        ReminderRun(),
                        id=f"rem-{uuid.uuid4()}",
                        task_queue=queue,
                        result_type=ReminderSummary,
                    )  # fmt: skip
                    for _ in range(3)
                )
            )
        assert [r.sent for r in again] == [0, 0, 0]
        # a wider window (the schedule's input may override the configuration) finds the other one
        wider = await env.client.execute_workflow(
            REMINDER_WORKFLOW_TYPE, ReminderRun(within_days=120), id=f"rem-{uuid.uuid4()}",
            task_queue=queue, result_type=ReminderSummary,
        )  # fmt: skip
        assert (wider.due, wider.sent) == (1, 1)
        history = await env.client.get_workflow_handle(first_id).fetch_history()
    assert await counts(db) == (2, 2)
    # deterministic: the run's history replays on the workflow code without a worker or database
    await Replayer(workflows=[HouseholdReminders], data_converter=CONVERTER).replay_workflow(history)


def test_the_schedule_runs_daily_at_the_configured_vietnam_hour():
    schedule = reminder_schedule("bhyt-renewal", hour=8)
    [interval] = schedule.spec.intervals
    assert (interval.every, interval.offset) == (timedelta(days=1), timedelta(hours=1))  # 08:00 GMT+7
    assert reminder_schedule("q", hour=3).spec.intervals[0].offset == timedelta(hours=20)
    assert schedule.action.workflow == REMINDER_WORKFLOW_TYPE and schedule.action.id == SCHEDULE_ID
    assert schedule.action.task_queue == "bhyt-renewal"


async def test_many_households_due_are_reminded_page_after_page(env, db):
    """A page of households due, then the next: the first run after a deployment finds every
    household of the window at once, far more than one activity's answer should carry."""
    today = vietnam_date(await env.get_current_time())
    for n in range(7):
        data = household(f"HH-{n}", 100 + n, [today + timedelta(days=10 + n)])
        await load(db, data)
        await declared(db, str(uuid.uuid4()), f"HH-{n}", "completed", created_at=at(today), data=data)
    reminders = ReminderActivities(db, within_days=30, public_url="http://127.0.0.1:8000")
    queue = f"tq-{uuid.uuid4()}"
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[HouseholdReminders],
        activities=[reminders.find_due_reminders, reminders.send_reminders],
    ):
        summary = await env.client.execute_workflow(
            REMINDER_WORKFLOW_TYPE, ReminderRun(page=3), id=f"rem-{uuid.uuid4()}", task_queue=queue,
            result_type=ReminderSummary,
        )  # fmt: skip
    assert (summary.due, summary.sent) == (7, 7)
    assert await counts(db) == (7, 7)
