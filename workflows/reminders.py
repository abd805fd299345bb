"""`HouseholdReminders`: the daily run of the reminder schedule (issue 22, finding 3).

Finds the households whose household cards end within the window and have no application in
progress (in pages of 2,000), and reminds each one's last declarant (in batches of 100). Deterministic: the day is
`workflow.now()` in Vietnam; every read and write is an activity, and each reminder is keyed by
(household, expiry date) in the database, so a retried batch or two runs at once send one.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.application import vietnam_date
    from domain.reminders import (
        BATCH,
        DueQuery,
        DueReminder,
        ReminderBatch,
        ReminderRun,
        ReminderSummary,
    )

REMINDER_WORKFLOW_TYPE = "HouseholdReminders"

RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=5))


@workflow.defn(name=REMINDER_WORKFLOW_TYPE)
class HouseholdReminders:
    @workflow.run
    async def run(self, request: ReminderRun) -> ReminderSummary:
        today = vietnam_date(workflow.now())
        found = sent = 0
        while True:
            due: list[DueReminder] = await workflow.execute_activity(
                "find_due_reminders",
                DueQuery(today=today, within_days=request.within_days, limit=request.page),
                result_type=list[DueReminder],
                start_to_close_timeout=timedelta(minutes=5),
                schedule_to_close_timeout=timedelta(hours=6),
                retry_policy=RETRY,
            )
            page_sent = 0
            for start in range(0, len(due), BATCH):
                page_sent += await workflow.execute_activity(
                    "send_reminders",
                    ReminderBatch(today=today, reminders=due[start : start + BATCH]),
                    result_type=int,
                    start_to_close_timeout=timedelta(minutes=2),
                    schedule_to_close_timeout=timedelta(hours=6),
                    retry_policy=RETRY,
                )
            found += len(due)
            sent += page_sent
            # a full page asks again (those reminded are no longer due); a page that reminded
            # nobody was taken by a run at the same time, which carries on with the rest
            if len(due) < request.page or page_sent == 0:
                return ReminderSummary(today=today, due=found, sent=sent)
