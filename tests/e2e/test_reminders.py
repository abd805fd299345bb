"""End to end: the reminder schedule on the stack as `make run` starts it (issue 22, finding 3).

The schedule exists once the stack is up (the worker creates it); a household that declared
online and whose cards end in 20 days gets one reminder when the schedule runs — triggered here
rather than waited for, twice at once — with a link to its pre-filled declaration.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update
from temporalio.client import Client, ScheduleActionStartWorkflow

from adapters.db import Database
from adapters.db.orm import ParticipantRow, ReminderRow
from domain.application import VIETNAM_TZ
from domain.reminders import ReminderSummary
from scripts.stack import Stack
from tests.support.stack_clients import api_client
from tests.support.temporal import CONVERTER
from workflows.reminder_schedule import SCHEDULE_ID, run_now
from workflows.reminders import REMINDER_WORKFLOW_TYPE

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DECLARATION = json.loads((ROOT / "data" / "demo_declaration.json").read_text(encoding="utf-8"))
HOUSEHOLD = "HN-BD-0001"
MEMBERS = ["0101234567", "0101234568", "0101234569", "0101234570"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with Stack.on_free_ports(tmp_path_factory.mktemp("reminders") / "var", seed=True) as running:
        yield running


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(stack, http_timeout=60) as client:
        yield client


async def reminder_runs(client: Client, at_least: int, within: float = 60) -> list[ReminderSummary]:
    """The results of the schedule's runs, once it has started `at_least` of them."""
    handle = client.get_schedule_handle(SCHEDULE_ID)
    deadline = time.monotonic() + within
    while True:
        actions = (await handle.describe()).info.recent_actions
        if len(actions) >= at_least or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    return [
        await client.get_workflow_handle(
            a.action.workflow_id, run_id=a.action.first_execution_run_id, result_type=ReminderSummary
        ).result()
        for a in actions
    ]


async def test_the_schedule_exists_and_a_household_due_in_20_days_is_reminded_once(stack, api):
    client = await Client.connect(stack.urls.temporal, data_converter=CONVERTER)
    schedule = await client.get_schedule_handle(SCHEDULE_ID).describe()
    [interval] = schedule.schedule.spec.intervals
    assert interval.every == timedelta(days=1)
    assert isinstance(schedule.schedule.action, ScheduleActionStartWorkflow)
    assert schedule.schedule.action.workflow == REMINDER_WORKFLOW_TYPE

    # the household declares online, then cancels: its most recent application names the declarant
    declared = await api.post("/api/v1/renewals", json=DECLARATION)
    assert declared.status_code == 201 and declared.json()["status"] == "awaiting_payment", declared.text
    application_id = declared.json()["application_id"]
    assert (await api.post(f"/api/v1/renewals/{application_id}/cancel")).json()["status"] == "cancelled"
    # time passes: its cards now end in 20 days
    today = datetime.now(VIETNAM_TZ).date()
    expires_on = today + timedelta(days=20)
    db = Database(stack.settings.database_url)
    try:
        async with db.unit_of_work() as uow:
            await uow.session.execute(
                update(ParticipantRow)
                .where(ParticipantRow.bhxh_number.in_(MEMBERS))
                .values(valid_to=expires_on)
            )
            await uow.commit()

        await asyncio.gather(run_now(client), run_now(client))
        runs = await reminder_runs(client, at_least=2)

        assert sum(r.sent for r in runs) == 1, runs
        async with db.unit_of_work(read_only=True) as uow:
            reminders = (
                await uow.session.execute(select(ReminderRow.household_code, ReminderRow.expires_on))
            ).all()
        assert reminders == [(HOUSEHOLD, expires_on)]
    finally:
        await db.dispose()

    notices = (await api.get(f"/api/v1/renewals/{application_id}/notices")).json()
    [reminder] = [n for n in notices if n["kind"].startswith("reminder:")]
    assert reminder["kind"] == f"reminder:{expires_on.isoformat()}" and reminder["recipient"] == "declarant"
    assert f"{expires_on:%d/%m/%Y} (sau 20 ngày)" in reminder["message"]
    link = reminder["message"].rsplit(" ", 1)[-1]
    assert link == f"{stack.urls.api}/api/v1/renewals/{application_id}/prefill"
    prefill = (await api.get(link)).json()
    assert prefill["based_on_application_id"] == application_id
    assert [c["valid_to"] for c in prefill["current_cards"]] == [expires_on.isoformat()] * 3
