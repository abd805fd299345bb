"""Reminders before cards lapse: which households are due, and the one reminder per expiry.

A household's cards are the household-form (`GD`) cards of its members as the household-form
register knows them (`household_contributions`: reference extracts and every online renewal);
a household is reminded only if it has declared online at least once (its most recent
application names the declarant; an application names its household once quoted) and has no
application in progress (an open application of the household, or its claim held by one still
verifying).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, exists, func, select

from adapters.db.applications import application_from_row
from adapters.db.orm import (
    ApplicationRow,
    HouseholdClaimRow,
    HouseholdContributionRow,
    ParticipantRow,
    ReminderRow,
)
from adapters.db.participants import FINAL_STATUSES
from adapters.db.records import ApplicationRecord
from adapters.db.sql import Store, utcnow
from domain.reminders import DueReminder


class ReminderStore(Store):
    async def households_to_remind(self, first: date, last: date, limit: int = 100_000) -> list[DueReminder]:
        """Households whose first household card to end ends between `first` and `last`, with no
        application in progress and not yet reminded for that date; one statement."""
        members = (
            select(HouseholdContributionRow.household_code, HouseholdContributionRow.bhxh_number)
            .distinct()
            .subquery()
        )
        declared = select(ApplicationRow.household_code).where(ApplicationRow.household_code.is_not(None))
        open_statuses = ApplicationRow.status.not_in(sorted(FINAL_STATUSES))
        in_progress = exists().where(
            ApplicationRow.household_code == members.c.household_code, open_statuses
        ) | exists(
            # an application still verifying holds the household's claim before its row names
            # the household (step 3 writes it): the claim counts unless its application ended
            select(HouseholdClaimRow.household_code)
            .outerjoin(ApplicationRow, ApplicationRow.application_id == HouseholdClaimRow.application_id)
            .where(
                HouseholdClaimRow.household_code == members.c.household_code,
                ApplicationRow.status.is_(None) | open_statuses,
            )
        )
        expiry = (
            select(members.c.household_code, func.min(ParticipantRow.valid_to).label("expires_on"))
            .join(ParticipantRow, ParticipantRow.bhxh_number == members.c.bhxh_number)
            .where(
                ParticipantRow.group_code == "GD",
                ParticipantRow.valid_to >= first,
                ParticipantRow.valid_to <= last,
                members.c.household_code.in_(declared),
                ~in_progress,
            )
            .group_by(members.c.household_code)
            .subquery()
        )
        reminded = exists().where(
            and_(
                ReminderRow.household_code == expiry.c.household_code,
                ReminderRow.expires_on == expiry.c.expires_on,
            )
        )
        rows = await self.session.execute(
            select(expiry.c.household_code, expiry.c.expires_on)
            .where(~reminded)
            .order_by(expiry.c.expires_on, expiry.c.household_code)
            .limit(limit)
        )
        return [DueReminder(household_code=code, expires_on=on) for code, on in rows]

    async def last_application_of(self, household_code: str) -> ApplicationRecord | None:
        """The household's most recent application, whatever its outcome."""
        row = await self.session.scalar(
            select(ApplicationRow)
            .where(ApplicationRow.household_code == household_code)
            .order_by(ApplicationRow.created_at.desc(), ApplicationRow.application_id.desc())
            .limit(1)
        )
        return None if row is None else application_from_row(row)

    async def record_reminder(self, household_code: str, expires_on: date, application_id: str) -> bool:
        """True only the first time for this household and expiry date (the unique key decides,
        also between two runs at once)."""
        inserted = await self.session.scalar(
            self._insert(ReminderRow)
            .values(
                household_code=household_code,
                expires_on=expires_on,
                application_id=application_id,
                sent_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["household_code", "expires_on"])
            .returning(ReminderRow.id)
        )
        return inserted is not None

    async def reminders_of(self, household_code: str) -> list[tuple[date, str]]:
        rows = await self.session.execute(
            select(ReminderRow.expires_on, ReminderRow.application_id)
            .where(ReminderRow.household_code == household_code)
            .order_by(ReminderRow.expires_on)
        )
        return [(on, app) for on, app in rows]
