"""Reminders before cards lapse: find the households due, and remind each one's last declarant."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio import activity

from adapters.db import Database
from adapters.db.repository import Repository
from adapters.notifications import Notice, write_notice
from domain.messages import reminder_message
from domain.reminders import (
    DueQuery,
    DueReminder,
    ReminderBatch,
    kind_for,
    window,
)


@dataclass(frozen=True)
class Declarant:
    """Whom a household's reminder goes to: the declarant of its most recent application."""

    application_id: str
    recipient: str


async def last_declarant(repo: Repository, household_code: str) -> Declarant | None:
    """The last declarant of the household: the one of its most recent application, whatever its
    outcome. The notice's recipient `declarant` of that application is delivered, like every
    notice, to the person its declaration names (the head when it names none), by each channel
    they gave (email, SMS) and the webhook."""
    application = await repo.last_application_of(household_code)
    if application is None:
        return None
    return Declarant(application_id=application.application_id, recipient="declarant")


def prefill_link(public_url: str, application_id: str) -> str:
    """The portal API's pre-filled declaration (`GET /api/v1/renewals/{id}/prefill`)."""
    return f"{public_url.rstrip('/')}/api/v1/renewals/{application_id}/prefill"


def reminder_link(template: str | None, public_url: str, application_id: str) -> str:
    """What the household opens: the portal's renewal form (BHYT_REMINDER_LINK, `{application_id}`
    replaced) when configured, else the API's pre-filled declaration."""
    if template:
        return template.replace("{application_id}", application_id)
    return prefill_link(public_url, application_id)


class ReminderActivities:
    def __init__(
        self, db: Database, *, within_days: int, public_url: str, link_template: str | None = None
    ) -> None:
        self._db = db
        self._within_days = within_days
        self._public_url = public_url
        self._link_template = link_template

    @activity.defn(name="find_due_reminders")
    async def find_due_reminders(self, request: DueQuery) -> list[DueReminder]:
        """Read-only: households due today and not yet reminded for that expiry."""
        first, last = window(request.today, request.within_days or self._within_days)
        async with self._db.unit_of_work(read_only=True) as uow:
            return await uow.repo.households_to_remind(first, last, limit=request.limit)

    @activity.defn(name="send_reminders")
    async def send_reminders(self, request: ReminderBatch) -> int:
        """The reminder row and its notice in one transaction per batch: a retry, or another run
        at the same time, finds the (household, expiry) key taken and writes nothing."""
        sent = 0
        async with self._db.unit_of_work() as uow:
            for due in request.reminders:
                declarant = await last_declarant(uow.repo, due.household_code)
                if declarant is None:
                    continue
                if not await uow.repo.record_reminder(
                    due.household_code, due.expires_on, declarant.application_id
                ):
                    continue
                prefill = prefill_link(self._public_url, declarant.application_id)
                link = reminder_link(self._link_template, self._public_url, declarant.application_id)
                await write_notice(
                    uow.repo,
                    Notice(
                        application_id=declarant.application_id,
                        kind=kind_for(due.expires_on),
                        recipient=declarant.recipient,
                        message=reminder_message(due.expires_on, request.today, link),
                        payload={
                            "expires_on": due.expires_on.isoformat(),
                            "prefill_url": prefill,
                            "link": link,
                        },
                    ),
                )
                sent += 1
            await uow.commit()
        activity.logger.info("reminders: %d of %d recorded", sent, len(request.reminders))
        return sent
