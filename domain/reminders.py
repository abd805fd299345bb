"""Reminders before a household's cards lapse (issue 22, finding 3): what is due (its text is
`domain.messages.reminder_message`).

A card that lapses costs the household continuity (seed 000: «đảm bảo duy trì quá trình tham gia
liên tục»), and after 90 days a 30-day wait; so the last declarant of a household hears, some
days before the first of its household cards ends, that it is time to renew, with a link to a
declaration already filled in. Pure: dates only, the clock is the caller's.
"""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field

REMINDER_KIND_PREFIX = "reminder:"
"""Outbox kind of a reminder, followed by the expiry date it is about (`reminder:2027-01-31`), so
the outbox's own key (application, kind, recipient) also allows the next expiry's reminder."""

BATCH = 100
"""Households per `send_reminders` activity: a day's reminders in a few activities, each one
short transaction."""

PAGE = 2_000
"""Households per `find_due_reminders` answer: a page stays far below Temporal's 2 MB payload
limit however many households are due on the first run; the run asks again until a short page."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ReminderRun(_Frozen):
    """The schedule's input. Empty by default: the worker's configuration (BHYT_REMINDER_DAYS)
    decides the window, so changing it needs no change to the schedule."""

    within_days: int | None = Field(default=None, ge=1, le=366)
    page: int = Field(default=PAGE, ge=1, le=10_000)


class DueQuery(_Frozen):
    today: date
    within_days: int | None = None
    limit: int = Field(default=PAGE, ge=1)


class DueReminder(_Frozen):
    """One household whose household cards end within the window, and the first date one ends."""

    household_code: str
    expires_on: date


class ReminderBatch(_Frozen):
    today: date
    reminders: list[DueReminder]


class ReminderSummary(_Frozen):
    today: date
    due: int
    sent: int
    """Reminders recorded by this run; a household already reminded for that expiry counts in
    `due` of a run that overlapped, never twice in `sent`."""


def window(today: date, within_days: int) -> tuple[date, date]:
    """The expiry dates that are due today: from today to `within_days` days ahead, inclusive."""
    return today, today + timedelta(days=within_days)


def kind_for(expires_on: date) -> str:
    return f"{REMINDER_KIND_PREFIX}{expires_on.isoformat()}"
