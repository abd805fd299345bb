"""The household's most recent declaration, with the cards BHXH holds for its members today
(the reminder's link, `GET …/prefill`): any application of the household names it, so a
reminder's link stays right after a later application."""

from __future__ import annotations

from adapters.db import Database
from adapters.db.records import ApplicationRecord
from domain.models import Participant
from services.errors import NoSuchApplication


async def latest_declaration(
    db: Database, application_id: str
) -> tuple[ApplicationRecord, list[Participant | None]]:
    """The household's latest declared application and, per member in its order, the participant
    BHXH holds (None when it has no such card). `NoSuchApplication` when none is recorded."""
    async with db.unit_of_work(read_only=True) as uow:
        given = await uow.repo.get_application(application_id)
        if given is None or given.declaration is None:
            raise NoSuchApplication(application_id)
        latest: ApplicationRecord = given
        if given.household_code is not None:
            last = await uow.repo.last_application_of(given.household_code)
            if last is not None and last.declaration is not None:
                latest = last
        assert latest.declaration is not None
        participants = [await uow.repo.find_participant(m.card_number) for m in latest.declaration.members]
    return latest, participants
