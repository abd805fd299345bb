"""One application in progress per household (issue 11, point 6): the database decides, even racing."""

from __future__ import annotations

import asyncio

from adapters.db import ApplicationRecord

HOUSEHOLD = "HN-BD-0001"


async def _claim(db, application_id: str, household: str = HOUSEHOLD) -> str | None:
    async with db.unit_of_work() as uow:
        holder = await uow.repo.claim_household(household, application_id)
        await uow.commit()
    return holder


async def _application(db, application_id: str, status: str) -> None:
    async with db.unit_of_work() as uow:
        await uow.repo.save_application(ApplicationRecord(application_id=application_id, status=status))
        await uow.commit()


async def test_a_second_application_of_the_household_gets_the_open_ones_id(db):
    for status in ("verifying", "awaiting_payment", "payment_review"):
        first, second = f"first-{status}", f"second-{status}"
        household = f"HH-{status}"
        await _application(db, first, status)
        assert await _claim(db, first, household) is None
        assert await _claim(db, first, household) is None  # idempotent for the holder
        assert await _claim(db, second, household) == first
        assert await _claim(db, "third", "another-household") is None


async def test_the_claim_is_released_at_the_end_and_a_lost_release_is_taken_over(db):
    await _application(db, "app-A", "awaiting_payment")
    assert await _claim(db, "app-A") is None
    async with db.unit_of_work() as uow:
        await uow.repo.release_household("app-A")
        await uow.repo.release_household("app-A")  # idempotent
        await uow.commit()
    assert await _claim(db, "app-B") is None
    # app-B ends but its release is lost: the claim of an ended application is taken over
    await _application(db, "app-B", "completed")
    assert await _claim(db, "app-C") is None
    assert await _claim(db, "app-B") == "app-C"


async def test_racing_declarations_of_one_household_leave_one_winner(db):
    ids = [f"racer-{i}" for i in range(6)]
    for application_id in ids:
        await _application(db, application_id, "verifying")
    results = await asyncio.gather(*(_claim(db, application_id) for application_id in ids))
    winners = [a for a, holder in zip(ids, results, strict=True) if holder is None]
    assert len(winners) == 1
    assert all(holder == winners[0] for holder in results if holder is not None)
