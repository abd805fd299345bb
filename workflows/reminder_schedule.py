"""The daily schedule of `HouseholdReminders`, created by the worker at start-up when missing.

Visible in the Temporal UI (Schedules, id `household-reminders`). One run a day at
BHYT_REMINDER_HOUR (Vietnam time, UTC+7 all year); a run still going when the next is due is
not doubled (overlap SKIP), and a day missed while the server was down is caught up within a day.
An operator can run it now: `starter.py remind` (or "Trigger" in the UI).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleHandle,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
)

from domain.reminders import ReminderRun
from workflows.reminders import REMINDER_WORKFLOW_TYPE

SCHEDULE_ID = "household-reminders"
VIETNAM_UTC_OFFSET_HOURS = 7


def reminder_schedule(task_queue: str, hour: int) -> Schedule:
    """Every day at `hour` o'clock Vietnam time, as an interval with an offset from midnight UTC
    (Vietnam has no daylight saving time, and no time-zone database is needed)."""
    offset = timedelta(hours=(hour - VIETNAM_UTC_OFFSET_HOURS) % 24)
    return Schedule(
        action=ScheduleActionStartWorkflow(
            REMINDER_WORKFLOW_TYPE,
            ReminderRun(),
            id=SCHEDULE_ID,
            task_queue=task_queue,
            execution_timeout=timedelta(hours=12),
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(days=1), offset=offset)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=1)),
        state=ScheduleState(note="Reminders before household BHYT cards lapse (issue 22)"),
    )


async def ensure_reminder_schedule(client: Client, task_queue: str, hour: int) -> bool:
    """Create the schedule unless it exists; True when this call created it. An existing schedule
    is left as the operators may have edited (or paused) it."""
    try:
        await client.create_schedule(SCHEDULE_ID, reminder_schedule(task_queue, hour))
    except ScheduleAlreadyRunningError:
        return False
    return True


def schedule_handle(client: Client) -> ScheduleHandle:
    return client.get_schedule_handle(SCHEDULE_ID)


async def run_now(client: Client) -> None:
    """One run now, beside the daily ones (the operator's `starter.py remind`, the tests)."""
    await schedule_handle(client).trigger(overlap=ScheduleOverlapPolicy.ALLOW_ALL)
