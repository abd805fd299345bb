"""Participants (the cards BHXH manages) and card reservations (no card in two applications in progress)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import delete, func, insert, select, update

from adapters.db.orm import (
    ApplicationRow,
    CardReservationRow,
    HouseholdContributionRow,
    ParticipantRow,
    ValidityHistoryRow,
)
from adapters.db.sql import Store, utcnow
from domain.allocation import CardValidity, HouseholdContribution
from domain.identifiers import parse_card_number
from domain.models import ApplicationStatus, Participant

FINAL_STATUSES = frozenset(s.value for s in ApplicationStatus if s.is_final)


def participant_from_row(row: ParticipantRow) -> Participant:
    return Participant(
        personal_id=row.personal_id,
        bhxh_number=row.bhxh_number,
        card_number=row.card_number,
        full_name=row.full_name,
        date_of_birth=row.date_of_birth,
        gender=row.gender,
        group=row.group_code,
        province_code=row.province_code,
        office_code=row.office_code,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
    )


class ParticipantStore(Store):
    async def find_participant(self, card_number: str) -> Participant | None:
        """Any of the three card-number forms; the 15-char form resolves by its BHXH number."""
        try:
            ref = parse_card_number(card_number)
        except ValueError:
            return None
        if ref.bhxh_number is not None:
            condition = ParticipantRow.bhxh_number == ref.bhxh_number
        else:
            condition = ParticipantRow.personal_id == ref.personal_id
        row = await self.session.scalar(select(ParticipantRow).where(condition))
        return None if row is None else participant_from_row(row)

    async def paid_members_count(
        self, household_code: str, fiscal_year: int, exclude_bhxh: Collection[str] = ()
    ) -> int:
        """Distinct other members of the household who already paid in the household form that year."""
        stmt = select(func.count(func.distinct(HouseholdContributionRow.bhxh_number))).where(
            HouseholdContributionRow.household_code == household_code,
            HouseholdContributionRow.fiscal_year == fiscal_year,
        )
        excluded = sorted(set(exclude_bhxh))
        if excluded:
            stmt = stmt.where(HouseholdContributionRow.bhxh_number.not_in(excluded))
        return int(await self.session.scalar(stmt) or 0)

    async def lock_cards(self, bhxh_numbers: Collection[str]) -> dict[str, CardValidity]:
        """Lock the participants' rows (sorted, see `adapters.db.allocate` for the lock order) and
        return their validity; unknown numbers are simply absent."""
        rows = await self.session.scalars(
            select(ParticipantRow)
            .where(ParticipantRow.bhxh_number.in_(sorted(set(bhxh_numbers))))
            .order_by(ParticipantRow.bhxh_number)
            .with_for_update()
        )
        return {
            row.bhxh_number: CardValidity(
                bhxh_number=row.bhxh_number,
                office_code=row.office_code,
                valid_from=row.valid_from,
                valid_to=row.valid_to,
                card_number=row.card_number,
                group=row.group_code,
            )
            for row in rows
        }

    async def save_validity(
        self,
        application_id: str,
        payment_id: int,
        renewals: Sequence[tuple[CardValidity, HouseholdContribution]],
    ) -> None:
        """The cards' new validity, its history, and the household contributions it came with.

        Three statements whatever the household's size (one executemany each), none of them a
        read: the rows were locked by `lock_cards` in this transaction. Per-row ORM objects
        would cost a SELECT, an UPDATE and two INSERTs per card."""
        if not renewals:
            return
        now = utcnow()
        await self.session.execute(
            update(ParticipantRow).execution_options(synchronize_session=False),
            [
                {
                    "bhxh_number": c.bhxh_number,
                    "valid_from": c.valid_from,
                    "valid_to": c.valid_to,
                    "updated_at": now,
                    # a lapsed DN/HS card joins the household form: its new card and group
                    **(
                        {"card_number": c.issued_card, "group_code": c.issued_card[:2]}
                        if c.issued_card is not None
                        else {}
                    ),
                }
                for _old, c in renewals
            ],
        )
        await self.session.execute(
            insert(HouseholdContributionRow),
            [
                {
                    "bhxh_number": c.bhxh_number,
                    "household_code": c.household_code,
                    "fiscal_year": c.fiscal_year,
                    "position": c.position,
                    "months": c.months,
                    "amount": c.amount,
                    "paid_on": c.paid_on,
                    "valid_from": c.valid_from,
                    "valid_to": c.valid_to,
                    "application_id": application_id,
                    "created_at": now,
                }
                for _old, c in renewals
            ],
        )
        await self.session.execute(
            insert(ValidityHistoryRow),
            [
                {
                    "bhxh_number": c.bhxh_number,
                    "application_id": application_id,
                    "payment_id": payment_id,
                    "old_valid_from": old.valid_from,
                    "old_valid_to": old.valid_to,
                    "new_valid_from": c.valid_from,
                    "new_valid_to": c.valid_to,
                    "changed_at": now,
                    "old_card_number": old.card_number if c.issued_card else None,
                    "new_card_number": c.issued_card,
                }
                for old, c in renewals
            ],
        )


class ReservationStore(Store):
    async def reserve_cards(self, application_id: str, bhxh_numbers: Sequence[str]) -> list[str]:
        """Reserve the cards for this application; return those another application in progress holds.

        The primary key of card_reservations decides races: on PostgreSQL a second inserter
        waits for the first to commit and then finds the row taken. A reservation left by an
        application that has already ended (its release was lost) is taken over.
        """
        numbers = sorted(set(bhxh_numbers))
        if not numbers:
            return []
        now = utcnow()
        await self.session.execute(
            self._insert(CardReservationRow)
            .values(
                [{"bhxh_number": n, "application_id": application_id, "reserved_at": now} for n in numbers]
            )
            .on_conflict_do_nothing(index_elements=["bhxh_number"])
        )
        rows = await self.session.execute(
            select(CardReservationRow.bhxh_number, CardReservationRow.application_id).where(
                CardReservationRow.bhxh_number.in_(numbers)
            )
        )
        held: dict[str, str] = {number: holder for number, holder in rows if holder != application_id}
        if held:
            ended = set(
                await self.session.scalars(
                    select(ApplicationRow.application_id).where(
                        ApplicationRow.application_id.in_(set(held.values())),
                        ApplicationRow.status.in_(FINAL_STATUSES),
                    )
                )
            )
            for number, holder in list(held.items()):
                if holder not in ended:
                    continue
                taken = await self.session.scalar(
                    update(CardReservationRow)
                    .where(
                        CardReservationRow.bhxh_number == number, CardReservationRow.application_id == holder
                    )
                    .values(application_id=application_id, reserved_at=now)
                    .returning(CardReservationRow.bhxh_number)
                    .execution_options(synchronize_session=False)
                )
                if taken is not None:
                    del held[number]
        return [n for n in dict.fromkeys(bhxh_numbers) if n in held]

    async def release_cards(self, application_id: str) -> None:
        await self.session.execute(
            delete(CardReservationRow)
            .where(CardReservationRow.application_id == application_id)
            .execution_options(synchronize_session=False)
        )

    async def reserved_by(self, bhxh_number: str) -> str | None:
        return await self.session.scalar(
            select(CardReservationRow.application_id).where(CardReservationRow.bhxh_number == bhxh_number)
        )


__all__ = ["FINAL_STATUSES", "ParticipantStore", "ReservationStore", "participant_from_row"]
