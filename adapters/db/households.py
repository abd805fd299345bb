"""Household claims: one application in progress per household, decided by a primary key."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from adapters.db.orm import ApplicationRow, HouseholdClaimRow
from adapters.db.participants import FINAL_STATUSES
from adapters.db.sql import Store, utcnow


class HouseholdClaimStore(Store):
    async def claim_household(self, household_code: str, application_id: str) -> str | None:
        """Make this the household's application in progress; the other open application, if any.

        Like card reservations, the primary key decides races (on PostgreSQL a second inserter
        waits for the first to commit and then finds the row taken), and a claim left by an
        application that has already ended (a lost release) is taken over.
        """
        now = utcnow()
        await self.session.execute(
            self._insert(HouseholdClaimRow)
            .values(household_code=household_code, application_id=application_id, claimed_at=now)
            .on_conflict_do_nothing(index_elements=["household_code"])
        )
        holder = await self.session.scalar(
            select(HouseholdClaimRow.application_id).where(HouseholdClaimRow.household_code == household_code)
        )
        if holder is None or holder == application_id:
            return None
        ended = await self.session.scalar(
            select(ApplicationRow.application_id).where(
                ApplicationRow.application_id == holder, ApplicationRow.status.in_(FINAL_STATUSES)
            )
        )
        if ended is None:
            return holder
        taken = await self.session.scalar(
            update(HouseholdClaimRow)
            .where(
                HouseholdClaimRow.household_code == household_code,
                HouseholdClaimRow.application_id == holder,
            )
            .values(application_id=application_id, claimed_at=now)
            .returning(HouseholdClaimRow.household_code)
            .execution_options(synchronize_session=False)
        )
        return None if taken is not None else await self.claim_household(household_code, application_id)

    async def release_household(self, application_id: str) -> None:
        await self.session.execute(
            delete(HouseholdClaimRow)
            .where(HouseholdClaimRow.application_id == application_id)
            .execution_options(synchronize_session=False)
        )
