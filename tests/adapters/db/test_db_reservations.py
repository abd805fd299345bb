"""No card in two applications in progress: the database decides, even under a race."""

from __future__ import annotations

import asyncio

from adapters.db import ApplicationRecord
from tests.adapters.db.db_builders import participant


async def _reserve(db, application_id, numbers):
    async with db.unit_of_work() as uow:
        held = await uow.repo.reserve_cards(application_id, numbers)
        await uow.commit()
    return held


async def test_a_card_in_a_pending_application_cannot_enter_a_second(db):
    x, y, z = (participant(i)["bhxh_number"] for i in (1, 2, 3))
    assert await _reserve(db, "app-A", [x, y]) == []
    assert await _reserve(db, "app-B", [z, y]) == [y]
    assert await _reserve(db, "app-A", [x, y]) == []  # idempotent for the holder
    async with db.unit_of_work(read_only=True) as uow:
        assert await uow.repo.reserved_by(y) == "app-A"
        assert await uow.repo.reserved_by(z) == "app-B"
    async with db.unit_of_work() as uow:
        await uow.repo.release_cards("app-A")
        await uow.repo.release_cards("app-A")  # idempotent
        await uow.commit()
    assert await _reserve(db, "app-B", [y]) == []


async def test_a_reservation_of_an_ended_application_is_taken_over(db):
    x = participant(1)["bhxh_number"]
    async with db.unit_of_work() as uow:
        await uow.repo.save_application(
            ApplicationRecord(application_id="app-old", status="awaiting_payment")
        )
        assert await uow.repo.reserve_cards("app-old", [x]) == []
        await uow.commit()
    assert await _reserve(db, "app-new", [x]) == [x]
    async with db.unit_of_work() as uow:
        await uow.repo.set_application_status("app-old", "expired")
        await uow.commit()
    assert await _reserve(db, "app-new", [x]) == []


async def test_two_applications_racing_for_a_card_exactly_one_wins(db):
    for round_ in range(5):
        card = participant(100 + round_)["bhxh_number"]
        results = await asyncio.gather(*(_reserve(db, f"race-{round_}-{i}", [card]) for i in range(4)))
        winners = [i for i, held in enumerate(results) if held == []]
        assert len(winners) == 1, results
        async with db.unit_of_work(read_only=True) as uow:
            assert await uow.repo.reserved_by(card) == f"race-{round_}-{winners[0]}"
