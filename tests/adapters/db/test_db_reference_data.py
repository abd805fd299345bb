"""Loading the DESIGN §6 file is an upsert: twice leaves the same rows, a change updates in place."""

from __future__ import annotations

from sqlalchemy import select

from adapters.db.orm import HouseholdContributionRow, ParticipantRow
from tests.support.reference import reference_data


async def _load(db, data):
    async with db.unit_of_work() as uow:
        summary = await uow.repo.load_reference_data(data)
        await uow.commit()
    return summary


async def _rows(db):
    async with db.unit_of_work(read_only=True) as uow:
        participants = [
            {c.name: getattr(r, c.key) for c in ParticipantRow.__table__.columns}
            for r in await uow.session.scalars(select(ParticipantRow).order_by(ParticipantRow.bhxh_number))
        ]
        contributions = [
            {c.name: getattr(r, c.key) for c in HouseholdContributionRow.__table__.columns}
            for r in await uow.session.scalars(
                select(HouseholdContributionRow).order_by(HouseholdContributionRow.id)
            )
        ]
    return participants, contributions


async def test_loading_the_file_twice_leaves_the_same_rows(db):
    data = reference_data()
    first = await _load(db, data)
    assert first.participants_inserted == len(data["participants"])
    assert first.contributions_inserted == len(data["household_contributions"])
    rows = await _rows(db)

    second = await _load(db, data)
    assert not second.changed
    assert second.participants_unchanged == len(data["participants"])
    assert second.contributions_unchanged == len(data["household_contributions"])
    assert await _rows(db) == rows


async def test_a_changed_record_is_updated_in_place(db):
    data = reference_data()
    await _load(db, data)
    data["participants"][0]["valid_to"] = "2027-11-30"
    data["household_contributions"][0]["amount"] += 1
    summary = await _load(db, data)
    assert (summary.participants_updated, summary.contributions_updated) == (1, 1)
    participants, contributions = await _rows(db)
    assert len(participants) == len(data["participants"])
    assert len(contributions) == len(data["household_contributions"])
    async with db.unit_of_work(read_only=True) as uow:
        found = await uow.repo.find_participant(data["participants"][0]["card_number"])
    assert found is not None and str(found.valid_to) == "2027-11-30"
